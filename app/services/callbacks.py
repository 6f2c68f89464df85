"""Callbacks: the hotline calls the rep, then bridges them to the customer; or a self-report.

A callback counts only when a person answered: the customer pressed a key after
"Press any key to speak with our support team" (answering-machine detection is the
second signal). "Met" is then decided by Twilio's timestamp of that answer.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.escalation import (
    AnswerWithdrawn,
    CallbackAnswered,
    CallbackUnanswered,
    MessageEnded,
    RepNotReached,
    SelfReported,
    ShortBridgeUnheard,
    decide,
)
from app.event_kind import CUSTOMER_RANG, EventKind
from app.models import Callback, CallbackKind, CallbackOutcome, Incident, IncidentEvent, LiveWait, Rep
from app.models.call import ENDED_STATUSES
from app.queue import schedule
from app.reports.facts import (
    LIVE_DIAL_OVER,
    MIN_CONVERSATION_SECONDS,
    RINGING,
    SHORT_BRIDGE,
    TALKING_SINCE,
    short_bridges,
)
from app.services.busy_lines import release_line
from app.services.decisions import Acting, carry_out
from app.services.escalation import customer_dialled, last_missed_sms_at, snapshot
from app.services.events import log_event
from app.services.held_words import release as release_held_words
from app.services.other_number import left_rep_call, rep_leg_number, rep_leg_other_number
from app.services.related_callbacks import reach_related, standing_answer, withdraw_related
from app.services.rep_legs import other_leg
from app.services.row_locks import lock_callback
from app.telephony.protocol import is_machine

log = logging.getLogger(__name__)

TIMESTAMP_PRECISION = timedelta(seconds=1)  # Twilio's RFC 2822 Timestamp: the second, not the instant
# how far Twilio's Timestamp of a customer leg's status may lie before the callback was asked for, or after it was
# heard here, and still be believed: more is a clock that disagrees (``twilio_time_believed``)
TIMESTAMP_TOLERANCE = timedelta(seconds=5)
ANSWERED_STATUSES = ("answered", "in-progress")


def open_callback(session: Session, incident: Incident, rep_id: int | None, now: datetime,
                  rep_call_sid: str = "", note: str = "") -> Callback:
    """Start a bridged callback; without the rep's leg (``rep_call_sid``) the job that calls the rep is registered."""
    callback = Callback(incident_id=incident.id, rep_id=rep_id, kind=CallbackKind.BRIDGED,
                        outcome=CallbackOutcome.PENDING, customer_number=incident.callback_phone,
                        rep_call_sid=rep_call_sid, requested_at=now, placed_at=now if rep_call_sid else None,
                        note=note)
    session.add(callback)
    session.flush()
    log_event(session, at=now, actor="rep", kind="callback_requested", incident_id=incident.id,
              detail={"callback_id": callback.id, "rep_id": rep_id, "to": incident.callback_phone,
                      **({"message": True} if callback.leaves_message else {})})
    release_held_words(session, incident, now)  # the rep reads what the customer texted before the call
    if not rep_call_sid:
        schedule(session, "callback", callback.id, now)
    return callback


def mark_started(incident: Incident, callback: Callback, at: datetime) -> None:
    """The incident's callback started (``callback_started_at``, what the board and the API show) when Twilio first
    showed a customer's leg dialled, by the escalation core's rule (``escalation.customer_dialled``): never when a
    callback is requested or the rep's phone rings, which may never dial the customer.

    A leg first shown at its end (its status callbacks lost: the rep's ``<Dial action>``, or a lookup) was dialled by
    the time a person answered it or pressed the key, whichever the hotline knows: never started after its answer."""
    if not customer_dialled(callback):
        return
    answered = [t for t in (callback.answered_at, callback.person_confirmed_at) if t is not None]
    at = min([at, *answered])
    if incident.callback_started_at is None or at < incident.callback_started_at:
        incident.callback_started_at = at


def customer_leg_status(session: Session, callback_id: int, status: str, timestamp: str, call_sid: str,
                        now: datetime, answered_by: str = "") -> Callback | None:
    """Record the customer leg's progress: 'answered' keeps Twilio's time (the latest it can stand for: the
    ``Timestamp`` has whole seconds); it counts once a person is confirmed."""
    callback, incident = lock_callback(session, callback_id)
    if callback is None:
        return None
    stamped = twilio_time_believed(session, callback, incident, _twilio_time(timestamp), status, now)
    # 14:51:39 is any instant of that second: an answer 0.3 s after a deadline at 14:51:39.39 was counted as met
    at = stamped + TIMESTAMP_PRECISION if stamped is not None else now
    callback.customer_call_sid = callback.customer_call_sid or call_sid
    mark_started(incident, callback, stamped or now)
    if answered_by:
        callback.answered_by = answered_by[:32]
    log_event(session, at=now, actor="twilio", kind="callback_leg_status", incident_id=incident.id,
              detail={"callback_id": callback.id, "status": status, "timestamp": (stamped or now).isoformat(),
                      "answered_by": answered_by})
    if status in ANSWERED_STATUSES:
        if callback.answered_at is None or callback.outcome == CallbackOutcome.PENDING:
            # Twilio's time of the answer, once it comes, is the answer's (the whisper's stood for it until then:
            # ``whisper_requested``); a callback counted already keeps the time it was counted at
            callback.answered_at = at
        # answering-machine detection saying "human" is not enough (it guesses): only a key press confirms
        _count_if_confirmed(session, incident, callback, now)
    elif status in ENDED_STATUSES:
        _count_when_over(session, incident, callback, now)
        if callback.outcome in (CallbackOutcome.MET, CallbackOutcome.LATE):
            callback.ended_at = callback.ended_at or at
        elif callback.outcome == CallbackOutcome.PENDING:
            _unanswered(session, incident, callback, at, now, status, took_voicemail(callback))
    return callback


def twilio_time_believed(session: Session, callback: Callback, incident: Incident, stamped: datetime | None,
                         status: str, now: datetime) -> datetime | None:
    """Twilio's ``Timestamp`` of a customer leg's status, when it can be: not before the callback was asked for nor
    after it was heard here (each within ``TIMESTAMP_TOLERANCE``). Another is a clock that disagrees, Twilio's or
    this deployment's: the status counts as of when it was heard (None), and the log says so, with both times
    (``twilio_clock_disagrees``). An outside probe's stand-in stamped an answer 30 minutes early and another 30
    minutes late: the first stood as met before the incident was reported (-20:12 on the board, a negative time that
    failed the compliance report), the second, answered 3.5 minutes before the deadline, as late."""
    if stamped is None or callback.requested_at - TIMESTAMP_TOLERANCE <= stamped <= now + TIMESTAMP_TOLERANCE:
        return stamped
    log.warning("Twilio's Timestamp %s of callback %s's %s status is outside %s .. %s (when it was asked for and "
                "heard): counted as heard; compare this host's clock and the database's with a time server",
                stamped.isoformat(), callback.id, status, callback.requested_at.isoformat(), now.isoformat())
    log_event(session, at=now, actor="twilio", kind=EventKind.TWILIO_CLOCK_DISAGREES, incident_id=incident.id,
              detail={"callback_id": callback.id, "status": status, "timestamp": stamped.isoformat(),
                      "requested_at": callback.requested_at.isoformat(), "heard_at": now.isoformat()})
    return None


def answered_late(incident: Incident, at: datetime) -> bool:
    """The in-time rule of a callback's outcome: answered at ``at``, after the deadline, it is late (at it, met)."""
    return incident.callback_due_at is not None and at > incident.callback_due_at


def whisper_requested(session: Session, incident: Incident, callback: Callback, answered_by: str,
                      now: datetime) -> None:
    """Twilio asked for the customer leg's whisper (the key prompt): it does so only once the customer's phone
    answered, so the leg was answered by ``now``, whenever its status callback comes. Recorded as the answer's time
    until Twilio's own comes (``customer_leg_status``), when heard by the deadline: the breach step then waits for the
    key press as for an answered status (an outside probe's managers were paged "BREACHED ... not answered yet" of a
    customer whose whisper was served 4 s before the deadline, its status heard 20 s after it). One heard after the
    deadline proves no answer in time, and records nothing: Twilio's status may still say it was."""
    if answered_by:
        callback.answered_by = answered_by[:32]  # "human", or a voicemail unless a key is pressed
    if (callback.outcome != CallbackOutcome.PENDING or callback.answered_at is not None
            or incident.callback_due_at is None or now > incident.callback_due_at):
        return
    callback.answered_at = now
    log_event(session, at=now, actor="twilio", kind=EventKind.CALLBACK_LEG_STATUS, incident_id=incident.id,
              detail={"callback_id": callback.id, "status": "answered", "seen_by": "whisper",
                      "timestamp": now.isoformat(), "answered_by": answered_by})


def leg_in_progress(session: Session, callback_id: int, call_sid: str, now: datetime) -> Callback | None:
    """Twilio's record of the customer's leg, asked after its 'answered' status callback never came, says the call
    goes on. That alone proves no person (a voicemail greeting is in progress too, and detection only guesses); a
    key pressed on it does: the callback is counted now, at the key press, as the leg's end would count it
    (``_count_when_over``), instead of after a conversation that may outlast the deadline."""
    callback, incident = lock_callback(session, callback_id)
    if callback is None or callback.outcome != CallbackOutcome.PENDING:
        return callback
    callback.customer_call_sid = callback.customer_call_sid or call_sid[:64]
    mark_started(incident, callback, now)
    if callback.person_confirmed_at is not None:
        _count_when_over(session, incident, callback, now)
    return callback


REP_NEVER_ANSWERED = frozenset({"busy", "failed", "no-answer", "canceled"})  # final, and the rep never picked up
# final, and the rep's number failed for good: Twilio took the call and could not place it (the carrier could not
# reach the number), a refusal learnt later; busy, no-answer and canceled are the rep not answering
REP_NUMBER_FAILED = "failed"


def rep_leg_status(session: Session, callback_id: int, status: str, now: datetime,
                   call_sid: str = "") -> Callback | None:
    """Record the progress of the hotline's call to the rep; one the rep never answered means nobody was dialled.

    The status callback's URL names the callback, so ``call_sid`` is this callback's call: adopted when the run
    that placed it died before recording it (``adopt_rep_call``). A call that is not the callback's recorded one
    (a second placement after such a death) is only logged: its end says nothing of the recorded call. The end of
    a call the rep answered is the end of every callback placed on it (``rep_leg_ended``). A progress status heard
    after the leg's end was recorded (Twilio's status callbacks may come out of order) is logged as ignored
    (``after_end``): it moves nothing, and the timeline does not say the rep's phone is in progress again."""
    callback, incident = lock_callback(session, callback_id)
    if callback is None:
        return None
    if left_rep_call(session, callback, call_sid):  # the call that failed, left for the rep's other number: its
        log_event(session, at=now, actor="twilio", kind="callback_rep_leg_status", incident_id=incident.id,
                  detail={"callback_id": callback.id, "status": status, "left_call": True})  # late or repeated word
        return callback
    adopt_rep_call(session, callback, call_sid, now)
    other_call = bool(call_sid and callback.rep_call_sid and call_sid != callback.rep_call_sid)
    if status not in ENDED_STATUSES and not other_call and rep_leg_over(session, incident, callback, ""):
        log_event(session, at=now, actor="twilio", kind="callback_rep_leg_status", incident_id=incident.id,
                  detail={"callback_id": callback.id, "status": status, "after_end": True})  # out of order: late
        return callback
    if status in ENDED_STATUSES and status not in REP_NEVER_ANSWERED and not other_call:
        rep_leg_ended(session, callback.rep_call_sid, status, now, first=callback.id)
        return callback
    log_event(session, at=now, actor="twilio", kind="callback_rep_leg_status", incident_id=incident.id,
              detail={"callback_id": callback.id, "status": status})
    if status in REP_NEVER_ANSWERED and not other_call:
        rep = session.get(Rep, callback.rep_id) if callback.rep_id is not None else None
        failed = rep_leg_number(session, callback, rep) if rep is not None and status == REP_NUMBER_FAILED else ""
        mark_rep_not_reached(session, incident, callback, status, now, failed=failed)
    return callback


def adopt_rep_call(session: Session, callback: Callback, call_sid: str, now: datetime) -> None:
    """Twilio names the rep's call of this callback (a status callback or the answer on its URL) before the run
    that placed it recorded it: that run died between Twilio's 201 and its commit, or has not committed yet.
    Record the call as placed, so the watchdog does not hand the callback over and ring the rep a second time
    (the run that placed it, if alive, then logs nothing again: ``callback_calls.place_rep_call``)."""
    if not call_sid or callback.rep_call_sid:
        return
    callback.rep_call_sid = call_sid[:64]
    callback.placed_at = callback.placed_at or now
    callback.placing_since = None
    callback.last_error = ""
    log_event(session, at=now, actor="twilio", kind="callback_rep_call_placed", incident_id=callback.incident_id,
              detail={"callback_id": callback.id, "sid": callback.rep_call_sid, "possible_duplicate": False,
                      "adopted": True})


def rep_call_ended(session: Session, incident: Incident, callback: Callback, now: datetime) -> None:
    """The rep's leg ended. Still pending with no customer leg and no caller taken out of the queue: the rep hung
    up before anyone was dialled (during the whisper). Closed, or it would hold the incident "in flight" and refuse
    every other rep's connect (a caller waiting on the line included) until ``IN_FLIGHT_FOR`` had passed."""
    if callback.outcome != CallbackOutcome.PENDING or session.scalar(select(LiveWait.id).where(
            LiveWait.callback_id == callback.id, LiveWait.dequeued_at.is_not(None)).limit(1)) is not None:
        return
    why = "rep_hung_up_before_redial" if redial_of(session, callback) is not None else "rep_hung_up_before_dial"
    mark_rep_not_reached(session, incident, callback, why, now)


def redial_of(session: Session, callback: Callback) -> Callback | None:
    """The earlier callback on ``callback``'s call to the rep that dialled the customer (the rep pressed 1 to try
    again after it), else None."""
    if not callback.rep_call_sid:
        return None
    return session.scalars(select(Callback).where(
        Callback.rep_call_sid == callback.rep_call_sid, Callback.id < callback.id,
        Callback.customer_call_sid.is_not(None), Callback.customer_call_sid != "").order_by(Callback.id.desc())).first()


def last_unreached_redial(session: Session, incident_id: int, at: datetime) -> Callback | None:
    """The incident's latest callback closed as the rep not reached by ``at``, if it was a try again whose rep hung up
    before the customer was dialled again (``redial_of``): the customer was called, once."""
    callback = session.scalars(select(Callback).where(
        Callback.incident_id == incident_id, Callback.outcome == CallbackOutcome.REP_NOT_REACHED,
        Callback.requested_at <= at).order_by(Callback.id.desc())).first()
    return callback if callback is not None and redial_of(session, callback) is not None else None


def page_call_ended(session: Session, rep_call_sid: str, status: str, now: datetime) -> None:
    """A voice page call ended: it is the rep's leg of every callback the rep started on it (pressed 2, then 1 to
    try again), ended as ``rep_leg_ended`` ends them. Until session 43 a rep who pressed 2, talked 3 s and hung up,
    its ``<Dial action>`` never coming, was told nothing and the next level was paged after the deadline (a second
    probe's)."""
    if rep_call_sid:
        rep_leg_ended(session, rep_call_sid, status, now, page_call=True)


def rep_leg_ended(session: Session, rep_call_sid: str, status: str, now: datetime, first: int | None = None,
                  page_call: bool = False) -> None:
    """The rep's call ``rep_call_sid`` ended (``status``): the end of every callback placed on it, ``first`` (the one
    its status callback's URL names) and any the rep placed on it since (pressed 1 to try again, or 2 to leave a
    message: they share the rep's call). Each gets the rep leg's line (``callback_rep_leg_status``, so
    ``rep_leg_over`` knows the rep hears nothing more); one still pending is closed by ``rep_call_ended``; a counted
    one whose conversation ended with it under the minimum is withdrawn (``short_leg``), and the rep, off the line,
    texted. Until session 44 the rep leg's status callback ended only the callback its URL names: a retry's 3-second
    conversation, its ``<Dial action>`` and customer leg's end lost, stood as the promise kept (probe H F3)."""
    ids = [first] if first is not None else []
    if rep_call_sid:
        ids += [i for i in session.scalars(select(Callback.id).where(Callback.rep_call_sid == rep_call_sid)
                                           .order_by(Callback.id)) if i != first]
    reps: set[int] = set()
    for callback_id in ids:
        callback, incident = lock_callback(session, callback_id)
        if callback.rep_id is not None:
            reps.add(callback.rep_id)
        log_event(session, at=now, actor="twilio", kind=EventKind.CALLBACK_REP_LEG_STATUS, incident_id=incident.id,
                  detail={"callback_id": callback.id, "status": status, **({"page_call": True} if page_call else {}),
                          **({"rep_call_of": first} if first is not None and callback_id != first else {})})
        rep_call_ended(session, incident, callback, now)
        # the rep hung up: the conversation ended when this was heard, whichever of the <Dial action> and the
        # customer leg's end comes later, or never
        short_leg(session, callback.id, status, "", rep_call_sid, now, seen_by="rep_leg")
    for rep_id in sorted(reps):  # the rep is off our call: a page call of another incident held for it goes now
        release_line(session, now, rep_id=rep_id)


def rep_not_reached(session: Session, callback_id: int, why: str, now: datetime, call_sid: str = "") -> Callback | None:
    """The hotline's call to the rep reached no person (a machine answered it, or nobody pressed its key): the customer
    is not dialled. A second call to the rep for it, after another was answered (``rep_legs``), is only logged: the
    callback goes on."""
    callback, incident = lock_callback(session, callback_id)
    if callback is not None and other_leg(session, callback, call_sid):
        log_event(session, at=now, actor="twilio", kind="callback_rep_leg_status", incident_id=incident.id,
                  detail={"callback_id": callback.id, "status": why, "other_leg": True})
    elif callback is not None:
        mark_rep_not_reached(session, incident, callback, why, now)
    return callback


REP_KEY_UNHEARD = "rep_key_in_outage"  # why: the rep pressed the key while the database could not be reached


def rep_key_unheard(session: Session, callback_id: int, call_sid: str, now: datetime) -> Callback | None:
    """The rep pressed the key on the hotline's call to them while the database could not be reached (its request
    kept in the spool; they were told to call the customer themselves): the customer was never dialled. Closed as the
    rep not reached for that reason, not as a rep who hung up before the dial (probe AA5), and the rep's SMS says
    so (``unreached_in_outage``)."""
    return rep_not_reached(session, callback_id, REP_KEY_UNHEARD, now, call_sid)


def unreached_in_outage(session: Session, incident_id: int, at: datetime) -> bool:
    """Whether the incident's latest rep-not-reached line by ``at`` is a key press the outage kept from dialling."""
    detail = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident_id, IncidentEvent.kind == EventKind.CALLBACK_REP_NOT_REACHED,
        IncidentEvent.at <= at).order_by(IncidentEvent.id.desc()).limit(1)).first()
    return (detail or {}).get("why") == REP_KEY_UNHEARD


def mark_rep_not_reached(session: Session, incident: Incident, callback: Callback, why: str, now: datetime,
                         failed: str = "") -> None:
    """Close a pending callback whose customer leg never started: never an attempt on the customer.

    The rep is told by SMS, and at-risk and breach alerts no longer count this callback as started. ``failed``: the
    number whose call failed for good (Twilio refused it, or took it and reported it ``failed``): if the rep has
    another number this callback has not called (``other_number.rep_leg_other_number``) and the core says so, the
    callback stays requested and its call is made there at once instead; a call Twilio took is left behind (its
    line names it, ``failed_call``: its late or repeated statuses move nothing).
    """
    if callback.outcome != CallbackOutcome.PENDING or callback.customer_call_sid or callback.person_confirmed_at:
        return
    rep = session.get(Rep, callback.rep_id) if failed and callback.rep_id is not None else None
    other = rep_leg_other_number(session, callback, rep, failed) if failed else ""
    decision = decide(RepNotReached(other_number=bool(other)), snapshot(session, incident, now), now)
    if decision.call_rep_other_number:
        left = {"failed_call": callback.rep_call_sid} if callback.rep_call_sid else {}
        carry_out(session, incident, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
            "callback_id": callback.id, "rep_id": callback.rep_id, "why": why, **left}))
        callback.rep_call_sid = ""  # the call to their other number is the callback's call now
        callback.placing_since = None
        schedule(session, "callback", callback.id, now, attempt=callback.attempts)
        return
    callback.outcome = CallbackOutcome.REP_NOT_REACHED
    callback.ended_at = callback.ended_at or now
    carry_out(session, incident, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
        "callback_id": callback.id, "rep_id": callback.rep_id, "why": why}))


def dial_ended(session: Session, callback_id: int, dial_status: str, now: datetime,
               dial_call_sid: str = "") -> Callback | None:
    """The rep's <Dial> ended: a callback nobody (no person) answered is attempted, or voicemail if a machine took it.

    ``dial_call_sid`` (Twilio's DialCallSid) is the customer leg's call: kept when none of its status callbacks
    named it, so the record (and a later lookup of its status) knows which call reached the customer."""
    callback, incident = lock_callback(session, callback_id)
    if callback is None:
        return None
    callback.customer_call_sid = callback.customer_call_sid or dial_call_sid[:64]
    mark_started(incident, callback, now)
    if callback.outcome in (CallbackOutcome.MET, CallbackOutcome.LATE):  # the conversation is over, whatever came
        callback.ended_at = callback.ended_at or now  # of the customer leg's own status (``escalation.on_the_line``)
    if callback.outcome != CallbackOutcome.PENDING:
        return callback
    if callback.person_confirmed_at is not None:  # the customer pressed a key: a person, whatever the statuses said
        _count_when_over(session, incident, callback, now)
        callback.ended_at = callback.ended_at or now
        return callback
    _unanswered(session, incident, callback, now, now, dial_status, took_voicemail(callback))
    return callback


PERSON = "human"  # Twilio's AnsweredBy when answering-machine detection heard a person


def took_voicemail(callback: Callback) -> bool:
    """Whether a voicemail took the customer's leg nobody pressed a key on: detection heard a machine (or a fax), or
    the leg was answered while detection said nothing of a person (none on a switchboard, or ``unknown``). Never
    when it said a person: they picked up and hung up before the key, and a voicemail message would reach them."""
    if is_machine(callback.answered_by):
        return True
    return callback.answered_at is not None and callback.answered_by != PERSON


def confirm_person(session: Session, callback_id: int, now: datetime) -> Callback | None:
    """The customer pressed a key on the callback: a person answered."""
    callback, incident = lock_callback(session, callback_id)
    if callback is None:
        return None
    _confirm(session, incident, callback, now)
    return callback


def takes_message(leaves_message: bool, answered_by: str) -> bool:
    """Whether the customer leg of a message call (``leaves_message``) is connected to the rep with no key: detection
    heard a machine, its greeting over (the message call waits for it). Anyone else is asked for the key."""
    return leaves_message and is_machine(answered_by)


def whisper_heard(session: Session, callback_id: int, answered_by: str, now: datetime) -> Callback | None:
    """Twilio asked for the customer leg's whisper at ``now``, as the route heard it or from the spool (a request
    kept while the database was unreachable: ``status_callbacks.customer_whisper``): who answered, and the answer's
    time (``whisper_requested``); on a message call's voicemail, the rep's message left (``customer_is_machine``)."""
    callback, incident = lock_callback(session, callback_id)
    if callback is None:
        return None
    if takes_message(callback.leaves_message, answered_by):
        return customer_is_machine(session, callback_id, answered_by, now)
    whisper_requested(session, incident, callback, answered_by, now)
    return callback


def bridge_proves_key(session: Session, callback_id: int, dial_status: str, dial_bridged: str,
                      now: datetime) -> Callback | None:
    """The rep's ``<Dial>`` to the customer ended bridged (``DialBridged=true``, completed) while no key press is on
    record: its request was lost (the database unreachable and the spool on another host, or not writable). The
    whisper's only way to the bridge is the customer's key (no key: the legs are hung up; a detected machine: sent to
    ``customer_machine``), so the bridge proves it, except on a message call (a voicemail is connected there without
    one). The key press is counted at ``now``, when the end was heard: the latest instant the hotline can prove it
    by, never earlier than it can have been (the conversation's length is then Twilio's ``DialCallDuration`` less the
    longest the detection and whisper before the key can take, judged after this by ``conversation_too_short``). The
    answer's own time stands when known (the whisper's request or the leg's answered status): met or late is decided
    by it, as for any key press. None otherwise."""
    if dial_status != "completed" or dial_bridged.strip().lower() != "true":
        return None
    callback, incident = lock_callback(session, callback_id)
    if (callback is None or callback.leaves_message or callback.person_confirmed_at is not None
            or callback.outcome != CallbackOutcome.PENDING):
        return None
    log_event(session, at=now, actor="twilio", kind=EventKind.CALLBACK_LEG_STATUS, incident_id=incident.id,
              detail={"callback_id": callback.id, "status": "key_pressed", "seen_by": "bridge",
                      "timestamp": now.isoformat()})
    _confirm(session, incident, callback, now)
    return callback


def customer_is_machine(session: Session, callback_id: int, answered_by: str, now: datetime) -> Callback | None:
    """Answering-machine detection heard a voicemail on the customer leg: attempted (voicemail), or the rep's message
    left on it (a message call)."""
    callback, incident = lock_callback(session, callback_id)
    if callback is None:
        return None
    callback.answered_by = answered_by[:32]
    if callback.outcome == CallbackOutcome.PENDING:
        _unanswered(session, incident, callback, now, now, "machine", True)
    return callback


def live_connected(session: Session, callback_id: int, caller_call_sid: str, at: datetime,
                   now: datetime) -> Callback | None:
    """Issue 13: Twilio bridged the caller waiting on the line to this callback's rep leg.

    A person on both sides: the rep answered the hotline's call, and the caller is on their own
    call into the hotline (no voicemail can wait in a queue). ``at`` is when Twilio took the caller
    out of the queue to connect them; met or late by the same rule as a bridged callback.
    """
    callback, incident = lock_callback(session, callback_id)
    if callback is None:
        return None
    callback.customer_call_sid = callback.customer_call_sid or caller_call_sid
    mark_started(incident, callback, at)
    callback.answered_at = callback.answered_at or at
    callback.person_confirmed_at = callback.person_confirmed_at or at
    _count_if_confirmed(session, incident, callback, now, live=True)
    return callback


def withdraw_live_answer(session: Session, callback_id: int, caller_call_sid: str, why: str,
                         now: datetime) -> Callback | None:
    """Issue 13: Twilio's end reports say the caller counted at the bridge (``live_connected``) was never connected
    to the rep (their leg dropped just before it). That answer does not stand: the callback is pending again while
    the rep's leg can go on to dial the customer (who must press a key), else attempted (below); the incident's
    answer is the earliest one still standing, and the escalation core decides what is owed again. Only an answer
    counted from that caller's call.

    Attempted, not pending, once the rep's ``<Dial>`` is over (an end report judged the bridge: ``ended_at``) or
    their leg is: nothing would ever dial or close a pending one. An outside probe's callback stood pending for ever,
    and every CALL for the incident was refused as "already calling" for 10 minutes (``escalation.IN_FLIGHT_FOR``)."""
    callback, incident = lock_callback(session, callback_id)
    if (callback is None or callback.outcome not in (CallbackOutcome.MET, CallbackOutcome.LATE)
            or callback.customer_call_sid != caller_call_sid or callback.answered_at is None):
        return callback
    callback.customer_call_sid = ""
    over = callback.ended_at is not None or rep_leg_over(session, incident, callback, "")
    _withdraw(session, incident, callback, CallbackOutcome.ATTEMPTED if over else CallbackOutcome.PENDING, now,
              {"why": why, "live": True, **({LIVE_DIAL_OVER: True} if over else {})})
    if not any(customer_dialled(c) for c in session.scalars(select(Callback).where(
            Callback.incident_id == incident.id, Callback.kind == CallbackKind.BRIDGED))):
        incident.callback_started_at = None  # that caller was the only customer's leg: none was, after all
    return callback


# The shortest bridge that keeps the callback promise (``facts.MIN_CONVERSATION_SECONDS``, the one value: the report
# counts an answer as a callback under way until then). Twilio's DialCallDuration counts from the customer's answer.


def conversation_too_short(dial_seconds: str, dial_bridged: str = "", talking_since: datetime | None = None,
                           ended_at: datetime | None = None, before_key: float = 0.0) -> bool:
    """Whether the rep's ``<Dial>`` to the customer (or the customer leg's own
    ``CallDuration``) says they talked less than ``MIN_CONVERSATION_SECONDS``.

    ``DialBridged=false`` (never connected) or a ``DialCallDuration`` under the minimum; a request without the
    duration is taken at its word (``live_connect.dial_rules_out_bridge`` does not rule a bridge out). ``talking_since``: when the customer pressed
    the key (the bridge starts then), and ``ended_at`` when the call's end was heard: under the minimum between them
    is too short too. Twilio's durations count from the customer's answer, so they hold the answering-machine check
    and the whisper (about 13 s): an outside probe's customer who heard the whole whisper, pressed the key and hung up
    3 s later had a 16-second ``DialCallDuration``, and the callback counted as met. ``before_key``: how much of the
    duration can have passed before the key press when nothing tells when it came (a key press only the bridge proves,
    ``bridge_proves_key``): the longest detection and whisper take, so what is left is a conversation held for sure.
    """
    seconds = dial_seconds.strip()
    if dial_bridged.strip().lower() == "false" or (
            seconds.isdigit() and int(seconds) - before_key < MIN_CONVERSATION_SECONDS):
        return True
    return (talking_since is not None and ended_at is not None
            and (ended_at - talking_since).total_seconds() < MIN_CONVERSATION_SECONDS)


def talked_since(session: Session, callback_id: int) -> datetime | None:
    """When the customer pressed the key on this bridged callback (its ``person_confirmed_at``), if they did."""
    return session.scalar(select(Callback.person_confirmed_at).where(Callback.id == callback_id)) if callback_id \
        else None


def withdraw_short_bridge(session: Session, callback_id: int, dial_seconds: str, dial_bridged: str, now: datetime,
                          dial_call_sid: str = "", live: bool = False, call_status: str = "",
                          seen_by: str = "", ended_at: datetime | None = None,
                          before_key: float = 0.0) -> Callback | None:
    """The rep's ``<Dial>`` to the customer ended, and Twilio says the bridge lasted less than the minimum
    conversation (``conversation_too_short``): a key pressed proves a person, not a callback. Its
    answer (counted now if it was not yet) is withdrawn as a live one is: the callback is only attempted, the
    incident's answer is the earliest one still standing, and the escalation core decides what is owed again.
    None when nobody pressed a key on it (the ``<Dial>``'s end is then ``dial_ended``'s). ``live``: the rep's
    ``<Dial><Queue>`` to a caller waiting on the line (``live_connect.too_short``), whose bridge counted the person.
    ``call_status``: the rep's leg's ``CallStatus`` in the ``<Dial action>`` request; once that leg is over (the rep
    hung up first) the answer to the request is never heard, so the core has the rep told by SMS instead.
    ``seen_by`` "customer_leg": the customer leg's own final status said so (its ``CallDuration``, counted from the
    answer as ``DialCallDuration`` is), for a ``<Dial action>`` request that may never come (``short_leg``); "rep_leg":
    the rep's leg ended that soon after the key. ``ended_at``: the leg's end by Twilio's clock, else ``now``.
    ``before_key``: the seconds of the duration not counted as conversation (``conversation_too_short``)."""
    callback, incident = lock_callback(session, callback_id)
    if (callback is None or callback.person_confirmed_at is None
            or callback.outcome not in (CallbackOutcome.PENDING, CallbackOutcome.MET, CallbackOutcome.LATE)):
        return None
    callback.customer_call_sid = callback.customer_call_sid or dial_call_sid[:64]
    mark_started(incident, callback, now)
    _count_when_over(session, incident, callback, now)
    on_call = not rep_leg_over(session, incident, callback, call_status)
    _withdraw(session, incident, callback, CallbackOutcome.ATTEMPTED, now, {
        "why": SHORT_BRIDGE, "dial_seconds": dial_seconds[:8], "dial_bridged": dial_bridged[:8],
        "seconds_after_key": round(((ended_at or now) - callback.person_confirmed_at).total_seconds(), 1),
        **({"live": True} if live else {}), **({} if on_call else {"rep_hung_up": True}),
        **({"before_key_seconds": round(before_key, 1)} if before_key else {}),
        **({"seen_by": seen_by} if seen_by else {})}, rep_on_call=on_call)
    return callback


def short_leg(session: Session, callback_id: int, call_status: str, call_duration: str, call_sid: str,
              now: datetime, seen_by: str = "customer_leg") -> Callback | None:
    """A leg of a bridged callback completed after a conversation under the minimum (the customer leg's own
    ``CallDuration``, or the time from the key press to the leg's end): the answer counted at the key press is
    withdrawn as ``withdraw_short_bridge`` does for the ``<Dial action>``. Until session 37 only that request withdrew
    it: an outside probe's 4-second call whose ``<Dial action>`` never came (a lost webhook: Twilio does not retry
    it) stood as the kept promise. Whichever comes first withdraws it; the others find it withdrawn. The customer's
    leg ended when its answer was heard plus its ``CallDuration`` (``leg_ended_at``), not when its final status
    callback was heard: until session 43 one heard 90 s late counted a 3-second call as 93 s of conversation; and the
    rep's leg's end, heard (``seen_by`` "rep_leg": the rep hung up), withdrew nothing. None when nothing was
    withdrawn."""
    since = talked_since(session, callback_id)
    judged = session.get(Callback, callback_id) if callback_id else None
    if since is not None and judged is not None and judged.ended_at is not None and since >= judged.ended_at:
        return None  # counted only once the conversation's end was heard (a key press known only from the bridge,
        # ``bridge_proves_key``; a live bridge proven by its end reports, ``live_connect.bridge_proven``): no length
        # is measured from that answer; the <Dial action> judged it
    ended = leg_ended_at(session, callback_id, call_duration, now) if seen_by == "customer_leg" else now
    if since is not None and ended < since:
        # the key press was heard after the leg's end by Twilio's count: its webhook came late, so the end is known
        # no better than when it was heard (Twilio's own CallDuration still decides a conversation too short)
        ended = now
    if call_status != "completed" or not conversation_too_short(call_duration, "", since, ended):
        return None
    return withdraw_short_bridge(session, callback_id, call_duration, "", now, call_sid, seen_by=seen_by,
                                 ended_at=ended)


def leg_ended_at(session: Session, callback_id: int, call_duration: str, now: datetime) -> datetime:
    """When the customer's leg ended, on this host's clock: when its answer was heard (its first ``answered`` or
    ``in-progress`` status) plus Twilio's ``CallDuration``, counted from that answer; ``now`` (when its final status
    was heard) without them, or when that is earlier. Both times are this host's: Twilio's ``Timestamp`` of the end,
    read against the key press heard here, would make a conversation seconds shorter or longer by the clocks'
    difference."""
    seconds = call_duration.strip()
    if not seconds.isdigit():
        return now
    incident_id = session.scalar(select(Callback.incident_id).where(Callback.id == callback_id))
    heard = [at for at, status in leg_lines(session, incident_id, callback_id) if status in ANSWERED_STATUSES]
    return min(now, min(heard) + timedelta(seconds=int(seconds))) if heard else now


def leg_lines(session: Session, incident_id: int | None, callback_id: int,
              kind: str = EventKind.CALLBACK_LEG_STATUS) -> list[tuple[datetime, str]]:
    """(when heard, status) of each status line of one callback's customer leg (``kind``: of its rep leg,
    ``callback_rep_leg_status``), oldest first: the one read of them that the rules on a leg's answer, ring and end
    share. Of the rep leg, only those since its call moved to the rep's other number (``callback_rep_other_number``):
    the end of the call that failed is not the end of the one ringing there."""
    kinds = (kind, EventKind.CALLBACK_REP_OTHER_NUMBER) if kind == EventKind.CALLBACK_REP_LEG_STATUS else (kind,)
    lines: list[tuple[datetime, str]] = []
    for at, line_kind, detail in session.execute(
            select(IncidentEvent.at, IncidentEvent.kind, IncidentEvent.detail).where(
                IncidentEvent.incident_id == incident_id, IncidentEvent.kind.in_(kinds)).order_by(IncidentEvent.id)):
        if (detail or {}).get("callback_id") != callback_id:
            continue
        if line_kind == EventKind.CALLBACK_REP_OTHER_NUMBER:
            lines = []
        elif not (detail or {}).get("left_call") and not (detail or {}).get("after_end"):  # a late word of the call
            # left behind, or one heard after the leg's end (``rep_leg_status``)
            lines.append((at, (detail or {}).get("status", "")))
    return lines


def already_withdrawn_as_short(session: Session, callback: Callback, call_status: str, now: datetime) -> bool:
    """Whether the callback's answer was withdrawn as too short to count (``callback_withdrawn``, ``why:
    bridge_too_short``): the ``<Dial action>`` coming after a leg's own end withdrew it (``short_leg``,
    ``live_connect.ended_too_soon``) tells the
    rep as when it withdraws it. That withdrawal thought the rep on the call, to hear why; when this request says
    their leg is over (``call_status``: they hung up first), nobody did, and the core has them told by SMS."""
    line = short_bridges(session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == callback.incident_id, IncidentEvent.kind == EventKind.CALLBACK_WITHDRAWN)
        .order_by(IncidentEvent.id))).get(callback.id)
    if line is None:
        return False
    unheard = bool(line.get("seen_by")) and not line.get("rep_hung_up")  # a leg's end withdrew it
    if unheard and call_status in ENDED_STATUSES:
        incident = session.get(Incident, callback.incident_id)
        decision = decide(ShortBridgeUnheard(), snapshot(session, incident, now), now)
        carry_out(session, incident, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
            "callback_id": callback.id}))
    return True


def rep_leg_over(session: Session, incident: Incident, callback: Callback, call_status: str) -> bool:
    """Whether the rep's leg of ``callback`` is over: the ``<Dial action>`` request says so (its ``CallStatus`` is
    final: the rep hung up first), or the leg's own status callback already reported its end."""
    if call_status in ENDED_STATUSES:
        return True
    return any(status in ENDED_STATUSES
               for _, status in leg_lines(session, incident.id, callback.id, EventKind.CALLBACK_REP_LEG_STATUS))


def _withdraw(session: Session, incident: Incident, callback: Callback, outcome: CallbackOutcome, now: datetime,
              detail: dict, rep_on_call: bool = True) -> None:
    """Take a counted answer off ``callback`` (left ``outcome``) and the incident; the core decides what is owed."""
    at = callback.answered_at
    callback.outcome, callback.answered_at, callback.person_confirmed_at = outcome, None, None
    callback.ended_at = now if outcome != CallbackOutcome.PENDING else None
    session.flush()
    incident.callback_answered_at = standing_answer(session, incident)
    decision = decide(AnswerWithdrawn(at=at, rep_on_call=rep_on_call), snapshot(session, incident, now), now)
    carry_out(session, incident, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
        "callback_id": callback.id, "answered_at": at.isoformat(), **detail}))
    # the related incidents it counted for (a dropped call's redial) lose it too
    withdraw_related(session, callback, at, str(detail.get("why", "")), now)


def _confirm(session: Session, incident: Incident, callback: Callback, now: datetime) -> None:
    callback.person_confirmed_at = callback.person_confirmed_at or now
    if (callback.answered_at is None and incident.callback_due_at is not None
            and callback.person_confirmed_at <= incident.callback_due_at):
        # the answer's status callback is late: the answer came before the key press, so an in-time key press is a
        # callback met whatever it says (the latest the answer can stand for, as at the leg's end). An outside
        # probe's status came 45 s late: the deadline passed meanwhile, and managers were paged "BREACHED ... not
        # answered yet" of a customer who had pressed the key 10 s before it. A key press after the deadline waits
        # for the status: the answer may still have been in time.
        callback.answered_at = callback.person_confirmed_at
    _count_if_confirmed(session, incident, callback, now)


def _count_when_over(session: Session, incident: Incident, callback: Callback, now: datetime) -> None:
    """The customer's leg is over (its final status, or the rep's ``<Dial action>``): a person who pressed a key is
    counted even if Twilio's 'answered' status callback never came, at the key press (the best time we have: the
    answer came before it, so never a met callback that was late)."""
    if callback.person_confirmed_at is not None and callback.answered_at is None:
        callback.answered_at = callback.person_confirmed_at
    _count_if_confirmed(session, incident, callback, now)


def _count_if_confirmed(session: Session, incident: Incident, callback: Callback, now: datetime,
                        live: bool = False) -> None:
    """Met or late, once both Twilio's answer time and the person's confirmation are known.

    The incident's answer is the earliest by Twilio's time, whichever callback's word came first; every callback
    counted writes its line (``callback_met``/``callback_late``, or ``callback_answered_again`` after an earlier
    answer), so the log the report recomputes from says what the rows say."""
    if callback.person_confirmed_at is None or callback.answered_at is None:
        return
    if callback.outcome not in (CallbackOutcome.PENDING, CallbackOutcome.VOICEMAIL, CallbackOutcome.ATTEMPTED,
                                CallbackOutcome.MESSAGE_LEFT, CallbackOutcome.NO_MESSAGE):
        return
    at = callback.answered_at
    decision = decide(CallbackAnswered(at=at, by_person=True), snapshot(session, incident, now), now)
    callback.outcome = CallbackOutcome.LATE if answered_late(incident, at) else CallbackOutcome.MET
    mark_started(incident, callback, at)
    if decision.outcome in ("met", "late"):  # the incident's answer: the earliest by Twilio's time
        incident.callback_answered_at = at
    # the callback's rep acts (never made owner here): they own the updates the decision starts
    carry_out(session, incident, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
        "callback_id": callback.id, "answered_at": at.isoformat(),
        "seconds_after_capture": round((at - incident.captured_at).total_seconds(), 1),
        # the key press (the bridge, live): the report proves the answer once the minimum conversation has passed
        TALKING_SINCE: callback.person_confirmed_at.isoformat(),
        **({"live": True} if live else {})}))
    # the same conversation is the callback an open incident linked to this one is owed (a dropped call's redial)
    reach_related(session, incident, callback, now)


def _unanswered(session: Session, incident: Incident, callback: Callback, at: datetime, now: datetime, status: str,
                voicemail: bool) -> None:
    """The customer leg ended without a person (decided once per callback: only a pending one comes here): an
    attempt, whose missed call the customer is told of (unless an SMS told them moments ago: the core's
    ``MISSED_SMS_WINDOW``); the rep's voicemail message call is none (``_message_ended``)."""
    if callback.leaves_message:
        _message_ended(session, incident, callback, at, now, status, voicemail)
        return
    # a leg canceled (or failed) after Twilio said it was ringing rang all the same (the rep hung up while it rang):
    # the customer sees a missed call, so they are texted as after any other unanswered ring (probe A F8 a)
    rang = voicemail or status in CUSTOMER_RANG or any(
        said in RINGING for _, said in leg_lines(session, incident.id, callback.id))  # canceled after it rang
    # at most one missed-call SMS per window (the core's rule): when the customer was last texted one
    snap = replace(snapshot(session, incident, now), missed_sms_at=last_missed_sms_at(session, incident))
    decision = decide(CallbackUnanswered(voicemail=voicemail, rang=rang), snap, now)
    callback.outcome = CallbackOutcome.VOICEMAIL if voicemail else CallbackOutcome.ATTEMPTED
    callback.ended_at = callback.ended_at or at
    mark_started(incident, callback, at)
    carry_out(session, incident, decision, now, Acting(actor="twilio", detail={
        "callback_id": callback.id, "status": status, "voicemail": voicemail, "rang": rang}))


def _message_ended(session: Session, incident: Incident, callback: Callback, at: datetime, now: datetime,
                   status: str, left: bool) -> None:
    """The rep's voicemail message call ended: the message left if a voicemail took it; never an attempt."""
    decision = decide(MessageEnded(left=left), snapshot(session, incident, now), now)
    callback.outcome = CallbackOutcome.MESSAGE_LEFT if left else CallbackOutcome.NO_MESSAGE
    callback.ended_at = callback.ended_at or at
    carry_out(session, incident, decision, now, Acting(actor="twilio", rep_id=callback.rep_id, detail={
        "callback_id": callback.id, "rep_id": callback.rep_id, "status": status}))


def self_report(session: Session, incident: Incident, rep_id: int | None, rep_name: str, called_at: datetime,
                note: str, now: datetime) -> Callback | None:
    """Record (once) a call the rep says they made from their own phone; never counted as met. None if refused."""
    decision = decide(SelfReported(rep_id), snapshot(session, incident, now), now)
    if decision.refused:
        return None
    if decision.outcome == "already_self_reported":
        return session.scalars(select(Callback).where(
            Callback.incident_id == incident.id, Callback.kind == CallbackKind.SELF_REPORTED)).first()
    callback = Callback(incident_id=incident.id, rep_id=rep_id, kind=CallbackKind.SELF_REPORTED,
                        outcome=CallbackOutcome.SELF_REPORTED, customer_number=incident.callback_phone,
                        requested_at=now, placed_at=called_at, note=note[:500])
    session.add(callback)
    session.flush()
    carry_out(session, incident, decision, now, Acting(actor=rep_name or "rep", rep_id=rep_id, detail={
        "callback_id": callback.id, "rep_id": rep_id, "called_at": called_at.isoformat(), "note": note[:200]}))
    return callback


def _twilio_time(value: str) -> datetime | None:
    """Twilio's RFC 2822 ``Timestamp`` as aware UTC."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None
