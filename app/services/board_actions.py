"""What a logged-in dashboard user does to an incident: acknowledge it, or have the hotline call them.

Each function works inside the caller's transaction; jobs are dispatched after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Callback, CallbackOutcome, Incident, IncidentStatus, Rep, User
from app.queue import PendingJob
from app.services.acks import acknowledge
from app.services.callbacks import callback_job, open_callback
from app.services.events import log_event
from app.services.page_text import hhmm

VIA = "dashboard"
DOUBLE_TAP = timedelta(minutes=2)  # a second "call me" this soon after the first is the same request


@dataclass
class ActionResult:
    """What the action did, what to tell the user, and jobs to dispatch after commit."""

    ok: bool
    message: str
    jobs: list[PendingJob] = field(default_factory=list)


def acknowledge_as(session: Session, incident: Incident, user: User, now: datetime) -> ActionResult:
    """Acknowledge as the user's rep (or, unlinked, with no rep and the user's name)."""
    rep = _rep_of(session, user)
    result = acknowledge(session, incident, rep.id if rep else None, rep.name if rep else user.name, VIA, now)
    return ActionResult(result.ok, result.message, result.jobs)


def call_customer(session: Session, incident: Incident, user: User, now: datetime) -> ActionResult:
    """Acknowledge if needed, then open a bridged callback: the hotline rings the rep, then the customer."""
    rep = _rep_of(session, user)
    if rep is None or not rep.phone:
        return ActionResult(False, "Your login is not linked to a rep with a phone number, so the hotline cannot "
                                   f"call you. Call {incident.callback_phone or 'the customer'} from your own phone, "
                                   "and ask an admin to link your login to your rep.")
    result = acknowledge(session, incident, rep.id, rep.name, VIA, now)
    if not result.ok and incident.acknowledged_by != rep.id:
        return ActionResult(False, result.message, result.jobs)
    if incident.status != IncidentStatus.OPEN or not incident.callback_phone:
        return ActionResult(False, f"Incident {incident.reference} has no number to call. No call was placed.",
                            result.jobs)
    pending = session.scalars(select(Callback).where(
        Callback.incident_id == incident.id, Callback.rep_id == rep.id, Callback.outcome == CallbackOutcome.PENDING,
        Callback.requested_at > now - DOUBLE_TAP)).first()
    if pending is not None:
        return ActionResult(True, f"The hotline is already calling you on {rep.phone} for incident "
                                  f"{incident.reference} (requested at {hhmm(pending.requested_at)}).", result.jobs)
    callback = open_callback(session, incident, rep.id, now)
    return ActionResult(True, f"Calling you on {rep.phone} now. Answer, and you will be connected to "
                              f"{incident.company or 'the customer'} on {incident.callback_phone}.",
                        result.jobs + [callback_job(callback, now)])


def resolve(session: Session, incident: Incident, user: User, now: datetime) -> ActionResult:
    """Close an incident the customer agrees is resolved; only after someone called them back."""
    if incident.status != IncidentStatus.OPEN:
        return ActionResult(False, f"Incident {incident.reference} is already resolved.")
    called = incident.callback_answered_at is not None or session.scalar(select(Callback.id).where(
        Callback.incident_id == incident.id, Callback.outcome == CallbackOutcome.SELF_REPORTED).limit(1))
    if not called:
        return ActionResult(False, f"Call the customer back before resolving {incident.reference}: "
                                   "the 15-minute promise is kept only by a call.")
    incident.status = IncidentStatus.RESOLVED
    log_event(session, at=now, actor=user.name, kind="resolved", incident_id=incident.id,
              detail={"user_id": user.id})
    return ActionResult(True, f"Incident {incident.reference} is resolved and leaves the board.")


def _rep_of(session: Session, user: User) -> Rep | None:
    return session.get(Rep, user.rep_id) if user.rep_id else None
