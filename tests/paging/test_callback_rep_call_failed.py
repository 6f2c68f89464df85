"""A bridged callback's call to the rep that Twilio took and then reported ``failed`` goes to their other number.

Twilio's ``failed`` (the carrier could not reach the number) is the refusal of the call, learnt later: until this
change the callback closed as the rep not reached and their ``phone_alt`` was never tried, while a refusal at the
REST request was made there at once (``test_other_number_alerts``). Now both are one rule
(``RepNotReached.other_number``): their other number is called once, at once, whether the status callback says so
or the status look-up that replaces a lost one; a busy, unanswered or voicemail call closes the callback as before.
Through the simulated Twilio over HTTP and scripted phones that fail the test on any call nobody expected.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Callback, Rep
from app.models.user import Role
from app.services.busy_lines import rep_on_our_call
from app.services.callbacks import rep_leg_over
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_callback_proof import _facts
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_rep_other_number import (
    ALICE_ALT,
    GEO_PERMISSIONS,
    _alice_has_another_number,
    _creates_to,
    _events,
    _timeline,
)
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, _signed_post

REP_STATUS = "/twilio/bridge/rep-status"
MOVED_WORDS = "The hotline could not call the rep (their number failed): calling the rep's other number instead"


def _callback(desk, incident_id: int) -> Callback:
    with desk.hotline.db.session() as s:
        [callback] = s.scalars(select(Callback).where(Callback.incident_id == incident_id)).all()
        return callback


def _rep_leg_failed(desk, callback_id: int, call_sid: str, sequence: int = 0) -> None:
    """A status callback of the rep's call ``call_sid``: failed. Each ``sequence`` is its own delivery (one
    repeated byte for byte is answered once by the route, ``webhooks.answer_once``)."""
    _signed_post(desk, f"{PUBLIC_BASE_URL}{REP_STATUS}?callback={callback_id}", {
        "CallSid": call_sid, "CallStatus": "failed", "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER,
        "To": ALICE, "Direction": "outbound-api", "ApiVersion": "2010-04-01", "SequenceNumber": str(sequence)})


def _call_asked(desk, incident) -> None:
    """Alice, who acknowledged at T0, texts CALL at T+3."""
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)


@pytest.mark.every_database  # the lines' JSON detail (``failed_call``) read back by each database
def test_a_rep_call_twilio_reported_failed_is_made_to_their_other_number_and_bridges_the_customer(
        desk, network, twilio):
    """Alice texts CALL; Twilio takes the call to her number, then reports it failed: her other number is called at
    once, she answers there, the customer is dialled and reached. Twilio repeating the failed status afterwards
    dials nothing more."""
    _alice_has_another_number(desk)
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_call(fails=True)
    other = network.phone(ALICE_ALT).expect_call()
    customer = network.phone(CUSTOMER).expect_call(press="1", answered=True)
    _call_asked(desk, incident)
    desk.settle()
    assert other.unmet == [] and len(other.calls) == 1 and len(customer.calls) == 1
    assert _creates_to(twilio, ALICE).count("Calls.json") == 2  # her page call, and the callback's that failed
    assert _creates_to(twilio, ALICE_ALT) == ["Calls.json"]
    callback = _callback(desk, incident.id)
    assert (callback.outcome, callback.attempts, callback.rep_call_sid) == ("met", 2, other.calls[0].sid)
    assert desk.incident(incident.id).callback_answered_at is not None
    [moved] = _events(desk, incident.id, "callback_rep_other_number")
    failed_sid = moved.detail["failed_call"]
    assert failed_sid not in (callback.rep_call_sid, "") and moved.detail["why"] == "failed"
    assert _events(desk, incident.id, "callback_rep_not_reached") == []
    assert MOVED_WORDS in _timeline(desk, incident.id)

    _rep_leg_failed(desk, callback.id, failed_sid)  # Twilio repeats the failed call's status
    desk.settle()
    assert _creates_to(twilio, ALICE_ALT) == ["Calls.json"] and len(other.calls) == 1
    assert _callback(desk, incident.id).outcome == "met"
    assert len(_events(desk, incident.id, "callback_rep_other_number")) == 1
    assert _events(desk, incident.id, "callback_rep_not_reached") == []
    assert ("Rep's phone: failed (the call that failed, already followed by a call to the rep's other number: "
            "ignored)") in _timeline(desk, incident.id)


@pytest.mark.every_database  # the lines' JSON detail (``failed_call``) read back by each database
def test_a_failed_status_repeated_before_the_other_number_is_called_dials_it_once(desk, network, twilio):
    """The failed status comes twice before the call to her other number is placed (the first one's job not run
    yet): the second names the call the callback left behind, and moves nothing."""
    _alice_has_another_number(desk)
    incident, alice = desk.acknowledged_by_alice(network)
    network.lose_status_callbacks(REP_STATUS)  # the test posts the failed call's status itself
    alice.expect_call(fails=True)
    _call_asked(desk, incident)
    desk.settle()
    callback = _callback(desk, incident.id)
    assert callback.outcome == "pending" and callback.rep_call_sid
    failed_sid = callback.rep_call_sid
    _rep_leg_failed(desk, callback.id, failed_sid, sequence=1)
    _rep_leg_failed(desk, callback.id, failed_sid, sequence=2)
    with desk.hotline.db.session() as s:  # the failed call's end is not the end of the rep's leg about to ring
        rep_id = s.scalars(select(Rep.id).where(Rep.phone == ALICE)).one()
        assert not rep_leg_over(s, incident, s.get(Callback, callback.id), "")
        assert rep_on_our_call(s, rep_id, desk.clock.now()).callback_id == callback.id
    other = network.phone(ALICE_ALT).expect_call()
    network.phone(CUSTOMER).expect_call(press="1", answered=True)
    desk.settle()
    assert _creates_to(twilio, ALICE_ALT) == ["Calls.json"] and len(other.calls) == 1
    callback = _callback(desk, incident.id)
    assert (callback.outcome, callback.rep_call_sid) == ("met", other.calls[0].sid)
    assert [e.detail["failed_call"] for e in _events(desk, incident.id, "callback_rep_other_number")] == [failed_sid]
    assert [e.detail.get("left_call") for e in _events(desk, incident.id, "callback_rep_leg_status")
            if e.detail["status"] == "failed"] == [None, True]


def _rep_call_failed_unheard(desk, network):
    """Alice, who has another number, asks for the callback; Twilio takes her call and it fails, and the failed
    status never reaches the hotline. Returns the incident."""
    _alice_has_another_number(desk)
    incident, alice = desk.acknowledged_by_alice(network)
    network.lose_status_callbacks(REP_STATUS)
    alice.expect_call(fails=True)
    _call_asked(desk, incident)
    desk.settle()
    return incident

def test_a_rep_call_failed_whose_status_callback_was_lost_is_made_to_the_other_number_by_the_look_up(
        desk, network, twilio):
    """The failed status never reaches the hotline: the status look-up two minutes after the call finds it failed
    and her other number is called then, as the status callback would have had it."""
    incident = _rep_call_failed_unheard(desk, network)
    assert _callback(desk, incident.id).outcome == "pending" and _creates_to(twilio, ALICE_ALT) == []
    other = network.phone(ALICE_ALT).expect_call()
    network.phone(CUSTOMER).expect_call(press="1", answered=True)
    desk.at(minutes=5)
    assert len(other.calls) == 1 and _creates_to(twilio, ALICE_ALT) == ["Calls.json"]
    assert _callback(desk, incident.id).outcome == "met"
    assert len(_events(desk, incident.id, "callback_rep_other_number")) == 1
    assert MOVED_WORDS in _timeline(desk, incident.id)


def test_a_rep_call_nobody_answered_still_closes_the_callback_and_never_calls_the_other_number(
        desk, network, twilio):
    """No answer is the rep not answering, not a number that failed: as before, the callback ends "rep not
    reached" and she is texted so; her other number is never called."""
    _alice_has_another_number(desk)
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_call(answer=False).expect_sms("could not reach you")
    _call_asked(desk, incident)
    desk.settle()
    assert _callback(desk, incident.id).outcome == "rep_not_reached"
    assert _creates_to(twilio, ALICE_ALT) == [] and network.phone(CUSTOMER).calls == []
    assert _events(desk, incident.id, "callback_rep_other_number") == []
    assert len(_events(desk, incident.id, "callback_rep_not_reached")) == 1


def test_a_rep_call_failed_for_a_rep_without_another_number_closes_the_callback_as_before(desk, network, twilio):
    with desk.hotline.db.session() as s:
        assert not s.scalars(select(Rep).where(Rep.phone == ALICE)).one().phone_alt
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_call(fails=True).expect_sms("could not reach you")
    _call_asked(desk, incident)
    desk.settle()
    assert _callback(desk, incident.id).outcome == "rep_not_reached"
    assert _events(desk, incident.id, "callback_rep_other_number") == []
    [line] = _events(desk, incident.id, "callback_rep_not_reached")
    assert line.detail["why"] == "failed"


def test_a_rep_call_failed_on_both_numbers_tells_the_rep_once(desk, network, twilio):
    """Her other number's call fails too: the callback ends "rep not reached", she is texted once, and neither
    number is called again for it."""
    _alice_has_another_number(desk)
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_call(fails=True).expect_sms("could not reach you")
    network.phone(ALICE_ALT).expect_call(fails=True)
    _call_asked(desk, incident)
    desk.settle()
    assert _callback(desk, incident.id).outcome == "rep_not_reached"
    assert _creates_to(twilio, ALICE_ALT) == ["Calls.json"]
    assert _creates_to(twilio, ALICE).count("Calls.json") == 2
    assert len(_events(desk, incident.id, "callback_rep_other_number")) == 1
    assert len(_events(desk, incident.id, "callback_rep_not_reached")) == 1


def test_a_rep_call_failed_learnt_past_five_minutes_still_calls_the_other_number(desk, network, twilio):
    """The first look-up of the lost status fails (Twilio answers 500): the second, over five minutes after the
    call, finds it failed, past the 5 minutes a rep call is tried for since the request. Those count from the move to her
    other number: she is called there, not told "not placed within 5 min" of a call never tried."""
    incident = _rep_call_failed_unheard(desk, network)
    twilio.fail_next(1, status=500)  # the look-up at T+5
    desk.at(minutes=5)
    assert _callback(desk, incident.id).outcome == "pending" and _creates_to(twilio, ALICE_ALT) == []
    other = network.phone(ALICE_ALT).expect_call()
    network.phone(CUSTOMER).expect_call(press="1", answered=True)
    desk.at(minutes=8, seconds=30)  # the second look-up is due at T+8: made a little late, 5.5 min after the CALL
    assert len(other.calls) == 1 and _callback(desk, incident.id).outcome == "met"
    [moved] = _events(desk, incident.id, "callback_rep_other_number")
    assert moved.at == desk.t0 + timedelta(minutes=8, seconds=30)
    assert _events(desk, incident.id, "callback_rep_not_reached") == []


def _report_row(desk, reference: str) -> dict:
    """The incident's row of the day's compliance report, as a manager downloads it (JSON, the stored facts rows)."""
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    day = desk.t0.date()
    document = desk.client.get("/reports/compliance.json", query_string={
        "start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat(), "tz": "UTC",
        "as_of": desk.clock.now().isoformat()}).get_json()
    [row] = [r for r in document["rows"] if r["reference"] == reference]
    return row


def _refused_then_other_number(desk, network, twilio, incident) -> None:
    """Twilio refuses the callback's call to Alice's number for good (21215); her other number is called, she
    presses the key there, the customer answers, presses the key and talks a minute."""
    twilio.refuse_to(ALICE, GEO_PERMISSIONS, resource="Calls")
    other = network.phone(ALICE_ALT).expect_call()
    network.phone(CUSTOMER).expect_call(press="1", answered=True, talk_seconds=60)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    assert len(other.calls) == 1 and _creates_to(twilio, ALICE_ALT) == ["Calls.json"]
    [failed] = _events(desk, incident.id, "callback_rep_call_failed")
    assert failed.detail["final"] is True  # the refused call's line still says it failed for good
    assert len(_events(desk, incident.id, "callback_rep_other_number")) == 1


@pytest.mark.every_database  # the report's stored facts rows, written and read by each database
def test_a_refused_rep_call_the_other_number_bridged_in_time_is_met_in_the_report(desk, network, twilio):
    """Probe QB: the refused call's final failure line counted the callback "rep not reached" in the report's facts
    although her other number reached her and the customer: the report says met, from the log alone too."""
    _alice_has_another_number(desk)
    incident, _ = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    _refused_then_other_number(desk, network, twilio, incident)
    desk.at(minutes=20)  # a met callback: no at-risk alert, no breach
    assert _callback(desk, incident.id).outcome == "met"
    [callback] = _facts(desk, incident.id).callbacks
    assert callback.rep_not_reached_at is None and callback.answered_at is not None
    row = _report_row(desk, incident.reference)
    assert (row["outcome"], row["breached"], row["breach_reason"]) == ("met", False, "")


@pytest.mark.every_database  # the report's stored facts rows, written and read by each database
def test_a_refused_rep_call_the_other_number_bridged_after_the_deadline_is_called_late(desk, network, twilio):
    """Alice acknowledged at T0 and asks for the callback at T+16, past the deadline; her number is refused and her
    other number bridges the customer: "acknowledged but called late", never "hotline could not reach the rep"."""
    _alice_has_another_number(desk)
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")
    desk.at(minutes=15)
    desk.at(minutes=16)
    _refused_then_other_number(desk, network, twilio, incident)
    desk.at(minutes=20)
    assert _callback(desk, incident.id).outcome == "late"
    facts = _facts(desk, incident.id)
    assert (facts.outcome, facts.breach_reason()) == ("late", "acknowledged but called late")
    row = _report_row(desk, incident.reference)
    assert (row["outcome"], row["breached"], row["breach_reason"]) == ("late", True, "acknowledged but called late")


class _FailedBeforeRecorded:
    """Twilio takes the callback's call to the rep and reports it ``failed`` before the run that placed it has
    recorded its CallSid: the status callback is answered while ``place_call`` has not returned yet."""

    def __init__(self, desk, callback_id: int) -> None:
        self.desk, self.callback_id, self.telephony = desk, callback_id, desk.hotline.telephony
        self.failed_sid = ""

    def __getattr__(self, name: str):
        return getattr(self.telephony, name)

    def place_call(self, **kwargs):
        sent = self.telephony.place_call(**kwargs)
        self.failed_sid = sent.sid
        _rep_leg_failed(self.desk, self.callback_id, sent.sid)
        return sent


@pytest.mark.every_database  # the lines' JSON detail (``failed_call``) read back by each database
def test_a_failed_status_heard_before_the_placing_run_recorded_the_call_still_moves_it_to_the_other_number(
        desk, network, twilio):
    """The race ``place_rep_call`` guards (``left_rep_call``): the failed status adopts the call, finds it failed and
    moves the callback to her other number before the placing run commits. That run must not then record the failed
    call as the callback's call: her other number would never be dialled (its job finds a call recorded) and the
    callback would wait on a call that is over."""
    from app.services.callback_calls import place_rep_call

    _alice_has_another_number(desk)
    incident, alice = desk.acknowledged_by_alice(network)
    desk.clock.set(desk.t0 + timedelta(minutes=3))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    callback = _callback(desk, incident.id)
    hotline = desk.hotline
    racing = _FailedBeforeRecorded(desk, callback.id)
    place_rep_call(hotline.db, racing, hotline.settings, callback.id, desk.clock.now())  # before its job runs
    assert racing.failed_sid
    moved = _callback(desk, incident.id)
    assert moved.outcome == "pending" and moved.rep_call_sid == ""  # left for her other number, not recorded

    alice.expect_call(fails=True)  # the network plays the failed call out: its statuses move nothing
    other = network.phone(ALICE_ALT).expect_call()
    network.phone(CUSTOMER).expect_call(press="1", answered=True)
    desk.settle()
    assert len(other.calls) == 1 and _creates_to(twilio, ALICE_ALT) == ["Calls.json"]
    callback = _callback(desk, incident.id)
    assert (callback.outcome, callback.rep_call_sid) == ("met", other.calls[0].sid)
    assert [e.detail["failed_call"] for e in _events(desk, incident.id, "callback_rep_other_number")] == [
        racing.failed_sid]
    placed = [(e.detail["sid"], bool(e.detail.get("adopted"))) for e in _events(desk, incident.id,
                                                                                  "callback_rep_call_placed")]
    assert placed == [(racing.failed_sid, True), (other.calls[0].sid, False)]  # the failed call, adopted once


def test_a_rep_leg_status_heard_after_its_end_is_logged_as_ignored_and_moves_nothing(desk, network, twilio):
    """Twilio's status callbacks may come out of order: the rep leg's ``in-progress`` heard after its ``completed``
    is logged as ignored (kept, as every word Twilio sent is, and marked ``after_end``). Until probe QB it read
    "Rep's phone: in-progress" on the timeline after the call had ended, as if the rep were on the line again."""
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_call()
    network.phone(CUSTOMER).expect_call(press="1", answered=True)
    _call_asked(desk, incident)
    desk.settle()
    callback = _callback(desk, incident.id)
    assert callback.outcome == "met" and callback.ended_at is not None
    assert [e.detail["status"] for e in _events(desk, incident.id, "callback_rep_leg_status")][-1] == "completed"

    desk.at(minutes=4)
    _signed_post(desk, f"{PUBLIC_BASE_URL}{REP_STATUS}?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "CallStatus": "in-progress", "AccountSid": TEST_ACCOUNT_SID,
        "From": HOTLINE_NUMBER, "To": ALICE, "Direction": "outbound-api", "ApiVersion": "2010-04-01",
        "SequenceNumber": "1"})
    desk.settle()
    late = _events(desk, incident.id, "callback_rep_leg_status")[-1]
    assert late.detail == {"callback_id": callback.id, "status": "in-progress", "after_end": True}
    words = _timeline(desk, incident.id)
    assert "Rep's phone: in-progress (heard after the call had ended: ignored)" in words
    assert words.count("Rep's phone: in-progress") == 1  # the one heard while the call lasted
    after = _callback(desk, incident.id)
    assert (after.outcome, after.ended_at, after.rep_call_sid) == ("met", callback.ended_at, callback.rep_call_sid)
    with desk.hotline.db.session() as s:  # the rep is still off the line: nothing held for her call
        rep_id = s.scalars(select(Rep.id).where(Rep.phone == ALICE)).one()
        assert rep_leg_over(s, desk.incident(incident.id), s.get(Callback, callback.id), "")
        assert rep_on_our_call(s, rep_id, desk.clock.now()) is None
