"""Floods and toll fraud on the intake line: joins, per-caller limits (issue 9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CallSession, Incident
from app.services.events import log_event
from app.services.incidents import open_incident_for
from app.services.joined_contacts import join_detail, tell_reps
from ivr_flows.model import SaveIncident
from ivr_flows.validate import is_valid_phone


@dataclass(frozen=True)
class CallerLimits:
    """How many new incidents one caller ID may open, and when outbound volume alerts managers."""

    max_new_incidents: int = 3  # per caller ID within the window; more join the newest open one
    window_minutes: int = 60
    outbound_alert_per_hour: int = 120  # SMS and calls in the last hour before managers are told
    missed_call_sms_hours: int = 24  # at most one missed-call SMS per number in this many hours
    ticket_howto: str = ""  # issue 11: the SMS text for non-critical callers (empty: the settings' default)


def limits_from(settings) -> CallerLimits:
    """The caller limits of a deployment's settings (defaults where a setting is absent)."""
    default = CallerLimits()
    return CallerLimits(
        max_new_incidents=getattr(settings, "max_incidents_per_caller", default.max_new_incidents),
        window_minutes=getattr(settings, "caller_incident_window_minutes", default.window_minutes),
        outbound_alert_per_hour=getattr(settings, "outbound_alert_per_hour", default.outbound_alert_per_hour),
        missed_call_sms_hours=getattr(settings, "missed_call_sms_hours", default.missed_call_sms_hours),
        ticket_howto=getattr(settings, "ticket_howto", default.ticket_howto),
    )


def new_incidents_from(session: Session, caller_id: str, since: datetime) -> int:
    """How many incidents calls from ``caller_id`` opened since ``since``."""
    stmt = select(func.count(Incident.id)).where(Incident.caller_id == caller_id, Incident.received_at >= since)
    with session.no_autoflush:  # incidents are flushed as they are opened: nothing pending to count
        return session.scalar(stmt) or 0


def incident_to_join(session: Session, caller_id: str, now: datetime, limits: CallerLimits) -> Incident | None:
    """The open incident a new report from ``caller_id`` must join, when the caller is over the limit.

    A genuine Sev-1 is never dropped: over the limit the report joins the newest open
    incident of that number; with none open, a new incident is opened anyway.
    MAX_INCIDENTS_PER_CALLER=0 switches the limit off, as 0 does for every count setting (``_count``).
    """
    if not limits.max_new_incidents or not is_valid_phone(caller_id):
        return None  # no limit; or a withheld number, which is not counted: it could be anyone
    since = now - timedelta(minutes=limits.window_minutes)
    if new_incidents_from(session, caller_id, since) < limits.max_new_incidents:
        return None
    return open_incident_for(session, phone=caller_id)


def join_report(session: Session, call: CallSession, incident: Incident, effect: SaveIncident, now: datetime,
                sla_minutes: int, limits: CallerLimits) -> datetime | None:
    """Add a whole report (over the per-caller limit) to ``incident``: its text, recording and details.

    A caller whose contact is not the incident's (a caller ID is not an identity: it may be an attacker's incident
    on a spoofed number) keeps a callback of their own: returns their deadline (None for the incident's own
    contact, who is owed the incident's), and the reps are told (``joined_contacts``).
    """
    call.incident_id = incident.id
    c = effect.captured
    own = join_detail(incident, c, now, sla_minutes)
    log_event(session, at=now, actor="caller", kind="report_joined", incident_id=incident.id, call_sid=call.call_sid,
              detail={"reason": "caller_over_limit", "text": c.problem_text, "recording_url": c.recording_url,
                      "company": c.company, "contact_name": c.contact_name, "callback_phone": c.callback_phone,
                      "email": c.email, "affected_service": c.affected_service.value if c.affected_service else "",
                      **own})
    if not own["contact_differs"]:
        return None
    tell_reps(session, incident, now, limits.window_minutes, limits.max_new_incidents)
    return datetime.fromisoformat(own["callback_due_at"])
