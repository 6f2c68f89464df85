"""Calls that ended before triage or unreachable, and the one-off SMS the hotline sends outside incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class NoticeStatus(StrEnum):
    """A notice SMS's state."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"  # Twilio's delivery report
    UNDELIVERED = "undelivered"  # Twilio accepted it, the carrier did not deliver it (its report's ErrorCode kept)
    FAILED = "failed"


class MissedCall(Base):
    """A call that ended before triage, or with no way to reach the caller back: shown on the board, never paged."""

    __tablename__ = "missed_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    language: Mapped[str] = mapped_column(String(8), default="")  # "" when the caller never chose
    stage: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # the caller's open incident, when they already had one (the call joined it)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    # what the caller told the intake before hanging up (field -> value; empty before triage)
    said: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))


class Notice(Base):
    """One SMS that belongs to no incident: a missed-call invitation or a volume alert."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))  # missed_call, outbound_volume
    to_number: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(String(500))
    status: Mapped[NoticeStatus] = mapped_column(String(16), default=NoticeStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    twilio_sid: Mapped[str] = mapped_column(String(64), default="")
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UnknownText(Base):
    """An SMS from a number that is no rep's, no incident's and no invited caller's: listed on the missed-calls page
    (a customer may text a Sev-1 there), answered within limits only (``sms_commands``), never paged."""

    __tablename__ = "unknown_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)  # as Twilio gives From: staff call them back
    body: Mapped[str] = mapped_column(String(1600), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
