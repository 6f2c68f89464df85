"""Issue 13: the intake hands a caller who may be connected live to the live-connect webhook (pure flow)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr_flows import FlowPolicy, IncidentInfo, LogEvent, Stage
from tests.unit.flow_driver import DE_CALLER, NOW, Call, run

LIVE = FlowPolicy(live_connect=True)
EN_TO_READBACK = [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Globex Corporation"), ("say", "Jane Doe"),
                  ("press", "1"), ("say", "jane at globex dot example"), ("press", "1"),
                  ("say", "All API calls fail."), ("record",)]
DE_TO_READBACK = [("press", "2"), *EN_TO_READBACK[1:6], ("say", "jane at globex punkt de"), ("press", "1"),
                  ("say", "Alle API-Aufrufe schlagen fehl."), ("record",)]


@pytest.mark.parametrize(("caller", "script", "goodbye"), [
    ("+12125550100", EN_TO_READBACK, "Goodbye"), (DE_CALLER, DE_TO_READBACK, "Auf Wiederhören")])
def test_a_saved_incident_hands_the_caller_to_the_live_offer_instead_of_the_goodbye(caller, script, goodbye):
    call = run(Call(caller_id=caller, policy=LIVE), [*script, ("press", "1")])
    step = call.saved("123456")
    assert step.reply.hand_over == ("live_connect", "123456") and not step.reply.hangup
    assert "1, 2, 3, 4, 5, 6" in call.said and goodbye not in call.said  # the reference is still given
    assert call.state.stage is Stage.DONE
    assert "live_connect_handed_over" in [e.kind for e in step.effects if isinstance(e, LogEvent)]


def test_live_connect_off_keeps_the_goodbye():
    call = run(Call(), [*EN_TO_READBACK, ("press", "1")])
    step = call.saved("123456")
    assert step.reply.hangup and step.reply.hand_over is None and call.said.endswith("Goodbye.")


def test_a_report_joined_to_an_open_incident_is_not_offered_live_connect():
    call = run(Call(policy=LIVE), [*EN_TO_READBACK, ("press", "1")])
    step = call.saved("123456", joined=True)
    assert step.reply.hangup and step.reply.hand_over is None


def test_a_silent_caller_is_not_asked_to_press_1():
    call = Call(policy=LIVE)
    for _ in range(40):
        if call.state.stage is Stage.SAVING:
            break
        call.silence() if call.state.stage is not Stage.RECORDING else call.record()
    step = call.saved("123456")
    assert step.reply.hangup and step.reply.hand_over is None


def test_a_repeat_caller_who_added_information_is_handed_over_too():
    due = NOW.replace(minute=27)
    call = Call(policy=LIVE, open_incident=IncidentInfo(reference="654321", callback_due_at=due))
    call.state = replace(call.state, stage=Stage.SAVING, incident=call.state.incident, verified="reference")
    step = call.saved("654321", due=due)
    assert step.reply.hand_over == ("live_connect", "654321") and "added" in call.said


def test_an_old_saved_state_without_the_setting_reads_as_off():
    call = run(Call(policy=LIVE), [("press", "1")])
    data = call.state.to_dict()
    del data["policy"]["live_connect"]
    from ivr_flows import CallState

    assert CallState.from_dict(data).policy.live_connect is False
