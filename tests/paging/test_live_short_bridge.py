"""Live connect: a bridge with the caller waiting on the line that lasted less than the minimum conversation
(callbacks.MIN_CONVERSATION_SECONDS) is no callback, as a short bridged callback is none (test_short_bridge.py).

Whole calls through the signed webhooks: the scripted caller waits on the line, Alice (who acknowledged) is called
and her ``<Dial><Queue>`` takes the caller; Twilio's two end reports (the caller's ``<Enqueue action>``, the rep's
``<Dial action>`` with its ``DialCallDuration``) come in either order.
"""

from __future__ import annotations

import pytest

from app.reports.facts import IncidentFacts, Outcome
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_live_connect import _call, _callbacks, _events, _incident_id, _intake, _waits
from tests.paging.test_short_bridge import TOO_SHORT

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")


def _live_call(desk, network, talk_seconds: int, reported: str = "first", rep_presses: str | None = None):
    """Alice acknowledges by SMS; the caller presses 1 at the offer, waits, and talks ``talk_seconds`` with her."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=talk_seconds, press=rep_presses)
    call = _call(desk)
    call.bridge_end_reported = reported
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()
    return incident_id, alice


@pytest.mark.parametrize("reported", ["first", "last"])  # the caller's <Enqueue action> before / after the rep's
def test_a_three_second_live_bridge_is_not_met_and_the_rep_is_told(desk, network, reported):
    """Counted when Twilio bridged them, withdrawn when the rep's ``<Dial action>`` says 3 seconds: not met on the
    row, the incident or the log the report reads (whichever end report came last); Alice hears the customer is
    still owed a callback and is not asked for an update interval; the deadline then breaches."""
    incident_id, alice = _live_call(desk, network, 3, reported)

    [wait] = _waits(desk)
    assert wait.result == "bridged"  # they were connected, for 3 seconds
    [callback] = _callbacks(desk)
    assert callback.outcome == "attempted" and callback.answered_at is None and callback.person_confirmed_at is None
    incident = desk.incident(incident_id)
    assert incident.callback_answered_at is None
    events = _events(desk, incident_id)
    kinds = [e.kind for e in events]
    assert kinds.index("callback_met") < kinds.index("callback_withdrawn")
    assert kinds.count("callback_met") == 1  # the later end report did not count it again
    withdrawn = next(e for e in events if e.kind == "callback_withdrawn")
    assert withdrawn.detail["why"] == "bridge_too_short" and withdrawn.detail["dial_seconds"] == "3"
    assert withdrawn.detail["live"] is True
    facts = IncidentFacts.from_events(events)
    assert facts.outcome != Outcome.MET and facts.answered_at is None
    heard = alice.calls[-1].heard
    assert TOO_SHORT in heard and "update interval" not in heard

    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    # the at-risk step, run at the deadline after a callback that did not count, tells Alice it was breached
    alice.expect_sms("BREACHED, the customer answered a callback, too short to count")
    network.phone(CUSTOMER).expect_sms("our call ended too soon to talk it through")  # the core's breach, as for a customer never reached
    desk.clock.set(incident.callback_due_at)
    desk.settle()
    assert desk.incident(incident_id).breached_at == incident.callback_due_at


def test_a_rep_who_hangs_up_first_on_a_three_second_live_bridge_is_texted_not_spoken_to(desk, network):
    """The same 3 s, but Alice hangs up first: her ``<Dial action>`` comes for a leg already over, so the withdrawal
    is told to her by one SMS (any other, or a second, fails the test), not by a voice she cannot hear."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=3, hangs_up_first=True)
    alice.expect_sms("too short to count as the callback")
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()

    [callback] = _callbacks(desk)
    assert callback.outcome == "attempted" and desk.incident(incident_id).callback_answered_at is None
    withdrawn = [e for e in _events(desk, incident_id) if e.kind == "callback_withdrawn"]
    # withdrawn by whichever end report came first: the rep's (her leg over) or the caller's (the bridge's length)
    assert [(e.detail["why"], e.detail["live"]) for e in withdrawn] == [("bridge_too_short", True)]
    assert withdrawn[0].detail.get("rep_hung_up") or withdrawn[0].detail.get("seen_by") == "caller_queue_end"
    assert TOO_SHORT not in alice.calls[-1].heard and alice.unmet == []


def test_a_minute_long_live_bridge_is_met_as_before(desk, network):
    """The conversation a callback is for: met when Twilio bridged them, and Alice is asked for the update interval."""
    incident_id, alice = _live_call(desk, network, 60)

    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.answered_at is not None
    assert desk.incident(incident_id).callback_answered_at == callback.answered_at
    events = _events(desk, incident_id)
    assert "callback_withdrawn" not in [e.kind for e in events]
    assert IncidentFacts.from_events(events).outcome == Outcome.MET
    heard = alice.calls[-1].heard
    assert "update interval" in heard and TOO_SHORT not in heard


def test_the_rep_presses_1_after_a_short_live_bridge_and_the_customer_is_dialled_out(desk, network):
    """The caller is gone after the 3-second bridge: Alice's 1 dials their number, they press the key and talk, and
    that second call is the callback, met at its answer."""
    network.phone(CUSTOMER).expect_call(press="1", talk_seconds=120)
    incident_id, alice = _live_call(desk, network, 3, rep_presses="1")

    first, second = _callbacks(desk)
    assert first.outcome == "attempted" and first.answered_at is None
    assert second.outcome == "met" and second.answered_at is not None
    assert desk.incident(incident_id).callback_answered_at == second.answered_at
    facts = IncidentFacts.from_events(_events(desk, incident_id))
    assert facts.outcome == Outcome.MET and facts.answered_at == second.answered_at
    heard = alice.calls[-1].heard
    assert TOO_SHORT in heard and f"[connected to {CUSTOMER}]" in heard and "update interval" in heard


def test_a_three_second_live_bridge_whose_rep_dial_action_is_lost_is_not_met(desk, network):
    """An outside probe's 4-second live bridge whose rep's ``<Dial action>`` never came stood as met (its CSV: met,
    12.1 s): the caller's own CallDuration holds the intake and the queue too. The caller's ``<Enqueue action>``,
    which Twilio requests once both have hung up, gives the bridge's length from its answer: withdrawn."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=4)
    call = _call(desk)
    call.bridge_end_reported = "first"
    lost = []
    real = network.transport

    def transport(url, params, headers):
        if "/twilio/live/dial-done" in url:
            lost.append(url)
            return 502, "Bad Gateway"  # the app never saw it
        return real(url, params, headers)

    network.transport, network.strict = transport, False
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()

    assert lost  # the rep's <Dial action> never reached the app
    [callback] = _callbacks(desk)
    assert callback.outcome == "attempted" and desk.incident(incident_id).callback_answered_at is None
    [withdrawn] = [e for e in _events(desk, incident_id) if e.kind == "callback_withdrawn"]
    assert (withdrawn.detail["why"], withdrawn.detail["seen_by"], withdrawn.detail["dial_seconds"]) == (
        "bridge_too_short", "caller_queue_end", "4")
    assert IncidentFacts.from_events(_events(desk, incident_id)).outcome != Outcome.MET
