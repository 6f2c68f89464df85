"""A caller who cannot give another callback number is promised a call on the number they call from: it is recorded."""

from __future__ import annotations

import pytest

from ivr_flows import SaveIncident, Stage

from .flow_driver import US_CALLER, Call, run

TO_CALLBACK = [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Globex"), ("say", "Jane Doe")]
TO_SAVE = [("say", "jane at globex dot com"), ("press", "1"), ("say", "Every API call fails"), ("record",)]


@pytest.mark.parametrize("tries", [
    [("press", "12345"), ("press", "12345"), ("press", "12345")],  # three numbers that are no numbers
    [("press", "2125550199"), ("press", "2"), ("press", "2125550198"), ("press", "2"),
     ("press", "2125550197"), ("press", "2")],  # each typed number heard back wrong
    [("press", "33123456789"), ("silence",), ("silence",)],  # a country we don't call back, then nothing
])
def test_a_caller_who_declined_the_caller_id_and_gave_no_other_number_is_called_back_on_it(tries):
    call = run(Call(), [*TO_CALLBACK, ("press", "2"), *tries])
    assert call.stage is Stage.EMAIL
    c = call.state.captured
    assert c.callback_phone == US_CALLER and "callback_phone" not in c.missing
    assert [e.detail for e in call.logs("field_unconfirmed")] == [{"field": "callback_phone"}]
    assert not call.logs("incident_opened_early")  # not confirmed: the incident opens at the end, as before
    run(call, TO_SAVE)
    assert call.stage is Stage.READBACK and "Callback number: plus 1, 2 1 2, 5 5 5, 0 1 0 0" in call.said
    call.press("1")
    (save,) = call.effects(SaveIncident)
    assert save.captured.callback_phone == US_CALLER
    call.saved("777000")
    assert "call you back on plus 1, 2 1 2, 5 5 5, 0 1 0 0 within 15 minutes" in call.said
    assert "We don't have a callback number" not in call.said


def test_a_withheld_caller_who_gives_no_number_still_has_none():
    call = run(Call(caller_id="anonymous"), [*TO_CALLBACK, ("press", "123"), ("press", "123"), ("press", "123")])
    assert call.stage is Stage.EMAIL
    assert call.state.captured.callback_phone == "" and "callback_phone" in call.state.captured.missing


def test_a_failed_correction_keeps_the_confirmed_number():
    call = run(Call(), [*TO_CALLBACK, ("press", "1"), *TO_SAVE, ("press", "4"),
                        ("press", "123"), ("press", "123"), ("press", "123")])
    assert call.stage is Stage.READBACK
    assert call.state.captured.callback_phone == US_CALLER and not call.logs("field_unconfirmed")


def test_silence_at_the_callback_number_is_silence_not_an_incomplete_number():
    """The keypad questions ask Twilio for an empty answer (actionOnEmptyResult): silence there arrives as one.
    At the callback number it was answered "That number can't be used ...: it isn't a complete phone number"."""
    call = run(Call(caller_id="anonymous"), TO_CALLBACK)
    assert call.stage is Stage.CALLBACK_ENTRY
    call.press("")  # Twilio's empty answer: silence, or a bare '#'
    assert call.said.startswith("Sorry, I didn't hear anything.") and "complete phone number" not in call.said
    assert call.stage is Stage.CALLBACK_ENTRY


def test_a_caller_silent_at_the_callback_number_and_the_email_is_taken_for_a_silent_caller():
    call = run(Call(caller_id="anonymous"), [*TO_CALLBACK, ("press", ""), ("press", ""), ("press", ""),
                                              ("silence",), ("silence",), ("silence",)])
    assert call.stage is Stage.RECORDING and call.logs("silent_caller_skipped")


def test_the_caller_hears_why_their_last_number_was_refused_and_which_number_will_ring():
    """An outside probe's caller asked for another number, had three refused, and went on to the e-mail question with
    no word of why the last one was refused nor that the number they call from would ring."""
    call = run(Call(), [*TO_CALLBACK, ("press", "2"), ("press", "12345"), ("press", "12345")])
    call.press("33123456789")  # the third: a country we don't call back
    assert call.stage is Stage.EMAIL
    said = call.said
    refused = "That number can't be used for a callback: we don't call back to that country."
    instead = ("We'll call you back on the number you're calling from instead. You can change it when I read your "
               "details back.")
    assert said.index(refused) < said.index(instead) < said.index("e-mail")


def test_a_german_caller_hears_it_in_german():
    call = run(Call(), [("press", "2"), ("press", "1"), ("press", "#"), ("say", "Globex"), ("say", "Jana Doe"),
                        ("press", "2"), ("press", "12345"), ("press", "12345"), ("press", "12345")])
    assert call.stage is Stage.EMAIL
    assert "Wir rufen Sie stattdessen unter der Nummer zurück, von der Sie anrufen." in call.said
