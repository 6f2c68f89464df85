"""Live connect: the rep's ``<Dial><Queue>`` reports seconds, but nothing proves the caller was ever bridged.

Probe TS: the caller hung up while "connecting you now" played (no ``/twilio/live/bridging`` request), and Twilio
still reported the rep's ``<Dial>`` completed in 45 s, without ``DialBridged``. That duration counted the callback
met; the caller's ``QueueResult=hangup`` then withdrew it to pending, where nothing ever closed it: every CALL for the
incident was refused as "already calling" for 10 minutes, and the rep was thanked and asked the update interval for
a call that never happened. Whole calls through the signed webhooks (the scripted caller, the real app, the
simulated Twilio and its queues), both orders of the two end reports.
"""

from __future__ import annotations

import pytest

from tests.paging.conftest import ALICE
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_deadline_after_callback import _report_row
from tests.paging.test_live_connect import HOTLINE, _call, _callbacks, _events, _incident_id, _intake, _waits
from tests.paging.test_live_connect_hangup import HUNG_UP, _alice_ready

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")

NOT_CONNECTED = "The hotline has no record that you were connected to the customer. Dialling them now."
DIAL_SECONDS = 45  # what the probe's stand-in reported for a <Dial> whose caller was gone before the bridge


def _caller_waits_and_drops(desk, **drop):
    """A caller through the intake who presses 1 to wait and is gone before the bridge (``drop``: the simulated
    call's knob and when); the rep's <Dial> reports DIAL_SECONDS all the same. The call and its incident's id."""
    call = _call(desk)
    for knob, when in drop.items():
        setattr(call, knob, when)
    call.connecting_dial_seconds = DIAL_SECONDS
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()
    return call, incident_id


def _dial_done(network):
    return next(w for w in network.webhooks if "/twilio/live/dial-done" in w.url)


def _call_works_at_once(desk, network, customer, alice, incident_id: int) -> None:
    """Alice texts CALL right after: the hotline calls her and dials the customer, who answers: met then."""
    alice.expect_call()
    customer.expect_call(press="1", answered=True)
    desk.clock.advance(seconds=20)
    reference = desk.incident(incident_id).reference
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {reference}").get_data(as_text=True)
    desk.settle()
    first, second = _callbacks(desk)
    assert second.outcome == "met" and second.customer_call_sid != first.customer_call_sid
    assert customer.calls[-1].from_ == HOTLINE


@pytest.mark.parametrize("reported", ["first", "last"])  # the caller's <Enqueue action> before / after the rep's
def test_a_dial_with_seconds_but_no_bridge_counts_nothing_and_the_customer_is_dialled_out(desk, network, reported):
    customer, alice = _alice_ready(network)
    customer.expect_call(answer=False).expect_sms("tried to call you")
    call, incident_id = _caller_waits_and_drops(desk, hang_up_while_connecting=reported)

    dial = _dial_done(network)
    assert dial.params["DialCallDuration"] == str(DIAL_SECONDS) and "DialBridged" not in dial.params
    assert not any("/twilio/live/bridging" in w.url for w in network.webhooks)
    [wait] = _waits(desk)
    assert wait.dequeued_at is not None and wait.result == "hangup"
    # never met, not even for a moment; the rep is not thanked for a call that did not happen, and their leg dials
    # the customer out from the hotline number (unanswered here: the callback is closed as attempted)
    kinds = [e.kind for e in _events(desk, incident_id)]
    assert "callback_met" not in kinds and "callback_withdrawn" not in kinds and "updates_scheduled" not in kinds
    assert "update interval" not in dial.body and "<Number" in dial.body
    rep_leg = alice.calls[-1]
    assert (HUNG_UP if reported == "first" else NOT_CONNECTED) in rep_leg.heard
    assert "update interval" not in rep_leg.heard and "call with the customer has ended" not in rep_leg.heard
    [callback] = _callbacks(desk)
    assert callback.outcome == "attempted" and callback.answered_at is None and callback.ended_at is not None
    assert customer.calls[0].from_ == HOTLINE
    assert desk.incident(incident_id).callback_answered_at is None
    assert _report_row(desk)["outcome"] == "attempted"  # not met, nor "no callback"

    _call_works_at_once(desk, network, customer, alice, incident_id)


def test_a_bridge_counted_then_withdrawn_after_the_reps_dial_ended_is_closed_and_call_works(desk, network):
    """The caller heard "connecting you now" to its end (``/bridging`` counted the callback), then dropped before the
    bridge; the rep's ``<Dial>`` reported 45 s and the rep went on to the update-interval question; the caller's
    QueueResult=hangup came last. The answer is withdrawn, and with the rep's dial over nothing will dial the customer
    from that leg: the callback is closed as attempted, not left pending, and CALL works at once."""
    customer, alice = _alice_ready(network)
    call, incident_id = _caller_waits_and_drops(desk, drops_at_bridge="last")

    assert any("/twilio/live/bridging" in w.url for w in network.webhooks)  # counted at the bridge, as designed
    [wait] = _waits(desk)
    assert wait.result == "hangup"
    [callback] = _callbacks(desk)
    assert callback.outcome == "attempted" and callback.answered_at is None and callback.ended_at is not None
    withdrawn = next(e for e in _events(desk, incident_id) if e.kind == "callback_withdrawn")
    assert withdrawn.detail["rep_dial_over"] is True and withdrawn.detail["why"] == "queue_result_hangup"
    assert desk.incident(incident_id).callback_answered_at is None
    assert _report_row(desk)["outcome"] == "attempted"  # not met, nor "no callback"
    assert customer.calls == []

    _call_works_at_once(desk, network, customer, alice, incident_id)
