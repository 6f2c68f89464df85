"""Live connect: who Twilio's queue really connects, and how long a caller is held (whole calls, signed webhooks)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.paging.conftest import ALICE, BOB, CUSTOMER
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


def _two_callers_waiting(desk, network):
    """The caller who opened the incident waits on the line; a colleague calls again, adds to it and waits too."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    first = _call(desk)
    _intake(desk, first)
    incident_id = _incident_id(desk, first)
    reference = desk.incident(incident_id).reference
    _step(desk, first, lambda c: c.press("1"))
    second = _call(desk)
    second.dial()
    _step(desk, second, lambda c: c.press("1"))
    _step(desk, second, lambda c: c.press("1"))  # add information: key the reference first
    _step(desk, second, lambda c: c.press(reference))
    _step(desk, second, lambda c: c.say("Now SMTP fails as well."))
    alice.expect_sms('the customer called again and added: "Now SMTP fails as well."')  # the rep paged reads it
    assert "No engineer is free yet" in _said(_step(desk, second, lambda c: c.record(seconds=5)))
    _step(desk, second, lambda c: c.press("1"))
    in_line = network.queues.waiting(_waits(desk)[0].queue_name)
    assert [m.call for m in in_line] == [first, second]  # Twilio's queue: first in, first out
    return first, second, alice, incident_id, reference


def test_the_rep_leg_is_recorded_with_the_caller_twilio_takes_first_out_of_the_queue(desk, network):
    """Twilio's <Dial><Queue> connects the first caller in line: the callback and the wait rows say who that was."""
    first, second, alice, incident_id, reference = _two_callers_waiting(desk, network)
    alice.expect_call(talk_seconds=30)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {reference}")
    desk.settle()
    [callback] = _callbacks(desk)
    first_wait, second_wait = _waits(desk)
    assert callback.outcome == "met" and callback.customer_call_sid == first.call_sid and first.ended
    assert first_wait.result == "bridged" and first_wait.callback_id == callback.id
    assert first_wait.dequeued_at is not None and first_wait.dequeuing_call_sid == alice.calls[-1].sid
    assert second_wait.dequeued_at is None and second_wait.callback_id is None and not second.ended
    connecting = [e for e in _events(desk, incident_id) if e.kind == "live_connecting"]
    assert [e.call_sid for e in connecting] == [first.call_sid]
    assert connecting[0].detail["wait_id"] == first_wait.id and connecting[0].detail["callback_id"] == callback.id
    met = [e for e in _events(desk, incident_id) if e.kind == "callback_met"]
    assert len(met) == 1 and met[0].detail["live"] is True


def test_a_caller_twilio_takes_out_of_turn_is_the_one_recorded(desk, network):
    """The rows can disagree with Twilio's order (an <Enqueue> raced, a leg was lost): the <Queue url> request's own
    CallSid, the call Twilio really dequeued, decides which wait the callback is linked to."""
    first, second, alice, incident_id, reference = _two_callers_waiting(desk, network)
    queue = network.queues._members[_waits(desk)[0].queue_name]
    queue.reverse()  # Twilio holds the second caller first
    alice.expect_call(talk_seconds=30)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {reference}")
    desk.settle()
    [callback] = _callbacks(desk)
    first_wait, second_wait = _waits(desk)
    assert callback.outcome == "met" and callback.customer_call_sid == second.call_sid and second.ended
    assert second_wait.result == "bridged" and second_wait.callback_id == callback.id
    assert second_wait.dequeued_at is not None
    assert first_wait.dequeued_at is None and first_wait.callback_id is None


def test_the_wait_limit_holds_to_within_a_few_seconds(desk, network):
    """The hold clip lasts a minute: the caller still hears music each round, and leaves at the limit, not a clip later."""
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    _step(desk, call, lambda c: c.press("1"))
    [wait] = _waits(desk)
    limit = wait.enqueued_at + timedelta(minutes=5)  # LIVE_WAIT_MINUTES
    while desk.clock.now() < limit - timedelta(seconds=5):
        desk.clock.advance(seconds=1)
        desk.settle()
    assert not call.ended  # not sent away early either
    desk.clock.advance(seconds=8)
    desk.settle()
    assert call.ended and "No engineer could take your call yet. We will call you back by" in _said(call.prompt)
    [wait] = _waits(desk)
    assert wait.result == "leave" and 300 <= wait.queue_seconds <= 303
    plays = [line for who, line in call.transcript if who == "hotline" and line.startswith("[plays ")]
    assert len(plays) == 4  # whole clips at 0:00, 1:00, 2:08 and 3:16 (after "still in line"); not a fifth


def test_the_caller_left_in_line_after_the_rep_took_the_first_is_not_promised_a_callback(desk, network):
    """The callback is met with the first caller: the second leaves the queue at their next round, told the engineer
    has their team, never "we will call you back by" a time at which no callback will come."""
    first, second, alice, incident_id, reference = _two_callers_waiting(desk, network)
    alice.expect_call(talk_seconds=30)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {reference}")
    desk.settle()
    desk.clock.advance(seconds=90)  # the second caller's next wait round comes
    desk.settle()
    assert second.ended and second.prompt.kind == "hangup"
    heard = _said(second.prompt)
    assert heard.startswith("Your engineer has already reached your team about this incident")
    assert "call you back" not in heard
    _first_wait, second_wait = _waits(desk)
    assert second_wait.result == "leave" and second_wait.callback_id is None
    assert len(_callbacks(desk)) == 1
