"""A company or name that is only a hesitation ("Uh.", "Ähm") is asked again, not recorded as the detail."""

from __future__ import annotations

import pytest

from ivr_flows import Stage

from .flow_driver import Call, run

TO_COMPANY = [("press", "1"), ("press", "1"), ("press", "#")]


@pytest.mark.parametrize("speech", ["Uh.", "Um", "Hmm.", "uh huh", "Ähm.", "Äh, öhm"])
def test_a_hesitation_is_no_company(speech):
    call = run(Call(), TO_COMPANY)
    assert call.stage is Stage.COMPANY
    call.speak(speech)
    assert call.stage is Stage.COMPANY and call.said.startswith("Sorry, I didn't get that.")
    assert call.state.captured.company == ""
    call.speak("Acme Mail")
    assert call.stage is Stage.CONTACT_NAME and call.state.captured.company == "Acme Mail"


def test_a_company_given_only_as_hesitations_is_marked_missing():
    call = run(Call(), [*TO_COMPANY, ("say", "Uh."), ("say", "Hmm."), ("say", "Um")])
    assert call.stage is Stage.CONTACT_NAME
    assert call.state.captured.company == "" and "company" in call.state.captured.missing


@pytest.mark.parametrize("speech", ["Uhm Acme", "Hm Software GmbH", "Ahmed Khan", "HM", "MM"])
def test_a_name_with_a_hesitation_in_it_is_kept(speech):
    call = run(Call(), TO_COMPANY)
    call.speak(speech)
    assert call.stage is Stage.CONTACT_NAME and call.state.captured.company == speech
