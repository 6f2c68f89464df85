"""Where each lookup of a final status whose status callback never came stands (``app.services.status_lookups``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class StatusLookup(Base):
    """How often a page, callback, delivery or notice was asked of Twilio, and when it is asked next.

    No row: never asked (its first ask comes a fixed time after Twilio accepted it). ``next_at`` None: its
    schedule is spent, it is never asked again. The row is written in the transaction that logs the ask.
    """

    __tablename__ = "status_lookups"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # a job kind: page_status, callback_status, ...
    target_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    asks: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
