"""SMS replies from reps: ACK, CALL, CALLED (a self-reported callback), HELP."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import Incident, IncidentStatus, Page
from app.models.oncall import Rep
from app.queue import PendingJob
from app.services.acks import acknowledge, lock_incident
from app.services.callbacks import callback_job, open_callback, self_report
from app.services.events import log_event

COMMANDS = {"ACK": "ack", "OK": "ack", "YES": "ack", "1": "ack", "CALL": "call", "2": "call",
            "CALLED": "called", "DONE": "called", "HELP": "help"}
HELP = "Sev-1 pages: reply ACK <ref> to acknowledge, CALL <ref> to be connected to the customer, CALLED <ref> if you called from your own phone."
REFERENCE = re.compile(r"\b(\d{6})\b")


@dataclass
class SmsAnswer:
    """The SMS reply to send back, and jobs to enqueue after commit."""

    reply: str
    jobs: list[PendingJob] = field(default_factory=list)


def handle_rep_sms(session: Session, from_number: str, body: str, now: datetime) -> SmsAnswer:
    """Carry out a rep's SMS command; unknown senders and stale codes change nothing."""
    rep = session.scalars(select(Rep).where(
        or_(Rep.phone == from_number, Rep.phone_alt == from_number), Rep.active.is_(True))).first()
    if rep is None:
        log_event(session, at=now, actor=from_number[:100] or "unknown", kind="sms_from_unknown_sender",
                  detail={"body": body[:160]})
        return SmsAnswer("This number is not registered for Sev-1 pages. Nothing was changed. "
                         "To report a critical outage, call this number.")
    words = body.strip().upper().split()
    command = COMMANDS.get(words[0].strip(".!,")) if words else None
    if command is None or command == "help":
        return SmsAnswer(HELP)
    match = REFERENCE.search(body)
    reference = match.group(1) if match else _only_open_page(session, rep)
    if reference is None:
        return SmsAnswer("You have no open Sev-1 page. Nothing was changed.")
    if reference.startswith("several:"):
        return SmsAnswer(f"You have several open pages ({reference[8:]}). Reply {words[0]} <reference>.")
    incident = lock_incident(session, reference)
    if incident is None:
        log_event(session, at=now, actor=rep.name, kind="sms_unknown_reference", detail={"reference": reference})
        return SmsAnswer(f"No incident {reference}. Nothing was changed.")
    if command == "called":
        self_report(session, incident, rep.id, rep.name, now, "reported by SMS", now)
        return SmsAnswer(f"Noted: you called the customer of {reference} from your own phone.")
    result = acknowledge(session, incident, rep.id, rep.name, "sms", now)
    if command == "ack" or (not result.ok and incident.acknowledged_by != rep.id):
        return SmsAnswer(result.message, result.jobs)
    if incident.status != IncidentStatus.OPEN or not incident.callback_phone:
        return SmsAnswer(f"Incident {reference} has no number to call. Nothing was placed.", result.jobs)
    callback = open_callback(session, incident, rep.id, now)
    return SmsAnswer(f"Calling you now to connect you to {incident.company or 'the customer'} ({reference}).",
                     result.jobs + [callback_job(callback, now)])


def _only_open_page(session: Session, rep: Rep) -> str | None:
    """The reference of the one open incident this rep was paged for and that still needs them."""
    refs = sorted(set(session.scalars(
        select(Incident.reference).join(Page, Page.incident_id == Incident.id).where(
            or_(Page.rep_id == rep.id, Page.to_number == rep.phone),
            Incident.status == IncidentStatus.OPEN, Incident.callback_answered_at.is_(None),
            or_(Incident.acknowledged_at.is_(None), Incident.acknowledged_by == rep.id),
        ))))
    if not refs:
        return None
    if len(refs) > 1:
        return "several:" + ", ".join(refs)
    return refs[0]
