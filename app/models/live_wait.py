"""Issue 13: a caller waiting on the line (Twilio's queue) to be connected live to the engineer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class LiveWait(Base):
    """One caller's stay in the incident's queue: enqueued, then dequeued by a rep's leg or left.

    Waiting means neither ``dequeued_at`` nor ``left_at`` is set. Whether the live connection
    counts as the callback is decided on the linked ``Callback`` (app/services/callbacks.py).
    """

    __tablename__ = "live_waits"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)  # the caller's own (inbound) call
    queue_name: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en-US")
    engineer_ready: Mapped[bool] = mapped_column(default=False)  # a rep had acknowledged when the caller chose
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # a rep's <Dial><Queue> took the caller (Twilio requested the <Queue url> on the caller's leg)
    dequeued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dequeuing_call_sid: Mapped[str] = mapped_column(String(64), default="")
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the <Enqueue action> came
    result: Mapped[str] = mapped_column(String(32), default="")  # Twilio's QueueResult
    queue_seconds: Mapped[int | None] = mapped_column(Integer)  # Twilio's QueueTime
