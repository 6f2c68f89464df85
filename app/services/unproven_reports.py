"""Rescued reports with no recorded details: what sets them apart in pacing and in the receipts they cost.

A call that hangs up right after triage is a Sev-1 the hotline was told of: it is rescued as an incident, paged and
promised a callback like any other (the policy: never dropped). But such a report carries nothing a caller said: no
company, no name, no e-mail address, and no callback number they gave (its number is the caller ID, which anyone can
spoof). An outside probe's 40 spoofed caller IDs hanging up after triage opened 40 Sev-1s; the real customer who
called next had their voice page wait 41 s behind the flood's in the account's call rate, and each spoofed number, a
stranger's phone perhaps, was sent a receipt SMS. So (``recorded_details``, the one rule):

- pages of a report without recorded details give way in the send pacing to pages of reports with them
  (``Pacer.give_way``, ``pages.PageSender``): still sent, at once when the schedule is free;
- receipts to such numbers, which nobody proved, are bounded like the missed-call SMS (``UNPROVEN_RECEIPTS_PER_HOUR``
  an hour for the whole hotline): past it the receipt is withheld and the incident's log says so
  (``receipt_withheld``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Incident, IncidentEvent, IncidentSource, Page
from app.models.paging import CUSTOMER_ROLE
from app.services.advisory_locks import UNPROVEN_RECEIPT_SPACE, hold

# SMS an hour, for the whole hotline, of each kind it sends to a number nobody proved: missed-call invitations
# (``missed_calls.MISSED_CALL_SMS_PER_HOUR``) and receipts to the caller IDs of rescued reports without recorded
# details. Spoofed caller IDs, each a new number, must not make the hotline an SMS pump.
UNPROVEN_SMS_PER_HOUR = 60
UNPROVEN_RECEIPTS_PER_HOUR = UNPROVEN_SMS_PER_HOUR
CALLBACK_FROM_CALLER_ID = "caller_id"  # an ``incident_rescued`` line's "callback": the caller ID taken for one


def said_nothing(incident: Incident) -> bool:
    """A rescued report whose caller said no company, name or e-mail address (what its row shows; whether they gave
    a callback number is on its log: ``recorded_details``)."""
    return (incident.source == IncidentSource.RESCUED and not incident.company and not incident.contact_name
            and not incident.email)


def _callback_taken_from_caller_id(session: Session, incident_ids: list[int]) -> set[int]:
    """Those of ``incident_ids`` whose rescue took the caller ID for the callback number (the caller gave none)."""
    if not incident_ids:
        return set()
    rows = session.execute(select(IncidentEvent.incident_id, IncidentEvent.detail).where(
        IncidentEvent.incident_id.in_(incident_ids), IncidentEvent.kind == EventKind.INCIDENT_RESCUED))
    return {row.incident_id for row in rows if (row.detail or {}).get("callback") == CALLBACK_FROM_CALLER_ID}


def recorded_details(session: Session, incident: Incident) -> bool:
    """Whether the report has details a caller recorded: any report but a rescued one, and a rescued one whose caller
    said a company, a name or an e-mail address, or gave (or confirmed) a callback number. A rescue logged before
    this rule (its line says nothing of the callback) counts as having them: nothing changes for it."""
    if not said_nothing(incident):
        return True
    return incident.id not in _callback_taken_from_caller_id(session, [incident.id])


def receipt_withheld(session: Session, incident: Incident, now: datetime) -> bool:
    """Whether the incident's receipt SMS is withheld: it has no recorded details (its number is a caller ID nobody
    proved) and ``UNPROVEN_RECEIPTS_PER_HOUR`` receipts to such numbers were written in the hour before ``now``.

    Counted under one lock (``advisory_locks.hold``) that the receipt step's transaction holds until its receipt is
    written: receipts decided at the same moment are counted one after another, never past the bound together."""
    if not UNPROVEN_RECEIPTS_PER_HOUR or recorded_details(session, incident):
        return False
    hold(session, UNPROVEN_RECEIPT_SPACE, "all")
    recent = session.scalars(select(Page.incident_id).join(Incident, Incident.id == Page.incident_id).where(
        Page.purpose == "receipt", Page.role == CUSTOMER_ROLE, Page.created_at >= now - timedelta(hours=1),
        Page.incident_id != incident.id, Incident.source == IncidentSource.RESCUED, Incident.company == "",
        Incident.contact_name == "", Incident.email == "")).all()
    return len(_callback_taken_from_caller_id(session, sorted(set(recent)))) >= UNPROVEN_RECEIPTS_PER_HOUR
