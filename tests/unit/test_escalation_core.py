"""The escalation core as a table: every step kind against every incident state, then the events."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.escalation import (
    Acknowledge,
    AnswerWithdrawn,
    Audience,
    CallbackAnswered,
    CallbackUnanswered,
    Connect,
    MessageEnded,
    PageDue,
    PageFailed,
    PageOrder,
    ReachedByEmail,
    ReachedOnRelated,
    Reopen,
    RepNotReached,
    Resolve,
    SelfReported,
    Snapshot,
    State,
    StepDue,
    counts_as_paged,
    decide,
)
from app.event_kind import EventKind

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
DUE = T0 + timedelta(minutes=15)
ALICE, BOB = 1, 2
BASE = Snapshot(due_at=DUE, levels=3)

# Every incident state the issue names, as a snapshot.
STATES = {
    "open": BASE,
    "acknowledged": replace(BASE, acknowledged=True, owner_rep_id=ALICE),
    "owned_by_another_rep": replace(BASE, acknowledged=True, owner_rep_id=BOB),
    "callback_in_progress": replace(BASE, acknowledged=True, owner_rep_id=ALICE, callback_in_flight=True,
                                    callback_started=True),
    "attempted": replace(BASE, acknowledged=True, owner_rep_id=ALICE, callback_started=True, attempted=True),
    "met": replace(BASE, acknowledged=True, owner_rep_id=ALICE, callback_started=True,
                   answered_at=T0 + timedelta(minutes=4)),
    "late": replace(BASE, acknowledged=True, owner_rep_id=ALICE, callback_started=True,
                    answered_at=T0 + timedelta(minutes=17)),
    "self_reported": replace(BASE, acknowledged=True, owner_rep_id=ALICE, self_reported=True),
    "resolved": replace(BASE, acknowledged=True, owner_rep_id=ALICE, resolved=True,
                        answered_at=T0 + timedelta(minutes=4)),
    "no_callback_number": replace(BASE, has_callback_number=False, textable_customer=False),
    "no_number_reached_by_email": replace(BASE, has_callback_number=False, textable_customer=False,
                                          acknowledged=True, owner_rep_id=ALICE, reached_by_email=True),
    "nobody_to_page": BASE,  # the page step below says its level reached nobody
}

EXPECTED_STATE = {
    "open": State.OPEN, "acknowledged": State.ACKNOWLEDGED, "owned_by_another_rep": State.ACKNOWLEDGED,
    "callback_in_progress": State.CALLBACK_IN_PROGRESS, "attempted": State.ATTEMPTED, "met": State.MET,
    "late": State.LATE, "self_reported": State.SELF_REPORTED, "resolved": State.RESOLVED,
    "no_callback_number": State.OPEN, "no_number_reached_by_email": State.WORKED_BY_EMAIL,
    "nobody_to_page": State.OPEN,
}

# (step kind, state) -> (outcome, audiences paged, breach recorded, repage added)
M, P, OP, L, C, T, SO = (Audience.MANAGERS, Audience.PAGED_SO_FAR, Audience.OWNER_OR_PRIMARY, Audience.LEVEL,
                         Audience.CUSTOMER, Audience.TAM, "skip")
H = Audience.HANDED_OVER_FROM
TABLE = {
    "receipt": {
        "open": ("receipt_queued", [C]), "acknowledged": ("receipt_queued", [C]),
        "owned_by_another_rep": ("receipt_queued", [C]), "callback_in_progress": ("receipt_queued", [C]),
        "attempted": ("receipt_queued", [C]), "met": ("skipped_callback_done", []),
        "late": ("skipped_callback_done", []),  # "we will call you back by ..." after they talked with a rep: none
        "self_reported": ("receipt_queued", [C]), "resolved": ("skipped_resolved", []),
        "no_callback_number": ("skipped_not_textable", []), "no_number_reached_by_email": ("skipped_not_textable", []),
        "nobody_to_page": ("receipt_queued", [C]),
    },
    # a level's page tells the reps gone off shift whom it takes the incident from, as a hand-off does (probe O6)
    "page": {
        "open": ("paged", [L, H]), "acknowledged": ("skipped_acknowledged", []),
        "owned_by_another_rep": ("skipped_acknowledged", []), "callback_in_progress": ("skipped_acknowledged", []),
        "attempted": ("skipped_acknowledged", []), "met": ("skipped_callback_done", []),
        "late": ("skipped_callback_done", []), "self_reported": ("skipped_callback_done", []),
        "resolved": ("skipped_resolved", []), "no_callback_number": ("paged", [L, H]),
        "no_number_reached_by_email": ("skipped_callback_done", []), "nobody_to_page": ("nobody_to_page", [M]),
    },
    "at_risk": {
        # the owner is warned too: they may have acknowledged (or taken it over) without being paged
        "open": ("alerted", [M, P, OP]), "acknowledged": ("alerted", [M, P, OP]),
        "owned_by_another_rep": ("alerted", [M, P, OP]),
        # a callback that ended without reaching the customer leaves the promise at risk (session 37)
        "callback_in_progress": ("skipped_callback_started", []), "attempted": ("alerted", [M, P, OP]),
        "met": ("skipped_callback_done", []), "late": ("skipped_callback_done", []),
        "self_reported": ("skipped_callback_done", []), "resolved": ("skipped_resolved", []),
        "no_callback_number": ("alerted", [M, P, OP]), "no_number_reached_by_email": ("skipped_callback_done", []),
        "nobody_to_page": ("alerted", [M, P, OP]),
    },
    "breach": {
        # the TAM as told so far hears of the breach at the breach, whoever owns it (the repages are the reps')
        "open": ("breached", [M, T]), "acknowledged": ("breached", [M, T]),
        "owned_by_another_rep": ("breached", [M, T]),
        "callback_in_progress": ("breached", [M, T]), "attempted": ("breached", [M, T]), "met": ("met", []),
        "late": ("breached", []), "self_reported": ("breached_self_reported", [M]),
        "resolved": ("skipped_resolved", []), "no_callback_number": ("breached", [M, T]),
        "no_number_reached_by_email": ("breached_worked_by_email", []), "nobody_to_page": ("breached", [M, T]),
    },
    "repage": {
        "open": ("repaged", [OP, M]), "acknowledged": ("repaged", [OP, M]), "owned_by_another_rep": ("repaged", [OP, M]),
        "callback_in_progress": ("repaged", [OP, M]), "attempted": ("repaged", [OP, M]),
        "met": ("stopped_callback_done", []), "late": ("stopped_callback_done", []),
        "self_reported": ("stopped_callback_done", []), "resolved": ("stopped_resolved", []),
        "no_callback_number": ("repaged", [OP, M]), "no_number_reached_by_email": ("stopped_callback_done", []),
        "nobody_to_page": ("repaged", [OP, M]),
    },
    # the rota handed over (probe O6): the rep on call since who never had the page gets it, while nobody owns the
    # incident and nobody reached the customer; an owned incident stays its owner's ("nobody_to_page": nobody new)
    "handoff": {
        "open": ("handed_over", [L, H]), "acknowledged": ("skipped_acknowledged", []),
        "owned_by_another_rep": ("skipped_acknowledged", []), "callback_in_progress": ("skipped_acknowledged", []),
        "attempted": ("skipped_acknowledged", []), "met": ("skipped_callback_done", []),
        "late": ("skipped_callback_done", []), "self_reported": ("skipped_callback_done", []),
        "resolved": ("skipped_resolved", []), "no_callback_number": ("handed_over", [L, H]),
        "no_number_reached_by_email": ("skipped_callback_done", []), "nobody_to_page": ("nobody_new_on_call", []),
    },
}
CASES = [(kind, state) for kind in TABLE for state in STATES]


def test_the_table_covers_every_step_kind_and_every_state():
    assert {kind for kind, _ in CASES} == {"receipt", "page", "at_risk", "breach", "repage", "handoff"}
    assert all(set(row) == set(STATES) for row in TABLE.values())


@pytest.mark.parametrize("state", list(STATES))
def test_each_snapshot_is_the_state_it_is_named_for(state):
    assert STATES[state].state == EXPECTED_STATE[state]


@pytest.mark.parametrize(("kind", "state"), CASES)
def test_due_step(kind, state):
    step = StepDue(kind, level=0, nobody_at_level=state == "nobody_to_page")
    decision = decide(step, STATES[state], T0 + timedelta(minutes=10))
    outcome, audiences = TABLE[kind][state]
    assert decision.outcome == outcome
    assert [order.audience for order in decision.pages] == audiences
    assert decision.record_breach == outcome.startswith("breached")
    # paging goes on after the breach until someone reaches the customer: a late answer already did
    assert decision.add_repage == (outcome == "repaged" or (outcome == "breached" and state != "late"))
    assert not decision.set_owner and not decision.open_callback and not decision.resolve


def test_a_hand_off_pages_the_rep_on_call_since_when_the_owner_was_deactivated():
    """An owner deactivated since works the incident no more: as for a level, the rep on call since is paged."""
    decision = decide(StepDue("handoff"), replace(STATES["acknowledged"], owner_active=False), T0)
    assert decision.outcome == "handed_over" and [o.audience for o in decision.pages] == [Audience.LEVEL]
    assert not decision.set_owner and not decision.cancel_escalation_pages
    # ... the reps gone off shift are paged no more, and told nothing: someone acknowledged it
    assert decision.cancel_handed_over_pages


@pytest.mark.parametrize("state", list(STATES))
def test_a_hand_off_cancels_the_unsent_pages_of_the_rep_gone_off_shift_and_tells_them_once_by_sms(state):
    """Follow-up of probe O6: only a hand-off that pages someone cancels the pages of the rep it takes the incident
    from (the service finds whose, and only those not sent yet), and tells that rep by SMS, never a call, only while
    nobody owns the incident."""
    decision = decide(StepDue("handoff", nobody_at_level=state == "nobody_to_page"), STATES[state], T0)
    told = [o for o in decision.pages if o.audience == Audience.HANDED_OVER_FROM]
    assert decision.cancel_handed_over_pages == (decision.outcome == "handed_over")
    assert [(o.channels, o.purpose) for o in told] == ([(("sms",), "handed_over")]
                                                       if decision.outcome == "handed_over" else [])
    assert not decision.cancel_escalation_pages and not decision.set_owner


@pytest.mark.parametrize("state", list(STATES))
def test_a_level_that_pages_cancels_and_tells_as_a_hand_off_does(state):
    """Probe O6: a hand-off a level's step sees first (it pages the rep on call since) is carried out as
    the hand-off step's: whichever pages first cancels the off-shift rep's unsent pages and tells them, by one
    rule (``decide._paging``); the service finds whom, none for a level that takes it from nobody."""
    page = decide(StepDue("page", nobody_at_level=state == "nobody_to_page"), STATES[state], T0)
    hand_off = decide(StepDue("handoff", nobody_at_level=state == "nobody_to_page"), STATES[state], T0)
    if page.outcome == "paged":
        assert replace(page, outcome="handed_over") == hand_off
    assert page.cancel_handed_over_pages == (page.outcome == "paged")


def test_a_failed_hand_off_notice_goes_to_the_reps_other_number_once():
    """The SMS telling a rep gone off shift of a hand-off failed for good: their other number gets it (the service
    says whether they have one not tried yet: ``other_number``), never a call, never while Twilio retries, never
    once the incident is resolved."""
    failed = PageFailed("sms", "handed_over", other_number=True)
    decision = decide(failed, STATES["open"], T0)
    assert decision.outcome == "other_number" and decision.log == (EventKind.PAGE_FAILED_OTHER_NUMBER,)
    assert decision.pages == (PageOrder(Audience.OTHER_NUMBER, ("sms",), "handed_over"),)
    assert decide(replace(failed, other_number=False), STATES["open"], T0).pages == ()
    assert decide(replace(failed, retrying=True), STATES["open"], T0).pages == ()
    assert decide(failed, STATES["resolved"], T0).pages == ()


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=40)])
def test_an_at_risk_step_run_past_the_deadline_alerts_the_reps_not_the_managers(late):
    """A worker down, or a withdrawn answer's steps run again: at the deadline or after it, the managers get the
    breach step's alert, not an at-risk one besides (they read BREACHED twice, or "AT RISK, 0 min left"); the reps,
    whom the breach step does not alert, are told (in words that say it passed: ``page_text.alert_purpose``)."""
    decision = decide(StepDue("at_risk"), STATES["acknowledged"], DUE + late)
    assert decision.outcome == "alerted"
    assert [order.audience for order in decision.pages] == [Audience.PAGED_SO_FAR, Audience.OWNER_OR_PRIMARY]


def test_a_breach_pages_managers_by_sms_and_voice_and_logs_once():
    decision = decide(StepDue("breach"), STATES["open"], DUE)
    assert decision.pages[0].channels == ("sms", "voice") and decision.pages[0].purpose == "breach"
    assert decision.log == (EventKind.CALLBACK_BREACHED,)


def test_a_page_step_beyond_the_policy_does_nothing():
    assert decide(StepDue("page", level=3), STATES["open"], T0).outcome == "skipped_no_such_level"


def test_nobody_to_page_alerts_managers_on_both_channels_and_says_so():
    decision = decide(StepDue("page", nobody_at_level=True), STATES["open"], T0)
    assert decision.pages[0].channels == ("sms", "voice") and decision.log == (EventKind.NOBODY_TO_PAGE,)


@pytest.mark.parametrize("step, outcome, audiences", [
    (StepDue("page"), "paged", [Audience.LEVEL, Audience.HANDED_OVER_FROM]),
    (StepDue("page", nobody_at_level=True), "nobody_to_page", [Audience.MANAGERS]),
    # a level reaching only the account's TAM (told, never asked) reaches nobody who can call back
    (StepDue("page", only_told_at_level=True), "nobody_to_page", [Audience.MANAGERS, Audience.LEVEL]),
])
def test_a_level_reaching_only_people_who_are_told_pages_the_managers_at_once(step, outcome, audiences):
    decision = decide(step, STATES["open"], T0)
    assert decision.outcome == outcome and [p.audience for p in decision.pages] == audiences
    assert (decision.log == (EventKind.NOBODY_TO_PAGE,)) == (outcome == "nobody_to_page")
    assert all(p.channels == ("sms", "voice") for p in decision.pages if p.audience == Audience.MANAGERS)


# ------------------------------------------------------------------ events: acknowledge, take over, connect

ACK = {
    "open": ("acknowledged", True), "acknowledged": ("already_owner", True),
    "owned_by_another_rep": ("refused_owned_by_other", False), "callback_in_progress": ("already_owner", True),
    "attempted": ("already_owner", True), "met": ("already_owner", True), "late": ("already_owner", True),
    "self_reported": ("already_owner", True), "resolved": ("refused_closed", False),
    "no_callback_number": ("acknowledged", True), "no_number_reached_by_email": ("already_owner", True),
    "nobody_to_page": ("acknowledged", True),
}


@pytest.mark.parametrize("state", list(STATES))
def test_alice_acknowledges(state):
    decision = decide(Acknowledge(ALICE), STATES[state], T0)
    assert (decision.outcome, decision.ok) == ACK[state]
    assert decision.set_owner == (decision.outcome == "acknowledged")
    assert decision.cancel_escalation_pages == decision.set_owner


def test_the_first_acknowledgement_tells_a_textable_customer_only():
    assert [o.audience for o in decide(Acknowledge(ALICE), STATES["open"], T0).pages] == [Audience.CUSTOMER]
    assert decide(Acknowledge(ALICE), STATES["no_callback_number"], T0).pages == ()


def test_take_over_is_logged_and_the_previous_owner_told():
    refused = decide(Acknowledge(ALICE), STATES["owned_by_another_rep"], T0)
    assert refused.refused and refused.log == (EventKind.ACKNOWLEDGEMENT_REFUSED,)
    taken = decide(Acknowledge(ALICE, take_over=True), STATES["owned_by_another_rep"], T0)
    assert taken.ok and taken.set_owner and taken.log == (EventKind.TAKEN_OVER,)
    assert [(o.audience, o.channels) for o in taken.pages] == [(Audience.PREVIOUS_OWNER, ("sms",))]


def test_a_rep_not_paged_and_not_on_call_changes_nothing():
    for trigger in (Acknowledge(ALICE, paged_or_on_call=False), Connect(ALICE, paged_or_on_call=False)):
        decision = decide(trigger, STATES["open"], T0)
        assert decision.outcome == "refused_not_paged" and not decision.set_owner and not decision.open_callback


@pytest.mark.parametrize("state", [s for s in STATES if s != "resolved"])
def test_a_login_linked_to_no_rep_neither_acknowledges_nor_takes_over(state):
    # an outside probe's dashboard login with no rep acknowledged: the escalation stopped, the customer was told
    # an engineer would call back, and nobody could (the hotline has no rep to call)
    for trigger in (Acknowledge(None), Acknowledge(None, take_over=True)):
        decision = decide(trigger, STATES[state], T0)
        assert (decision.outcome, decision.refused) == ("refused_not_a_rep", True)
        assert not decision.set_owner and not decision.cancel_escalation_pages and decision.pages == ()
        assert decision.log == (EventKind.ACKNOWLEDGEMENT_REFUSED,)


CONNECT = {
    "open": "acknowledged_and_connecting", "acknowledged": "connecting",
    "owned_by_another_rep": "taken_over_and_connecting", "callback_in_progress": "callback_in_flight",
    "attempted": "connecting", "met": "connecting", "late": "connecting", "self_reported": "connecting",
    "resolved": "refused_closed", "no_callback_number": "refused_no_number",
    "no_number_reached_by_email": "refused_no_number", "nobody_to_page": "acknowledged_and_connecting",
}


@pytest.mark.parametrize("state", list(STATES))
def test_alice_asks_to_be_connected(state):
    decision = decide(Connect(ALICE), STATES[state], T0)
    assert decision.outcome == CONNECT[state]
    assert decision.open_callback == decision.outcome.endswith("connecting")


AFTER_CALL = {  # the caller is still on the hotline: own the incident now, call when their call ends
    "open": ("acknowledged_connect_after_call", (EventKind.ACKNOWLEDGED, EventKind.CONNECT_DEFERRED)),
    "acknowledged": ("connect_after_call", (EventKind.CONNECT_DEFERRED,)),
    "owned_by_another_rep": ("taken_over_connect_after_call", (EventKind.TAKEN_OVER, EventKind.CONNECT_DEFERRED)),
}


@pytest.mark.parametrize("state", list(AFTER_CALL))
def test_a_connect_while_the_caller_is_on_the_hotline_waits_for_the_end_of_their_call(state):
    decision = decide(Connect(ALICE), replace(STATES[state], caller_on_hotline=True), T0)
    assert (decision.outcome, decision.log) == AFTER_CALL[state]
    assert decision.defer_callback and not decision.open_callback and decision.ok
    assert decision.set_owner == (state != "acknowledged")


def test_the_caller_on_the_hotline_changes_no_refusal_and_no_callback_in_flight():
    for state in ("resolved", "no_callback_number", "callback_in_progress"):
        on_the_line = decide(Connect(ALICE), replace(STATES[state], caller_on_hotline=True), T0)
        assert on_the_line == decide(Connect(ALICE), STATES[state], T0) and not on_the_line.defer_callback


@pytest.mark.parametrize("kind", ["receipt", "at_risk", "breach"])
@pytest.mark.parametrize("state", ["open", "acknowledged", "owned_by_another_rep"])
def test_receipt_at_risk_and_breach_wait_while_the_caller_who_opened_it_is_still_giving_details(kind, state):
    """Opened mid-call (issue 13), the deadline at hand is the provisional one: nobody is told it, warned or
    alerted, no breach is recorded; the step looks again later and moves to the real deadline once it is set."""
    decision = decide(StepDue(kind), replace(STATES[state], caller_on_hotline=True), DUE)
    assert (decision.outcome, decision.rearm, decision.pages, decision.log) == ("waiting_for_details", True, (), ())
    assert not decision.record_breach and not decision.add_repage
    assert not decide(StepDue(kind), STATES[state], DUE).rearm  # the caller off the line: as before


def test_a_resolved_or_met_incident_is_skipped_even_with_the_caller_on_the_line():
    assert decide(StepDue("breach"), replace(STATES["met"], caller_on_hotline=True), DUE).outcome == "met"
    assert decide(StepDue("at_risk"), replace(STATES["resolved"], caller_on_hotline=True), DUE).outcome == (
        "skipped_resolved")


def test_connect_without_a_phone_is_refused():
    assert decide(Connect(None), STATES["open"], T0).outcome == "refused_no_phone"
    assert decide(Connect(ALICE, has_phone=False), STATES["open"], T0).outcome == "refused_no_phone"


# ------------------------------------------------------------------ events: the callback's result

def test_a_person_answering_by_the_deadline_is_met_after_it_late():
    assert decide(CallbackAnswered(DUE, by_person=True), STATES["callback_in_progress"], T0).outcome == "met"
    late = decide(CallbackAnswered(DUE + timedelta(seconds=1), by_person=True), STATES["callback_in_progress"], T0)
    assert late.outcome == "late" and late.log == (EventKind.CALLBACK_LATE,)


def test_an_answer_twilio_timestamps_before_the_one_counted_is_the_incidents_a_later_one_only_on_record():
    late = STATES["late"]  # answered after the deadline, as far as the hotline has heard
    earlier = decide(CallbackAnswered(DUE - timedelta(minutes=5), by_person=True), late, T0)
    assert earlier.outcome == "met" and earlier.log == (EventKind.CALLBACK_MET,) and earlier.next_state == State.MET
    again = decide(CallbackAnswered(late.answered_at + timedelta(minutes=9), by_person=True), late, T0)
    assert again.outcome == "already_answered" and again.log == (EventKind.CALLBACK_ANSWERED_AGAIN,)
    assert again.next_state == State.LATE and not again.start_updates and not again.pages


@pytest.mark.parametrize(("answered", "alerted", "state", "corrected"), [
    (DUE - timedelta(seconds=4), True, "callback_in_progress", True),  # met, its word after the BREACHED alert
    (DUE - timedelta(seconds=4), True, "late", True),  # an earlier answer turns a late callback met
    (DUE - timedelta(seconds=4), False, "callback_in_progress", False),  # nobody was alerted: nothing to correct
    (DUE + timedelta(seconds=1), True, "callback_in_progress", False),  # late: the alert was true
    (DUE - timedelta(minutes=12), True, "met", False),  # met already (counted, so told once)
])
def test_a_callback_met_after_a_breach_alert_tells_whoever_got_it_once(answered, alerted, state, corrected):
    """The managers were alerted "BREACHED" and the callback is then counted met (its answer, by Twilio's time, came
    by the deadline; its word after the breach step ran): whoever got that alert is told by SMS it was met after all,
    once; never of a late answer, nor when no alert said BREACHED."""
    snap = replace(STATES[state], breach_alerted=alerted, breached=alerted)
    for trigger in (CallbackAnswered(answered, by_person=True),
                    ReachedOnRelated(answered, same_number=True, reported_at=T0)):
        decision = decide(trigger, replace(snap, answered_at=None) if isinstance(trigger, ReachedOnRelated)
                          and state != "met" else snap, DUE + timedelta(seconds=30))
        told = (PageOrder(Audience.BREACH_ALERTED, ("sms",), "breach_corrected"),) if corrected else ()
        assert decision.pages == told
        assert (EventKind.BREACH_CORRECTED in decision.log) == corrected


@pytest.mark.parametrize(("state", "outcome", "chased_again"), [
    ("callback_in_progress", "answer_withdrawn", True), ("acknowledged", "answer_withdrawn", True),
    ("attempted", "answer_withdrawn", True), ("met", "withdrawn_other_answer_stands", False),
    ("late", "withdrawn_other_answer_stands", False), ("self_reported", "withdrawn_other_answer_stands", False),
    ("resolved", "withdrawn_other_answer_stands", False),
])
def test_a_live_answer_withdrawn_chases_the_promise_again_unless_another_answer_stands(state, outcome, chased_again):
    """The snapshot is taken after the withdrawn answer was taken off: "met" here is another callback's answer."""
    at = T0 + timedelta(minutes=2)
    decision = decide(AnswerWithdrawn(at), STATES[state], T0 + timedelta(minutes=2, seconds=30))
    assert decision.outcome == outcome and decision.log == (EventKind.CALLBACK_WITHDRAWN,)
    assert decision.rerun_steps_since == (at if chased_again else None)
    assert decision.next_state == STATES[state].state and not decision.pages and not decision.start_updates
    # updates follow a met callback: with none standing, the schedule the withdrawn answer started stops
    assert decision.stop_updates == chased_again


@pytest.mark.parametrize(("state", "told"), [
    ("callback_in_progress", True), ("acknowledged", True), ("attempted", True), ("met", False), ("late", False),
    ("self_reported", False), ("resolved", False),
])
def test_a_rep_who_hung_up_before_hearing_the_withdrawal_is_told_by_sms_once_while_the_callback_is_owed(state, told):
    """The short callback's rep left the call before its end was answered: one SMS to that rep (``CALLBACK_REP``)
    says it did not count, unless another answer (or a close) stands; one still on the call is told there, not so."""
    at, now = T0 + timedelta(minutes=2), T0 + timedelta(minutes=2, seconds=30)
    gone = decide(AnswerWithdrawn(at, rep_on_call=False), STATES[state], now)
    assert gone.pages == ((PageOrder(Audience.CALLBACK_REP, ("sms",), "bridge_too_short"),) if told else ())
    assert gone.rerun_steps_since == (at if told else None) and gone.log == (EventKind.CALLBACK_WITHDRAWN,)
    assert decide(AnswerWithdrawn(at, rep_on_call=True), STATES[state], now).pages == ()


@pytest.mark.parametrize(("state", "minutes", "outcome"), [
    ("open", 4, "met"), ("acknowledged", 4, "met"), ("attempted", 14, "met"), ("callback_in_progress", 4, "met"),
    ("self_reported", 4, "met"), ("open", 17, "late"), ("acknowledged", 16, "late"),
    ("met", 5, "skipped_already_answered"), ("late", 18, "skipped_already_answered"),
    ("resolved", 5, "skipped_resolved"),
])
def test_a_related_incidents_callback_counts_on_this_deadline_unless_its_own_answer_or_a_close_stands(
        state, minutes, outcome):
    """A dropped call's redial was called back and the customer answered at T0 + ``minutes``: met or late on this
    incident's own deadline, logged as reached on the related incident; no updates of its own (the related one's
    carry them) and no verified contact of its own; nothing once this one's own answer counted or it was closed."""
    at = T0 + timedelta(minutes=minutes)
    decision = decide(ReachedOnRelated(at, same_number=True, reported_at=T0), STATES[state], at)
    assert decision.outcome == outcome and not decision.pages and not decision.refused
    counted = outcome in ("met", "late")
    assert decision.log == ((EventKind.CALLBACK_REACHED_ON_RELATED,) if counted else ())
    assert decision.next_state == (State(outcome) if counted else STATES[state].state)
    assert not decision.start_updates and not decision.verified_contact and not decision.set_owner


def test_a_related_incidents_callback_to_another_number_or_before_this_report_counts_for_nothing():
    at = T0 + timedelta(minutes=4)
    other = decide(ReachedOnRelated(at, same_number=False, reported_at=T0), STATES["open"], at)
    earlier = decide(ReachedOnRelated(at, same_number=True, reported_at=at + timedelta(seconds=1)), STATES["open"], at)
    assert (other.outcome, earlier.outcome) == ("skipped_other_number", "skipped_before_report")
    assert other.log == earlier.log == () and other.next_state == earlier.next_state == State.OPEN


@pytest.mark.parametrize(("state", "outcome"), [("open", "answer_withdrawn"), ("attempted", "answer_withdrawn"),
                                                ("met", "withdrawn_other_answer_stands")])
def test_a_related_incidents_answer_withdrawn_chases_this_one_again_and_tells_no_rep_here(state, outcome):
    """Its own incident tells its rep (a rep who hung up first, by SMS); here it is only taken back."""
    at = T0 + timedelta(minutes=2)
    decision = decide(AnswerWithdrawn(at, rep_on_call=False, on_related=True), STATES[state], at)
    assert decision.outcome == outcome and decision.log == (EventKind.CALLBACK_RELATED_WITHDRAWN,)
    assert decision.pages == () and decision.rerun_steps_since == (at if outcome == "answer_withdrawn" else None)


def test_an_answer_without_a_person_is_a_voicemail_never_met():
    decision = decide(CallbackAnswered(T0, by_person=False), STATES["callback_in_progress"], T0)
    assert decision.outcome == "attempted_voicemail" and decision.next_state == State.ATTEMPTED


def test_unanswered_and_voicemail_are_attempted():
    assert decide(CallbackUnanswered(), STATES["callback_in_progress"], T0).outcome == "attempted"
    assert decide(CallbackUnanswered(voicemail=True), STATES["callback_in_progress"], T0).outcome == \
        "attempted_voicemail"
    assert decide(CallbackUnanswered(), STATES["met"], T0).next_state == State.MET  # a later miss keeps the met


def test_a_self_report_is_stored_once_and_never_met():
    first = decide(SelfReported(ALICE), STATES["acknowledged"], T0)
    assert first.next_state == State.SELF_REPORTED and first.log == (EventKind.CALLBACK_SELF_REPORTED,)
    assert decide(SelfReported(ALICE), STATES["self_reported"], T0).outcome == "already_self_reported"
    assert decide(SelfReported(ALICE), STATES["resolved"], T0).refused


def test_reached_by_email_only_without_a_number():
    assert decide(ReachedByEmail(ALICE), STATES["acknowledged"], T0).outcome == "refused_has_number"
    worked = decide(ReachedByEmail(ALICE), STATES["no_callback_number"], T0)
    assert worked.mark_reached_by_email and worked.set_owner and worked.next_state == State.WORKED_BY_EMAIL


# (a rep without the customer's agreement, a manager without a reason, a manager with one,
#  the customer's agreement, a proposal left unanswered)
AGREE = ("refused_needs_agreement", "refused_needs_agreement", "resolved_by_manager", "resolved",
         "resolved_unconfirmed")
RESOLVE = {
    "open": ("refused_no_verified_callback",) * 2 + ("resolved_by_manager",) + ("refused_no_verified_callback",) * 2,
    "self_reported": ("refused_no_verified_callback",) * 2 + ("resolved_by_manager",)
    + ("refused_no_verified_callback",) * 2,
    "met": AGREE, "late": AGREE, "no_number_reached_by_email": AGREE,
    "resolved": ("refused_already_resolved",) * 5,
}


@pytest.mark.parametrize("state", list(RESOLVE))
def test_only_the_customers_agreement_after_a_verified_callback_or_a_managers_reason_resolves(state):
    got = tuple(decide(trigger, STATES[state], T0).outcome for trigger in (
        Resolve(by_manager=False, reason="customer happy"), Resolve(by_manager=True, reason="  "),
        Resolve(by_manager=True, reason="Customer confirmed by e-mail"),
        Resolve(by_manager=False, agreed_by="Dana Smith"), Resolve(by_manager=False, after_silence=True)))
    assert got == RESOLVE[state]


def test_a_verbal_agreement_tells_the_customer_in_writing_a_written_one_does_not():
    """Only the rep's word shows a verbal agreement: the customer reads that it was closed as agreed, by the channel
    a manager's close uses (SMS, else e-mail, else "none"); their own YES needs no message."""
    verbal = decide(Resolve(by_manager=False, agreed_by="Dana (recorded by Bob)", verbal=True), STATES["met"], T0)
    assert (verbal.outcome, verbal.closing_notice, verbal.agreed_close) == ("resolved", "sms", True)
    written = decide(Resolve(by_manager=False, agreed_by="Dana"), STATES["met"], T0)
    assert (written.outcome, written.closing_notice, written.agreed_close) == ("resolved", "", False)
    landline = replace(STATES["met"], textable_customer=False, has_email=True)
    email = decide(Resolve(by_manager=False, agreed_by="Dana", verbal=True), landline, T0)
    assert (email.closing_notice, email.agreed_close) == ("email", True)
    nobody = decide(Resolve(by_manager=False, agreed_by="Dana", verbal=True),
                    replace(landline, has_email=False), T0)
    assert (nobody.outcome, nobody.closing_notice) == ("resolved", "none")
    manager = decide(Resolve(by_manager=True, reason="duplicate"), STATES["met"], T0)
    assert (manager.outcome, manager.agreed_close) == ("resolved_by_manager", False)


@pytest.mark.parametrize(("trigger", "outcome"), [
    (Reopen(by_customer=True, close="verbal"), "reopened"),
    (Reopen(by_customer=True, close="manager"), "reopened"),
    (Reopen(by_customer=True, close="silence"), "reopened"),
    (Reopen(by_customer=True, close="customer"), "refused_customer_agreed"),  # their own YES stands
    (Reopen(by_customer=True, close=""), "refused_close_unknown"),  # a close line that does not say how it came
    (Reopen(by_customer=True, close="verbal", within_window=False), "refused_too_late"),
    (Reopen(by_customer=False, close="customer", reason="their ticket says it still fails"), "reopened"),
    (Reopen(by_customer=False, close="verbal", reason="  "), "refused_needs_reason"),
])
def test_a_close_the_customer_never_agreed_to_in_writing_is_reopened_by_their_no_any_by_a_reason(trigger, outcome):
    decision = decide(trigger, replace(STATES["met"], resolved=True), T0)
    assert (decision.outcome, decision.reopen, decision.refused) == (outcome, outcome == "reopened",
                                                                      outcome != "reopened")


def test_a_reopen_resumes_updates_for_a_customer_reached_and_chases_the_callback_of_one_nobody_reached():
    closed_at = T0 - timedelta(minutes=20)
    reached = decide(Reopen(by_customer=True, close="verbal", closed_at=closed_at),
                     replace(STATES["met"], resolved=True), T0)
    assert (reached.next_state, reached.start_updates, reached.pages, reached.log, reached.rerun_steps_since) == (
        State.MET, True, (), (EventKind.INCIDENT_REOPENED,), None)
    never = decide(Reopen(by_customer=True, close="manager", closed_at=closed_at),
                   replace(STATES["acknowledged"], resolved=True), T0)
    assert (never.outcome, never.start_updates, never.rerun_steps_since) == ("reopened", False, closed_at)
    assert never.pages == (PageOrder(Audience.OWNER_OR_PRIMARY, ("sms", "voice"), "page"),)
    # a breach on record: the repage rounds run again (the owner and the managers), no page of its own
    breached = decide(Reopen(by_customer=False, reason="still down", closed_at=closed_at),
                      replace(STATES["acknowledged"], resolved=True, breached=True), T0)
    assert (breached.pages, breached.rerun_steps_since) == ((), closed_at)
    assert decide(Reopen(by_customer=False, reason="x"), STATES["met"], T0).outcome == "refused_not_closed"


def test_a_failed_page_sms_calls_the_same_person_only_while_nobody_has_it():
    assert [o.audience for o in decide(PageFailed("sms", "page"), STATES["open"], T0).pages] == \
        [Audience.SAME_PERSON]
    assert decide(PageFailed("sms", "page"), STATES["acknowledged"], T0).pages == ()
    assert decide(PageFailed("voice", "page"), STATES["open"], T0).pages == ()


def test_a_failed_at_risk_sms_calls_the_same_person_with_the_alert_until_the_customer_is_reached():
    """Outside probe (session 43): an undelivered at-risk SMS warned nobody until the breach. Its person is called
    with the alert, acknowledged or not (an owner who has not called back is who the alert is for), once, and not
    once the customer is reached or the incident resolved."""
    for state in ("open", "acknowledged"):
        called = decide(PageFailed("sms", "at_risk"), STATES[state], T0)
        assert [(o.audience, o.channels, o.purpose) for o in called.pages] == [
            (Audience.SAME_PERSON, ("voice",), "at_risk")]
    assert decide(PageFailed("sms", "at_risk", voice_tried=True), STATES["open"], T0).pages == ()
    for state in ("met", "resolved"):
        assert decide(PageFailed("sms", "at_risk"), STATES[state], T0).pages == ()
    assert decide(PageFailed("voice", "at_risk"), STATES["open"], T0).pages == ()


def test_a_call_to_the_rep_that_never_reached_them_is_told_even_after_their_self_report():
    """An outside probe's rep replied CALLED, then CALL for a bridged call that never reached them: silence."""
    told = decide(RepNotReached(), STATES["self_reported"], T0)
    assert [o.audience for o in told.pages] == [Audience.OWNER_OR_PRIMARY]
    assert decide(RepNotReached(), STATES["met"], T0).pages == ()
    assert decide(RepNotReached(), STATES["resolved"], T0).pages == ()


@pytest.mark.parametrize(("state", "moved"), [("callback_in_progress", True), ("acknowledged", True),
                                              ("self_reported", True), ("met", False), ("resolved", False)])
def test_a_callbacks_call_to_the_rep_refused_for_good_is_made_to_their_other_number_once(state, moved):
    """Follow-up of probe Q (Q1): the rep's other number is called for the callback, the rep told nothing yet; not
    once the customer was reached or the incident closed (then as before)."""
    decision = decide(RepNotReached(other_number=True), STATES[state], T0)
    assert decision.call_rep_other_number == moved
    assert decision.outcome == ("calling_other_number" if moved else "rep_not_reached")
    if moved:  # the rep is not told "could not reach you" while their other number is being called
        assert (decision.log, decision.pages) == ((EventKind.CALLBACK_REP_OTHER_NUMBER,), ())
    assert not decide(RepNotReached(), STATES[state], T0).call_rep_other_number


def test_the_last_page_of_a_level_failing_pages_the_managers_at_once_while_nobody_has_it():
    unreached = decide(PageFailed("voice", "page", level_unreached=True), STATES["open"], T0)
    assert (unreached.outcome, [o.audience for o in unreached.pages]) == ("level_unreached", [Audience.MANAGERS])
    assert decide(PageFailed("voice", "page", level_unreached=True), STATES["acknowledged"], T0).pages == ()
    assert decide(PageFailed("voice", "at_risk", level_unreached=True), STATES["open"], T0).pages == ()
    # an SMS's own fallback comes first: the same person is called, so the level still has a page alive
    assert [o.audience for o in decide(PageFailed("sms", "page", level_unreached=True), STATES["open"], T0).pages] \
        == [Audience.SAME_PERSON]
    # ... unless that call exists already: an SMS failing after its person's call failed is the level's last page
    # (an outside probe's voice page failed 37 ms before the SMS, and the managers heard nothing until T+6)
    last = decide(PageFailed("sms", "page", level_unreached=True, voice_tried=True), STATES["open"], T0)
    assert (last.outcome, [o.audience for o in last.pages]) == ("level_unreached", [Audience.MANAGERS])
    alive = decide(PageFailed("sms", "page", voice_tried=True), STATES["open"], T0)
    assert (alive.outcome, alive.pages) == ("called_already", ())


# a rep's page failed for good, and they have another number (phone_alt) not yet paged for its level (probe Q, Q1)
OTHER_NUMBER_CASES = [
    # a call refused (21215) or failed, the last of its level: the other number first, the managers not yet
    (PageFailed("voice", "page", level_unreached=True, other_number=True), "open",
     ("other_number", [(Audience.OTHER_NUMBER, ("voice",))], ("page_failed_other_number",))),
    # ... and while other pages of the level live too: the rep is still tried on both their numbers
    (PageFailed("voice", "page", other_number=True), "open",
     ("other_number", [(Audience.OTHER_NUMBER, ("voice",))], ("page_failed_other_number",))),
    # an SMS (21610, undelivered): the same person called as before, and the SMS to the other number
    (PageFailed("sms", "page", level_unreached=True, other_number=True), "open",
     ("calling_instead", [(Audience.SAME_PERSON, ("voice",)), (Audience.OTHER_NUMBER, ("sms",))],
      ("page_sms_failed_calling", "page_failed_other_number"))),
    (PageFailed("sms", "page", voice_tried=True, other_number=True), "open",
     ("other_number", [(Audience.OTHER_NUMBER, ("sms",))], ("page_failed_other_number",))),
    # Twilio failing for now (the SMS still retried): the other number would fail the same way
    (PageFailed("sms", "page", retrying=True, voice_tried=True, other_number=True), "open", ("called_already", [], ())),
    # somebody has it, or the customer was reached: nobody is paged further
    (PageFailed("voice", "page", level_unreached=True, other_number=True), "acknowledged",
     ("no_fallback_needed", [], ())),
    (PageFailed("sms", "page", other_number=True), "met", ("no_fallback_needed", [], ())),
    # an at-risk or breach alert goes to the other number too, on its channel (an at-risk SMS also calls the same
    # person, as before); never while Twilio fails for now, nor once the customer was reached
    (PageFailed("voice", "at_risk", other_number=True), "open",
     ("other_number", [(Audience.OTHER_NUMBER, ("voice",))], ("page_failed_other_number",))),
    (PageFailed("sms", "at_risk", other_number=True), "acknowledged",
     ("calling_instead", [(Audience.SAME_PERSON, ("voice",)), (Audience.OTHER_NUMBER, ("sms",))],
      ("page_sms_failed_calling", "page_failed_other_number"))),
    (PageFailed("sms", "at_risk", voice_tried=True, other_number=True), "open",
     ("other_number", [(Audience.OTHER_NUMBER, ("sms",))], ("page_failed_other_number",))),
    (PageFailed("sms", "breach", other_number=True), "acknowledged",
     ("other_number", [(Audience.OTHER_NUMBER, ("sms",))], ("page_failed_other_number",))),
    (PageFailed("voice", "breach", other_number=True), "open",
     ("other_number", [(Audience.OTHER_NUMBER, ("voice",))], ("page_failed_other_number",))),
    (PageFailed("sms", "breach", retrying=True, other_number=True), "open", ("no_fallback", [], ())),
    (PageFailed("voice", "breach"), "open", ("no_fallback", [], ())),
    (PageFailed("sms", "breach", other_number=True), "met", ("no_fallback_needed", [], ())),
    # a notice's failure never goes to the other number
    (PageFailed("sms", "taken_over", other_number=True), "open", ("no_fallback", [], ())),
    # no other number left (none, or tried): the level reached nobody
    (PageFailed("voice", "page", level_unreached=True), "open",
     ("level_unreached", [(Audience.MANAGERS, ("sms", "voice"))], ("level_unreached",))),
]


@pytest.mark.parametrize(("failed", "state", "expected"), OTHER_NUMBER_CASES)
def test_a_reps_failed_page_goes_to_their_other_number_before_the_level_counts_unreached(failed, state, expected):
    decision = decide(failed, STATES[state], T0)
    assert (decision.outcome, [(o.audience, o.channels) for o in decision.pages], decision.log) == expected
    assert all(o.purpose == failed.purpose for o in decision.pages)


# the customer's receipt SMS failed (trigger) in a state (snapshot) -> (outcome, e-mail ordered, log kinds)
WITH_EMAIL = replace(BASE, has_email=True)
RECEIPT_FAILED = [
    # failed for good: the e-mail receipt goes instead, once, and the log says so
    (PageFailed("sms", "receipt"), WITH_EMAIL, ("receipt_emailed_instead", "receipt", ("receipt_sms_failed_emailed",))),
    (PageFailed("sms", "receipt"), replace(WITH_EMAIL, acknowledged=True, owner_rep_id=ALICE),
     ("receipt_emailed_instead", "receipt", ("receipt_sms_failed_emailed",))),
    # no address: nothing can carry it, and the log says the customer holds no written reference
    (PageFailed("sms", "receipt"), BASE, ("no_written_receipt", "", ("receipt_sms_failed_no_address",))),
    # still retried (Twilio failing for now): not failed for good, nothing yet
    (PageFailed("sms", "receipt", retrying=True), WITH_EMAIL, ("no_fallback", "", ())),
    # already e-mailed, or this failure already answered (a second final report): nothing more
    (PageFailed("sms", "receipt", written_answered=True), WITH_EMAIL, ("no_fallback", "", ())),
    (PageFailed("sms", "receipt", written_answered=True), BASE, ("no_fallback", "", ())),
    (PageFailed("sms", "receipt"), replace(WITH_EMAIL, resolved=True), ("no_fallback_needed", "", ())),
    (PageFailed("voice", "receipt"), WITH_EMAIL, ("no_fallback", "", ())),
]


@pytest.mark.parametrize(("trigger", "snap", "expected"), RECEIPT_FAILED)
def test_a_receipt_sms_that_failed_for_good_is_followed_by_the_email_receipt_once(trigger, snap, expected):
    decision = decide(trigger, snap, T0)
    assert (decision.outcome, decision.email_customer, tuple(decision.log)) == expected
    assert decision.pages == ()  # never another SMS to a number that failed, nor anyone paged for it


# a one-off notice's SMS to the customer failed -> (outcome, e-mail ordered, log kinds)
NOTICE_FAILED = [
    # an outside probe's apology SMS came back undelivered: the apology by e-mail instead, and the log says so
    (PageFailed("sms", "breach_notice"), WITH_EMAIL,
     ("notice_emailed_instead", "breach_notice", ("customer_notice_sms_failed_emailed",))),
    (PageFailed("sms", "closing_notice"), replace(WITH_EMAIL, resolved=True),
     ("notice_emailed_instead", "closing_notice", ("customer_notice_sms_failed_emailed",))),
    (PageFailed("sms", "agreed_closing"), replace(WITH_EMAIL, resolved=True),
     ("notice_emailed_instead", "agreed_closing", ("customer_notice_sms_failed_emailed",))),
    (PageFailed("sms", "breach_notice"), BASE, ("notice_not_delivered", "", ("customer_notice_sms_failed_no_address",))),
    (PageFailed("sms", "breach_notice", retrying=True), WITH_EMAIL, ("no_fallback", "", ())),
    (PageFailed("sms", "breach_notice", written_answered=True), WITH_EMAIL, ("no_fallback", "", ())),
    # "we have not reached you" is never e-mailed once they were reached or it was resolved
    (PageFailed("sms", "breach_notice"), replace(WITH_EMAIL, resolved=True), ("no_fallback_needed", "", ())),
    (PageFailed("sms", "breach_notice"), STATES["met"], ("no_fallback_needed", "", ())),
]


@pytest.mark.parametrize(("trigger", "snap", "expected"), NOTICE_FAILED)
def test_a_notice_sms_that_failed_for_good_is_e_mailed_instead_once(trigger, snap, expected):
    decision = decide(trigger, snap, T0)
    assert (decision.outcome, decision.email_customer, tuple(decision.log)) == expected
    assert decision.pages == ()


@pytest.mark.parametrize(("purpose", "phone"), [("closing_notice", True), ("agreed_closing", True),
                                                ("breach_notice", False)])
def test_a_closing_notice_that_reached_the_customer_by_no_channel_has_them_phoned(purpose, phone):
    """No e-mail can go (no address, or no SMTP: ``has_email`` False): a closing notice whose SMS failed has the
    closer and owner texted to phone them; an apology needs none (the reps are still chased to call them)."""
    decision = decide(PageFailed("sms", purpose), replace(BASE, resolved=purpose != "breach_notice"), T0)
    assert (decision.outcome, decision.email_customer, decision.phone_customer) == ("notice_not_delivered", "", phone)
    assert not decide(PageFailed("sms", purpose), WITH_EMAIL, T0).phone_customer


# ------------------------------------------------------------------ a queued page about to leave

ON_CALLBACK = replace(STATES["callback_in_progress"], reps_on_callback=frozenset({ALICE}))
# (trigger, snapshot) -> (outcome, hold, cancel, page the level again)
PAGE_DUE = [
    (PageDue("voice", "breach", ALICE), ON_CALLBACK, ("held_on_callback", True, False, False)),
    (PageDue("voice", "page", ALICE), ON_CALLBACK, ("held_on_callback", True, False, False)),
    # an SMS rings into no call: it goes, and tells the rep what happened
    (PageDue("sms", "breach", ALICE), ON_CALLBACK, ("send", False, False, False)),
    (PageDue("voice", "breach", BOB), ON_CALLBACK, ("send", False, False, False)),  # Bob is not on the call
    (PageDue("voice", "breach", None), ON_CALLBACK, ("send", False, False, False)),
    (PageDue("voice", "breach", ALICE), STATES["acknowledged"], ("send", False, False, False)),
    (PageDue("voice", "breach", ALICE), replace(ON_CALLBACK, reps_on_callback=frozenset()), ("send", False, False, False)),
    # a rep deactivated since the page was queued is never paged; an unowned level is paged again at once
    (PageDue("sms", "page", ALICE, rep_active=False), STATES["open"], ("canceled_rep_deactivated", False, True, True)),
    (PageDue("voice", "page", ALICE, rep_active=False), STATES["open"], ("canceled_rep_deactivated", False, True, True)),
    (PageDue("voice", "page", ALICE, rep_active=False), ON_CALLBACK, ("canceled_rep_deactivated", False, True, False)),
    (PageDue("sms", "page", ALICE, rep_active=False), STATES["acknowledged"],
     ("canceled_rep_deactivated", False, True, False)),
    (PageDue("sms", "at_risk", ALICE, rep_active=False), STATES["open"], ("canceled_rep_deactivated", False, True, False)),
    (PageDue("voice", "breach", ALICE, rep_active=False), STATES["open"], ("canceled_rep_deactivated", False, True, False)),
    (PageDue("sms", "page", ALICE, rep_active=False), STATES["resolved"], ("canceled_rep_deactivated", False, True, False)),
    (PageDue("sms", "page", ALICE, rep_active=False), STATES["met"], ("canceled_rep_deactivated", False, True, False)),
    # the rep's phone is on another of our calls (another incident's callback, an earlier page call): the call is
    # held, whatever this incident's state; the SMS still goes; a deactivated rep is still never paged
    (PageDue("voice", "page", ALICE, line_busy="rep_on_call"), STATES["open"], ("held_line_busy", True, False, False)),
    (PageDue("voice", "page", ALICE, line_busy="page_call"), STATES["open"], ("held_line_busy", True, False, False)),
    (PageDue("voice", "breach", ALICE, line_busy="page_call"), STATES["acknowledged"],
     ("held_line_busy", True, False, False)),
    (PageDue("sms", "page", ALICE, line_busy="rep_on_call"), STATES["open"], ("send", False, False, False)),
    (PageDue("voice", "page", ALICE, rep_active=False, line_busy="page_call"), STATES["open"],
     ("canceled_rep_deactivated", False, True, True)),
]


@pytest.mark.parametrize(("trigger", "snap", "expected"), PAGE_DUE)
def test_a_page_about_to_leave_is_sent_held_or_canceled(trigger, snap, expected):
    decision = decide(trigger, snap, T0)
    assert (decision.outcome, decision.hold_page, decision.cancel_page, decision.page_level_again) == expected
    assert decision.log == ((EventKind.PAGE_HELD,) if decision.hold_page else ())
    assert decision.pages == () and not decision.release_held_pages and not decision.supersede_page


# a first page that left late (no worker ran) must not have the next level ring the same rep seconds after it
# trigger -> (outcome, held until)
SPACED = [
    (PageDue("voice", "page", ALICE, last_call_at=T0 - timedelta(seconds=23)),
     ("held_spaced_from_last_call", T0 + timedelta(seconds=37))),
    (PageDue("voice", "page", ALICE, last_call_at=T0 - timedelta(seconds=60)), ("send", None)),
    (PageDue("voice", "page", ALICE), ("send", None)),  # no earlier call left
    (PageDue("sms", "page", ALICE, last_call_at=T0 - timedelta(seconds=5)), ("send", None)),  # a text rings nothing
    # an at-risk or breach alert is news: it goes at once
    (PageDue("voice", "breach", ALICE, last_call_at=T0 - timedelta(seconds=5)), ("send", None)),
]


@pytest.mark.parametrize(("trigger", "expected"), SPACED)
def test_a_level_call_rings_a_rep_at_least_a_minute_after_their_previous_call_actually_left(trigger, expected):
    decision = decide(trigger, STATES["attempted"], T0)
    assert (decision.outcome, decision.hold_until) == expected
    assert decision.hold_page is (expected[1] is not None)


# calls held over several rounds of one callback: when it ends, the latest rings and each earlier one is superseded
# (trigger, snapshot) -> (outcome, supersede, hold, cancel)
SUPERSEDED = [
    (PageDue("voice", "breach", ALICE, newer_held_page=True), STATES["attempted"],
     ("superseded_by_newer_held_page", True, False, False)),
    (PageDue("voice", "breach", ALICE, newer_held_page=True), replace(ON_CALLBACK, reps_on_callback=frozenset()),
     ("superseded_by_newer_held_page", True, False, False)),
    (PageDue("voice", "breach", ALICE), STATES["attempted"], ("send", False, False, False)),  # the latest
    # still on a callback (another one began): held again, superseded only when it goes
    (PageDue("voice", "breach", ALICE, newer_held_page=True), ON_CALLBACK, ("held_on_callback", False, True, False)),
    # a rep deactivated meanwhile: canceled as such (nothing rings either way)
    (PageDue("voice", "breach", ALICE, rep_active=False, newer_held_page=True), STATES["attempted"],
     ("canceled_rep_deactivated", False, False, True)),
    (PageDue("sms", "breach", ALICE, newer_held_page=True), STATES["attempted"], ("send", False, False, False)),
    # its phone busy with another call of ours: held again, superseded only once the line is free
    (PageDue("voice", "breach", ALICE, newer_held_page=True, line_busy="page_call"), STATES["attempted"],
     ("held_line_busy", False, True, False)),
]


@pytest.mark.parametrize(("trigger", "snap", "expected"), SUPERSEDED)
def test_calls_held_over_several_rounds_ring_once_the_latest_superseding_the_rest(trigger, snap, expected):
    decision = decide(trigger, snap, T0)
    assert (decision.outcome, decision.supersede_page, decision.hold_page, decision.cancel_page) == expected
    if decision.supersede_page:
        assert decision.log == (EventKind.PAGE_NOT_SENT_SUPERSEDED,)
        assert decision.pages == () and not decision.page_level_again and not decision.release_held_pages


# Twilio failed while later rounds were queued to the same rep: when it answers again, only the latest round's
# page goes on each channel ("10 min left" never after "BREACHED"); the service gathers whether a later chasing page
# to the same rep or number on the channel will go or went (``newer_round_page``), the core decides
# (trigger, snapshot) -> (outcome, supersede, hold, cancel)
ROUNDS = [
    (PageDue("sms", "page", ALICE, newer_round_page=True), STATES["open"], ("superseded_by_newer_round", True, False, False)),
    (PageDue("sms", "at_risk", ALICE, newer_round_page=True), STATES["open"],
     ("superseded_by_newer_round", True, False, False)),
    (PageDue("voice", "page", ALICE, newer_round_page=True), STATES["open"],
     ("superseded_by_newer_round", True, False, False)),
    (PageDue("voice", "breach", ALICE, newer_round_page=True), STATES["acknowledged"],
     ("superseded_by_newer_round", True, False, False)),
    (PageDue("sms", "bridge_too_short", ALICE, newer_round_page=True), STATES["attempted"],
     ("superseded_by_newer_round", True, False, False)),
    (PageDue("sms", "breach", ALICE), STATES["open"], ("send", False, False, False)),  # the latest goes
    # a notice is no round: a later alert tells nothing of what it says
    (PageDue("sms", "taken_over", ALICE, newer_round_page=True), STATES["acknowledged"], ("send", False, False, False)),
    (PageDue("sms", "number_corrected", ALICE, newer_round_page=True), STATES["open"], ("send", False, False, False)),
    (PageDue("sms", "rep_not_reached", ALICE, newer_round_page=True), STATES["attempted"],
     ("send", False, False, False)),
    # a rep deactivated meanwhile: canceled as such, and an unowned level is paged again at once
    (PageDue("sms", "page", ALICE, rep_active=False, newer_round_page=True), STATES["open"],
     ("canceled_rep_deactivated", False, False, True)),
    # a rep on this incident's callback: the call is held (superseded, if still, when it goes)
    (PageDue("voice", "breach", ALICE, newer_round_page=True), ON_CALLBACK, ("held_on_callback", False, True, False)),
]


@pytest.mark.parametrize(("trigger", "snap", "expected"), ROUNDS)
def test_an_earlier_round_waiting_to_go_is_superseded_by_the_later_round_to_the_same_rep(trigger, snap, expected):
    decision = decide(trigger, snap, T0)
    assert (decision.outcome, decision.supersede_page, decision.hold_page, decision.cancel_page) == expected
    if decision.supersede_page:
        assert decision.log == (EventKind.PAGE_NOT_SENT_SUPERSEDED,)
        assert decision.pages == () and not decision.page_level_again and not decision.release_held_pages


HELD = replace(ON_CALLBACK, pages_held=True)
# the callback ends, however it ends: the pages held for it go at once (unwanted ones are canceled as they go)
ENDS = [
    (CallbackUnanswered(), "attempted"), (CallbackUnanswered(voicemail=True), "attempted_voicemail"),
    (CallbackAnswered(T0, by_person=False), "attempted_voicemail"), (RepNotReached(), "rep_not_reached"),
    (CallbackAnswered(T0 + timedelta(minutes=4), by_person=True), "met"),
    (CallbackAnswered(DUE + timedelta(minutes=5), by_person=True), "late"),
    (MessageEnded(left=True), "message_left"), (MessageEnded(), "message_not_left"),
]


# a callback that rang the customer's phone without a person pressing the key: the customer, who only saw a
# missed call, is told by SMS (callback_missed), unless the incident is resolved, they were reached, or the
# number cannot take an SMS. (state) -> customer told
MISSED = {
    "callback_in_progress": True, "attempted": True, "open": True, "acknowledged": True,
    "owned_by_another_rep": True, "met": False, "late": False, "self_reported": False, "resolved": False,
    "no_callback_number": False, "no_number_reached_by_email": False,
    "not_textable": False,
}


def _missed_state(state: str) -> Snapshot:
    return STATES.get(state) or replace(STATES["callback_in_progress"], textable_customer=False)


@pytest.mark.parametrize("voicemail", [False, True])
@pytest.mark.parametrize(("state", "told"), list(MISSED.items()))
def test_an_unanswered_callback_texts_the_customer_who_saw_a_missed_call(state, told, voicemail):
    decision = decide(CallbackUnanswered(voicemail=voicemail, rang=True), _missed_state(state), T0)
    assert decision.outcome == ("attempted_voicemail" if voicemail else "attempted")
    assert decision.pages == ((PageOrder(Audience.CUSTOMER, ("sms",), "callback_missed"),) if told else ())


# a customer leg that never rang (Twilio: failed, canceled; an invalid number, a carrier refusal): the customer saw
# no missed call, and "we tried to call you" would be a claim nobody can prove; the rest of the decision is the same
@pytest.mark.parametrize("state", list(MISSED))
def test_a_callback_that_never_rang_the_customer_texts_them_nothing(state):
    snap = _missed_state(state)
    decision = decide(CallbackUnanswered(rang=False), snap, T0)
    assert decision.outcome == "attempted" and decision.pages == ()
    assert decision.log == (EventKind.CALLBACK_ATTEMPTED,)
    assert decision == replace(decide(CallbackUnanswered(rang=True), snap, T0), pages=())


# the rep's voicemail message call (after an attempt a voicemail took, whose customer was told then) is no attempt:
# nobody is texted, no attempt is logged, the state stays, whatever the incident's state
@pytest.mark.parametrize("left", [False, True])
@pytest.mark.parametrize("state", list(MISSED))
def test_the_end_of_a_voicemail_message_call_is_no_attempt_and_texts_nobody(state, left):
    snap = _missed_state(state)
    decision = decide(MessageEnded(left=left), snap, T0)
    assert decision.pages == () and decision.next_state == snap.state
    assert decision.log == ((EventKind.CALLBACK_MESSAGE_LEFT,) if left else (EventKind.CALLBACK_MESSAGE_NOT_LEFT,))


def test_an_unanswered_callback_claims_no_ring_unless_told():
    assert decide(CallbackUnanswered(), STATES["callback_in_progress"], T0).pages == ()


@pytest.mark.parametrize(("trigger", "outcome"), ENDS)
def test_the_end_of_a_callback_releases_the_pages_held_for_it(trigger, outcome):
    held = decide(trigger, HELD, T0)
    assert held.outcome == outcome and held.release_held_pages
    assert replace(held, release_held_pages=False) == decide(trigger, replace(HELD, pages_held=False), T0)
    assert not decide(trigger, ON_CALLBACK, T0).release_held_pages


@pytest.mark.parametrize(("attempts", "paged"), [(0, False), (1, True), (3, True)])
def test_only_a_page_that_was_tried_counts_its_person_as_paged(attempts, paged):
    assert counts_as_paged(attempts) is paged


def test_the_core_imports_no_flask_rq_sql_or_clock():
    banned = {"flask", "rq", "redis", "sqlalchemy", "twilio", "app.clock", "app.db", "app.models", "app.services"}
    for path in Path("app/escalation").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not any(name == b or name.startswith(b + ".") for b in banned), f"{path}: imports {name}"


@pytest.mark.parametrize(("event", "state", "verified"), [
    (CallbackAnswered(DUE, by_person=True), "callback_in_progress", True),  # the first answer: met
    (CallbackAnswered(DUE + timedelta(minutes=2), by_person=True), "attempted", True),  # late, still verified
    (CallbackAnswered(T0 + timedelta(minutes=9), by_person=True), "met", False),  # answered again: nothing new
    (CallbackAnswered(T0, by_person=False), "callback_in_progress", False),  # a voicemail proves nobody
    (ReachedByEmail(ALICE), "no_callback_number", True),
    (ReachedByEmail(ALICE), "no_number_reached_by_email", False),
    (SelfReported(ALICE), "acknowledged", False),  # the rep's word is no verified contact
])
def test_only_a_first_verified_contact_lets_what_waited_for_it_go_on(event, state, verified):
    # an outage resolved before the customer was reached proposes its resolution on this flag (decisions.carry_out)
    assert decide(event, STATES[state], T0).verified_contact is verified


# The deadline passed without reaching the customer: the breach step tells them so, once, by SMS when their number
# takes one, else by e-mail, else "none" (logged: nobody could tell them); never a customer reached or a resolved
# incident; not while a bridged callback is under way (the repage round tells them if it failed). (state) -> channel
BREACH_NOTICE = {
    "open": "sms", "acknowledged": "sms", "owned_by_another_rep": "sms", "attempted": "sms", "nobody_to_page": "sms",
    "callback_in_progress": "", "met": "", "late": "", "self_reported": "", "resolved": "",
    "no_callback_number": "none", "no_number_reached_by_email": "",
}


@pytest.mark.parametrize("kind", ["breach", "repage"])
@pytest.mark.parametrize(("state", "channel"), list(BREACH_NOTICE.items()))
def test_the_breach_tells_a_customer_not_reached_that_the_deadline_passed(kind, state, channel):
    assert set(BREACH_NOTICE) == set(STATES)
    assert decide(StepDue(kind), STATES[state], DUE).breach_notice == channel


@pytest.mark.parametrize("kind", ["breach", "repage"])
@pytest.mark.parametrize(("facts", "channel"), [
    ({"textable_customer": False, "has_email": True}, "email"),  # a landline (or STOP) with an e-mail address
    ({"has_callback_number": False, "textable_customer": False, "has_email": True}, "email"),
    ({"textable_customer": False}, "none"),  # a landline, no address: the log says nobody could tell them
    ({"has_email": True}, "sms"),  # the SMS reaches them: one notice, not two
    ({"told_of_breach": True}, ""),  # once per incident: a step run again, a rerun breach, the repage rounds
    ({"told_of_breach": True, "textable_customer": False, "has_email": True}, ""),
    ({"deadline_provisional": True}, ""),  # issue 13: promised no time yet; the breach that counts tells them
])
def test_the_breach_notice_goes_by_sms_else_email_else_none_and_once(kind, facts, channel):
    decision = decide(StepDue(kind), replace(STATES["acknowledged"], **facts), DUE)
    assert decision.breach_notice == channel
    assert decision.email_customer == ""  # the notice is its own order, never the receipt's


def test_only_the_breach_and_repage_steps_and_no_event_tell_the_customer_the_deadline_passed():
    for kind in ("receipt", "page", "at_risk"):
        assert decide(StepDue(kind), STATES["open"], DUE).breach_notice == ""
    for trigger in (CallbackUnanswered(rang=True), RepNotReached(), Acknowledge(rep_id=ALICE)):
        assert decide(trigger, STATES["open"], DUE).breach_notice == ""
