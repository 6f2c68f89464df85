"""The rules of the 15-minute promise, as one pure function."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from app.escalation.levels import LEVEL_WAIT_AT_LEAST
from app.escalation.model import (
    Acknowledge,
    AnswerWithdrawn,
    Audience,
    CallbackAnswered,
    CallbackUnanswered,
    Connect,
    ContactJoined,
    Decision,
    MessageEnded,
    NotTexted,
    NumberCorrected,
    PageDue,
    PageFailed,
    PageOrder,
    ReachedByEmail,
    ReachedOnRelated,
    Reopen,
    RepNotReached,
    Resolve,
    SelfReported,
    ShortBridgeUnheard,
    Snapshot,
    State,
    StepDue,
    Trigger,
)
from app.event_kind import EventKind as K

SMS, VOICE = "sms", "voice"
ALERT = (SMS, VOICE)
JOINED_CONTACT = "joined_contact"  # the purpose of the notice that a different contact joined an incident
NUMBER_CORRECTED = "number_corrected"  # the purpose of the notice that the callback number changed since the page
# the purpose of the SMS telling a rep who hung up first that their short callback did not count (16 characters at most)
BRIDGE_TOO_SHORT = "bridge_too_short"
# the SMS telling a rep gone off shift that a rota hand-off gave the incident to whoever is on call since
HANDED_OVER = "handed_over"  # 16 characters at most (pages.purpose)
BREACH_NOTICE = "breach_notice"  # the customer's apology that the deadline passed without reaching them
# the SMS telling those alerted "BREACHED" that the callback was met after all (its answer, by Twilio's time or the
# whisper's, came by the deadline; its word came after the breach step ran): 16 characters at most (pages.purpose)
BREACH_CORRECTED = "breach_corrected"
CLOSING_NOTICE = "closing_notice"  # the customer told the support team closed their incident without their agreement
# the customer told their incident was closed as agreed with them on the phone (a rep's record), and how to say NO
AGREED_CLOSING_NOTICE = "agreed_closing"  # 16 characters at most (pages.purpose)
# the one-off notices to the customer (``_in_writing``): a failed SMS of one is e-mailed instead (``_notice_failed``)
NOTICES = (BREACH_NOTICE, CLOSING_NOTICE, AGREED_CLOSING_NOTICE)
# a customer reached, or a resolved incident, no longer sends these (nor tells the customer they were not reached)
# (and a rep's "your short callback did not count" SMS: it says the customer is still owed one); of a rep's pages in
# these, a later round's carries the state of now: it supersedes the earlier ones still waiting to go (``_page_due``)
CHASING_PURPOSES = ("page", "at_risk", "breach", BREACH_NOTICE, BRIDGE_TOO_SHORT)
ALERTS = ("at_risk", "breach")  # the alerts a rep (or manager) is sent, beside the level's page
# a rep's messages that go to their other number (``phone_alt``) when one fails for good (``_elsewhere``)
OTHER_NUMBER_PURPOSES = ("page", *ALERTS, HANDED_OVER)
# At most one missed-call SMS ("we tried to call you ... we will call you again") per incident in this window: a rep
# pressing CALL again and again, or retries ending together, would otherwise text the customer once per attempt
# (three in 3 s in an outside probe), noise in their outage. Five minutes covers a rep's run of retries (a ring of
# up to a minute or so each) while the one SMS still says what is true ("we tried at 03:04, we will call again");
# an attempt later than that is a new try they are told of, as before (about three at most over a 15-minute promise).
# It is also the hotline's other short cadence (the at-risk alert 5 minutes before the deadline, a repage every 5).
MISSED_SMS_WINDOW = timedelta(minutes=5)
# how long after the deadline the breach waits for the key press of a callback answered by then (the whisper asks
# for it at once; a leg that ends without it ends the wait)
KEY_PRESS_WAIT = timedelta(minutes=2)
MISSED_SMS_RECENT = "missed_sms_recent"  # why an attempt's SMS was not sent (the log line's ``customer_not_texted``)
# Of a rep's chasing pages, which later ones carry all an earlier one tells them, so the later supersedes it
# (``_page_due``): a repage (the same page text: callback number, ACK link) an earlier page, the breach alert an
# at-risk one. Never an alert a page: the alert has neither the callback number nor the ACK link.
SUPERSEDED_BY = {"page": ("page",), "at_risk": ("at_risk", "breach"), "breach": ("breach",),
                 BREACH_NOTICE: (BREACH_NOTICE,), BRIDGE_TOO_SHORT: (BRIDGE_TOO_SHORT,)}


def decide(trigger: Trigger, snap: Snapshot, now: datetime) -> Decision:
    """What happens when ``trigger`` meets an incident in the state ``snap`` describes, at ``now``."""
    handler = _HANDLERS[type(trigger)]
    return handler(trigger, snap, now)


def counts_as_paged(attempts: int) -> bool:
    """Whether a page counts its person among "everyone paged" (the at-risk SMS): at least one try of it was
    made, so it may have reached them. A page canceled (acknowledged, rep deactivated) or refused (STOP)
    before any try reached nobody; its person is told nothing they were never asked about."""
    return attempts > 0


# --- due steps -------------------------------------------------------------------------------------


def _step(step: StepDue, snap: Snapshot, now: datetime) -> Decision:
    return _STEPS[step.kind](step, snap, now)


def _skip(snap: Snapshot, outcome: str) -> Decision:
    return Decision(outcome, snap.state)


def _waiting_for_details(snap: Snapshot) -> Decision:
    """An incident opened mid-call whose caller is still giving their details: the deadline at hand is the
    opening's provisional one (issue 13), the promise has not started; nobody is told it, warned or alerted yet."""
    return Decision("waiting_for_details", snap.state, rearm=True)


def _receipt(step: StepDue, snap: Snapshot, now: datetime) -> Decision:
    """The customer's written receipt: by SMS when their number takes one, else by e-mail when one can reach them
    (an address, and SMTP: ``Snapshot.has_email``), else none (a landline caller without an e-mail address has the reference from the call only).
    It states the deadline: not the provisional one while the caller is still giving details."""
    if snap.resolved:
        return _skip(snap, "skipped_resolved")
    if snap.caller_on_hotline:
        return _waiting_for_details(snap)
    if snap.answered_at is not None:  # "an engineer will call you back by ..." after they talked with one (a first
        # call whose end came late, counted on its redial's conversation; a step run late): a rep's word that they
        # called proves nothing to the customer, who still gets it
        return _skip(snap, "skipped_callback_done")
    if snap.has_callback_number and snap.textable_customer and snap.receipt_withheld:
        return Decision("receipt_withheld", snap.state, log=(K.RECEIPT_WITHHELD,))
    if snap.has_callback_number and snap.textable_customer:
        return Decision("receipt_queued", snap.state, pages=(PageOrder(Audience.CUSTOMER, (SMS,), "receipt"),))
    if snap.has_email:
        return Decision("receipt_emailed", snap.state, email_customer="receipt")
    return _skip(snap, "skipped_not_textable")


def _page(step: StepDue, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return _skip(snap, "skipped_resolved")
    if snap.customer_reached:
        return _skip(snap, "skipped_callback_done")
    if (snap.acknowledged or snap.owner_rep_id is not None) and snap.owner_active:
        return _skip(snap, "skipped_acknowledged")
    # an owner deactivated since (left, phone lost) works it no more and is paged no more: the levels page on, as
    # for an incident nobody took (until session 37 their acknowledgement held the escalation back: an outside
    # probe's customer had nobody coming and nobody told until the breach)
    if step.level >= snap.levels:
        return _skip(snap, "skipped_no_such_level")
    if step.nobody_at_level:
        # a level that reaches nobody must not eat the minutes: the managers hear at once
        return Decision("nobody_to_page", snap.state, pages=(PageOrder(Audience.MANAGERS, ALERT, "page"),),
                        log=(K.NOBODY_TO_PAGE,))
    if step.only_told_at_level:
        # the TAM is told, never asked: with nobody else at the level, nobody would call back; they are still told
        return Decision("nobody_to_page", snap.state, pages=(PageOrder(Audience.MANAGERS, ALERT, "page"),
                                                             PageOrder(Audience.LEVEL, (), "page")),
                        log=(K.NOBODY_TO_PAGE,))
    return _paging(snap, "paged")


def _at_risk(step: StepDue, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return _skip(snap, "skipped_resolved")
    if snap.caller_on_hotline:
        return _waiting_for_details(snap)
    if snap.callback_started and snap.callback_in_flight:  # the customer's phone rings or they talk: not yet known
        return _skip(snap, "skipped_callback_started")
    if snap.customer_reached:
        return _skip(snap, "skipped_callback_done")
    # a callback that ended without reaching them (unanswered, a voicemail, too short to count) leaves the promise
    # at risk as much as none: alerted, in words that say a callback was tried (``page_text.alert_sms``); until
    # session 37 it was skipped, and an outside probe's managers heard nothing until the breach
    # the owner (who may have acknowledged unpaged, or taken it over) owns the callback: warned too. A step run past
    # the deadline (a worker down, a withdrawn answer's steps run again) warns only the reps, in words that say the
    # deadline passed (``page_text.alert_purpose``): the managers get the breach step's alert, not a second one
    managers = () if now >= snap.due_at else (PageOrder(Audience.MANAGERS, (SMS,), "at_risk"),)
    return Decision("alerted", snap.state, log=(K.CALLBACK_AT_RISK,),
                    pages=(*managers, PageOrder(Audience.PAGED_SO_FAR, (SMS,), "at_risk"),
                           PageOrder(Audience.OWNER_OR_PRIMARY, (SMS,), "at_risk")))


def _breach(step: StepDue, snap: Snapshot, now: datetime) -> Decision:
    state = snap.state
    if state == State.RESOLVED:
        return _skip(snap, "skipped_resolved")
    if state == State.MET:
        return _skip(snap, "met")
    if snap.caller_on_hotline:
        return _waiting_for_details(snap)
    if (snap.answered_awaiting_key is not None and snap.answered_awaiting_key <= snap.due_at
            and now < snap.due_at + KEY_PRESS_WAIT):
        # the customer's phone answered a callback by the deadline, the key press that proves a person is not in yet:
        # it may be a met callback, so nobody is alerted "BREACHED" yet (an outside probe's managers were, 0.4 s
        # before the key press of a callback the report then counted met); the step looks again shortly
        return Decision("waiting_for_key_press", state, rearm=True)
    if state == State.SELF_REPORTED:
        # no verified call by the deadline, only a rep's word that they called: the breach is on record (as the
        # report counts it) and the managers are alerted, told the only call was self-reported (``page_text``); the
        # reps are not chased again, nor the customer (whom the rep says they called) told "we have not reached you".
        # Until session 44 a rep's CALLED silenced every alarm: nobody heard of the breach but from the report
        return Decision(f"breached_{state.value}", state, record_breach=True, log=(K.CALLBACK_BREACHED,),
                        pages=(PageOrder(Audience.MANAGERS, ALERT, "breach"),))
    if state == State.WORKED_BY_EMAIL:
        # no number to call: the owner recorded how they reached the customer; the breach is on record, nobody chased
        return Decision(f"breached_{state.value}", state, record_breach=True, log=(K.CALLBACK_BREACHED,))
    if state == State.LATE:  # answered, but after the deadline: on record, nobody left to chase
        return Decision("breached", state, record_breach=True, log=(K.CALLBACK_BREACHED,))
    return Decision("breached", state, record_breach=True, add_repage=True, log=(K.CALLBACK_BREACHED,),
                    pages=(PageOrder(Audience.MANAGERS, ALERT, "breach"), PageOrder(Audience.TAM, (SMS,), "breach")),
                    breach_notice=_breach_notice(snap))


def _repage(step: StepDue, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return _skip(snap, "stopped_resolved")
    if snap.customer_reached:
        return _skip(snap, "stopped_callback_done")
    return Decision("repaged", snap.state, add_repage=True,
                    pages=(PageOrder(Audience.OWNER_OR_PRIMARY, ALERT, "breach"),
                           PageOrder(Audience.MANAGERS, ALERT, "breach")), breach_notice=_breach_notice(snap))


def _breach_notice(snap: Snapshot) -> str:
    """How a customer the deadline passed without reaching is told so, once, with an apology: by SMS when their
    number takes one, else by e-mail when they gave an address, else "none" (logged: nobody could tell them).

    "" once told; while a bridged callback is under way (its outcome is unknown yet: the customer may be answering
    it, so "we have not reached you" could be false; a repage round tells them if it did not reach them); and while
    the deadline is provisional (issue 13: a call fallen silent mid-intake; the customer was promised no time yet, and
    the breach that counts tells them). The callers (breach, repage) have ruled out a resolved incident and a
    customer reached."""
    if snap.told_of_breach or snap.callback_in_flight or snap.deadline_provisional:
        return ""
    return _in_writing(snap)


def _in_writing(snap: Snapshot) -> str:
    """How a one-off notice reaches the customer: by SMS when their number takes one, else by e-mail when one can
    reach them (an address, and SMTP: ``Snapshot.has_email``), else "none" (logged: nobody could tell them)."""
    if snap.has_callback_number and snap.textable_customer:
        return SMS
    return "email" if snap.has_email else "none"


def _hand_off(step: StepDue, snap: Snapshot, now: datetime) -> Decision:
    """The rota handed over while nobody owned the incident: whoever is on call since in a schedule its levels paged,
    and never had its page, gets it now as a first page (it says it was handed over, and how long is left), not at
    the next level or the at-risk alert (``nobody_at_level``: nobody new is on call). An incident someone owns stays
    theirs: a hand-off changes no owner and pages nobody; the deadline never moves.

    The rep gone off shift it takes the incident from is told as a level's page would tell them (``_paging``)."""
    if snap.resolved:
        return _skip(snap, "skipped_resolved")
    if snap.customer_reached:
        return _skip(snap, "skipped_callback_done")
    if _owned(snap) and snap.owner_active:
        return _skip(snap, "skipped_acknowledged")
    if step.nobody_at_level:
        return _skip(snap, "nobody_new_on_call")
    return _paging(snap, "handed_over")


def _paging(snap: Snapshot, outcome: str) -> Decision:
    """A level's page, by its step or by a hand-off step, whichever first pages whoever a schedule put on call since:
    the reps gone off shift whom they take the incident from (paged so far only as on call in that schedule, every
    rep on call there now having the page) are paged about it no more. Their escalation pages not sent yet (queued,
    held, waiting for a retry) are canceled, never one placed; and, paged about it before, they are told once by SMS,
    never rung, that it was handed over and to whom (they may be working it, or worry), whichever step saw the
    hand-off first (probe O6: a level step that paged the rep on call since told nobody and canceled nothing). Never
    told while someone owns it (a deactivated owner's incident hands over as one nobody took): nothing was theirs to
    hand on. A paging that takes it from nobody cancels and tells nobody."""
    told = () if _owned(snap) else (PageOrder(Audience.HANDED_OVER_FROM, (SMS,), HANDED_OVER),)
    return Decision(outcome, snap.state, pages=(PageOrder(Audience.LEVEL, (), "page"), *told),
                    cancel_handed_over_pages=True)


_STEPS = {"receipt": _receipt, "page": _page, "at_risk": _at_risk, "breach": _breach, "repage": _repage,
          "handoff": _hand_off}


# --- events ----------------------------------------------------------------------------------------


def _refuse(snap: Snapshot, outcome: str) -> Decision:
    return Decision(outcome, snap.state, refused=True, log=(K.ACKNOWLEDGEMENT_REFUSED,))


def _owned(snap: Snapshot) -> bool:
    return snap.acknowledged or snap.owner_rep_id is not None


def _first_ack(snap: Snapshot, outcome: str, **more) -> Decision:
    """The first acknowledgement: own it, stop escalation pages, tell the customer someone has it."""
    notice = (PageOrder(Audience.CUSTOMER, (SMS,), "ack_notice"),) if snap.textable_customer else ()
    return Decision(outcome, State.ACKNOWLEDGED if not more.get("open_callback") else State.CALLBACK_IN_PROGRESS,
                    set_owner=True, cancel_escalation_pages=True, pages=notice, log=(K.ACKNOWLEDGED,), **more)


def _take_over(snap: Snapshot, outcome: str, **more) -> Decision:
    """Another rep takes the incident: logged, and the previous owner is told by SMS."""
    told = (PageOrder(Audience.PREVIOUS_OWNER, (SMS,), "taken_over"),) if snap.owner_rep_id is not None else ()
    return Decision(outcome, State.CALLBACK_IN_PROGRESS if more.get("open_callback") else snap.state,
                    set_owner=True, cancel_escalation_pages=True, pages=told, log=(K.TAKEN_OVER,), **more)


def _acknowledge(ev: Acknowledge, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return _refuse(snap, "refused_closed")
    if not ev.paged_or_on_call:
        return _refuse(snap, "refused_not_paged")
    if ev.rep_id is None:  # a login linked to no rep: owning it would stop the escalation with nobody to page or
        return _refuse(snap, "refused_not_a_rep")  # call back (the hotline can call no rep for the customer)
    if snap.owner_rep_id == ev.rep_id:
        return Decision("already_owner", snap.state)
    if not _owned(snap):
        return _first_ack(snap, "acknowledged")
    if ev.take_over:
        return _take_over(snap, "taken_over")
    if not snap.owner_active:  # its owner was deactivated: nobody works it any more
        return replace(_take_over(snap, "taken_over"), pages=())  # nobody to tell: the former rep is never paged
    return _refuse(snap, "refused_owned_by_other")


def _connect(ev: Connect, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return _refuse(snap, "refused_closed")
    if not ev.paged_or_on_call:
        return _refuse(snap, "refused_not_paged")
    if not snap.has_callback_number:
        return _refuse(snap, "refused_no_number")
    if ev.rep_id is None or not ev.has_phone:
        return _refuse(snap, "refused_no_phone")
    if snap.callback_in_flight:  # one bridged callback per incident at a time: a double tap is the same request
        return Decision("callback_in_flight", snap.state)
    if snap.customer_on_the_line:  # a rep talks with the customer now: no second call to them, no take-over mid-talk
        return Decision("customer_on_the_line", snap.state)
    if snap.caller_on_hotline:
        return _connect_after_call(ev, snap)
    if not _owned(snap):
        return _first_ack(snap, "acknowledged_and_connecting", open_callback=True)
    if snap.owner_rep_id != ev.rep_id:
        return _take_over(snap, "taken_over_and_connecting", open_callback=True)
    return Decision("connecting", State.CALLBACK_IN_PROGRESS, open_callback=True)


def _connect_after_call(ev: Connect, snap: Snapshot) -> Decision:
    """The customer is still giving their details on the hotline: a call to their number now would find it
    busy. The rep owns the incident now; the callback opens once the intake is over (the caller waits on the
    line for the rep, or hangs up)."""
    if not _owned(snap):
        decision = _first_ack(snap, "acknowledged_connect_after_call", defer_callback=True)
    elif snap.owner_rep_id != ev.rep_id:
        decision = _take_over(snap, "taken_over_connect_after_call", defer_callback=True)
    else:
        decision = Decision("connect_after_call", snap.state, defer_callback=True)
    return replace(decision, log=(*decision.log, K.CONNECT_DEFERRED))


def _answered(ev: CallbackAnswered, snap: Snapshot, now: datetime) -> Decision:
    if not ev.by_person:
        return Decision("attempted_voicemail", State.ATTEMPTED, log=(K.CALLBACK_ATTEMPTED,),
                        release_held_pages=snap.pages_held)
    if snap.answered_at is not None and ev.at >= snap.answered_at:
        # reached before (a follow-up call): on record, the first answer stands
        return Decision("already_answered", snap.state, log=(K.CALLBACK_ANSWERED_AGAIN,))
    # the first answer, or one Twilio timestamps before the answer counted so far (its word came late):
    # the earliest answer is the incident's
    met = ev.at <= snap.due_at
    state = State.MET if met else State.LATE
    pages, log = _corrected(snap, met)
    # pages held for the call are let go: the customer was reached, so their send cancels them at once
    return Decision(state.value, state, start_updates=not snap.resolved, release_held_pages=snap.pages_held,
                    verified_contact=not snap.resolved, log=(K.CALLBACK_MET if met else K.CALLBACK_LATE, *log),
                    pages=pages)


def _reached_on_related(ev: ReachedOnRelated, snap: Snapshot, now: datetime) -> Decision:
    """A callback on a related incident reached this incident's customer (a dropped call and its redial: one
    customer, one number, one conversation): it counts for this incident too, met or late on this one's own
    deadline, so its chase stops as for any answered callback (no more levels, at-risk alert, breach alert or
    "we have not reached you"). Never for another number, nor for a conversation before this report was taken,
    nor once this incident is resolved or its own callback counted. Its updates are not started: the related
    incident's schedule carries them, or the customer would get two streams of updates for one conversation."""
    if snap.resolved:
        return _skip(snap, "skipped_resolved")
    if not ev.same_number:
        return _skip(snap, "skipped_other_number")
    if ev.at < ev.reported_at:
        return _skip(snap, "skipped_before_report")
    if snap.answered_at is not None:
        return _skip(snap, "skipped_already_answered")
    met = ev.at <= snap.due_at
    state = State.MET if met else State.LATE
    pages, log = _corrected(snap, met)
    return Decision(state.value, state, release_held_pages=snap.pages_held, log=(K.CALLBACK_REACHED_ON_RELATED, *log),
                    pages=pages)


def _corrected(snap: Snapshot, met: bool) -> tuple[tuple[PageOrder, ...], tuple[K, ...]]:
    """A callback counted met (the customer answered by the deadline) after an alert said the deadline was BREACHED
    (its answer's word came after the breach step ran: a status callback heard late, a key press after the deadline,
    a lookup): whoever got that alert is told by SMS it was met after all, once (the first answer counted met; a
    later one finds the incident met); a TAM whose breach alert was e-mailed, by e-mail (``decisions._in_writing``).
    Never for a late answer: the alert was true."""
    if not met or not snap.breach_alerted or snap.state == State.MET:
        return (), ()
    return (PageOrder(Audience.BREACH_ALERTED, (SMS,), BREACH_CORRECTED),), (K.BREACH_CORRECTED,)


def _withdrawn(ev: AnswerWithdrawn, snap: Snapshot, now: datetime) -> Decision:
    """A live bridge counted as the answer did not happen. With no other answer (nor a resolution, a self-report or
    an e-mail contact) standing, the promise is owed again: what the escalation skipped since then runs again. The
    callback's rep who can no longer hear it on their call (they hung up first) is told by SMS, once: the callback
    did not count and the customer is still owed one (the repages alone would not say why). The update schedule
    that answer started stops until a callback is met again. A related incident's answer withdrawn here
    (``on_related``) is told to its rep by that incident alone."""
    kind = K.CALLBACK_RELATED_WITHDRAWN if ev.on_related else K.CALLBACK_WITHDRAWN
    if snap.customer_reached:
        return Decision("withdrawn_other_answer_stands", snap.state, log=(kind,))
    told = () if ev.rep_on_call or ev.on_related else (PageOrder(Audience.CALLBACK_REP, (SMS,), BRIDGE_TOO_SHORT),)
    # updates follow a verified contact: with none standing, the schedule the withdrawn answer started stops
    return Decision("answer_withdrawn", snap.state, log=(kind,), rerun_steps_since=ev.at, pages=told,
                    stop_updates=True)


def _short_unheard(ev: ShortBridgeUnheard, snap: Snapshot, now: datetime) -> Decision:
    """The rep of a callback withdrawn as too short hung up before hearing why: told by SMS, as ``_withdrawn`` tells
    a rep who hung up first (the withdrawal already ran what is owed again); not once another answer stands."""
    if snap.customer_reached:
        return _skip(snap, "skipped_customer_reached")
    return Decision("short_bridge_told_by_sms", snap.state,
                    pages=(PageOrder(Audience.CALLBACK_REP, (SMS,), BRIDGE_TOO_SHORT),))


def _unanswered(ev: CallbackUnanswered, snap: Snapshot, now: datetime) -> Decision:
    outcome = "attempted_voicemail" if ev.voicemail else "attempted"
    state = snap.state if snap.customer_reached else State.ATTEMPTED
    # the customer only sees a missed call: told by SMS who tried and how to reach us (the service decides an
    # attempt's end once); never once the incident is resolved or they were reached, and
    # never for a leg that did not ring them ("we tried to call you" would be a claim nobody can prove)
    told = ev.rang and not snap.customer_reached and snap.has_callback_number and snap.textable_customer
    # ... at most once per MISSED_SMS_WINDOW: an SMS sent (or queued) that did not fail stands for the attempts
    # after it in the window; one that failed or was undelivered reached nobody, so this attempt's SMS goes
    last = snap.missed_sms_at
    quiet = (NotTexted(MISSED_SMS_RECENT, last, MISSED_SMS_WINDOW)
             if told and last is not None and now - last < MISSED_SMS_WINDOW else None)
    notice = (PageOrder(Audience.CUSTOMER, (SMS,), "callback_missed"),) if told and quiet is None else ()
    # the customer was not reached: what was held for the call goes now, not at the next round
    return Decision(outcome, state, log=(K.CALLBACK_ATTEMPTED,), release_held_pages=snap.pages_held, pages=notice,
                    not_texted=quiet)


def _message_ended(ev: MessageEnded, snap: Snapshot, now: datetime) -> Decision:
    """The rep's voicemail message call ended: no attempt (the attempt a voicemail took before it was one, and its
    customer was told of it by SMS then; a message left speaks for itself, and a call no voicemail took adds
    nothing to tell). What was held for the call goes now."""
    kind = K.CALLBACK_MESSAGE_LEFT if ev.left else K.CALLBACK_MESSAGE_NOT_LEFT
    return Decision("message_left" if ev.left else "message_not_left", snap.state, log=(kind,),
                    release_held_pages=snap.pages_held)


def _rep_not_reached(ev: RepNotReached, snap: Snapshot, now: datetime) -> Decision:
    """The customer was never dialled: the rep is told by SMS (unless the customer was reached since: by a call a
    person answered or an e-mail contact; a self-report is the rep's own word, and a rep who asked for a bridged call
    after it, as an outside probe's did, must learn it never reached the customer); the at-risk and breach steps go
    on as if no callback had started.

    A call to the rep's number that failed for good (Twilio refused it, or took it and reported it ``failed``) is
    first made to the rep's other number, once, as a page would be (``_elsewhere``): the callback is still wanted while the incident is open and the customer not reached."""
    reached = snap.customer_reached and snap.state != State.SELF_REPORTED
    if ev.other_number and not (snap.resolved or reached):
        return Decision("calling_other_number", snap.state, call_rep_other_number=True,
                        log=(K.CALLBACK_REP_OTHER_NUMBER,))
    if snap.resolved or (snap.customer_reached and snap.state != State.SELF_REPORTED):
        return Decision("rep_not_reached", snap.state, log=(K.CALLBACK_REP_NOT_REACHED,),
                        release_held_pages=snap.pages_held)
    return Decision("rep_not_reached", snap.state, log=(K.CALLBACK_REP_NOT_REACHED,),
                    release_held_pages=snap.pages_held,
                    pages=(PageOrder(Audience.OWNER_OR_PRIMARY, (SMS,), "rep_not_reached"),))


def _self_reported(ev: SelfReported, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return _refuse(snap, "refused_closed")
    if snap.self_reported:  # stored once
        return Decision("already_self_reported", snap.state)
    # the chase stops on the rep's word: updates become owed, or nothing would remind anyone of the customer
    return Decision("self_reported", State.SELF_REPORTED, set_owner=not _owned(snap),
                    cancel_escalation_pages=True, start_updates=True, log=(K.CALLBACK_SELF_REPORTED,))


def _reached_by_email(ev: ReachedByEmail, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return _refuse(snap, "refused_closed")
    if snap.has_callback_number:  # a number means the promise is a call
        return _refuse(snap, "refused_has_number")
    if not ev.paged_or_on_call:
        return _refuse(snap, "refused_not_paged")
    if snap.reached_by_email:
        return Decision("already_reached_by_email", snap.state)
    return Decision("reached_by_email", State.WORKED_BY_EMAIL, set_owner=not _owned(snap),
                    cancel_escalation_pages=True, mark_reached_by_email=True, start_updates=True, verified_contact=True,
                    log=(K.REACHED_BY_EMAIL,))


def _resolve(ev: Resolve, snap: Snapshot, now: datetime) -> Decision:
    if snap.resolved:
        return Decision("refused_already_resolved", snap.state, refused=True)
    verified = snap.answered_at is not None or snap.reached_by_email
    if verified and ev.agreed_by.strip():  # policy: customer and provider agree together
        if ev.verbal:  # only the rep's word shows it: the customer reads it, and how to say it is not resolved
            return Decision("resolved", State.RESOLVED, resolve=True, log=(K.RESOLVED,),
                            closing_notice=_in_writing(snap), agreed_close=True)
        return Decision("resolved", State.RESOLVED, resolve=True, log=(K.RESOLVED,))
    if verified and ev.after_silence:  # a proposal the customer never answered: counted apart
        return Decision("resolved_unconfirmed", State.RESOLVED, resolve=True, log=(K.RESOLVED,))
    if ev.by_manager and ev.reason.strip():
        # closed without the customer's word: they are told, or their last message may promise a call forever
        return Decision("resolved_by_manager", State.RESOLVED, resolve=True, log=(K.RESOLVED,),
                        closing_notice=_in_writing(snap))
    if verified:
        return Decision("refused_needs_agreement", snap.state, refused=True)
    return Decision("refused_no_verified_callback", snap.state, refused=True)


# the closes a customer's NO undoes: none of them rests on the customer's own written or keyed word (policy 6:
# customer and provider agree together when it is resolved); "customer" (their own YES) does not reopen, nor does a
# close whose line does not say how it came ("": written before these words)
REOPENED_BY_NO = ("verbal", "manager", "silence")


def _reopen(ev: Reopen, snap: Snapshot, now: datetime) -> Decision:
    """A closed incident is open again: on its customer's NO to a close they never agreed to in writing, within the
    window, or on a rep's (or manager's) written reason, for any close. The update schedule the close ended resumes
    when the customer had been reached (updates follow a verified contact, as ``start_updates``).

    A customer nobody had reached is still owed the callback: the chase the close stopped goes on (a session 40
    left-over: the owner was only texted, and nobody was paged again). The at-risk, breach and repage steps that
    stood down for the close since it came run again (``rerun_steps_since``: a deadline passed meanwhile is a breach,
    its repage rounds resume and page the owner and the managers); with no breach on record yet, the owner (else the
    first level's on-call) is paged now, by SMS and call. The report's figures of the promise are the log's as
    before: a callback met later counts late."""
    if not snap.resolved:
        return Decision("refused_not_closed", snap.state, refused=True)
    if ev.by_customer:
        if ev.close not in REOPENED_BY_NO:
            return Decision("refused_customer_agreed" if ev.close == "customer" else "refused_close_unknown",
                            snap.state, refused=True)
        if not ev.within_window:
            return Decision("refused_too_late", snap.state, refused=True)
    elif not ev.reason.strip():
        return Decision("refused_needs_reason", snap.state, refused=True)
    opened = replace(snap, resolved=False)
    if opened.customer_reached:
        return Decision("reopened", opened.state, reopen=True, start_updates=True, log=(K.INCIDENT_REOPENED,))
    paged = () if snap.breached else (PageOrder(Audience.OWNER_OR_PRIMARY, ALERT, "page"),)
    return Decision("reopened", opened.state, reopen=True, log=(K.INCIDENT_REOPENED,), pages=paged,
                    rerun_steps_since=ev.closed_at)


def _page_failed(ev: PageFailed, snap: Snapshot, now: datetime) -> Decision:
    if ev.purpose == "callback_missed":
        return _missed_sms_failed(ev, snap)
    if ev.purpose == "receipt":
        return _receipt_failed(ev, snap)
    if ev.purpose in NOTICES:
        return _notice_failed(ev, snap)
    if ev.purpose in ALERTS:
        return _alert_failed(ev, snap)
    if ev.purpose == HANDED_OVER:
        return _hand_off_notice_failed(ev, snap)
    elsewhere = _elsewhere(ev)
    if ev.purpose != "page" or (ev.channel != SMS and not ev.level_unreached and not elsewhere):
        return _skip(snap, "no_fallback")
    if snap.resolved or snap.customer_reached or _owned(snap):
        return _skip(snap, "no_fallback_needed")
    # the same person called (a page SMS), first: an SMS to the other number that is never sent (STOP) sees the call
    calling = (PageOrder(Audience.SAME_PERSON, (VOICE,), "page"),) if ev.channel == SMS and not ev.voice_tried else ()
    if calling or elsewhere:
        return _instead(snap, calling, elsewhere)
    if not ev.level_unreached:  # an SMS whose person is called already, by a call still alive
        return _skip(snap, "called_already")
    # every page of the level failed for good (Twilio refused the numbers, the calls failed): it reached nobody, as a
    # level with nobody on call, so the managers hear at once (an outside probe's level whose pages Twilio refused
    # with 21211 paged nobody until the next level's minute). Whichever of the level's pages fails last says so: an
    # SMS whose person's call failed first too (a later probe's voice page failed 37 ms before the SMS)
    return Decision("level_unreached", snap.state, pages=(PageOrder(Audience.MANAGERS, ALERT, "page"),),
                    log=(K.LEVEL_UNREACHED,))


def _elsewhere(ev: PageFailed) -> tuple[PageOrder, ...]:
    """A rep whose page or alert (``OTHER_NUMBER_PURPOSES``) failed for good (a refused number, STOP, undelivered, a
    call that failed) gets the same message on the same channel on their other number (``phone_alt``), once (probe Q,
    Q1: Twilio refused the primary's SMS, 21610, and call, 21215, and the managers were paged while the YAML held the
    rep's phone_alt; the service finds the number: ``other_number``). Never while Twilio fails for now: the other
    number would fail the same way."""
    if not ev.other_number or ev.retrying or ev.purpose not in OTHER_NUMBER_PURPOSES:
        return ()
    return (PageOrder(Audience.OTHER_NUMBER, (ev.channel,), ev.purpose),)


def _instead(snap: Snapshot, calling: tuple[PageOrder, ...], elsewhere: tuple[PageOrder, ...]) -> Decision:
    """A failed message's person called instead (``calling``) and/or their other number paged (``elsewhere``)."""
    return Decision("calling_instead" if calling else "other_number", snap.state, pages=calling + elsewhere,
                    log=(K.PAGE_SMS_FAILED_CALLING,) * bool(calling) + (K.PAGE_FAILED_OTHER_NUMBER,) * bool(elsewhere))


def _alert_failed(ev: PageFailed, snap: Snapshot) -> Decision:
    """An at-risk or breach alert to a rep failed for good. An at-risk SMS (undelivered, 30003: the phone is off or
    out of coverage, which is when a paged rep does not answer): the same person is called with the alert, as a page
    SMS's person is (an outside probe's secondary was warned by nobody until the breach), once, also while Twilio
    still retries the SMS. And a rep with another number gets the alert there, on the same channel, once, as a page
    (``_elsewhere``): until this change a rep whose number Twilio refused for good heard none of the alerts. Not once
    the customer is reached or the incident resolved."""
    at_risk_sms = ev.purpose == "at_risk" and ev.channel == SMS
    elsewhere = _elsewhere(ev)
    if not at_risk_sms and not elsewhere:
        return _skip(snap, "no_fallback")
    if snap.resolved or snap.customer_reached:
        return _skip(snap, "no_fallback_needed")
    calling = (PageOrder(Audience.SAME_PERSON, (VOICE,), "at_risk"),) if at_risk_sms and not ev.voice_tried else ()
    if calling or elsewhere:
        return _instead(snap, calling, elsewhere)
    return _skip(snap, "called_already")


def _hand_off_notice_failed(ev: PageFailed, snap: Snapshot) -> Decision:
    """The SMS telling a rep gone off shift that the incident was handed over failed for good: a rep with another
    number gets it there, once, as a page (``_elsewhere``); until this change they were told nothing and may still be
    working it, or worry. Never rung instead (the notice is an SMS only), never once the incident is resolved."""
    elsewhere = _elsewhere(ev)
    if not elsewhere:
        return _skip(snap, "no_fallback")
    if snap.resolved:
        return _skip(snap, "no_fallback_needed")
    return _instead(snap, (), elsewhere)


def _receipt_failed(ev: PageFailed, snap: Snapshot) -> Decision:
    """The customer's receipt SMS failed for good (failed or undelivered, such as 30003 unreachable or 30006 a
    landline; refused by Twilio; the number texted STOP): the caller was told on the phone a text would follow, so
    the e-mail receipt goes instead when one can reach them (``Snapshot.has_email``), once per incident (``_receipt``'s rule for a number
    that takes no SMS); without one the log says the customer holds no written reference. Never while the SMS is
    still being retried, nor once the incident is resolved."""
    if ev.channel != SMS or ev.retrying or ev.written_answered:
        return _skip(snap, "no_fallback")
    if snap.resolved:
        return _skip(snap, "no_fallback_needed")
    if snap.has_email:
        return Decision("receipt_emailed_instead", snap.state, email_customer="receipt",
                        log=(K.RECEIPT_SMS_FAILED_EMAILED,))
    return Decision("no_written_receipt", snap.state, log=(K.RECEIPT_SMS_FAILED_NO_ADDRESS,))


def _notice_failed(ev: PageFailed, snap: Snapshot) -> Decision:
    """A one-off notice's SMS to the customer (``NOTICES``: the breach apology, a close without their agreement, a
    close as agreed on the phone) failed for good: the same notice is e-mailed when one can reach them, once, as
    ``_in_writing`` would have chosen for a number that takes no SMS; without one the log says the customer was not
    told (an outside probe's apology SMS came back undelivered, 30005, and the customer was told on no channel,
    while the incident's log said they had been). Never while the SMS is retried; the apology never once the
    customer was reached or the incident resolved since (it says "we have not reached you").

    A closing notice that reached them by no channel is never silent: whoever closed the incident and its owner are
    texted to phone them (``phone_customer``); else they wait for an update that will never come, not knowing that
    a NO reopens it. An apology that reached nobody needs no such SMS: the reps are still chased to call them."""
    if ev.channel != SMS or ev.retrying or ev.written_answered:
        return _skip(snap, "no_fallback")
    if ev.purpose == BREACH_NOTICE and (snap.resolved or snap.customer_reached):
        return _skip(snap, "no_fallback_needed")
    if snap.has_email:
        return Decision("notice_emailed_instead", snap.state, email_customer=ev.purpose,
                        log=(K.CUSTOMER_NOTICE_SMS_FAILED_EMAILED,))
    return Decision("notice_not_delivered", snap.state, log=(K.CUSTOMER_NOTICE_SMS_FAILED_NO_ADDRESS,),
                    phone_customer=ev.purpose in (CLOSING_NOTICE, AGREED_CLOSING_NOTICE))


def _missed_sms_failed(ev: PageFailed, snap: Snapshot) -> Decision:
    """A missed-call SMS failed (or was undelivered) after it held back the SMS of later attempts (the
    ``MISSED_SMS_WINDOW``): nobody told the customer of them, so one SMS goes now for the latest of them, unless
    nothing would be texted for an attempt now (resolved, reached, no number that takes an SMS) or the number opted
    out. A failed SMS that held back nothing (this resend, failing in turn, among them) sends nothing: the next
    attempt texts."""
    if ev.channel != SMS or ev.held_back_at is None:
        return _skip(snap, "no_fallback")
    if snap.resolved or snap.customer_reached or not (snap.has_callback_number and snap.textable_customer) \
            or ev.opted_out:
        return _skip(snap, "no_fallback_needed")
    return Decision("missed_sms_resent", snap.state, pages=(PageOrder(Audience.CUSTOMER, (SMS,), "callback_missed"),),
                    log=(K.MISSED_SMS_RESENT,))


def _page_due(ev: PageDue, snap: Snapshot, now: datetime) -> Decision:
    """A queued page about to leave: a rep deactivated since is never paged; a rep on this incident's
    callback is not rung into it (call waiting) and the call is held until it ends, nor a rep whose phone is on
    any other call of ours (``PageDue.line_busy``); an SMS still goes
    (it breaks into nothing, and tells them what happened). Calls held over several rounds of one callback
    ring the rep once when it ends: each but the latest is superseded by it, never sent. Likewise a rep's chasing
    page that waited (Twilio failing) while a later round's page to them on its channel was written: the later one
    goes (or went) instead, and this one is superseded."""
    if not ev.rep_active:
        # like a page that failed for good, except that nobody is left to try again: the level is paged anew
        # now (whoever is on call there now, else the managers at once), not at the next level's minute
        again = ev.purpose == "page" and not (snap.resolved or snap.customer_reached or _owned(snap))
        return Decision("canceled_rep_deactivated", snap.state, cancel_page=True, page_level_again=again)
    if ev.channel == VOICE and ev.rep_id is not None and ev.rep_id in snap.reps_on_callback:
        return Decision("held_on_callback", snap.state, hold_page=True, log=(K.PAGE_HELD,))
    if ev.channel == VOICE and ev.line_busy:
        # the phone is on another of our calls (a callback of another incident, an earlier page call): a second call
        # would be call waiting in it or go to voicemail. Held until that call ends, the SMS still goes; no level
        # waits for this call (the steps page the others on their minute), so nothing is late but this one ring.
        return Decision("held_line_busy", snap.state, hold_page=True, log=(K.PAGE_HELD,))
    spaced = _call_spaced_until(ev, now)
    if spaced is not None:
        return Decision("held_spaced_from_last_call", snap.state, hold_page=True, hold_until=spaced,
                        log=(K.PAGE_HELD,))
    if ev.channel == VOICE and ev.newer_held_page:
        return Decision("superseded_by_newer_held_page", snap.state, supersede_page=True,
                        log=(K.PAGE_NOT_SENT_SUPERSEDED,))
    if ev.purpose in CHASING_PURPOSES and ev.newer_round_page:
        # Twilio failed while later rounds were queued ("10 min left" after "BREACHED"): the latest says what is
        # true now, once; the earlier ones waiting to be (re)sent are superseded by it, never sent
        return Decision("superseded_by_newer_round", snap.state, supersede_page=True,
                        log=(K.PAGE_NOT_SENT_SUPERSEDED,))
    return Decision("send", snap.state)


def _call_spaced_until(ev: PageDue, now: datetime) -> datetime | None:
    """When a level's call to a rep may ring, if not now: ``LEVEL_WAIT_AT_LEAST`` after their previous call of the
    incident actually left. ``level_due_times`` spaces the levels as planned; a first page that left late (no worker
    ran: an outside probe's left 158 s late) made the next level's "again by voice" ring the same rep 23 s after it.
    Only level pages wait: an at-risk or breach alert is a new word and goes at once."""
    if ev.channel != VOICE or ev.purpose != "page" or ev.last_call_at is None:
        return None
    until = ev.last_call_at + LEVEL_WAIT_AT_LEAST
    return until if until > now else None


def _contact_joined(ev: ContactJoined, snap: Snapshot, now: datetime) -> Decision:
    """Another contact joined the incident (over the per-number limit, with a callback number or e-mail that is not
    the incident's): whoever owns it (else the first level) and the managers are told by SMS to call them too, by
    the deadline they were told. Never for a resolved incident, and at most ``notice_limit`` times per flood window:
    past it the contact is still on the board, the incident page and every later page."""
    if snap.resolved:
        return _skip(snap, "skipped_resolved")
    if ev.notice_limit and ev.told_so_far >= ev.notice_limit:
        return _skip(snap, "contact_joined_notices_spent")
    return Decision("contact_joined", snap.state, pages=(PageOrder(Audience.OWNER_OR_PRIMARY, (SMS,), JOINED_CONTACT),
                                                           PageOrder(Audience.MANAGERS, (SMS,), JOINED_CONTACT)))


def _number_corrected(ev: NumberCorrected, snap: Snapshot, now: datetime) -> Decision:
    """The callback number changed after the first page: everyone paged so far is told the new one by SMS (their
    page named the old one); never once the incident is resolved or the customer was reached."""
    if snap.resolved:
        return _skip(snap, "skipped_resolved")
    if snap.customer_reached:
        return _skip(snap, "skipped_customer_reached")
    return Decision("number_corrected", snap.state, pages=(PageOrder(Audience.PAGED_SO_FAR, (SMS,), NUMBER_CORRECTED),))


_HANDLERS = {
    StepDue: _step, Acknowledge: _acknowledge, Connect: _connect, CallbackAnswered: _answered,
    CallbackUnanswered: _unanswered, MessageEnded: _message_ended, AnswerWithdrawn: _withdrawn,
    ShortBridgeUnheard: _short_unheard, ReachedOnRelated: _reached_on_related,
    RepNotReached: _rep_not_reached, SelfReported: _self_reported, ReachedByEmail: _reached_by_email, Resolve: _resolve, Reopen: _reopen, PageFailed: _page_failed,
    PageDue: _page_due, ContactJoined: _contact_joined, NumberCorrected: _number_corrected,
}
