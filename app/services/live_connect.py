"""Issue 13: live connect. A caller waits on the line (Twilio's queue) and the rep's leg dials them out of it.

The offer, the wait and its end are here; acknowledging and connecting stay in app/services/acks.py
(the one connect service opens the callback and the hotline calls the rep), and whether the live
connection is the callback that was met stays in app/services/callbacks.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Callback, CallbackOutcome, CallSession, Incident, IncidentStatus, LiveWait, Rep
from app.services.acks import Actor, connect, lock_incident
from app.services.advisory_locks import sqlite_writer
from app.services.callbacks import (
    MIN_CONVERSATION_SECONDS,
    live_connected,
    withdraw_live_answer,
    withdraw_short_bridge,
)
from app.services.events import log_event
from app.services.row_locks import lock_wait

QUEUE_PREFIX = "sev1-incident-"  # one Twilio queue per incident: a rep's leg dials exactly its caller
LEFT_HUNG_UP = "hangup"  # Twilio's QueueResult when the caller hung up while waiting
BRIDGED = "bridged"


@dataclass(frozen=True)
class Offer:
    """What the caller at the end of the intake is offered (``incident`` None: nothing, say goodbye)."""

    incident: Incident | None
    ready: bool = False  # a rep has acknowledged: "an engineer is ready"
    # no `hotline worker` runs (``app.watchdog_state``): no page or call leaves, so no live wait is offered
    no_worker: bool = False


def owner(session: Session, incident: Incident) -> Rep | None:
    """The rep who acknowledged the incident, if they can still be called."""
    if incident.acknowledged_at is None or incident.acknowledged_by is None:
        return None
    rep = session.get(Rep, incident.acknowledged_by)
    return rep if rep is not None and rep.active and rep.phone else None


def offer(session: Session, reference: str, call_sid: str, now: datetime, announce: bool = True,
          worker_runs: bool = True) -> Offer:
    """The offer for this call: only the call that opened or added to the open, not yet called back incident.

    ``announce`` logs the offer (once, when it is made; not again when the caller answers it). ``worker_runs`` False
    (no watchdog runs, ``app.watchdog_state``, the rule /healthz reports): no page or call leaves until a worker
    runs again, so no wait is offered (``no_worker``): an outside probe's caller heard "please hold while we page an
    engineer" and held to the limit while nobody was paged.
    """
    incident = lock_incident(session, reference)
    call = session.get(CallSession, call_sid)
    if (incident is None or call is None or call.incident_id != incident.id or incident.status != IncidentStatus.OPEN
            or incident.callback_answered_at is not None or not incident.callback_phone):
        return Offer(None)
    ready = owner(session, incident) is not None
    if not worker_runs:  # logged at the offer, and at the choice when the workers stopped since
        log_event(session, at=now, actor="ivr", kind="live_connect_withheld", incident_id=incident.id,
                  call_sid=call_sid, detail={"engineer_ready": ready, "reason": "no_worker"})
        return Offer(incident, ready, no_worker=True)
    if announce:
        log_event(session, at=now, actor="ivr", kind="live_connect_offered", incident_id=incident.id,
                  call_sid=call_sid, detail={"engineer_ready": ready})
    return Offer(incident, ready)


def start_waiting(session: Session, incident: Incident, call_sid: str, now: datetime) -> LiveWait:
    """The caller pressed 1: they wait in the incident's queue; an acknowledged rep is called at once."""
    wait = session.scalars(select(LiveWait).where(LiveWait.call_sid == call_sid)).first()
    if wait is not None:
        return wait
    rep = owner(session, incident)
    wait = LiveWait(incident_id=incident.id, call_sid=call_sid, queue_name=f"{QUEUE_PREFIX}{incident.reference}",
                    language=incident.language, engineer_ready=rep is not None, enqueued_at=now)
    session.add(wait)
    session.flush()
    log_event(session, at=now, actor="caller", kind="live_wait_started", incident_id=incident.id, call_sid=call_sid,
              detail={"wait_id": wait.id, "engineer_ready": rep is not None})
    if rep is not None:  # the one connect service: the hotline calls the rep, whose leg dials the queue
        connect(session, incident, Actor(name=rep.name, via="live", rep=rep, is_manager=rep.is_manager), now)
    return wait


def waiting_callers(session: Session, incident_id: int) -> list[LiveWait]:
    """The callers waiting on the line for this incident now, first in line first (Twilio's queue order)."""
    return list(session.scalars(select(LiveWait).where(
        LiveWait.incident_id == incident_id, LiveWait.dequeued_at.is_(None), LiveWait.left_at.is_(None))
        .order_by(LiveWait.enqueued_at, LiveWait.id)))


def waiting_caller(session: Session, incident_id: int) -> LiveWait | None:
    """The caller first in line for this incident now, if any."""
    waiting = waiting_callers(session, incident_id)
    return waiting[0] if waiting else None


def claim_for(session: Session, incident: Incident, callback: Callback) -> LiveWait | None:
    """The waiting caller this callback's rep leg should dial out of the queue (linked to it), or None.

    The first in line not already claimed by another rep's leg: Twilio's ``<Dial><Queue>`` always connects the
    first enqueued call (FIFO) and TwiML cannot name a queue member, so the claim follows Twilio's order, and
    ``dequeued`` moves it to the call Twilio really took (the ``<Queue url>`` request's CallSid) if they differ.
    """
    for wait in waiting_callers(session, incident.id):
        if wait.callback_id is None or wait.callback_id == callback.id or not _pending(session, wait):
            wait.callback_id = callback.id
            callback.note = callback.note or "live connect"
            return wait
    return None  # nobody waits, or other reps' legs are already on their way to every caller in line


def _pending(session: Session, wait: LiveWait) -> bool:
    other = session.get(Callback, wait.callback_id) if wait.callback_id else None
    return other is not None and other.outcome == CallbackOutcome.PENDING


def dequeued(session: Session, wait_id: int, caller_call_sid: str, dequeuing_call_sid: str, queue_seconds: int,
             now: datetime, callback_id: int | None = None, proof: str = "") -> LiveWait | None:
    """Twilio is taking a caller out of the queue for a rep's leg (its <Queue url>, requested on the caller's call).

    ``caller_call_sid`` (the request's CallSid) is the call Twilio really dequeued; ``wait_id`` is the one the
    leg claimed. If they differ the claim moves to the caller Twilio took: only that one is ever counted.
    ``proof``: what else told us (``bridge_proven``: an end report, the <Queue url> request lost), logged with it.
    """
    taken_id = session.scalar(select(LiveWait.id).where(LiveWait.call_sid == caller_call_sid)) if caller_call_sid else None
    claimed = lock_wait(session, wait_id)[0]
    wait = claimed
    if taken_id is not None and taken_id != wait_id:  # in the same incident's queue: that incident is locked already
        wait = lock_wait(session, taken_id)[0]
    if wait is None:
        return None
    callback_id = callback_id or (claimed.callback_id if claimed is not None else None)
    if wait is not claimed and wait.dequeued_at is None and callback_id is not None:
        if claimed is not None and claimed.callback_id == callback_id and claimed.dequeued_at is None:
            claimed.callback_id = None  # still waiting, and free for the next rep's leg
        wait.callback_id = callback_id
    if wait.dequeued_at is None:
        wait.dequeued_at = now
        wait.dequeuing_call_sid = dequeuing_call_sid[:64]
        detail = {"wait_id": wait.id, "callback_id": wait.callback_id, "queue_seconds": queue_seconds}
        log_event(session, at=now, actor="twilio", kind="live_connecting", incident_id=wait.incident_id,
                  call_sid=wait.call_sid, detail=detail | ({"proven_by": proof} if proof else {}))
    return wait


def bridge_proven(session: Session, wait_id: int, caller_call_sid: str, dequeuing_call_sid: str,
                  queue_seconds: int, proof: str, now: datetime, callback_id: int | None = None) -> LiveWait | None:
    """An end report proves Twilio bridged the waiting caller ``caller_call_sid`` to a rep's leg although no
    ``<Queue url>`` request recorded the dequeue (it came while the database was unreachable, whose safe answer
    lets Twilio bridge at once): the caller's own ``<Enqueue action>`` said QueueResult=bridged, or the rep's
    ``<Dial action>`` said completed with DialBridged=true and DialCallSid = that caller (``dial_bridged_caller``).

    The dequeue is recorded now, at the first such report, and the callback counts from this instant (``bridged``):
    both reports come only once the bridged call is over, so the bridge had happened by then, and no earlier moment
    is proven (DialCallDuration may hold the ``<Queue url>`` document played before the bridge; ``enqueued_at`` +
    QueueTime is our moment before Twilio's own enqueue). Conservative: a conversation across the deadline counts
    late, never met by a moment before the bridge. Only a caller waiting in the claimed wait's incident; the claim
    moves to them as at ``dequeued``. None when nothing is proven. The two reports may come at the same moment: the
    second waits for the first (the incident's row lock; SQLite's write lock) and finds the dequeue it recorded.
    """
    sqlite_writer(session)  # two end reports at once: the second reads the first's dequeue (row locks on PostgreSQL)
    claimed = lock_wait(session, wait_id)[0]
    taken = session.scalars(select(LiveWait).where(LiveWait.call_sid == caller_call_sid)
                            .execution_options(populate_existing=True)).first() if caller_call_sid else None
    if claimed is None or taken is None or taken.incident_id != claimed.incident_id:
        return None
    if taken.dequeued_at is not None:
        return taken
    if (callback_id or claimed.callback_id) is None:  # no rep's leg was on its way to this queue
        return None
    return dequeued(session, wait_id, caller_call_sid, dequeuing_call_sid, queue_seconds, now,
                    callback_id=callback_id, proof=proof)


def sole_leg(session: Session, wait: LiveWait) -> LiveWait | None:
    """The claim (a wait linked to its callback by ``claim_for``) of the one rep's leg that can have been bridged to
    ``wait``'s caller, else None. QueueResult=bridged says the caller was bridged, not to whom: any leg sent to the
    incident's queue (a pending callback's claim) and not recorded taking another caller may have, in Twilio's order,
    not ours (a leg whose claimed caller hung up takes the next in line). With two such legs the report is nobody's:
    the rep's ``<Dial action>`` names its caller (``DialCallSid``) and proves the bridge of its own leg."""
    claims = list(session.scalars(select(LiveWait).where(LiveWait.incident_id == wait.incident_id,
                                                         LiveWait.callback_id.is_not(None))
                                  .order_by(LiveWait.id)))
    took = {claim.callback_id for claim in claims if claim.dequeued_at is not None}
    legs: dict[int, LiveWait] = {}
    for claim in claims:
        if claim.callback_id not in took and _pending(session, claim) and (claim.callback_id not in legs
                                                                              or claim is wait):
            legs[claim.callback_id] = claim
    return next(iter(legs.values())) if len(legs) == 1 else None


def dial_bridged_caller(dial_status: str, dial_bridged: str, dial_call_sid: str) -> str:
    """The waiting caller's CallSid when the rep's ``<Dial><Queue>`` action proves it was bridged to them
    (``completed``, ``DialBridged=true``: Twilio says so only of a bridge), else ""."""
    return dial_call_sid if dial_status == "completed" and dial_bridged.strip().lower() == "true" else ""


def counted_at_its_end(wait: LiveWait, callback: Callback) -> bool:
    """Whether this caller's callback was counted only when the end of the bridge was reported (``bridge_proven``:
    dequeue, answer and end recorded at one moment): how long they talked is then unknown here."""
    return (wait.dequeued_at is not None and callback.answered_at == wait.dequeued_at
            and callback.ended_at == wait.dequeued_at)


def bridging(session: Session, wait_id: int, caller_call_sid: str, now: datetime) -> Callback | None:
    """Twilio bridges the dequeued caller to the rep's leg now: the callback counts at this moment, met or late by it.

    The request is the ``<Queue url>``'s redirect on the caller's own leg, asked only once "connecting you now" has
    played to its end: the caller is still on the line, and the rep's leg (answered by a person) is in its
    ``<Dial>``. Twilio tells the bridge's end only when the call is over; a call that talks past the at-risk
    time or the deadline must not be chased meanwhile. Only the caller Twilio took for this wait's callback counts.
    """
    wait = lock_wait(session, wait_id)[0]
    if (wait is None or wait.call_sid != caller_call_sid or wait.callback_id is None or wait.dequeued_at is None
            or wait.result not in ("", BRIDGED)):
        return None
    return live_connected(session, wait.callback_id, wait.call_sid, now, now)


def dial_rules_out_bridge(dial_status: str, dial_seconds: str, dial_bridged: str = "") -> bool:
    """Whether the rep's ``<Dial><Queue>`` action says nobody was connected to the rep: not ``completed`` (nor
    ``answered``), a dial that lasted no second (``DialCallDuration=0``), or ``DialBridged=false``.

    Its opposite proves nothing (``bridge_on_record`` decides): Twilio's documents do not say what the rep's
    ``<Dial>`` reports when the dequeued caller hangs up while "connecting you now" plays, before the bridge.
    """
    return (dial_status not in ("completed", "answered") or dial_seconds.strip() == "0"
            or dial_bridged.strip().lower() == "false")


def bridge_on_record(wait: LiveWait, callback: Callback, dial_bridged_caller: str = "") -> bool:
    """Whether the bridge of ``wait``'s caller to ``callback``'s rep leg is proven: ``/bridging`` counted it (the
    callback's answer is from that caller's call), the caller's own ``<Enqueue action>`` said QueueResult=bridged, or
    the rep's ``<Dial action>`` said DialBridged=true naming them (``dial_bridged_caller``). A ``DialCallDuration``
    alone is not: an outside probe's caller hung up during "connecting you now" (no ``/bridging``), the rep's
    ``<Dial>`` still reported completed in 45 s, and it counted met, then stood pending for ever once the caller's
    QueueResult=hangup withdrew it; the rep was thanked and asked the update interval for a call that never was."""
    return (wait.result == BRIDGED or (bool(dial_bridged_caller) and dial_bridged_caller == wait.call_sid)
            or (callback.answered_at is not None and callback.customer_call_sid == wait.call_sid))


def bridged(session: Session, wait: LiveWait, now: datetime) -> Callback | None:
    """Twilio says, at the call's end, the caller and the rep were connected: a callback ``bridging`` did not count
    (its request never reached us) counts from ``dequeued_at``; one it counted keeps the bridge's time.

    Never once the caller's own leg said it left the queue unbridged (it hung up during "connecting you now"), nor
    once the other end report judged the bridge already and did not count it (``too_short``: the caller's
    QueueResult=bridged may come after the rep's ``<Dial action>``).
    """
    if wait.callback_id is None or wait.dequeued_at is None or wait.result not in ("", BRIDGED):
        return None
    judged = session.get(Callback, wait.callback_id)
    if judged is not None and judged.outcome not in (CallbackOutcome.PENDING, CallbackOutcome.MET,
                                                     CallbackOutcome.LATE):
        return None
    callback = live_connected(session, wait.callback_id, wait.call_sid, wait.dequeued_at, now)
    if callback is not None:
        callback.ended_at = callback.ended_at or now
    return callback


def too_short(session: Session, wait: LiveWait, dial_seconds: str, dial_bridged: str, now: datetime,
              call_status: str = "") -> Callback | None:
    """The rep's ``<Dial><Queue>`` says the caller and the rep were connected for less than the minimum conversation
    (``conversation_too_short``): the bridge is counted if it was not yet, then withdrawn as a bridged callback's
    is (``withdraw_short_bridge``): attempted, and the escalation core decides what is owed again. None when
    nothing was counted (the caller's leg said it left unbridged: ``unbridged`` decided). ``call_status``: the rep's
    leg's, as ``withdraw_short_bridge`` reads it (a rep who hung up first is told by SMS)."""
    if bridged(session, wait, now) is None:
        return None
    return withdraw_short_bridge(session, wait.callback_id, dial_seconds, dial_bridged, now, live=True,
                                 call_status=call_status)


def unbridged(session: Session, wait: LiveWait, why: str, now: datetime) -> Callback | None:
    """Twilio's end report says this caller was not connected after all: an answer ``bridging`` counted is withdrawn."""
    if wait.callback_id is None or wait.dequeued_at is None or wait.result == BRIDGED:
        return None
    return withdraw_live_answer(session, wait.callback_id, wait.call_sid, why, now)


def left(session: Session, wait_id: int, result: str, queue_seconds: int, now: datetime,
         caller_call_sid: str = "") -> LiveWait | None:
    """The caller's <Enqueue action>: they left the queue (``result`` is Twilio's QueueResult). QueueResult=bridged
    on the wait's own call proves the bridge when no ``<Queue url>`` request recorded the dequeue (``bridge_proven``),
    to the one rep's leg that can have taken them (``sole_leg``).
    """
    wait = lock_wait(session, wait_id)[0]
    if wait is None or wait.left_at is not None:
        return wait
    if result == BRIDGED and wait.dequeued_at is None and caller_call_sid and caller_call_sid == wait.call_sid:
        sqlite_writer(session)  # the legs' claims as another end report at this moment left them
        claim = sole_leg(session, wait)
        if claim is not None:
            bridge_proven(session, claim.id, caller_call_sid, "", queue_seconds, "queue_result_bridged", now,
                          callback_id=claim.callback_id)
    wait.left_at, wait.result, wait.queue_seconds = now, result[:32], queue_seconds
    log_event(session, at=now, actor="twilio", kind="live_wait_ended", incident_id=wait.incident_id,
              call_sid=wait.call_sid, detail={"wait_id": wait.id, "result": result[:32], "queue_seconds": queue_seconds,
                                              "callback_id": wait.callback_id})
    if result == BRIDGED:
        bridged(session, wait, now)  # the rep's <Dial action> may not have come (yet): either one counts it
        ended_too_soon(session, wait, now)
    else:
        unbridged(session, wait, f"queue_result_{result[:32] or 'missing'}", now)
    return wait


def ended_too_soon(session: Session, wait: LiveWait, now: datetime) -> Callback | None:
    """Twilio requests the caller's ``<Enqueue action>`` (QueueResult bridged) once both parties have hung up: from
    the bridge's answer (``bridging``) to now is the conversation, and one under the minimum is withdrawn as the
    rep's ``<Dial action>`` would (``too_short``), whether or not that request ever comes. Until session 37 only it
    judged the length: an outside probe's 4-second live bridge whose ``<Dial action>`` was lost stood as met (the
    caller's own CallDuration holds the intake and the queue too). None when nothing was withdrawn."""
    callback = session.get(Callback, wait.callback_id) if wait.callback_id is not None else None
    if (callback is None or callback.answered_at is None
            or callback.outcome not in (CallbackOutcome.MET, CallbackOutcome.LATE)
            or counted_at_its_end(wait, callback)):  # no bridge moment known: the <Dial action> judges the length
        return None
    seconds = int((now - callback.answered_at).total_seconds())
    if seconds >= MIN_CONVERSATION_SECONDS:
        return None
    return withdraw_short_bridge(session, callback.id, str(max(seconds, 0)), "", now, live=True,
                                 seen_by="caller_queue_end")


def hung_up_since(session: Session, incident_id: int, since: datetime) -> bool:
    """Whether a caller of this incident hung up on hold, unbridged, since ``since`` (a rep's call was asked)."""
    return session.scalars(select(LiveWait.id).where(
        LiveWait.incident_id == incident_id, LiveWait.result == LEFT_HUNG_UP, LiveWait.left_at >= since)
        .limit(1)).first() is not None


def wait_of_leg(session: Session, callback_id: int, wait_id: int) -> LiveWait | None:
    """The wait a rep's ``<Dial><Queue>`` ended on: the caller Twilio dequeued for this callback, else its claim."""
    taken = session.scalars(select(LiveWait).where(LiveWait.callback_id == callback_id,
                                                   LiveWait.dequeued_at.is_not(None))).first()
    return taken if taken is not None else session.get(LiveWait, wait_id)


def incident_of(session: Session, wait: LiveWait) -> Incident:
    """The incident a wait belongs to."""
    return session.get(Incident, wait.incident_id)
