"""A caller who confirms their problem is not critical is told what to do instead, not taken back to the Sev-1 triage."""

from __future__ import annotations

import pytest

from ivr_flows import Stage
from ivr_flows.model import RecordNonCritical

from .flow_driver import Call, run


@pytest.mark.parametrize(("lang", "speech"), [
    ("1", "no, it's not critical"), ("1", "it's not critical"), ("1", "not critical, just a question"),
    ("2", "nein, nicht kritisch"), ("2", "es ist nicht kritisch"),
])
def test_not_critical_said_again_at_the_non_critical_menu_ends_the_call(lang, speech):
    call = run(Call(), [("press", lang), ("press", "9")])
    assert call.stage is Stage.NON_CRITICAL
    call.speak(speech)  # "critical" in it was taken as "continue as a critical outage"
    assert call.stage is Stage.DONE and call.steps[-1].reply.hangup
    assert call.said in ("Thank you for calling. Goodbye.", "Vielen Dank für Ihren Anruf. Auf Wiederhören.")
    assert len(call.effects(RecordNonCritical)) == 1  # counted once, as a non-critical contact


@pytest.mark.parametrize(("lang", "speech"), [("1", "it is critical"), ("1", "yes"), ("2", "doch, kritisch")])
def test_critical_after_all_still_continues(lang, speech):
    call = run(Call(), [("press", lang), ("press", "9")])
    call.speak(speech)
    assert call.stage is Stage.TRIAGE
