"""Live connect: the caller hangs up on hold or during "connecting you now", before the rep is connected to them.

Whole calls through the signed webhooks: the scripted caller, the real app, the simulated Twilio and its queues.
Nobody was reached, so nothing may count as the callback: the rep is told the caller hung up and the hotline dials
the customer back (who must press a key, as for any callback), the 15-minute deadline stays pending, and the board
says the customer was not reached.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import DueStep
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_live_connect import (
    HOTLINE,
    _call,
    _callbacks,
    _events,
    _incident_id,
    _intake,
    _waits,
)

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")

HUNG_UP = "The customer hung up before you were connected. Dialling them back now."


def _alice_ready(network):
    """Alice acknowledges by SMS while the caller is still in the intake: the caller hears "an engineer is ready"."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=60)  # the hotline calls her for the live connect
    return customer, alice


def _breach_step(desk, incident_id: int) -> DueStep:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep).where(DueStep.incident_id == incident_id, DueStep.kind == "breach")).one()


@pytest.mark.parametrize("reported", ["first", "last"])  # the caller's <Enqueue action> before / after the rep's
def test_a_caller_who_hangs_up_during_connecting_is_not_counted_and_is_dialled_back(desk, network, client, reported):
    customer, alice = _alice_ready(network)
    customer.expect_call(answer=False).expect_sms("tried to call you")
    call = _call(desk)
    call.hang_up_while_connecting = reported  # Twilio still reports the rep's <Dial> completed (0 s)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()

    heard = [line for who, line in call.transcript if who == "hotline"]
    assert heard[-1] == "Connecting you to your engineer now." and call.ended
    [wait] = _waits(desk)
    assert wait.dequeued_at is not None and wait.result == "hangup"
    dial = next(w for w in network.webhooks if "/twilio/live/dial-done" in w.url)
    assert dial.params["DialCallStatus"] == "completed" and dial.params["DialCallDuration"] == "0"

    # nobody was reached: the callback is not met, the customer is dialled back from the hotline number
    [callback] = _callbacks(desk)
    assert callback.outcome == "attempted" and callback.answered_at is None and callback.person_confirmed_at is None
    incident = desk.incident(incident_id)
    assert incident.callback_answered_at is None and incident.breached_at is None
    assert "callback_met" not in [e.kind for e in _events(desk, incident_id)]
    rep_leg = alice.calls[-1]
    assert "waiting on the line" in rep_leg.heard and HUNG_UP in rep_leg.heard
    assert "update interval" not in rep_leg.heard  # never thanked for a call that did not happen
    [dialled_back] = customer.calls
    assert dialled_back.from_ == HOTLINE

    # the promise is still owed: the breach step waits for the deadline, and the board says not reached
    breach = _breach_step(desk, incident_id)
    assert breach.status == "pending" and breach.due_at == incident.callback_due_at
    login_as(client, desk.hotline)
    row = parse(client.get("/board")).find("tr", id=f"inc-{incident.reference}")
    state = row.find(cls="state").text()
    assert "the customer was not reached" in state and "Called back" not in state


def test_a_caller_who_hangs_up_during_connecting_and_answers_the_dial_back_is_met_then(desk, network):
    customer, alice = _alice_ready(network)
    customer.expect_call(press="1", answered=True)
    call = _call(desk)
    call.hang_up_while_connecting = "first"
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    call.press("1")
    desk.settle()
    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.customer_call_sid != call.call_sid  # the dial-back, not the hold
    assert "Press any key to speak with our support team" in customer.calls[0].heard  # the proof of a person
    assert HUNG_UP in alice.calls[-1].heard and f"[connected to {CUSTOMER}]" in alice.calls[-1].heard
    assert desk.incident(incident_id).callback_answered_at == callback.answered_at


def test_a_caller_who_hangs_up_on_hold_before_the_rep_answers_is_dialled_back_and_the_rep_told(desk, network):
    customer, alice = _alice_ready(network)
    customer.expect_call(press="1", answered=True)
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"  # "please hold: we are calling your engineer now"
    call.hang_up()  # before the hotline's call to Alice is even placed
    desk.settle()
    [wait] = _waits(desk)
    assert wait.result == "hangup" and wait.dequeued_at is None
    [callback] = _callbacks(desk)
    rep_leg = alice.calls[-1]
    assert HUNG_UP in rep_leg.heard and "waiting on the line" not in rep_leg.heard
    assert "Press any key to speak with our support team" in customer.calls[0].heard
    assert callback.outcome == "met" and callback.customer_call_sid != call.call_sid
    met = next(e for e in _events(desk, incident_id) if e.kind == "callback_met")
    assert not met.detail.get("live")  # counted by the customer's key press on the dial-back, not by the hold
