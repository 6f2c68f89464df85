"""An SMS from an account's TAM to the hotline number: their words reach the incident they are about.

A TAM is told of their account's Sev-1s (page, at-risk and breach texts), never asked: nothing they text is a
command. Their words about an open incident of their account (one they were paged about, or whose ticket is their
account's) are logged on it and texted at once to whoever reads the customer's words (the owner; the reps paged so
far before anyone acknowledged; else the managers: ``oncall.customer_readers``), and the TAM is answered each time
where they went. Until this change a probe's TAM who texted "What is going on?" reached nobody, and after the first
automatic answer got none at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Account, DeliveryChannel, Incident, IncidentStatus, Page, Ticket
from app.models.paging import TAM_ROLE
from app.prompts import text
from app.services.acks import lock_incident
from app.services.deliveries import queue_delivery
from app.services.events import log_event
from app.services.oncall import customer_readers, reader_role, tam_name
from app.services.page_text import company_name
from app.services.sms_commands import REFERENCE
from app.services.tickets import account_of
from app.services.update_text import QUOTE_LIMIT


def tam_sms(session: Session, from_number: str, body: str, now: datetime, media: int = 0) -> str | None:
    """Pass a TAM's words to the open incident of their account they are about; the answer to the TAM. None when
    ``from_number`` is no TAM's, or their accounts have no open incident (``sms_commands`` answers as before)."""
    if not from_number:
        return None
    accounts = list(session.scalars(select(Account).where(Account.tam_phone == from_number).order_by(Account.id)))
    if not accounts:
        return None
    incidents = _open_incidents(session, from_number, accounts)
    if not incidents:
        return None
    named = [i for i in incidents if i.reference in set(REFERENCE.findall(body))]
    if len(named) != 1 and len(incidents) > 1:  # which incident the words are about cannot be told
        refs = ", ".join(i.reference for i in (named or incidents))
        log_event(session, at=now, actor="tam", kind=EventKind.TAM_SMS_UNPLACED,
                  detail={"references": refs, "body": body[:160]})
        return text("tam_sms_which", refs=refs, ref=(named or incidents)[0].reference)
    incident = lock_incident(session, (named or incidents)[0].reference)
    account = account_of(session, incident) or accounts[0]
    readers, owner = customer_readers(session, incident)
    words = " ".join(body.split())[:QUOTE_LIMIT] + (f" [+{media} picture(s) or file(s) we cannot show]" if media else "")
    tam = tam_name(account)
    sms = text("tam_sms_to_reader", ref=incident.reference, company=company_name(incident), tam=tam, text=words)
    told = [r for r in readers if r.phone]
    for reader in told:
        queue_delivery(session, channel=DeliveryChannel.SMS, to=reader.phone, purpose="tam_sms", now=now,
                       recipient=reader_role(reader, owner), body=sms, incident_id=incident.id)
    log_event(session, at=now, actor=tam, kind=EventKind.TAM_SMS_MESSAGE, incident_id=incident.id,
              detail={"text": words, "tam": tam, "told_rep_ids": [r.id for r in told],
                      "owner_rep_id": owner.id if owner else None})
    if not told:
        return text("tam_sms_logged_only", ref=incident.reference)
    who = (f"{owner.name}, who owns it" if owner is not None and [r.id for r in told] == [owner.id]
           else ("the managers" if all(r.is_manager for r in told) else "the reps paged for it") + ": "
           + ", ".join(r.name for r in told))
    return text("tam_sms_passed_on", ref=incident.reference, who=who)


def _open_incidents(session: Session, from_number: str, accounts: list[Account]) -> list[Incident]:
    """The open incidents a TAM on ``from_number`` may text about: those they were paged about, and those whose
    ticket is of one of their ``accounts`` (``tickets.account_of``: a claim not proven with the PIN is not theirs)."""
    paged = set(session.scalars(select(Page.incident_id).where(Page.to_number == from_number, Page.role == TAM_ROLE)))
    ids = {a.id for a in accounts}
    candidates = session.scalars(select(Incident).outerjoin(Ticket, Ticket.id == Incident.ticket_id).where(
        Incident.status == IncidentStatus.OPEN, (Incident.id.in_(paged)) | (Ticket.account_id.in_(ids)))
        .order_by(Incident.id))
    return [i for i in candidates if i.id in paged or (account_of(session, i) is not None
                                                       and account_of(session, i).id in ids)]
