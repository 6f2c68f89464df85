"""Live connect, edge cases found by an outside-in audit: whole calls through the signed webhooks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Incident, Rep
from app.services.acks import Actor, connect, resolve
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_live_connect import (
    _call,
    _callbacks,
    _events,
    _incident_id,
    _intake,
    _said,
    _sms_from,
    _step,
    _waits,
)

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")


def _resolve_by_manager(desk, incident_id: int) -> None:
    with desk.hotline.db.transaction() as s:
        maria = s.scalars(select(Rep).where(Rep.phone == MARIA)).one()
        answer = resolve(s, s.get(Incident, incident_id), Actor(maria.name, "dashboard", maria, True),
                         desk.clock.now(), reason="duplicate of an incident already being worked")
        assert answer.outcome == "resolved_by_manager"


def test_a_caller_waiting_when_a_manager_resolves_the_incident_is_not_promised_a_callback(desk, network):
    """Resolved: no page and no callback will come, so the caller leaves the queue at the next round and is told so."""
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    _step(desk, call, lambda c: c.press("1"))
    desk.at(seconds=90)
    assert not call.ended
    network.phone(CUSTOMER).expect_sms("was closed by our support team")  # in writing too: closed without their word
    _resolve_by_manager(desk, incident_id)
    desk.at(seconds=150)  # the next wait round (the first clip ends a minute after the "still in line" round)
    assert call.ended and call.prompt.kind == "hangup"
    heard = _said(call.prompt)
    assert heard.startswith("Our team has closed your incident, so nobody will call you back about it.")
    assert "We will call you back" not in heard
    [wait] = _waits(desk)
    assert wait.result == "leave" and wait.queue_seconds < 180  # not kept on hold until the wait limit
    ended = [e for e in _events(desk, incident_id) if e.kind == "live_wait_ended"]
    assert len(ended) == 1 and ended[0].detail["result"] == "leave"


def test_a_caller_who_presses_1_after_the_incident_was_resolved_is_not_promised_a_callback(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    offer = _intake(desk, call)
    assert "No engineer is free yet" in _said(offer)
    network.phone(CUSTOMER).expect_sms("was closed by our support team")  # in writing too: closed without their word
    _resolve_by_manager(desk, _incident_id(desk, call))
    end = _step(desk, call, lambda c: c.press("1"))
    assert end.kind == "hangup" and _said(end).startswith("Our team has closed your incident")
    assert _waits(desk) == []



def _bob_connects_from_the_dashboard(desk, incident_id: int) -> str:
    with desk.hotline.db.transaction() as s:
        bob = s.scalars(select(Rep).where(Rep.phone == BOB)).one()
        return connect(s, s.get(Incident, incident_id), Actor(bob.name, "dashboard", bob), desk.clock.now()).outcome


def _then_bob_takes_the_waiting_caller(desk, network, call, incident_id: int) -> None:
    bob = network.phone(BOB).expect_call(talk_seconds=60)
    network.phone(ALICE).expect_sms("took this incident over")
    desk.clock.advance(seconds=30)
    assert _bob_connects_from_the_dashboard(desk, incident_id) == "taken_over_and_connecting"
    desk.settle()
    first, second = _callbacks(desk)
    assert second.outcome == "met" and second.customer_call_sid == call.call_sid and call.ended
    assert f"[connected to {CUSTOMER}]" in bob.calls[-1].heard
    assert _waits(desk)[0].callback_id == second.id and _waits(desk)[0].result == "bridged"


def test_a_rep_who_hangs_up_during_the_intro_does_not_hold_the_waiting_caller_from_other_reps(desk, network):
    """Alice answers the hotline's call and hangs up before her <Dial><Queue>: nobody was dialled, so her callback
    ends (she is told the customer was NOT called) and Bob's Call takes the caller still waiting on the line."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    _step(desk, call, lambda c: c.press("1"))
    alice.expect_call(hang_up_at_dial=True).expect_sms("the customer was NOT called")
    desk.clock.advance(seconds=20)
    assert "Calling you now" in _sms_from(desk, ALICE, "CALL")
    desk.settle()
    assert "is waiting on the line" in alice.calls[-1].heard and "[connected to" not in alice.calls[-1].heard
    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert callback.outcome == "rep_not_reached" and wait.dequeued_at is None and not call.ended
    reached = [e for e in _events(desk, incident_id) if e.kind == "callback_rep_not_reached"]
    assert len(reached) == 1 and reached[0].detail["why"] == "rep_hung_up_before_dial"
    _then_bob_takes_the_waiting_caller(desk, network, call, incident_id)


def test_a_rep_who_presses_2_on_the_page_and_hangs_up_during_the_intro_does_not_hold_the_caller(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    _step(desk, call, lambda c: c.press("1"))  # waits; Alice is paged again by voice, Bob too, at 3:30
    alice.expect_call(press="2", hang_up_at_dial=True).expect_sms("the customer was NOT called")
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3, seconds=30)
    assert "[connected to" not in alice.calls[-1].heard
    [callback] = _callbacks(desk)
    assert callback.outcome == "rep_not_reached" and callback.rep_call_sid == alice.calls[-1].sid
    assert not call.ended
    _then_bob_takes_the_waiting_caller(desk, network, call, incident_id)
