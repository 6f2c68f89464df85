"""Reopening a closed incident: the customer's NO to a close they never agreed to in writing, or a rep's reason.

Policy point 6: customer and provider agree together when the problem is resolved. A close on a rep's record of a
verbal agreement, a manager's close or a proposal's silence tells the customer how to say it is not resolved ("reply
NO <ref>"); that NO, from the incident's callback number within ``REOPEN_WINDOW_DAYS``, reopens it here. Which closes
may be undone, and by whom, is the escalation core's rule (``decide._reopen``); this service loads the close, calls
the core, carries out its decision and tells people. Each function works inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.escalation import Decision, Reopen, decide
from app.event_kind import EventKind
from app.models import DeliveryChannel, FollowUpState, Incident, IncidentEvent, IncidentStatus
from app.prompts import text
from app.services import update_text
from app.services.acks import Actor, Answer
from app.services.customer_text import written_time
from app.services.decisions import Acting, carry_out
from app.services.deliveries import queue_delivery
from app.services.escalation import snapshot
from app.services.oncall import customer_readers, reader_role
from app.services.page_text import company_name, rep_clock
from app.services.row_locks import lock_incident
from app.services.updates import follow_up_of, written_channels

PURPOSE = "reopened"  # the deliveries telling the readers (and, reopened by a rep, the customer)
BY_CUSTOMER, BY_STAFF = "customer", "staff"  # the ``by`` of an ``incident_reopened`` line
_CUSTOMER_VIAS = ("sms", "link", "call")  # the customer's own YES: their SMS, the e-mail link, a call's keypad


@dataclass(frozen=True)
class Close:
    """The close a reopen would undo: its ``resolved`` line, when, and how it came (``close_kind``)."""

    line_id: int
    at: datetime
    kind: str
    agreed_by: str


def close_kind(detail: dict) -> str:
    """How a ``resolved`` line's close came: "customer" (their own YES by SMS, link or keypad), "verbal" (a rep's
    record of their agreement), "manager", "silence" (a proposal left unanswered); "" when the line does not say
    (written before the core named its outcomes)."""
    outcome, via = detail.get("outcome"), detail.get("via")
    if outcome == "resolved_by_manager":
        return "manager"
    if outcome == "resolved_unconfirmed":
        return "silence"
    if outcome == "resolved":
        return "verbal" if via == "verbal" else "customer" if via in _CUSTOMER_VIAS else ""
    return ""


def last_close(session: Session, incident: Incident) -> Close | None:
    """The incident's latest close (its latest ``resolved`` line), None when it has none."""
    line = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.RESOLVED)
        .order_by(IncidentEvent.id.desc()).limit(1)).first()
    if line is None:
        return None
    detail = line.detail or {}
    return Close(line.id, line.at, close_kind(detail), str(detail.get("agreed_by") or ""))


def latest_reopen(session: Session, incident: Incident) -> IncidentEvent | None:
    """The ``incident_reopened`` line of an open incident that no later close undid (None: not reopened)."""
    if incident.status != IncidentStatus.OPEN:
        return None
    lines = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id,
        IncidentEvent.kind.in_((EventKind.INCIDENT_REOPENED, EventKind.RESOLVED)))
        .order_by(IncidentEvent.id.desc()).limit(1)).first()
    return lines if lines is not None and lines.kind == EventKind.INCIDENT_REOPENED else None


def reopened_words(detail: dict, actor: str) -> str:
    """What the board and the incident page say of a reopen: who, and the customer's words or the rep's reason."""
    if detail.get("by") == BY_CUSTOMER:
        said = " ".join(str(detail.get("words") or "").split())
        return "Reopened by the customer" + (f': "{said}"' if said else "")
    return f"Reopened by {actor}: {detail.get('reason', '')}"


def by_customer(session: Session, incident: Incident, words: str, now: datetime, window: timedelta) -> str | None:
    """The customer's NO (``words``, from the incident's callback number, naming its reference) to the notice of a
    close: reopen it when the core allows (a close they never agreed to in writing, within ``window``); the answer
    they read, in their language. None when it stays closed (their words go on as before: ``customer_sms``)."""
    incident = lock_incident(session, incident.id)
    close = last_close(session, incident) if incident is not None else None
    if close is None:
        return None
    decision = _customer_no(session, incident, close, now, window)
    if decision.refused:
        return None
    said = " ".join(words.split())[:update_text.QUOTE_LIMIT]
    due = _carry_out(session, incident, decision, close, now, Acting(
        actor=incident.contact_name or "customer", detail={"by": BY_CUSTOMER, "via": "sms", "words": said}))
    how = text(f"reopen_close_{close.kind}", agreed_by=close.agreed_by)
    _tell_readers(session, incident, now, due, text("reopened_by_customer_to_owner", ref=incident.reference,
                                                    company=company_name(incident), how=how, words=said,
                                                    phone=incident.callback_phone))
    return _customer_text(incident, "cust_reopened", due, now)


def reopens_on_no(session: Session, incident: Incident, now: datetime, window: timedelta) -> bool:
    """Whether the customer's NO naming ``incident`` would reopen it now (the core's rule, as ``by_customer`` asks
    it): a customer who wrote anything else about it, a bare NO among them, is told to send just that."""
    close = last_close(session, incident)
    return close is not None and not _customer_no(session, incident, close, now, window).refused


def _customer_no(session: Session, incident: Incident, close: Close, now: datetime, window: timedelta) -> Decision:
    """The core's decision on the customer's NO to ``close`` at ``now`` (``window``: ``REOPEN_WINDOW_DAYS``)."""
    trigger = Reopen(by_customer=True, close=close.kind, within_window=window > timedelta(0) and now - close.at <= window,
                     closed_at=close.at)
    return decide(trigger, snapshot(session, incident, now), now)


def by_staff(session: Session, incident: Incident, actor: Actor, reason: str, now: datetime) -> Answer:
    """A rep or manager reopens a closed incident, with a written reason (any close, at any time): open again, its
    readers texted, updates resumed and the customer told in writing (SMS, else e-mail) when the next comes."""
    close = last_close(session, incident)
    reason = " ".join(reason.split())[:500]
    decision = decide(Reopen(by_customer=False, close=close.kind if close else "", reason=reason,
                             closed_at=close.at if close else None), snapshot(session, incident, now), now)
    if decision.refused:
        key = "reopen_not_closed" if decision.outcome == "refused_not_closed" else "reopen_needs_reason"
        return Answer(False, decision.outcome, text(key, ref=incident.reference))
    due = _carry_out(session, incident, decision, close, now, Acting(
        actor=actor.name or "rep", rep_id=actor.rep_id,
        detail={"by": BY_STAFF, "via": actor.via, "rep_id": actor.rep_id, "reason": reason}))
    _tell_readers(session, incident, now, due, text("reopened_by_staff_to_owner", ref=incident.reference,
                                                    company=company_name(incident), who=actor.name or "a rep",
                                                    reason=reason), skip=actor.rep_id)
    told = _tell_customer(session, incident, due, now)
    when = (text("reopen_next_update", due=update_text.due_text(due, rep_clock(actor.rep), now))
            if due is not None else text("reopen_no_update"))
    return Answer(True, decision.outcome, text("reopened", ref=incident.reference) + when
                  + text(f"reopen_customer_told_{told or 'none'}"))


def _carry_out(session: Session, incident: Incident, decision, close: Close | None, now: datetime,
               acting: Acting) -> datetime | None:
    """Carry out the core's decision, its line naming the close it undoes; when the next update is due (None: none
    is owed, the customer was never reached)."""
    if close is not None:
        acting.detail.update({"undoes": close.line_id, "close": close.kind, "closed_at": close.at.isoformat(),
                              "closed_for_seconds": round((now - close.at).total_seconds(), 1)})
    carry_out(session, incident, decision, now, acting)
    follow_up = follow_up_of(session, incident)
    return follow_up.next_due_at if follow_up is not None and follow_up.state == FollowUpState.UPDATING else None


def _tell_readers(session: Session, incident: Incident, now: datetime, due: datetime | None, body: str,
                  skip: int | None = None) -> None:
    """Text the reopen at once to whoever reads the customer's words (``customer_readers``: the owner, else the
    managers or the reps paged), each with the next update's time on their clock; never the rep who reopened it."""
    reps, owner = customer_readers(session, incident)
    for rep in {r.phone: r for r in reps if r.phone and r.id != skip}.values():
        when = (text("reopened_owner_due", ref=incident.reference, due=update_text.due_text(due, rep_clock(rep), now))
                if due is not None else "")
        queue_delivery(session, channel=DeliveryChannel.SMS, to=rep.phone, purpose=PURPOSE,
                       recipient=reader_role(rep, owner), body=body + when, now=now, incident_id=incident.id)


def _customer_text(incident: Incident, key: str, due: datetime | None, now: datetime) -> str:
    """A message to the customer that their incident is open again, with the next update's time on their clock, in
    their language."""
    lang = incident.language
    if due is None:
        return update_text.translated(lang, f"{key}_no_update", ref=incident.reference)
    return update_text.translated(lang, key, ref=incident.reference,
                                  due=written_time(due, update_text.customer_zone(incident), lang, now))


def closing_notice_outrun(session: Session, incident_id: int, to: str, now: datetime) -> bool:
    """A customer's notice that their incident was closed, which Twilio took after the incident was reopened: their
    NO (or a rep's reopen) came while the notice was being sent (claimed before the reopen, so not canceled:
    ``pages._closing_outdated``), and its "closed" would be their last word from us, after "open again" (an outside
    probe's customer read it 7 ms after the reopen). A correction follows it by SMS, to the same number, in their
    language. True when one was queued."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.status != IncidentStatus.OPEN:
        return False
    body = update_text.translated(incident.language, "cust_closing_outrun", ref=incident.reference)
    return queue_delivery(session, channel=DeliveryChannel.SMS, to=to, purpose=PURPOSE, body=body, now=now,
                          incident_id=incident.id, language=incident.language) is not None


def _tell_customer(session: Session, incident: Incident, due: datetime | None, now: datetime) -> str:
    """Tell the customer their incident was reopened by the support team: by SMS, else by e-mail; the channel, ""
    when neither can reach them."""
    channels = written_channels(session, incident)
    body = _customer_text(incident, "cust_reopened_by_staff", due, now)
    if DeliveryChannel.SMS.value in channels:
        queue_delivery(session, channel=DeliveryChannel.SMS, to=incident.callback_phone, purpose=PURPOSE, body=body,
                       now=now, incident_id=incident.id, language=incident.language)
        return DeliveryChannel.SMS.value
    if DeliveryChannel.EMAIL.value in channels:
        subject = update_text.translated(incident.language, "cust_reopened_subject", ref=incident.reference)
        queue_delivery(session, channel=DeliveryChannel.EMAIL, to=incident.email, purpose=PURPOSE, subject=subject,
                       body=body, now=now, incident_id=incident.id, language=incident.language)
        return DeliveryChannel.EMAIL.value
    return ""


def reopened_by(session: Session, incident: Incident) -> str:
    """The board's and incident page's words for an open incident reopened (and not closed since), else ""."""
    line = latest_reopen(session, incident)
    return reopened_words(line.detail or {}, line.actor) if line is not None else ""

