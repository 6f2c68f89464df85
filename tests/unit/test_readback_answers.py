"""A caller who says the read-back is wrong is never taken as confirming it; promises name only callable numbers."""

from __future__ import annotations

import pytest

from ivr_flows import Gathered, SaveIncident, Stage
from ivr_flows.answers import readback_choice, yes_no

from .flow_driver import Call, run

TO_READBACK = [
    ("press", "1"), ("press", "1"), ("press", "#"),  # English, API down, no ticket
    ("say", "Globex Corporation"), ("say", "Jane Doe"), ("press", "1"),
    ("say", "jane dot doe at globex dot com"), ("press", "1"),
    ("say", "Every API call returns 500"), ("record",),
]


@pytest.mark.parametrize("speech", [
    "that's not correct", "not right", "that is not right", "it isn't correct", "not quite right",
    "no that's not right", "das stimmt nicht", "nicht richtig", "das ist nicht korrekt",
])
def test_a_negated_yes_is_no_at_the_read_back_and_at_a_confirmation(speech):
    assert readback_choice(Gathered(speech=speech)) != "1"
    assert yes_no(Gathered(speech=speech)) is False


@pytest.mark.parametrize("speech", ["yes that's correct", "correct", "ja das stimmt", "right", "stimmt genau"])
def test_a_plain_yes_still_confirms(speech):
    assert readback_choice(Gathered(speech=speech)) == "1"
    assert yes_no(Gathered(speech=speech)) is True


@pytest.mark.parametrize(("lang", "speech", "which"), [
    ("1", "that's not correct", "Which detail should I correct?"),
    ("1", "no", "Which detail should I correct?"),
    ("2", "das stimmt nicht", "Welche Angabe soll ich korrigieren?"),
])
def test_a_caller_disputing_the_read_back_is_asked_what_to_correct_not_saved(lang, speech, which):
    script = [("press", lang), *TO_READBACK[1:]]
    call = run(Call(), script)
    assert call.stage is Stage.READBACK
    call.speak(speech)
    assert call.stage is Stage.READBACK and not call.effects(SaveIncident)
    assert call.said.startswith(which) and not call.logs("readback_confirmed")


def test_a_read_back_disputed_until_the_tries_run_out_is_saved_but_logged_as_disputed():
    call = run(Call(), TO_READBACK + [("say", "no"), ("say", "that's wrong"), ("say", "no it's not right")])
    assert call.stage is Stage.SAVING and call.effects(SaveIncident)  # never lose the caller
    assert call.logs("readback_disputed") and not call.logs("readback_confirmed") and not call.logs("readback_timeout")


@pytest.mark.parametrize("caller_id", ["+19005551234", "+447012345678"])
def test_a_caller_id_we_refused_is_not_promised_as_the_callback_number(caller_id):
    call = run(Call(caller_id=caller_id), [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Acme"),
                                           ("say", "Dana")])
    assert "can't call you back on it" in call.said
    run(call, [("press", "#")] * 3 + [("say", "dana at acme dot com"), ("press", "1"), ("say", "API down"),
                                      ("record",), ("press", "1")])
    call.saved()
    assert "the number you're calling from" not in call.said
    assert "reach you by e-mail" in call.said


def test_a_refused_caller_id_without_an_email_is_not_promised_a_call():
    call = run(Call(caller_id="+19005551234"), [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Acme"),
                                                ("say", "Dana"), *[("press", "#")] * 3, *[("silence",)] * 3,
                                                ("say", "API down"), ("record",), ("press", "1")])
    call.saved()
    assert "the number you're calling from" not in call.said


def test_that_isnt_correct_at_the_callback_question_asks_for_another_number_and_opens_nothing():
    call = run(Call(), [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Globex"), ("say", "Jane Doe")])
    assert call.stage is Stage.CALLBACK_CONFIRM
    call.speak("That isn't correct.")  # was heard as "correct": the wrong number confirmed, an incident opened
    assert call.stage is Stage.CALLBACK_ENTRY and not call.state.captured.callback_phone
    assert not call.logs("incident_opened_early")


@pytest.mark.parametrize(("caller_id", "closing"), [
    ("+79123456789", "please call again and give another number we can call back, or an e-mail address"),
    ("+19005551234", "please call again and give another number we can call back, or an e-mail address"),
    ("anonymous", "please call again from a phone that shows its number"),
])
def test_a_caller_left_with_no_contact_is_told_what_would_help_them(caller_id, closing):
    """An outside probe's caller from +7 (a country not called back), who gave no number and no e-mail address, was
    told to "call again from a phone that shows its number": theirs had shown, and calling again from it changes
    nothing. Only a withheld number is told that."""
    call = run(Call(caller_id=caller_id), [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Acme"),
                                           ("say", "Dana"), *[("press", "#")] * 3, *[("silence",)] * 3,
                                           ("say", "API down"), ("record",), ("press", "1")])
    call.saved()
    assert closing in call.said and "through your company's account" in call.said


@pytest.mark.parametrize(("caller_id", "lang", "closing"), [
    ("anonymous", "1", "so we have no way to reach you. Please call again from a phone that shows its number."),
    ("+79123456789", "1", "so we have no way to reach you. Please call again and give another number we can call "
                          "back, or an e-mail address."),
    ("anonymous", "2", "daher können wir Sie nicht erreichen. Bitte rufen Sie noch einmal von einem Telefon an, "
                       "das seine Nummer anzeigt."),
])
def test_a_caller_who_gave_nothing_is_promised_nothing_through_an_account_nobody_knows(caller_id, lang, closing):
    """An outside probe's withheld caller, silent at every question, was told "An engineer will try to reach you
    through your company's account" with no company, ticket or account known: nothing could keep that promise."""
    call = run(Call(caller_id=caller_id), [("press", lang), ("press", "1"), ("press", "#"), *[("silence",)] * 3,
                                           ("say", "Dana"), *[("press", "#")] * 3, *[("silence",)] * 3,
                                           ("say", "API down"), ("record",), ("press", "1")])
    assert not call.state.captured.company
    call.saved()
    assert closing in call.said
    assert "company's account" not in call.said and "Firmenkonto" not in call.said
