"""A bridged callback whose conversation lasted less than the minimum (callbacks.MIN_CONVERSATION_SECONDS) does
not keep the promise: the customer pressed the key (a person), then the call ended at once.

Alice replies CALL; the hotline calls her and dials the customer. Twilio's requests are played signed, in the
order a tester saw them: the customer's whisper, the 'answered' status, the key press, the leg's end, then the
rep's ``<Dial action>`` with its ``DialCallDuration``.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from app.models import Callback, Delivery, DueStep, FollowUp, IncidentEvent, Page
from app.reports.facts import BreachReason, Outcome
from app.reports.updates import update_figures
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_at_risk_unproven_callback import _at, _callback_by_sms, _callback_from_the_voice_page
from tests.paging.test_callback_proof import (
    _dial_done,
    _facts,
    _leg_sid,
    _leg_status,
    _press_key,
    _step_outcome,
    _whisper,
)
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, _signed_post, _work

TOO_SHORT = "too short to count as the callback"


def _keyed(desk, callback: Callback, start: timedelta, key_after: int) -> None:
    """The customer's leg is answered at ``start`` after T0 (the whisper asks for the key) and the key is pressed
    ``key_after`` seconds later; the clock is then at the key press."""
    desk.clock.set(desk.t0 + start)
    assert "<Gather" in _whisper(desk, callback)
    _leg_status(desk, callback, "in-progress", start.total_seconds())
    desk.clock.set(desk.t0 + start + timedelta(seconds=key_after))
    _press_key(desk, callback)


def _talk(desk, callback: Callback, start: timedelta, seconds: int) -> str:
    """The customer answers at ``start`` after T0, presses the key 4 s later and talks ``seconds``; the rep hears
    what the hotline answers to the ``<Dial action>``."""
    _keyed(desk, callback, start, 4)
    answered = start.total_seconds()
    desk.clock.set(desk.t0 + start + timedelta(seconds=4 + seconds))
    _leg_status(desk, callback, "completed", answered + 4 + seconds, CallDuration=str(seconds))
    return _dial_done(desk, callback, "completed", seconds=str(seconds))


def _told_by_sms(desk, incident_id: int) -> list[Page]:
    """The SMS telling a rep their short callback did not count."""
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "bridge_too_short")
                              .order_by(Page.id)))


def _rep_left_first(desk, callback: Callback, start: timedelta, seconds: int, call_status: str = "completed") -> str:
    """As ``_talk``, but Alice hangs up first: the ``<Dial action>`` request comes for a rep's leg already over
    (``call_status``; "" for a request without it, after the leg's own status callback said it completed)."""
    _keyed(desk, callback, start, 4)
    desk.clock.set(desk.t0 + start + timedelta(seconds=4 + seconds))
    rep_leg = {"CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE}
    if not call_status:
        _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep-status?callback={callback.id}",
                     {**rep_leg, "CallStatus": "completed", "CallDuration": "60"})
    _leg_status(desk, callback, "completed", start.total_seconds() + 4 + seconds, CallDuration=str(seconds))
    dial = {**rep_leg, "DialCallStatus": "completed", "DialCallSid": _leg_sid(callback), "DialCallDuration": str(seconds),
            **({"CallStatus": call_status} if call_status else {})}
    return _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/dial-done?callback={callback.id}", dial
                        ).get_data(as_text=True)


def _sms_body(desk, page: Page) -> str:
    [body] = [m.body for m in desk.network.twilio.messages if m.sid == page.twilio_sid]
    return body


def _rows(desk, incident_id: int) -> list[Callback]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _kinds(desk, incident_id: int) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                              .order_by(IncidentEvent.id)))


@pytest.mark.parametrize("seconds", [0, 3])
def test_a_bridge_shorter_than_a_conversation_is_not_met_and_the_promise_is_chased(desk, network, client, seconds):
    """Counted at the key press, withdrawn at the ``<Dial>``'s end: not met on the row, the incident, the log the
    report reads or the board; Alice hears the customer is still owed a call (no update interval is asked); the
    deadline breaches as for a customer never reached."""
    callback = _callback_by_sms(desk, network)
    twiml = _talk(desk, callback, timedelta(minutes=2, seconds=30), seconds)

    assert TOO_SHORT in twiml and f"/twilio/bridge/retry?callback={callback.id}" in twiml
    assert "/twilio/updates/interval" not in twiml
    _work(desk)
    assert _told_by_sms(desk, callback.incident_id) == []  # she heard it on the call: no SMS as well
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "attempted" and row.answered_at is None and row.person_confirmed_at is None
    assert desk.incident(callback.incident_id).callback_answered_at is None
    events = _kinds(desk, callback.incident_id)
    kinds = [e.kind for e in events]
    assert kinds.index("callback_met") < kinds.index("callback_withdrawn")
    withdrawn = next(e for e in events if e.kind == "callback_withdrawn")
    assert withdrawn.detail["why"] == "bridge_too_short" and withdrawn.detail["dial_seconds"] == str(seconds)
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome != Outcome.MET and facts.answered_at is None
    login_as(client, desk.hotline)
    incident = desk.incident(callback.incident_id)
    state = parse(client.get("/board")).find("tr", id=f"inc-{incident.reference}").find(cls="state").text()
    assert "Met" not in state and "called back" not in state
    # the customer answered: "the customer was not reached" (a probe's board) would be false, here and on its page
    assert "too short to count: the customer answered" in state and "not reached" not in state
    page = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "Callback too short to count: the customer answered" in page

    _at(desk, 15)  # the at-risk alert is skipped as for any callback that dialled the customer (the core's rule)
    assert _step_outcome(desk, callback.incident_id, "breach") == "breached"
    assert desk.incident(callback.incident_id).breached_at == incident.callback_due_at
    with desk.hotline.db.session() as s:
        alerts = list(s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "breach",
                                                   Page.channel == "sms")))
    assert MARIA in {p.to_number for p in alerts}  # the manager hears of the breach
    # ... that the customer answered a call too short to count (a probe's managers read "no callback yet"), and
    # the report gives it its own reason (it read "customer unreachable" of a customer who answered)
    alert = _sms_body(desk, next(p for p in alerts if p.to_number == MARIA))
    assert "too short to count" in alert and "no callback yet" not in alert
    assert _facts(desk, callback.incident_id).breach_reason() == BreachReason.TOO_SHORT
    # ... and the customer, who answered it, is not told "we have not reached you" (a probe's customer was)
    _work(desk)
    [notice] = [m.body for m in desk.network.twilio.messages if m.to == CUSTOMER and "promised" in m.body]
    assert "our call ended too soon to talk it through" in notice and "not reached" not in notice


def test_a_minute_long_bridge_is_met_as_before(desk, network):
    """The conversation a callback is for: met at Twilio's answer, and Alice is asked for the update interval."""
    callback = _callback_by_sms(desk, network)
    twiml = _talk(desk, callback, timedelta(minutes=2, seconds=30), 60)

    assert "/twilio/updates/interval" in twiml and TOO_SHORT not in twiml
    [row] = _rows(desk, callback.incident_id)
    answered = desk.t0 + timedelta(minutes=2, seconds=31)  # Twilio's whole second, read as its latest instant
    assert row.outcome == "met" and row.answered_at == answered
    assert desk.incident(callback.incident_id).callback_answered_at == answered
    assert "callback_withdrawn" not in [e.kind for e in _kinds(desk, callback.incident_id)]
    assert _facts(desk, callback.incident_id).outcome == Outcome.MET
    _at(desk, 15)
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"


def test_a_real_conversation_after_a_short_one_is_the_answer_that_counts(desk, network):
    """Alice presses 1 after the 3-second call: the customer is dialled again and they talk. Met at the second
    call's answer (the first one's time never comes back), and the report's recomputation says the same."""
    callback = _callback_by_sms(desk, network)
    _talk(desk, callback, timedelta(minutes=2, seconds=30), 3)
    retry = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/retry?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "Digits": "1"}).get_data(as_text=True)
    assert "<Dial" in retry and CUSTOMER in retry
    first, second = _rows(desk, callback.incident_id)
    twiml = _talk(desk, second, timedelta(minutes=4), 200)

    assert "/twilio/updates/interval" in twiml
    first, second = _rows(desk, callback.incident_id)
    answered = desk.t0 + timedelta(minutes=4, seconds=1)
    assert first.outcome == "attempted" and first.answered_at is None
    assert second.outcome == "met" and second.answered_at == answered
    assert desk.incident(callback.incident_id).callback_answered_at == answered
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome == Outcome.MET and facts.answered_at == answered
    _at(desk, 15)
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"


def test_the_simulated_network_reports_a_three_second_call_and_the_rep_is_told(desk, network):
    """End to end on the scripted phones: the customer presses 1 and hangs up 3 s later; Alice hears it did not
    count, and is not asked for an update interval."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, talk_seconds=3)
    alice = network.phone(ALICE).expect_sms("SEV1", reply="CALL").expect_call(answer=False)
    alice.expect_sms("Calling you now").expect_call()
    incident = desk.open_incident()
    desk.settle()

    [row] = _rows(desk, incident.id)
    assert row.outcome == "attempted" and desk.incident(incident.id).callback_answered_at is None
    heard = alice.calls[-1].heard
    assert TOO_SHORT in heard and "update interval" not in heard


@pytest.mark.parametrize("call_status", ["completed", ""])
def test_a_rep_who_hung_up_first_is_texted_once_that_the_short_callback_did_not_count(desk, network, call_status):
    """Alice hangs up 3 s into the call: the retry offer answering the ``<Dial action>`` is never heard, so she gets
    one SMS saying the callback did not count and the customer is still owed one by the deadline; Twilio's retry of
    the request tells her nothing again. The callback is withdrawn as when she hears it."""
    callback = _callback_by_sms(desk, network)
    _rep_left_first(desk, callback, timedelta(minutes=2, seconds=30), 3, call_status)
    _work(desk)

    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "attempted" and desk.incident(callback.incident_id).callback_answered_at is None
    [sms] = _told_by_sms(desk, callback.incident_id)
    incident = desk.incident(callback.incident_id)
    assert (sms.to_number, sms.channel, sms.status) == (ALICE, "sms", "sent")
    body = _sms_body(desk, sms)
    assert body.startswith(f"SEV1 {incident.reference} ") and "too short to count as the callback" in body
    assert "under 10 s of conversation" in body and "still owed a callback by " in body and "OVERDUE" not in body
    assert f"call {CUSTOMER}" in body and f"reply CALL {incident.reference}" in body

    again = {"CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
             "CallStatus": "completed", "DialCallStatus": "completed", "DialCallSid": _leg_sid(callback),
             "DialCallDuration": "3"}
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/dial-done?callback={callback.id}", again)
    _work(desk)
    assert len(_told_by_sms(desk, callback.incident_id)) == 1
    assert [e.kind for e in _kinds(desk, callback.incident_id)].count("callback_withdrawn") == 1


def test_a_rep_who_hung_up_first_after_the_deadline_is_told_the_callback_is_overdue(desk, network):
    callback = _callback_by_sms(desk, network)
    _rep_left_first(desk, callback, timedelta(minutes=16), 5)
    _work(desk)

    [sms] = _told_by_sms(desk, callback.incident_id)
    body = _sms_body(desk, sms)
    assert "too short to count as the callback" in body and "OVERDUE since" in body
    assert "still owed a callback by" not in body


def test_on_the_simulated_network_a_rep_who_hangs_up_first_is_texted_not_spoken_to(desk, network):
    """End to end on the scripted phones: the customer presses 1 and they talk 3 s, then Alice hangs up first; the
    network still requests her ``<Dial action>`` (CallStatus completed): she hears nothing of it and gets the SMS
    (any other SMS, or a second one, fails the test)."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, talk_seconds=3)
    alice = network.phone(ALICE).expect_sms("SEV1", reply="CALL").expect_call(answer=False)
    alice.expect_sms("Calling you now").expect_call(hangs_up_first=True)
    alice.expect_sms("too short to count as the callback")
    incident = desk.open_incident()
    desk.settle()

    [row] = _rows(desk, incident.id)
    assert row.outcome == "attempted" and desk.incident(incident.id).callback_answered_at is None
    assert TOO_SHORT not in alice.calls[-1].heard and alice.unmet == []
    assert len(_told_by_sms(desk, incident.id)) == 1


def _update_rows(desk, incident_id: int) -> tuple[FollowUp, list[DueStep], list[Delivery]]:
    """The incident's schedule, its update steps, and every reminder or late alert written for it."""
    with desk.hotline.db.session() as s:
        follow_up = s.scalars(select(FollowUp).where(FollowUp.incident_id == incident_id)).one()
        steps = list(s.scalars(select(DueStep).where(DueStep.incident_id == incident_id,
                                                     DueStep.kind.in_(("update_reminder", "update_due")))
                               .order_by(DueStep.id)))
        told = list(s.scalars(select(Delivery).where(Delivery.incident_id == incident_id,
                                                     Delivery.purpose.in_(("update_reminder", "update_late")))))
        return follow_up, steps, told


def test_a_short_bridge_withdrawn_after_the_interval_was_agreed_stops_the_updates_until_a_real_callback(
        desk, network):
    """Counted at the key press (updates start), Alice agrees updates every 30 minutes, then the bridge proves 3 s
    long: the customer was never called back, so no "update due" reminder nor "update NOT sent" alert goes out
    and the report counts no round; the real conversation that follows starts the updates again, every 30 minutes
    as the customer was told (since session 35; the default hour before)."""
    callback = _callback_by_sms(desk, network)
    start = timedelta(minutes=2, seconds=30)
    _keyed(desk, callback, start, 4)
    reference = desk.incident(callback.incident_id).reference
    assert "30 minutes" in _sms_from(desk, ALICE, f"EVERY 30 {reference}").get_data(as_text=True)
    follow_up, steps, _ = _update_rows(desk, callback.incident_id)
    assert follow_up.state == "updating" and follow_up.interval_minutes == 30
    assert [s.status for s in steps] == ["pending", "pending"]
    desk.clock.set(desk.t0 + start + timedelta(seconds=7))
    _leg_status(desk, callback, "completed", start.total_seconds() + 7, CallDuration="3")
    assert TOO_SHORT in _dial_done(desk, callback, "completed", seconds="3")

    follow_up, steps, _ = _update_rows(desk, callback.incident_id)
    assert follow_up.state == "withdrawn" and follow_up.next_due_at is None
    assert [(s.status, s.outcome) for s in steps] == [("done", "answer_withdrawn")] * 2
    _at(desk, 15)  # the deadline breaches: the customer is owed a callback, not an update
    _at(desk, 2 + 30 + 1)  # past the agreed update's due time
    _at(desk, 2 + 60 + 1)  # and past the default hour's
    follow_up, steps, told = _update_rows(desk, callback.incident_id)
    assert told == [] and follow_up.state == "withdrawn"
    kinds = [e.kind for e in _kinds(desk, callback.incident_id)]
    assert "customer_update_late" not in kinds and kinds.count("updates_withdrawn") == 1
    with desk.hotline.db.session() as s:
        figures = update_figures(s, desk.t0, desk.clock.now() + timedelta(minutes=1))
    assert (figures.updates_owed, figures.escalated, figures.missed) == (0, 0, 0)

    retry = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/retry?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "Digits": "1"}).get_data(as_text=True)
    assert "<Dial" in retry
    _first, second = _rows(desk, callback.incident_id)
    assert "/twilio/updates/interval" in _talk(desk, second, timedelta(minutes=70), 200)
    assert _rows(desk, callback.incident_id)[1].outcome == "late"
    ended = desk.t0 + timedelta(minutes=70, seconds=204)
    follow_up, steps, told = _update_rows(desk, callback.incident_id)
    assert follow_up.state == "updating" and follow_up.round == 1 and told == []
    assert follow_up.interval_minutes == 30  # the interval the customer was texted "as agreed"
    assert follow_up.next_due_at == ended + timedelta(minutes=30)  # counted from the end of the real call
    assert sorted((s.kind, s.status, s.due_at) for s in steps) == [
        ("update_due", "pending", ended + timedelta(minutes=30)),
        ("update_reminder", "pending", ended + timedelta(minutes=20))]
    _at(desk, 70 + 3.4 + 20 + 1)  # the owner is reminded of the update the real callback owes
    _follow_up, _steps, told = _update_rows(desk, callback.incident_id)
    assert [(d.purpose, d.to_address) for d in told] == [("update_reminder", ALICE)]


@pytest.mark.parametrize("dial_action", ["never", "after"])
def test_the_customer_legs_own_end_withdraws_a_short_callback_whose_dial_action_never_comes(desk, network, dial_action):
    """An outside probe's 4-second call (the customer pressed the key, the leg completed with CallDuration 4) whose
    ``<Dial action>`` request never came (a lost webhook: Twilio does not retry it) stood as met: "Met, called back
    in 0:38" on the incident page, "met" in the CSV. The leg's own end withdraws it; a ``<Dial action>`` that comes
    after it finds it withdrawn and tells the rep the same, once."""
    callback = _callback_by_sms(desk, network)
    _keyed(desk, callback, timedelta(minutes=2, seconds=30), 3)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=34))
    _leg_status(desk, callback, "completed", 154, CallDuration="4")
    _work(desk)

    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "attempted" and desk.incident(callback.incident_id).callback_answered_at is None
    [withdrawn] = [e for e in _kinds(desk, callback.incident_id) if e.kind == "callback_withdrawn"]
    assert (withdrawn.detail["why"], withdrawn.detail["seen_by"]) == ("bridge_too_short", "customer_leg")
    assert _facts(desk, callback.incident_id).outcome == Outcome.ATTEMPTED
    if dial_action == "after":  # the rep is still on the line: they hear it, as when the request withdraws it
        heard = _dial_done(desk, callback, "completed", seconds="4")
        assert TOO_SHORT in heard and "/twilio/updates/interval" not in heard
        _work(desk)
        assert [e.kind for e in _kinds(desk, callback.incident_id)].count("callback_withdrawn") == 1
        assert _told_by_sms(desk, callback.incident_id) == []
    _at(desk, 15)
    assert _step_outcome(desk, callback.incident_id, "breach") == "breached"
    assert _facts(desk, callback.incident_id).breach_reason() == BreachReason.TOO_SHORT


def test_a_rep_who_hung_up_after_the_legs_end_withdrew_the_callback_is_texted_once(desk, network):
    """The customer leg's end withdrew the short callback first, while Alice was thought still on the call; the
    ``<Dial action>`` then says her leg is over: she heard nothing, so she is texted, once."""
    callback = _callback_by_sms(desk, network)
    _rep_left_first(desk, callback, timedelta(minutes=2, seconds=30), 3, "completed")
    _work(desk)
    [sms] = _told_by_sms(desk, callback.incident_id)
    assert "too short to count as the callback" in _sms_body(desk, sms)
    [withdrawn] = [e for e in _kinds(desk, callback.incident_id) if e.kind == "callback_withdrawn"]
    assert withdrawn.detail.get("seen_by") == "customer_leg"  # the leg's end came first in this order


def _key_after_the_whisper(desk, network, talk: int, leg_end_first: bool = True) -> tuple[Callback, str]:
    """The customer answers at T+2:30, hears the whole whisper (13 s), presses the key and talks ``talk`` seconds
    (Twilio's durations, from the answer: 13 + ``talk``); the callback and what the rep hears at the ``<Dial>``'s
    end (after the leg's own end, with ``leg_end_first``)."""
    callback = _callback_by_sms(desk, network)
    start = timedelta(minutes=2, seconds=30)
    _keyed(desk, callback, start, 13)
    desk.clock.set(desk.t0 + start + timedelta(seconds=13 + talk))
    if leg_end_first:
        _leg_status(desk, callback, "completed", start.total_seconds() + 13 + talk, CallDuration=str(13 + talk))
    return callback, _dial_done(desk, callback, "completed", seconds=str(13 + talk))


@pytest.mark.parametrize("leg_end_first", [False, True])
def test_the_minimum_conversation_is_counted_from_the_key_press_not_from_the_answer(desk, network, leg_end_first):
    """An outside probe's customer heard the whole whisper (answering-machine detection and the prompt: 13 s),
    pressed the key and hung up 3 s later: Twilio's durations, counted from the answer, said 16 s, and the callback
    counted as met. The conversation is counted from the key press: withdrawn as too short, whichever of the leg's
    end and the rep's ``<Dial action>`` comes first."""
    callback, twiml = _key_after_the_whisper(desk, network, 3, leg_end_first)
    assert TOO_SHORT in twiml and "/twilio/updates/interval" not in twiml
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "attempted" and row.answered_at is None
    [withdrawn] = [e for e in _kinds(desk, callback.incident_id) if e.kind == "callback_withdrawn"]
    assert withdrawn.detail["why"] == "bridge_too_short" and withdrawn.detail["seconds_after_key"] == 3.0
    assert withdrawn.detail.get("seen_by", "") == ("customer_leg" if leg_end_first else "")


def test_a_twelve_second_conversation_after_the_key_counts(desk, network):
    """The same whisper, and 12 s of conversation after the key press: met, as before."""
    callback, twiml = _key_after_the_whisper(desk, network, 12)
    assert "/twilio/updates/interval" in twiml
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "met"


def test_a_person_detection_took_for_a_machine_is_asked_for_the_key_and_counts(desk, network):
    """An outside probe's customer answered with a long greeting; detection said machine_start and the hotline hung up
    at once, each time it called. Whoever answered is asked for the key: a person presses it and is connected."""
    callback = _callback_by_sms(desk, network)
    start = timedelta(minutes=2, seconds=30)
    desk.clock.set(desk.t0 + start)
    whisper = ElementTree.fromstring(_whisper(desk, callback, answered_by="machine_start"))
    gather = whisper.find("Gather")
    assert gather is not None and gather.get("action") == f"/twilio/bridge/customer-confirm?callback={callback.id}"
    assert "Press any key" in "".join(gather.itertext())
    assert whisper.find("Redirect").text == f"/twilio/bridge/customer-machine?callback={callback.id}"
    _leg_status(desk, callback, "in-progress", start.total_seconds())
    desk.clock.set(desk.t0 + start + timedelta(seconds=14))
    _press_key(desk, callback)
    desk.clock.set(desk.t0 + start + timedelta(seconds=80))
    _leg_status(desk, callback, "completed", start.total_seconds() + 80, CallDuration="80")
    assert "/twilio/updates/interval" in _dial_done(desk, callback, "completed", seconds="80")
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "met" and row.answered_by == "machine_start"


def test_a_voicemail_presses_no_key_and_the_rep_may_leave_a_message(desk, network):
    """A real voicemail hears the question, presses nothing: the leg is a voicemail (attempted), recorded before it
    ends, and the rep is offered to leave a short message, as before."""
    callback = _callback_by_sms(desk, network)
    start = timedelta(minutes=2, seconds=30)
    desk.clock.set(desk.t0 + start)
    assert "customer-machine" in _whisper(desk, callback, answered_by="machine_end_beep")
    desk.clock.set(desk.t0 + start + timedelta(seconds=15))  # the <Gather> timed out: Twilio follows the <Redirect>
    hung_up = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-machine?callback={callback.id}",
                           {"CallSid": _leg_sid(callback), "AccountSid": TEST_ACCOUNT_SID, "CallStatus": "in-progress"})
    assert ElementTree.fromstring(hung_up.get_data(as_text=True)).find("Hangup") is not None
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "voicemail"
    twiml = _dial_done(desk, callback, "no-answer", seconds="0")
    assert f"/twilio/bridge/retry?callback={callback.id}" in twiml and "voicemail" in twiml.lower()


def test_a_customer_legs_end_heard_late_is_counted_at_twilios_time_of_it(desk, network):
    """Outside probe (session 43): the customer pressed the key, the rep hung up 3 s later, no ``<Dial action>``
    came, and the customer leg's ``completed`` was heard 90 s late: the 3-second call stood as met, its conversation
    counted to the moment the status callback was heard. The leg ended when its answer was heard plus its
    ``CallDuration`` (both on this host's clock: Twilio's ``Timestamp`` against the key press heard here would mix two
    clocks)."""
    callback = _callback_by_sms(desk, network)
    _keyed(desk, callback, timedelta(minutes=2, seconds=30), 12)  # the key at T+2:42
    desk.clock.set(desk.t0 + timedelta(minutes=4, seconds=15))  # heard 90 s after its Timestamp
    _leg_status(desk, callback, "completed", 165, CallDuration="15")  # answered T+2:30 (heard), 15 s: ended T+2:45
    _work(desk)
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "attempted" and desk.incident(callback.incident_id).callback_answered_at is None
    [withdrawn] = [e for e in _kinds(desk, callback.incident_id) if e.kind == "callback_withdrawn"]
    assert (withdrawn.detail["seen_by"], withdrawn.detail["seconds_after_key"]) == ("customer_leg", 3.0)
    assert _facts(desk, callback.incident_id).outcome == Outcome.ATTEMPTED


def _rep_leg_end(desk, callback: Callback, heard: float) -> None:
    """The rep's leg's own status callback says it completed, heard at T0 + ``heard``; no ``<Dial action>`` and no
    end of the customer's leg follow."""
    desk.clock.set(desk.t0 + timedelta(seconds=heard))
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep-status?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "completed", "CallDuration": "60",
        "Timestamp": format_datetime(desk.t0 + timedelta(seconds=heard))})


@pytest.mark.parametrize(("talked", "outcome"), [(3, "attempted"), (30, "met")])
def test_the_reps_leg_ending_soon_after_the_key_withdraws_the_callback_on_its_own(desk, network, talked, outcome):
    """The same probe's rep hung up 3 s after the key: their leg's end, heard at once, is the conversation's end too,
    whether the ``<Dial action>`` and the customer leg's end come late or never. Thirty seconds stay met."""
    callback = _callback_by_sms(desk, network)
    _keyed(desk, callback, timedelta(minutes=2, seconds=30), 12)  # the key at T+2:42 (162 s)
    _rep_leg_end(desk, callback, 162 + talked)
    _work(desk)
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == outcome
    withdrawn = [e for e in _kinds(desk, callback.incident_id) if e.kind == "callback_withdrawn"]
    if outcome == "met":
        assert withdrawn == [] and desk.incident(callback.incident_id).callback_answered_at is not None
        return
    assert [(e.detail["seen_by"], e.detail["seconds_after_key"], e.detail.get("rep_hung_up")) for e in withdrawn] == [
        ("rep_leg", 3.0, True)]
    [sms] = _told_by_sms(desk, callback.incident_id)  # the rep hung up: told by SMS, once
    assert TOO_SHORT in _sms_body(desk, sms)
    _leg_status(desk, callback, "completed", 162 + talked, CallDuration="15")  # the customer's end, later: no change
    _work(desk)
    assert len([e for e in _kinds(desk, callback.incident_id) if e.kind == "callback_withdrawn"]) == 1
    assert len(_told_by_sms(desk, callback.incident_id)) == 1


def _voice_page_of(desk, callback: Callback) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).where(Page.twilio_sid == callback.rep_call_sid)).one()


def test_a_rep_who_pressed_2_on_the_page_and_hung_up_soon_after_the_key_is_told_and_it_does_not_count(desk, network):
    """Second probe (session 43): Alice pressed 2 on her voice page, the customer pressed the key, and she hung up 3 s
    later; no ``<Dial action>`` came, and the page call's own end (its status callback) was only logged. The callback
    was withdrawn 90 s later from the customer leg's end, and Alice was told nothing. The page call is the rep's leg:
    its end withdraws the short callback at once, and she is texted, once."""
    callback = _callback_from_the_voice_page(desk, network)
    _keyed(desk, callback, timedelta(minutes=2, seconds=30), 4)  # the key at T+2:34
    assert _rows(desk, callback.incident_id)[0].outcome == "met"
    page = _voice_page_of(desk, callback)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=37))
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/status?page={page.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "completed", "CallDuration": "40"})
    _work(desk)
    [row] = _rows(desk, callback.incident_id)
    assert row.outcome == "attempted" and desk.incident(callback.incident_id).callback_answered_at is None
    [withdrawn] = [e for e in _kinds(desk, callback.incident_id) if e.kind == "callback_withdrawn"]
    assert (withdrawn.detail["seen_by"], withdrawn.detail["seconds_after_key"], withdrawn.detail.get("rep_hung_up")) \
        == ("rep_leg", 3.0, True)
    [sms] = _told_by_sms(desk, callback.incident_id)
    assert TOO_SHORT in _sms_body(desk, sms)


def test_a_level_that_stood_down_for_a_callback_withdrawn_near_the_deadline_pages_again_before_it(desk, network):
    """The same probe's withdrawal came late: the next level, stood down when the callback counted, was re-armed its
    policy's 3 minutes after the withdrawal, 51 s after the deadline. It pages again before the deadline: by the
    at-risk alert, else a minute after the withdrawal."""
    callback = _callback_from_the_voice_page(desk, network)
    _keyed(desk, callback, timedelta(minutes=2, seconds=30), 4)  # met at T+2:34
    _at(desk, 3)  # level 1 finds the customer reached: it stands down
    with desk.hotline.db.session() as s:
        level_1 = s.scalars(select(DueStep).where(DueStep.incident_id == callback.incident_id,
                                                  DueStep.kind == "page", DueStep.level == 1)).one()
    assert level_1.outcome == "skipped_callback_done"
    # the customer leg's end, heard at T+12 (the page call's lost): answered T+2:30, 7 s, so 3 s after the key
    desk.clock.set(desk.t0 + timedelta(minutes=12))
    _leg_status(desk, callback, "completed", 157, CallDuration="7")
    with desk.hotline.db.session() as s:
        level_1 = s.get(DueStep, level_1.id)
    assert level_1.status == "pending" and level_1.due_at == desk.t0 + timedelta(minutes=13)  # not T+15, the deadline
