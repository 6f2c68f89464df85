"""A callback is counted only when proven, and counted right, however Twilio's callbacks come.

Twilio's status callbacks of the customer's leg may come late, out of order, or never; its webhooks (the
whisper, the key press, the ``<Dial action>``) are answered requests. Each test plays one such order with
Twilio-signed requests (the phone network never runs: these requests stand for all Twilio did) and checks
the callback row, the incident, and the compliance report's own recomputation from the event log.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from app.models import Callback, DueStep, Incident, IncidentEvent, Page
from app.reports.facts import IncidentFacts, Outcome
from app.services.callbacks import TIMESTAMP_PRECISION
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_at_risk_unproven_callback import _at
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, _signed_post, _work


def _alice_presses_2(desk, minutes: float = 0, incident: Incident | None = None) -> Callback:
    """Alice answers her voice page (of ``incident``, else of one opened now) at T0 + ``minutes`` and presses 2: the
    bridge dials the customer."""
    incident = incident or desk.open_incident()
    _work(desk)
    desk.clock.set(desk.t0 + timedelta(minutes=minutes))
    with desk.hotline.db.session() as s:
        voice = s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == ALICE,
                                             Page.channel == "voice")).one()
    call = {"CallSid": voice.twilio_sid, "AccountSid": TEST_ACCOUNT_SID, "To": ALICE, "AnsweredBy": "human"}
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice?page={voice.id}", {**call, "CallStatus": "in-progress"})
    bridge = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/key?page={voice.id}", {**call, "Digits": "2"})
    assert "<Dial" in bridge.get_data(as_text=True)
    return _callback(desk, incident.id)


def _leg_sid(callback: Callback) -> str:
    """The CallSid of the customer's leg of ``callback``."""
    return f"CA{callback.id:032d}"


def _leg(callback: Callback, **more: str) -> dict[str, str]:
    """What Twilio posts about the customer's leg of ``callback`` (a child of the rep's call)."""
    return {"CallSid": _leg_sid(callback), "ParentCallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID,
            "From": HOTLINE_NUMBER, "To": CUSTOMER, "Direction": "outbound-dial", "ApiVersion": "2010-04-01", **more}


def _whisper(desk, callback: Callback, answered_by: str = "human") -> str:
    response = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-whisper?callback={callback.id}",
                            _leg(callback, CallStatus="in-progress", AnsweredBy=answered_by))
    return response.get_data(as_text=True)


def _press_key(desk, callback: Callback) -> None:
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-confirm?callback={callback.id}",
                 _leg(callback, CallStatus="in-progress", Digits="1"))


def _leg_status(desk, callback: Callback, status: str, seconds: float, **more: str) -> None:
    """The customer leg's status callback, with Twilio's RFC 2822 ``Timestamp`` at T0 + ``seconds``."""
    at = format_datetime(desk.t0 + timedelta(seconds=seconds))
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-status?callback={callback.id}",
                 _leg(callback, CallStatus=status, Timestamp=at, **more))


def _dial_done(desk, callback: Callback, status: str, seconds: str = "0") -> str:
    response = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/dial-done?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "DialCallStatus": status, "DialCallSid": _leg_sid(callback),
        "DialCallDuration": seconds})
    return response.get_data(as_text=True)


def _callback(desk, incident_id: int) -> Callback:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)).first()


def _facts(desk, incident_id: int) -> IncidentFacts:
    """The incident as the compliance report recomputes it from the event log alone."""
    with desk.hotline.db.session() as s:
        return IncidentFacts.from_events(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)))


def _step_outcome(desk, incident_id: int, kind: str) -> str:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep.outcome).where(DueStep.incident_id == incident_id, DueStep.kind == kind,
                                                       DueStep.level == 0)).one()


def test_a_customer_who_pressed_a_key_is_counted_when_the_dial_ends_though_no_leg_status_came(desk, network):
    """Every status callback of the customer's leg is lost: the key press is the proof, and the ``<Dial action>``
    says the call is over. Counted then, not left pending, at the whisper's request (the best time the hotline
    has: Twilio asks for the key prompt only once the customer's phone answered, and the key press came after it)."""
    callback = _alice_presses_2(desk, minutes=1)
    whispered = desk.t0 + timedelta(minutes=1, seconds=30)
    desk.clock.set(whispered)
    assert "<Gather" in _whisper(desk, callback)
    desk.clock.set(desk.t0 + timedelta(minutes=1, seconds=36))
    _press_key(desk, callback)
    desk.clock.set(desk.t0 + timedelta(minutes=6))
    assert "/twilio/updates/interval" in _dial_done(desk, callback, "completed", seconds="264")  # the call is over

    counted = _callback(desk, callback.incident_id)
    assert counted.outcome == "met" and counted.answered_at == whispered
    with desk.hotline.db.session() as s:
        assert s.get(Incident, callback.incident_id).callback_answered_at == whispered
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome == Outcome.MET and facts.answered_at == whispered
    _at(desk, 15)  # the customer was reached in time: no breach, no manager paged
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"


@pytest.mark.parametrize("answered_by", ["machine_end_other", "fax"])
def test_a_customer_leg_whose_final_status_says_a_machine_or_fax_answered_is_voicemail(desk, network, answered_by):
    """The whisper's request (where a machine is hung up on) went unrecorded and the 'answered' status callback
    was lost: the final status alone says what answered, and a fax is a machine as everywhere else
    (``telephony.protocol.is_machine``): voicemail, never a ring nobody answered."""
    callback = _alice_presses_2(desk, minutes=1)
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    _leg_status(desk, callback, "completed", 118, AnsweredBy=answered_by, CallDuration="9")
    ended = _callback(desk, callback.incident_id)
    assert ended.outcome == "voicemail" and ended.answered_at is None
    with desk.hotline.db.session() as s:
        line = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == callback.incident_id,
                                                     IncidentEvent.kind == "callback_attempted")).one()
    assert line.detail["voicemail"] is True
    assert _facts(desk, callback.incident_id).outcome == Outcome.ATTEMPTED


def test_an_answer_reported_late_but_timestamped_first_is_the_incidents_answer(desk, network):
    """Alice's first callback is only dialled; Twilio's word on it is lost until T+17. Her second reaches the
    customer after the deadline (late). Then the first's status comes: the customer answered it at T+1:30 after
    all. The answer Twilio timestamps first is the incident's: met, in the log the report recomputes from as in the
    incident row the board reads."""
    first = _alice_presses_2(desk, minutes=1)
    desk.clock.set(desk.t0 + timedelta(minutes=1, seconds=30))
    _whisper(desk, first)
    _at(desk, 15)
    assert _step_outcome(desk, first.incident_id, "breach") == "breached"  # nothing on record proves the answer

    second = _alice_calls_again_and_a_person_presses_the_key(desk, first, minute=16)
    assert _callback_row(desk, second.id).outcome == "late"

    desk.clock.set(desk.t0 + timedelta(minutes=17))  # Twilio's word on the first callback's leg, at last
    _leg_status(desk, first, "in-progress", 90)
    _press_key(desk, first)  # its key press came late too
    desk.clock.set(desk.t0 + timedelta(minutes=17, seconds=20))  # a conversation after it (the minimum is from the key)
    _leg_status(desk, first, "completed", 16 * 60 + 10, CallDuration="880")

    answered = desk.t0 + timedelta(seconds=90) + TIMESTAMP_PRECISION  # the latest instant of Twilio's second
    assert _callback_row(desk, first.id).outcome == "met"
    with desk.hotline.db.session() as s:
        assert s.get(Incident, first.incident_id).callback_answered_at == answered
    facts = _facts(desk, first.incident_id)
    assert facts.answered_at == answered and facts.outcome == Outcome.MET and not facts.breached()
    assert {c.callback_id: c.answered_at for c in facts.callbacks} == {
        first.id: answered, second.id: desk.t0 + timedelta(minutes=16, seconds=20) + TIMESTAMP_PRECISION}


def test_a_key_press_in_time_is_the_answer_though_the_legs_status_comes_after_the_deadline(desk, network):
    """An outside probe's customer pressed the key 10 s before the deadline; the leg's status callbacks came 45 s
    late. The breach step ran between: managers were paged "BREACHED ... not answered yet" and the incident marked
    breached, of a callback the report then counted met. The key press proves a person, and the whisper's request
    before it that the answer came by then: met at once, at the whisper (the latest the answer can stand for), and the
    late status changes nothing."""
    callback = _alice_presses_2(desk, minutes=14)
    whispered = desk.t0 + timedelta(minutes=14, seconds=40)
    desk.clock.set(whispered)
    _whisper(desk, callback)
    desk.clock.set(desk.t0 + timedelta(minutes=14, seconds=50))
    _press_key(desk, callback)
    assert _callback(desk, callback.incident_id).outcome == "met"
    _at(desk, 15)
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"  # no breach, no manager paged
    with desk.hotline.db.session() as s:
        incident = s.get(Incident, callback.incident_id)
        assert incident.breached_at is None and incident.callback_answered_at == whispered
        breach_pages = list(s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "breach")))
    assert breach_pages == []
    desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=35))  # the leg's status, late, stamped at its answer
    _leg_status(desk, callback, "in-progress", 14 * 60 + 41)
    assert _callback(desk, callback.incident_id).answered_at == whispered
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome == Outcome.MET and facts.answered_at == whispered and not facts.breached()


def test_a_follow_up_callback_a_person_answers_is_on_record_and_the_first_answer_stands(desk, network):
    """The customer was reached at T+1:30; Alice calls them again at T+30 to work the problem. The second callback
    is stored as answered (after the deadline: 'late'), so the log says so too, and the incident's answer stays."""
    first = _alice_presses_2(desk, minutes=1)
    desk.clock.set(desk.t0 + timedelta(minutes=1, seconds=30))  # heard when stamped (never before it)
    _leg_status(desk, first, "in-progress", 90)
    desk.clock.set(desk.t0 + timedelta(minutes=1, seconds=36))
    _whisper(desk, first)
    _press_key(desk, first)
    desk.clock.set(desk.t0 + timedelta(minutes=5))
    _dial_done(desk, first, "completed", seconds="200")
    _leg_status(desk, first, "completed", 300, CallDuration="210")
    second = _alice_calls_again_and_a_person_presses_the_key(desk, first, minute=30)

    answered = desk.t0 + timedelta(seconds=90) + TIMESTAMP_PRECISION  # the latest instant of Twilio's second
    assert _callback_row(desk, first.id).outcome == "met" and _callback_row(desk, second.id).outcome == "late"
    with desk.hotline.db.session() as s:
        assert s.get(Incident, first.incident_id).callback_answered_at == answered
        kinds = [e.kind for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == first.incident_id, IncidentEvent.kind.like("callback_%")))]
    assert "callback_late" not in kinds  # the helpdesk is told of no missed callback: the customer was reached in time
    facts = _facts(desk, first.incident_id)
    assert facts.outcome == Outcome.MET and facts.answered_at == answered
    assert {c.callback_id: c.answered_at for c in facts.callbacks} == {
        first.id: answered, second.id: desk.t0 + timedelta(minutes=30, seconds=20) + TIMESTAMP_PRECISION}


def _alice_calls_again_and_a_person_presses_the_key(desk, first: Callback, minute: int) -> Callback:
    """At T+``minute`` Alice texts CALL again: a second callback of ``first``'s incident, whose customer leg Twilio
    answers at T+minute:20 and whose customer presses the key at T+minute:26. Returns the second callback."""
    with desk.hotline.db.session() as s:
        reference = s.get(Incident, first.incident_id).reference
    desk.clock.set(desk.t0 + timedelta(minutes=minute))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {reference}").get_data(as_text=True)
    _at(desk, minute)
    with desk.hotline.db.session() as s:
        second = s.scalars(select(Callback).where(Callback.incident_id == first.incident_id, Callback.id != first.id)).one()
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep?callback={second.id}", {
        "CallSid": second.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "AnsweredBy": "human"})
    desk.clock.set(desk.t0 + timedelta(minutes=minute, seconds=20))  # heard when stamped (never before it)
    _leg_status(desk, second, "in-progress", minute * 60 + 20)
    desk.clock.set(desk.t0 + timedelta(minutes=minute, seconds=21))
    _whisper(desk, second)
    desk.clock.set(desk.t0 + timedelta(minutes=minute, seconds=26))
    _press_key(desk, second)
    return second


def _callback_row(desk, callback_id: int) -> Callback:
    with desk.hotline.db.session() as s:
        return s.get(Callback, callback_id)


def test_an_answer_stamped_in_the_deadlines_own_second_is_late(desk, network):
    """Twilio's ``Timestamp`` names a whole second: an answer stamped with the second the deadline falls in may
    have come after it (the fault probe's answer 0.3 s late was counted as met), so it is never counted as met."""
    callback = _alice_presses_2(desk, minutes=14)
    with desk.hotline.db.session() as s:
        due = s.get(Incident, callback.incident_id).callback_due_at
    deadline_second = (due - desk.t0).total_seconds() // 1  # the deadline lies within this second after T0
    desk.clock.set(due + timedelta(seconds=1))
    _leg_status(desk, callback, "in-progress", deadline_second)
    _whisper(desk, callback)
    desk.clock.set(due + timedelta(seconds=3))
    _press_key(desk, callback)
    counted = _callback(desk, callback.incident_id)
    assert counted.answered_at > due and counted.outcome == "late"
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome == Outcome.LATE and facts.answered_at == counted.answered_at


def test_an_answer_by_the_deadline_whose_key_press_comes_after_it_is_never_alerted_as_a_breach(desk, network):
    """An outside probe's customer answered 0.6 s before the deadline (the leg's status on record) and pressed the
    key 2 s after it; the breach step ran between and paged the managers "BREACHED ... a callback is under way, not
    answered yet" of a callback the report then counted met. The breach now waits for the key press (at most
    ``KEY_PRESS_WAIT``), so nobody is alerted, and the report counts it met."""
    callback = _alice_presses_2(desk, minutes=14)
    desk.clock.set(desk.t0 + timedelta(minutes=14, seconds=59))
    _whisper(desk, callback)
    _leg_status(desk, callback, "in-progress", 14 * 60 + 59)  # answered, by Twilio's time, before the deadline
    _at(desk, 15 + 1 / 60)  # the breach step runs before the key press: it waits
    with desk.hotline.db.session() as s:
        step = s.scalars(select(DueStep).where(DueStep.incident_id == callback.incident_id,
                                               DueStep.kind == "breach")).one()
        assert (step.status, step.due_at) == ("pending", desk.clock.now() + timedelta(minutes=1))
        assert s.scalars(select(Page).where(Page.incident_id == callback.incident_id,
                                            Page.purpose == "breach")).all() == []
    desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=3))
    _press_key(desk, callback)
    _at(desk, 16 + 1 / 60)
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"
    with desk.hotline.db.session() as s:
        incident = s.get(Incident, callback.incident_id)
        assert incident.breached_at is None and incident.callback_answered_at <= incident.callback_due_at
        assert s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "breach")).all() == []
    assert _facts(desk, callback.incident_id).outcome == Outcome.MET


def test_an_answer_by_the_deadline_that_never_brings_the_key_press_is_a_breach_on_record_at_the_deadline(
        desk, network):
    """The same answer, then the leg ends with no key pressed (a voicemail greeting): the waiting breach step finds
    the callback over and alerts as ever, the breach on record at the deadline, not when the step ran."""
    callback = _alice_presses_2(desk, minutes=14)
    desk.clock.set(desk.t0 + timedelta(minutes=14, seconds=59))
    _whisper(desk, callback)
    _leg_status(desk, callback, "in-progress", 14 * 60 + 59)
    _at(desk, 15 + 1 / 60)
    desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=20))
    _leg_status(desk, callback, "completed", 15 * 60 + 20, CallDuration="21")
    _at(desk, 16 + 1 / 60)
    assert _step_outcome(desk, callback.incident_id, "breach") == "breached"
    with desk.hotline.db.session() as s:
        incident = s.get(Incident, callback.incident_id)
        assert incident.breached_at == incident.callback_due_at
        assert s.scalars(select(Page.to_number).where(Page.incident_id == incident.id,
                                                      Page.purpose == "breach")).all() != []
    assert _facts(desk, callback.incident_id).breached()


@pytest.mark.parametrize(("shift", "heard_minute"), [(-30, 4), (30, 14)])
def test_a_timestamp_outside_the_callbacks_time_here_counts_as_heard_and_says_the_clocks_disagree(
        desk, network, shift, heard_minute):
    """Outside probe (session 43): Twilio's ``Timestamp`` was taken at its word. One stamped 30 minutes early stood
    as met before the incident was reported ("called back in -20:12"; its negative minute then failed the compliance
    report for every range holding it); one answered 3.5 minutes before the deadline, stamped 30 minutes late, stood
    as late and breached. A stamp before the callback was asked for, or after it was heard, counts as heard."""
    callback = _alice_presses_2(desk, minutes=heard_minute)
    heard = desk.t0 + timedelta(minutes=heard_minute, seconds=10)
    desk.clock.set(heard)
    _whisper(desk, callback)
    _leg_status(desk, callback, "in-progress", (heard - desk.t0).total_seconds() + shift * 60)
    desk.clock.set(heard + timedelta(seconds=10))
    _press_key(desk, callback)
    desk.clock.set(heard + timedelta(seconds=70))
    _leg_status(desk, callback, "completed", (heard - desk.t0).total_seconds() + 70 + shift * 60, CallDuration="70")
    row = _callback_row(desk, callback.id)
    assert (row.outcome, row.answered_at) == ("met", heard)
    with desk.hotline.db.session() as s:
        said = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == callback.incident_id, IncidentEvent.kind == "twilio_clock_disagrees"))]
    assert [d["status"] for d in said] == ["in-progress", "completed"]
    assert said[0]["heard_at"] == heard.isoformat()
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome == Outcome.MET and facts.answered_at == heard and facts.seconds_to_callback > 0
    _at(desk, 16)
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"
    from tests.paging.test_spoofed_number_callback import _report_row  # it imports this module's helpers

    json_row, _csv = _report_row(desk, desk.incident(callback.incident_id).reference)
    assert (json_row["outcome"], json_row["breached"]) == ("met", False)
