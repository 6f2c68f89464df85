"""Menus ask "press 1": a caller who says the digit instead ("one", or "1" as the recognizer writes it) is understood."""

from __future__ import annotations

import pytest

from ivr_flows import AffectedService, Gathered, Lang, SaveIncident, Stage
from ivr_flows.answers import language, readback_choice, service

from .flow_driver import Call, run


@pytest.mark.parametrize(("speech", "expected"), [
    ("1", AffectedService.API), ("one", AffectedService.API), ("One.", AffectedService.API),
    ("press 2", AffectedService.SMTP), ("three", AffectedService.BOTH), ("drei", AffectedService.BOTH),
    ("4.", AffectedService.OTHER), ("nine", "non_critical"), ("neun", "non_critical"),
])
def test_a_spoken_digit_at_triage_is_the_key(speech, expected):
    assert service(Gathered(speech=speech)) == expected


@pytest.mark.parametrize(("speech", "expected"), [("1", Lang.EN), ("2.", Lang.DE), ("Zwei.", Lang.DE)])
def test_a_spoken_digit_chooses_the_language(speech, expected):
    assert language(Gathered(speech=speech)) == expected


@pytest.mark.parametrize(("speech", "expected"), [
    ("1", "1"), ("one", "1"), ("Eins.", "1"), ("two", "2"), ("3", "3"), ("press four", "4"), ("fünf", "5"), ("6.", "6"),
])
def test_a_spoken_digit_at_the_read_back_is_the_key(speech, expected):
    assert readback_choice(Gathered(speech=speech)) == expected


@pytest.mark.parametrize("speech", ["one two", "415", "the API is down since one"])
def test_more_than_one_digit_or_a_sentence_is_not_a_key(speech):
    assert readback_choice(Gathered(speech=speech)) is None
    assert service(Gathered(speech=speech)) in (None, AffectedService.API)


@pytest.mark.parametrize(("lang", "triage", "confirm"), [("1", "one", "one"), ("2", "eins", "eins")])
def test_a_caller_who_says_the_digits_is_paged_early_and_saves_at_the_first_try(lang, triage, confirm):
    call = run(Call(), [("press", lang), ("say", triage)])
    assert call.stage is Stage.TICKET_ENTRY and "Sorry" not in call.said and "Entschuldigung" not in call.said
    assert call.state.captured.affected_service is AffectedService.API
    run(call, [("press", "#"), ("say", "Globex"), ("say", "Jane Doe"), ("press", "1"),
               ("say", "jane at globex dot com"), ("press", "1"), ("say", "Every API call fails"), ("record",)])
    assert call.stage is Stage.READBACK
    call.speak(confirm)
    assert call.stage is Stage.SAVING and len(call.effects(SaveIncident)) == 1


def test_a_non_critical_caller_who_says_one_continues_as_critical():
    call = run(Call(), [("press", "1"), ("press", "9")])
    assert call.stage is Stage.NON_CRITICAL
    call.speak("1")
    assert call.stage is Stage.TRIAGE


@pytest.mark.parametrize("speech", ["two", "2.", "zwei"])
def test_a_non_critical_caller_who_says_two_gets_the_text_message_not_a_goodbye(speech):
    from ivr_flows.model import RecordNonCritical

    call = run(Call(), [("press", "1"), ("press", "9")])
    call.speak(speech)
    assert call.stage is Stage.DONE
    assert RecordNonCritical(send_howto=True) in call.effects(RecordNonCritical)


@pytest.mark.parametrize(("speech", "stage"), [("one", Stage.REPEAT_VERIFY), ("2.", Stage.TRIAGE)])
def test_a_repeat_caller_who_says_the_digit_is_understood(speech, stage):
    from datetime import timedelta

    from ivr_flows import IncidentInfo

    from .flow_driver import NOW

    call = Call(open_incident=IncidentInfo(reference="123456", callback_due_at=NOW + timedelta(minutes=10)))
    call.press("1")
    assert call.stage is Stage.REPEAT_CALLER
    call.speak(speech)
    assert call.stage is stage
