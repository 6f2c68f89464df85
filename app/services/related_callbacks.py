"""A callback that reached the customer on one incident counts for the incidents linked to it as possibly related.

A customer's call drops (or they hang up) and they redial: the two incidents share a callback number and are linked
as possibly related (``caller_trust.record_caller_check``, ``caller_limits.open_apart``). The rep calls back on one
of them and talks with the customer: that conversation is the callback the other is owed too. Without this, the
other escalated as if nobody had called (its levels paged, it breached, the managers were paged and the customer was
texted "we have not reached you" after they were reached), and the report counted it as a breach.

The rule is the escalation core's (``decide._reached_on_related``): counted on the other incident's own deadline
(met or late), never for another number, never once it is resolved or its own callback counted, and never across a
link that owes each side its own callback (``own_callback`` on its ``possibly_related`` line: the caller said it is a
different outage, another caller keyed the ticket, or another contact from the number; ``same_report``): an outside
probe's caller pressed 2, "a different outage", and the call about the first outage counted as the second's callback,
which then had no updates of its own. What it changes is
the incident's answer (``callback_answered_at``, which every step, page, board row and the API read) and its log
line (``callback_reached_on_related``, which the report's fold reads); ``reached_on_callback_id`` names the callback,
so a withdrawal of that callback's answer (too short to count) is mirrored on the other incident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.escalation import AnswerWithdrawn, ReachedOnRelated, decide
from app.models import Callback, CallbackOutcome, Incident, IncidentEvent, IncidentStatus
from app.reports.facts import TALKING_SINCE
from app.services.callback_extensions import callback_extension
from app.services.decisions import Acting, carry_out
from app.services.escalation import snapshot
from app.services.events import log_event
from app.services.row_locks import linked_incident_ids, lock_incident

COUNTED = (CallbackOutcome.MET, CallbackOutcome.LATE)
# a link's ``why`` from before ``own_callback`` was written (session 43) that owed each side its own callback
_OWN_CALLBACK_WORDS = ("each has its own callback", "different outage")


def standing_answer(session: Session, incident: Incident) -> datetime | None:
    """The incident's answer: the earliest of its own callbacks counted (met or late) and the related incident's
    callback counted for it (``reached_on_callback_id``) while that one still stands."""
    own = session.scalar(select(func.min(Callback.answered_at)).where(
        Callback.incident_id == incident.id, Callback.outcome.in_(COUNTED)))
    via = session.get(Callback, incident.reached_on_callback_id) if incident.reached_on_callback_id else None
    related = via.answered_at if via is not None and via.outcome in COUNTED else None
    return min((t for t in (own, related) if t is not None), default=None)


def link_possibly_related(session: Session, incident: Incident, related: Incident, why: str, now: datetime,
                          own_callback: bool = False) -> None:
    """Link ``incident`` to ``related`` as possibly related (both logs say so, and ``why``; ``own_callback``: each is
    owed a callback of its own, so no conversation on one counts for the other), and count for the
    incidents the link joins a conversation already held on the other side (``reach_related`` of each callback
    counted on the chain, as the core decides: never one before an incident's report). The link can come after that
    conversation: the end of a first call whose caller went silent, heard late, links it to the redial's incident
    whose callback reached them (an outside probe's first incident breached and the customer was texted "we have not
    reached you" after talking with the engineer)."""
    incident.related_incident_id = related.id
    for one, other in ((incident, related), (related, incident)):
        log_event(session, at=now, actor="system", kind="possibly_related", incident_id=one.id,
                  detail={"reference": other.reference, "why": why, **({"own_callback": True} if own_callback else {})})
    session.flush()
    chain = [incident.id, *linked_incident_ids(session, incident.id)]
    for callback in session.scalars(select(Callback).where(
            Callback.incident_id.in_(chain), Callback.outcome.in_(COUNTED), Callback.answered_at.is_not(None))
            .order_by(Callback.answered_at, Callback.id)).all():
        reach_related(session, session.get(Incident, callback.incident_id), callback, now)


def reach_related(session: Session, incident: Incident, callback: Callback, now: datetime) -> list[Incident]:
    """``callback`` of ``incident`` was counted (a person answered): count it for every open incident linked to it
    (directly or through another: ``row_locks.linked_incident_ids``) whose callback number it dialled and whose own callback has not counted yet, as the core decides. The caller
    holds their locks already (``row_locks.lock_with_incident``, in id order). Returns the incidents it counted
    for."""
    if callback.answered_at is None or callback.outcome not in COUNTED:
        return []
    number = callback.customer_number or incident.callback_phone
    # the extension it dialled, the number's own (none when the rep dialled another number): an incident whose
    # callback is another extension of that switchboard is another person's, owed a call of its own
    extension = callback_extension(incident, session) if number == incident.callback_phone else ""
    counted = []
    for other_id in same_report(session, incident.id):
        other = lock_incident(session, other_id, fresh=True)
        if other is None or other.status != IncidentStatus.OPEN:
            continue
        at = callback.answered_at
        same = bool(number) and other.callback_phone == number and callback_extension(other, session) == extension
        trigger = ReachedOnRelated(at=at, same_number=same, reported_at=other.captured_at)
        decision = decide(trigger, snapshot(session, other, now), now)
        if decision.outcome not in ("met", "late"):
            continue
        other.callback_answered_at, other.reached_on_callback_id = at, callback.id
        carry_out(session, other, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
            "callback_id": callback.id, "rep_id": callback.rep_id, "answered_at": at.isoformat(),
            "seconds_after_capture": round((at - other.captured_at).total_seconds(), 1),
            "related_incident_id": incident.id, "related_reference": incident.reference,
            "call_sid": callback.customer_call_sid,
            **({TALKING_SINCE: callback.person_confirmed_at.isoformat()} if callback.person_confirmed_at else {})}))
        counted.append(other)
    return counted


def same_report(session: Session, incident_id: int) -> list[int]:
    """The incidents linked to ``incident_id`` (``linked_incident_ids``) through links that are one report, in
    ascending id order: none across a link whose ``possibly_related`` line says each side has its own callback
    (``own_callback``, or the words of such a link from before it was written)."""
    linked = linked_incident_ids(session, incident_id)
    if not linked:
        return []
    ids = [incident_id, *linked]
    rows = session.execute(select(Incident.id, Incident.related_incident_id, Incident.reference)
                           .where(Incident.id.in_(ids))).all()
    by_reference = {reference: one for one, _, reference in rows}
    apart = set()
    for one, detail in session.execute(select(IncidentEvent.incident_id, IncidentEvent.detail).where(
            IncidentEvent.incident_id.in_(ids), IncidentEvent.kind == "possibly_related")).all():
        detail = detail or {}
        why = str(detail.get("why", ""))
        if detail.get("own_callback") or any(words in why for words in _OWN_CALLBACK_WORDS):
            other = by_reference.get(detail.get("reference"))
            if other is not None:
                apart.add(frozenset((one, other)))
    edges = [(one, related) for one, related, _ in rows
             if related is not None and frozenset((one, related)) not in apart]
    seen, frontier = {incident_id}, [incident_id]
    while frontier:
        here = frontier.pop()
        for a, b in edges:
            for there in ((b,) if a == here else (a,) if b == here else ()):
                if there not in seen:
                    seen.add(there)
                    frontier.append(there)
    return sorted(seen - {incident_id})


def withdraw_related(session: Session, callback: Callback, at: datetime, why: str, now: datetime) -> None:
    """The answer of ``callback`` (Twilio's time ``at``) was withdrawn on its own incident (too short to count, or a
    live bridge that never connected): withdrawn too on every incident it counted for, whose answer is then the
    earliest one still standing, and whose chase the core resumes (``AnswerWithdrawn(on_related=True)``)."""
    source = session.get(Incident, callback.incident_id)
    for other_id in session.scalars(select(Incident.id).where(Incident.reached_on_callback_id == callback.id)
                                    .order_by(Incident.id)).all():
        other = lock_incident(session, other_id, fresh=True)
        if other is None or other.reached_on_callback_id != callback.id:
            continue
        other.reached_on_callback_id = None
        other.callback_answered_at = standing_answer(session, other)
        decision = decide(AnswerWithdrawn(at=at, on_related=True), snapshot(session, other, now), now)
        carry_out(session, other, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
            "callback_id": callback.id, "answered_at": at.isoformat(), "why": why,
            "related_incident_id": callback.incident_id,
            "related_reference": source.reference if source is not None else ""}))
