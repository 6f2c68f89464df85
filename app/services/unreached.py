"""An update, resolution proposal or interval confirmation that reached the customer by no channel: its owner is
told, once, to phone.

A customer's message "reached nobody" when every delivery of it is final and none was accepted: each SMS came
back failed or undelivered (or the number opted out), each e-mail failed or was never sent (no SMTP). A delivery
still waiting for its report, or an e-mail the server accepted, may have reached them: that is not a failure.
The check runs when one of its deliveries becomes final, under the update's (or proposal's) row lock, so two
deliveries ending at once still alert exactly once; the log line is that "once".

An e-mail is retried for about 31 minutes (``deliveries.backoff``). The customer must not wait that long unreached
with nobody knowing: once every delivery has ended unreached or is an e-mail that failed ``STALLED_AFTER`` tries
(a minute apart: one passing refusal is retried before anyone is bothered), the owner is told at once, also once
(``customer_message_stalled``), that it has not reached them yet; the "NO channel" SMS still follows should the
e-mail give up.

A proposal known to have reached nobody is also set aside at once (``proposal_unheard.reached_nobody``): the round
it paused is owed again. An interval confirmation that did is not "told" (``updates.told_interval``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import (
    CustomerUpdate,
    Delivery,
    DeliveryChannel,
    Incident,
    IncidentEvent,
    IncidentStatus,
    ProposalState,
    Rep,
    ResolutionProposal,
    UpdateDeliveryStatus,
)
from app.prompts import text
from app.services.events import log_event
from app.services.oncall import incident_owner, managers, owner_or_managers
from app.services.page_text import company_name
from app.services.proposal_unheard import reached_nobody
from app.services.update_numbers import update_number

UNREACHED = (UpdateDeliveryStatus.FAILED, UpdateDeliveryStatus.SKIPPED, UpdateDeliveryStatus.OPTED_OUT)
INTERVAL = "interval"  # the purpose of the customer's written confirmation of the agreed interval (``updates``)
STALLED_AFTER = 2  # failed tries of an e-mail still being retried before its message counts as not reaching them
RETRYING = "retrying"  # a stalled line's word for an e-mail still being retried after failing


@dataclass(frozen=True)
class Alert:
    """One SMS to queue: to whom (their number, "owner" or "manager") and what it says."""

    phone: str
    recipient: str
    body: str


def alerts_for(session: Session, delivery: Delivery, now: datetime) -> list[Alert]:
    """After ``delivery`` became final, or failed a try and waits for its next: when its update, proposal or interval
    confirmation has now reached the customer by no channel (or none so far, only an e-mail still retried after
    ``STALLED_AFTER`` failed tries), log it (once) and return the SMS that tell the owner (else the managers) to
    phone the customer."""
    if delivery.recipient != "customer" or delivery.status not in (*UNREACHED, UpdateDeliveryStatus.QUEUED):
        return []
    if delivery.update_id is not None:
        parent = session.get(CustomerUpdate, delivery.update_id, with_for_update=True)
        column, what, final_kind = Delivery.update_id, "update", EventKind.CUSTOMER_UPDATE_UNDELIVERED
    elif delivery.proposal_id is not None:
        parent = session.get(ResolutionProposal, delivery.proposal_id, with_for_update=True)
        column, what, final_kind = Delivery.proposal_id, "proposal", EventKind.RESOLUTION_PROPOSAL_UNDELIVERED
        if parent is not None and parent.state != ProposalState.PROPOSED:
            return []  # answered, agreed by phone or withdrawn: nobody waits on it any more
    elif delivery.purpose == INTERVAL and not _confirmed_since(session, delivery):
        # one message on one channel (``updates._tell_interval``), the caller holds its row lock; until this change a
        # failed one told nobody, and the hotline held the customer told an interval they never read
        parent, column, what, final_kind = delivery, Delivery.id, "interval", EventKind.INTERVAL_CONFIRMATION_UNDELIVERED
    else:
        return []
    incident = session.get(Incident, delivery.incident_id) if parent is not None else None
    if incident is None:
        return []
    rows = session.execute(select(Delivery.channel, Delivery.status, Delivery.last_error, Delivery.attempts)
                           .where(column == parent.id, Delivery.recipient == "customer")).all()
    final = all(status in UNREACHED for _, status, _, _ in rows)
    if not final and not all(row[1] in UNREACHED or _stalled(*row) for row in rows):
        return []  # a delivery may still reach them (waiting for its report, accepted, or not failing long enough)
    kind = final_kind if final else EventKind.CUSTOMER_MESSAGE_STALLED
    if _logged(session, incident.id, kind, what, parent.id):
        return []
    readers = _readers(session, incident) if incident.status == IncidentStatus.OPEN else []
    how = {str(channel): str(status) if status in UNREACHED else RETRYING for channel, status, _, _ in rows}
    log_event(session, at=now, actor="system", kind=kind, incident_id=incident.id,
              detail={f"{what}_id": parent.id, "round": getattr(parent, "round", None), "channels": how,
                      "errors": {str(channel): (error or "")[:120] for channel, _, error, _ in rows},
                      "told": [recipient for _, recipient in readers]})
    if final and what == "proposal":  # known now to have reached nobody: it proves nothing, updates are owed again
        reached_nobody(session, incident, parent, now)
    key = f"upd_{'' if what == 'update' else what + '_'}{'unreached' if final else 'stalled'}_sms"
    number = update_number(session, incident.id, parent.round) if what == "update" else None
    body = text(key, ref=incident.reference, company=company_name(incident), number=number or "",
                how=_how(how), phone=incident.callback_phone or "no number")
    return [Alert(phone, recipient, " ".join(body.split())) for phone, recipient in readers]


def notice_alerts(session: Session, incident: Incident, purpose: str, sms_how: str) -> list[Alert]:
    """A closing notice reached the customer by no channel (its SMS ``sms_how``, "undelivered" or "failed", and no
    e-mail can go: ``decide._notice_failed``): the SMS that tell whoever closed the incident (an active rep) and its
    owner (else the managers), each once, to phone the customer, who does not know it is closed."""
    closer = _closer(session, incident)
    readers = ([(closer.phone, "closer")] if closer is not None else []) + _readers(session, incident)
    email = "no e-mail address" if not incident.email else "e-mail not sent: SMTP is not configured"
    key = "notice_unreached_agreed_sms" if purpose == "agreed_closing" else "notice_unreached_sms"
    body = text(key, ref=incident.reference, company=company_name(incident), how=f"SMS {sms_how}, {email}",
                phone=incident.callback_phone or "no number")
    each: dict[str, str] = {}
    for phone, recipient in readers:  # the closer who owns it too is texted once, as the closer
        each.setdefault(phone, recipient)
    return [Alert(phone, recipient, " ".join(body.split())) for phone, recipient in each.items()]


def _closer(session: Session, incident: Incident) -> Rep | None:
    """The active rep (with a phone) who closed the incident last, as its ``resolved`` line says, if any."""
    details = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.RESOLVED)
        .order_by(IncidentEvent.id.desc()).limit(1))
    rep_id = next(((detail or {}).get("rep_id") for detail in details), None)
    rep = session.get(Rep, rep_id) if isinstance(rep_id, int) else None
    return rep if rep is not None and rep.active and rep.phone else None


def _confirmed_since(session: Session, delivery: Delivery) -> bool:
    """A later confirmation of the interval to the customer may have reached them (not ended unreached): what they
    were told is that one's, so this one's failure leaves nothing to phone about."""
    return session.scalar(select(Delivery.id).where(
        Delivery.incident_id == delivery.incident_id, Delivery.purpose == INTERVAL, Delivery.recipient == "customer",
        Delivery.id > delivery.id, Delivery.status.notin_(UNREACHED)).limit(1)) is not None


def _stalled(channel: str, status: str, error: str | None, attempts: int) -> bool:
    """An e-mail that failed ``STALLED_AFTER`` tries and waits for its next."""
    return (channel == DeliveryChannel.EMAIL and status == UpdateDeliveryStatus.QUEUED and attempts >= STALLED_AFTER
            and bool(error))


def _logged(session: Session, incident_id: int, kind: str, what: str, parent_id: int) -> bool:
    """Whether this update (or proposal) was already reported unreached (an incident has few such lines)."""
    details = session.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident_id,
                                                                 IncidentEvent.kind == kind))
    return any((detail or {}).get(f"{what}_id") == parent_id for detail in details)


def _readers(session: Session, incident: Incident) -> list[tuple[str, str]]:
    """The owner's number (the managers' once the owner was deactivated, or when nobody owns it), each once."""
    owner = incident_owner(session, incident)
    reps = owner_or_managers(session, owner) if owner is not None else managers(session)
    phones = dict.fromkeys((rep.phone, "owner" if rep is owner else "manager") for rep in reps if rep.phone)
    return list(phones)


def _how(channels: dict[str, str]) -> str:
    """"SMS failed, e-mail skipped": what became of each channel, in the words a rep reads."""
    names = {"sms": "SMS", "email": "e-mail"}
    words = {"failed": "failed", "skipped": "not sent", "opted_out": "opted out (STOP)",
             RETRYING: "failing, still retried"}
    return ", ".join(f"{names.get(c, c)} {words.get(s, s)}" for c, s in sorted(channels.items(), reverse=True))
