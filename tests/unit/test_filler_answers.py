"""A company or name that is only a hesitation ("Uh.", "Ähm") or a bare yes or no ("Yes.", "Ja, bitte.") is asked
again, not recorded as the detail."""

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


@pytest.mark.parametrize("speech", ["Yes.", "okay", "Yeah, that's right.", "Yes please", "No.", "Ja, bitte.", "Genau.",
                                    "uh, yes", "OK thank you"])
def test_a_bare_yes_or_no_is_no_company_and_no_name(speech):
    """Outside probe (session 43): a caller answered "yes" to the company and the name questions right after "I found
    your ticket", and the page to the rep read "SEV1 230835 yes: SMTP injection failing"."""
    call = run(Call(), TO_COMPANY)
    call.speak(speech)
    assert call.stage is Stage.COMPANY and call.said.startswith("Sorry, I didn't get that.")
    assert call.state.captured.company == ""
    call.speak("Initech")
    assert call.stage is Stage.CONTACT_NAME and call.state.captured.company == "Initech"
    call.speak(speech)
    assert call.stage is Stage.CONTACT_NAME and call.state.captured.contact_name == ""
    call.speak("Peter Gibbons")
    assert call.state.captured.contact_name == "Peter Gibbons"


@pytest.mark.parametrize("speech", ["Yes Bank", "Nein Software GmbH", "Sure Mail Inc", "Wright", "Richter"])
def test_a_company_or_name_with_a_yes_word_in_it_is_kept(speech):
    call = run(Call(), TO_COMPANY)
    call.speak(speech)
    assert call.stage is Stage.CONTACT_NAME and call.state.captured.company == speech
