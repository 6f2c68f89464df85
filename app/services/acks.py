"""Acknowledging an incident: the first rep wins; queued escalation pages are canceled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Channel, Incident, IncidentStatus, Page, PageStatus
from app.oncall.contactable import Contactable
from app.queue import PendingJob
from app.services.events import log_event
from app.services.page_text import hhmm
from app.services.pages import ESCALATION_PURPOSES, queue_page
from app.services.phones import is_textable


@dataclass
class AckResult:
    """What an acknowledgement attempt did, and what to tell the rep."""

    ok: bool
    message: str
    jobs: list[PendingJob] = field(default_factory=list)


def lock_incident(session: Session, reference: str) -> Incident | None:
    """The incident with this reference, row-locked for the rest of the transaction."""
    return session.scalars(select(Incident).where(Incident.reference == reference).with_for_update()).first()


def acknowledge(session: Session, incident: Incident, rep_id: int | None, rep_name: str, via: str,
                now: datetime) -> AckResult:
    """Record ``rep``'s acknowledgement unless the incident is closed or someone else was first."""
    ref = incident.reference
    if incident.status != IncidentStatus.OPEN:
        return _refused(session, incident, rep_name, via, now, f"Incident {ref} is closed. Nothing was changed.")
    if incident.acknowledged_at is not None:
        if rep_id is not None and incident.acknowledged_by == rep_id:
            return AckResult(True, f"You already acknowledged incident {ref}.")
        return _refused(session, incident, rep_name, via, now,
                        f"Incident {ref} was already acknowledged at {hhmm(incident.acknowledged_at)}. "
                        "Nothing was changed.")
    incident.acknowledged_at = now
    incident.acknowledged_by = rep_id
    canceled = session.execute(
        update(Page)
        .where(Page.incident_id == incident.id, Page.status == PageStatus.QUEUED, Page.purpose.in_(ESCALATION_PURPOSES))
        .values(status=PageStatus.CANCELED, updated_at=now)
    ).rowcount
    log_event(session, at=now, actor=rep_name or "rep", kind="acknowledged", incident_id=incident.id,
              detail={"rep_id": rep_id, "via": via, "pages_canceled": canceled})
    jobs = []
    if is_textable(incident.callback_phone):
        customer = Contactable(rep_id=None, name=incident.contact_name, phone=incident.callback_phone,
                               channels=("sms",), role="customer")
        job = queue_page(session, incident, customer, Channel.SMS, "ack_notice", now)
        jobs = [job] if job else []
    return AckResult(True, f"Acknowledged {ref}. Call {incident.company or 'the customer'} on "
                           f"{incident.callback_phone or 'the number in the incident'} by "
                           f"{hhmm(incident.callback_due_at)}. Reply CALL {ref} to be connected.", jobs)


def _refused(session: Session, incident: Incident, rep_name: str, via: str, now: datetime, message: str) -> AckResult:
    log_event(session, at=now, actor=rep_name or "rep", kind="acknowledgement_refused", incident_id=incident.id,
              detail={"via": via, "reason": message})
    return AckResult(False, message)
