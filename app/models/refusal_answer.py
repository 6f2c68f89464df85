"""When a rep's refused SMS was last answered, so a phone or script repeating it is not answered each time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class RefusalAnswer(Base):
    """One answer by SMS to a rep's refused SMS: which rep, of which incident (None: of none, such as words that are
    no command), for which refusal, in which words (a digest), when. Only the last ``refusal_answers.ANSWER_EVERY`` is kept: a rep's older rows
    go when they are answered again (the log says what was refused)."""

    __tablename__ = "refusal_answers"
    __table_args__ = (Index("ix_refusal_answers_rep_id_answered_at", "rep_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column()
    incident_id: Mapped[int | None] = mapped_column(default=None)
    refusal: Mapped[str] = mapped_column(String(40))  # the refusal's outcome or log kind ("refused_owned_by_other")
    words: Mapped[str] = mapped_column(String(16))  # the answer's digest: the same answer is what is held back
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
