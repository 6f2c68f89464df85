"""Callbacks: the hotline calls the rep, then bridges them to the customer; or a self-report."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Callback, CallbackKind, CallbackOutcome, Incident
from app.queue import PendingJob
from app.services.events import log_event

TERMINAL_UNANSWERED = {"no-answer", "busy", "failed", "canceled"}


def open_callback(session: Session, incident: Incident, rep_id: int | None, now: datetime,
                  rep_call_sid: str = "") -> Callback:
    """Start a bridged callback (the rep's leg exists already when ``rep_call_sid`` is given)."""
    callback = Callback(incident_id=incident.id, rep_id=rep_id, kind=CallbackKind.BRIDGED,
                        outcome=CallbackOutcome.PENDING, customer_number=incident.callback_phone,
                        rep_call_sid=rep_call_sid, requested_at=now, placed_at=now if rep_call_sid else None)
    session.add(callback)
    session.flush()
    incident.callback_started_at = incident.callback_started_at or now
    log_event(session, at=now, actor="rep", kind="callback_requested", incident_id=incident.id,
              detail={"callback_id": callback.id, "rep_id": rep_id, "to": incident.callback_phone})
    return callback


def callback_job(callback: Callback, now: datetime) -> PendingJob:
    """The job that places the call to the rep for ``callback``."""
    return PendingJob("callback", callback.id, now)


def customer_leg_status(session: Session, callback_id: int, status: str, timestamp: str, call_sid: str,
                        now: datetime) -> Callback | None:
    """Record the customer leg's progress; 'answered' decides met or late by Twilio's timestamp."""
    callback = session.scalars(select(Callback).where(Callback.id == callback_id).with_for_update()).first()
    if callback is None:
        return None
    incident = session.scalars(select(Incident).where(Incident.id == callback.incident_id).with_for_update()).one()
    at = _twilio_time(timestamp) or now
    callback.customer_call_sid = callback.customer_call_sid or call_sid
    log_event(session, at=now, actor="twilio", kind="callback_leg_status", incident_id=incident.id,
              detail={"callback_id": callback.id, "status": status, "timestamp": at.isoformat()})
    if status in ("answered", "in-progress") and callback.answered_at is None:
        callback.answered_at = at
        callback.outcome = CallbackOutcome.MET if at <= incident.callback_due_at else CallbackOutcome.LATE
        if incident.callback_answered_at is None:
            incident.callback_answered_at = at
        seconds = (at - incident.captured_at).total_seconds()
        log_event(session, at=now, actor="twilio", kind=f"callback_{callback.outcome}", incident_id=incident.id,
                  detail={"callback_id": callback.id, "answered_at": at.isoformat(),
                          "seconds_after_capture": round(seconds, 1)})
    elif status == "completed" and callback.answered_at is not None:
        callback.ended_at = at
    elif (status in TERMINAL_UNANSWERED or status == "completed") and callback.answered_at is None:
        if callback.outcome == CallbackOutcome.PENDING:
            callback.outcome = CallbackOutcome.ATTEMPTED
            callback.ended_at = at
            log_event(session, at=now, actor="twilio", kind="callback_attempted", incident_id=incident.id,
                      detail={"callback_id": callback.id, "status": status})
    return callback


def self_report(session: Session, incident: Incident, rep_id: int | None, rep_name: str, called_at: datetime,
                note: str, now: datetime) -> Callback:
    """Record a call the rep says they made from their own phone (never counted as met)."""
    callback = Callback(incident_id=incident.id, rep_id=rep_id, kind=CallbackKind.SELF_REPORTED,
                        outcome=CallbackOutcome.SELF_REPORTED, customer_number=incident.callback_phone,
                        requested_at=now, placed_at=called_at, note=note[:500])
    session.add(callback)
    session.flush()
    log_event(session, at=now, actor=rep_name or "rep", kind="callback_self_reported", incident_id=incident.id,
              detail={"callback_id": callback.id, "called_at": called_at.isoformat(), "note": note[:200]})
    return callback


def _twilio_time(value: str) -> datetime | None:
    """Twilio's RFC 2822 ``Timestamp`` as aware UTC."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None
