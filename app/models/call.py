"""Per-call flow state and the record of answered webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, ReadableJSON, UTCDateTime

ENDED_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})  # Twilio's final CallStatus
IN_PROGRESS = "in-progress"  # a call whose end Twilio has not reported (a status callback sets a final one)
# a stored answer not emptied yet: the partial index's condition, which a query must write literally to use it
# (a bound '' does not match it on SQLite)
ANSWER_KEPT = text("response <> ''")
UNREPORTED = "unreported"  # no webhook nor final status for so long that the watchdog stopped waiting (call_endings)
# a call whose state still holds the caller's answers: the partial index's condition, written literally (as above)
ANSWERS_KEPT = text("answers_kept")


class CallSession(Base):
    """The IVR state of one inbound call, keyed by Twilio's CallSid."""

    __tablename__ = "call_sessions"
    # the watchdog's look for calls whose end was never reported reads only the calls still in progress
    # the watchdog's look for calls whose end was never reported reads only the calls still in progress; its look for
    # ended calls whose answers no webhook can need any more, only the calls whose state still holds them
    __table_args__ = (Index("ix_call_sessions_status_updated_at", "status", "updated_at"),
                      Index("ix_call_sessions_answers_kept", "updated_at", postgresql_where=ANSWERS_KEPT,
                            sqlite_where=ANSWERS_KEPT))

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_number: Mapped[str] = mapped_column(String(32), default="")
    to_number: Mapped[str] = mapped_column(String(32), default="")
    # read as None when the stored text is no JSON (a row edited by hand): ``incidents.readable_state`` says so
    state: Mapped[dict[str, Any]] = mapped_column(ReadableJSON)
    status: Mapped[str] = mapped_column(String(32), default=IN_PROGRESS)
    seq: Mapped[int] = mapped_column(Integer, default=0)  # replies sent; step URLs carry it
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # False once the watchdog kept of ``state`` only what no answer is in (app.services.call_answers)
    answers_kept: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class WebhookDelivery(Base):
    """A webhook already answered: a retry of it gets the same response back."""

    __tablename__ = "webhook_deliveries"
    # the answers still kept, oldest first: the watchdog empties those no retry can get (services.stored_answers)
    __table_args__ = (Index("ix_webhook_deliveries_kept", "received_at", postgresql_where=ANSWER_KEPT,
                            sqlite_where=ANSWER_KEPT),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(200))
    response: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
