"""The token an intake's action URLs carry (probe Z2): the language always, the short answers that fit, bounded."""

from __future__ import annotations

from app.carried_answers import MAX_TOKEN, Carried, read, token
from app.logging_redact import redact
from ivr_flows.model import AffectedService, CallState, Captured, Lang, Stage

KEY = b"k" * 32
SID = "CA" + "1" * 32
ANSWERS = Captured(affected_service=AffectedService.SMTP, company="Müller Versand GmbH", contact_name="Jürgen Weiß",
                   callback_phone="+493012345678", callback_extension="42", email="j.weiss@mueller-versand.de",
                   ticket_number="4521", problem_text="Seit zehn Minuten schlagen alle SMTP-Einlieferungen fehl.",
                   recording_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1")


def _state(**captured) -> CallState:
    return CallState(stage=Stage.PROBLEM, lang=Lang.DE, captured=Captured(**{**ANSWERS.__dict__, **captured}))


def test_the_language_and_the_short_answers_come_back_for_the_call_they_were_made_for():
    carried = read(token(_state(), SID, KEY), SID, KEY)
    assert carried.lang is Lang.DE
    assert carried.captured == Captured(
        affected_service=AffectedService.SMTP, company="Müller Versand GmbH", contact_name="Jürgen Weiß",
        callback_phone="+493012345678", callback_extension="42", email="j.weiss@mueller-versand.de",
        ticket_number="4521", problem_text="Seit zehn Minuten schlagen alle SMTP-Einlieferungen fehl.")  # no recording
    assert Carried.from_record(carried.to_record()) == carried  # as the spool keeps it


def test_a_long_description_is_left_out_whole_and_the_token_stays_bounded():
    long = _state(problem_text="Alle Einlieferungen schlagen fehl. " * 40, company="Ä" * 200, contact_name="N" * 200)
    text = token(long, SID, KEY)
    assert len(text) <= MAX_TOKEN
    carried = read(text, SID, KEY)
    assert carried.captured.problem_text == ""  # never cut: the voicemail asks for it again
    assert carried.captured.company == "Ä" * 200 and carried.captured.callback_phone == "+493012345678"
    assert carried.captured.contact_name == ""  # no room left for it after the company (400 bytes)


def test_nothing_is_carried_before_the_caller_chose_a_language():
    assert token(CallState(stage=Stage.LANGUAGE), SID, KEY) == ""


def test_a_token_of_another_call_another_key_or_altered_reads_as_none():
    text = token(_state(), SID, KEY)
    assert read(text, "CA" + "2" * 32, KEY) is None
    assert read(text, SID, b"x" * 32) is None
    assert read(text[:30] + ("A" if text[30] != "A" else "B") + text[31:], SID, KEY) is None
    assert read("not*base64", SID, KEY) is None and read("", SID, KEY) is None
    assert read("A" * (MAX_TOKEN + 4), SID, KEY) is None


def test_the_access_log_line_keeps_no_token():
    line = f'"POST /twilio/voice/step?seq=7&token={token(_state(), SID, KEY)}&noinput=1 HTTP/1.1" 200'
    assert redact(line) == '"POST /twilio/voice/step?seq=7&token=[redacted]&noinput=1 HTTP/1.1" 200'
