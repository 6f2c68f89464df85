"""A caller caught mid-intake by a database outage keeps their language and answers (probe Z2).

The intake's TwiML carries the caller's language and short answers in its signed action URLs
(``app.carried_answers``). When the database cannot be reached, the emergency voicemail speaks only that language,
asks only for what is missing, and the spooled rescue carries the answers to the replayed incident. Before, every
such caller heard the bilingual voicemail asking for everything again. The web app is pointed at a database it
cannot reach (a closed PostgreSQL port, a SQLite file in a directory that does not exist), as the watchdog's replay
would find it afterwards.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin
from xml.etree import ElementTree

import pytest
from sqlalchemy import select, update

from app.models import CallSession, Incident, IncidentSource
from app.services.spool import replay
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.faults.test_status_callback_outage import _web_without_database

ASK_ALL_EN = ("After the tone, please say your company, your name, the number we should call back, "
              "and what is failing.")
ASK_ALL_DE = "Bitte nennen Sie nach dem Ton Ihre Firma, Ihren Namen, Ihre Rückrufnummer und was ausfällt."


def _call(client, caller: str = "+14155550123") -> SimulatedCall:
    return SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=caller)


def _spoken(call: SimulatedCall) -> list[tuple[str, str]]:
    """The last answer's <Say> lines: (language, text)."""
    root = ElementTree.fromstring(call.responses[-1])
    return [(say.get("language"), (say.text or "").strip()) for say in root.iter("Say")]


def _languages(call: SimulatedCall) -> set[str]:
    return {lang for lang, _text in _spoken(call)}


def _text(call: SimulatedCall) -> str:
    return " ".join(text for _lang, text in _spoken(call))


def _incident(hotline) -> Incident:
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        return incident


def _english_to_the_problem(call: SimulatedCall) -> None:
    """An English caller without a ticket gives company, name, callback number (the incident opens) and e-mail."""
    call.dial()
    call.press("1")  # English
    call.press("3")  # API and SMTP failing
    call.press("#")  # no ticket
    call.say("Acme Mail Inc")
    assert "call you back" in " ".join(call.say("Dana Smith").said)
    call.press("1")  # yes, this number
    call.say("dana dot smith at acme dot example")
    assert "describe the problem" in " ".join(call.press("1").said)


def _german_to_the_callback(call: SimulatedCall) -> None:
    """A German caller without a ticket gives company and name and is asked whether to call back their number."""
    call.dial()
    _german_to_the_callback_after_dial(call)


def _german_to_the_callback_after_dial(call: SimulatedCall) -> None:
    call.press("2")  # Deutsch
    call.say("beide")
    call.press("#")  # no ticket
    call.say("Müller Versand GmbH")
    assert "zurückrufen" in " ".join(call.say("Jürgen Weiß").said)


def test_an_english_caller_mid_intake_hears_english_only_and_is_asked_only_what_is_missing(hotline, client,
                                                                                           tmp_path):
    call = _call(client)
    _english_to_the_problem(call)
    with _web_without_database(hotline, tmp_path) as broken:
        call.transport = flask_transport(broken)
        prompt = call.say("Every API call times out since two o'clock.")  # the step meets the outage
        assert prompt.kind == "record"
        assert _languages(call) == {"en-US"}
        assert _text(call) == (
            "This is the Severity-1 hotline. We're sorry, we have a technical problem taking your details. We have "
            "what you told us so far. After the tone, please say what is failing. An engineer will call you back "
            "within 15 minutes.")
        end = call.record(seconds=40)
        assert end.kind == "hangup" and _languages(call) == {"en-US"}
        assert _text(call).startswith("Thank you. Your message is recorded.")

    assert replay(hotline.db, hotline.settings) == 3  # the rescue, the voicemail, the hang-up
    incident = _incident(hotline)  # opened mid-call with the callback number: the answers followed it
    assert (incident.company, incident.contact_name, incident.email) == (
        "Acme Mail Inc", "Dana Smith", "dana.smith@acme.example")
    assert incident.callback_phone == "+14155550123" and incident.language == "en-US"
    assert incident.recording_seconds == 40


def test_a_german_caller_mid_intake_hears_german_only_and_the_replay_keeps_their_answers(hotline, client,
                                                                                         tmp_path):
    call = _call(client, caller="+493012345678")
    call.dial()
    with hotline.db.session() as s:  # the call before any answer: what a lagging replica may come back with
        before = s.get(CallSession, call.call_sid).state
    _german_to_the_callback_after_dial(call)
    with _web_without_database(hotline, tmp_path) as broken:
        call.transport = flask_transport(broken)
        assert call.press("1").kind == "record"  # yes, this number: the step meets the outage
        assert _languages(call) == {"de-DE"}
        assert _text(call) == (
            "Hier ist die Severity-1-Hotline. Leider haben wir ein technisches Problem. Was Sie uns bisher gesagt "
            "haben, liegt uns vor. Bitte nennen Sie nach dem Ton Ihre Rückrufnummer und was ausfällt. Ein "
            "Techniker ruft Sie innerhalb von 15 Minuten zurück.")
        assert call.record(seconds=25).kind == "hangup"
        assert _languages(call) == {"de-DE"} and _text(call).startswith("Vielen Dank.")
    with hotline.db.transaction() as s:  # the database comes back without the call's answers (a failover)
        s.execute(update(CallSession).where(CallSession.call_sid == call.call_sid).values(state=before))

    assert replay(hotline.db, hotline.settings) == 3
    incident = _incident(hotline)
    assert incident.source == IncidentSource.RESCUED and incident.language == "de-DE"
    assert (incident.company, incident.contact_name, incident.affected_service) == (
        "Müller Versand GmbH", "Jürgen Weiß", "both")
    assert incident.callback_phone == "+493012345678" and incident.recording_seconds == 25
    assert incident.missing_fields == ["email", "problem"]


@pytest.mark.parametrize("tampering", ["altered", "another_calls"])
def test_a_token_that_does_not_verify_is_ignored_and_the_voicemail_is_bilingual(hotline, client, tmp_path,
                                                                                tampering):
    call = _call(client)
    _german_to_the_callback(call)
    action = call.prompt.action
    token = re.search(r"token=([\w-]+)", action).group(1)
    if tampering == "altered":  # the language flipped by hand: the mac no longer matches
        forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    else:  # a genuine token of another caller's English call
        other = _call(client, caller="+14155550177")
        _english_to_the_problem(other)
        forged = re.search(r"token=([\w-]+)", other.prompt.action).group(1)
    call.prompt.action = action.replace(token, forged)  # signed by Twilio as it is: only the token tells
    with _web_without_database(hotline, tmp_path) as broken:
        call.transport = flask_transport(broken)
        assert call.press("1").kind == "record"
        assert _languages(call) == {"en-US", "de-DE"}
        said = _text(call)
        assert ASK_ALL_EN in said and ASK_ALL_DE in said  # nothing taken as known
        assert "token" not in call.prompt.action  # nothing carried on to the voicemail's end
        assert call.record(seconds=10).kind == "hangup" and _languages(call) == {"en-US", "de-DE"}


def test_the_start_of_a_call_in_an_outage_stays_bilingual(hotline, tmp_path):
    with _web_without_database(hotline, tmp_path) as broken:
        call = _call(broken)
        assert call.dial().kind == "record"
        assert _languages(call) == {"en-US", "de-DE"}
        said = _text(call)
        assert ASK_ALL_EN in said and ASK_ALL_DE in said and "what you told us" not in said
        assert call.record(seconds=12).kind == "hangup" and _languages(call) == {"en-US", "de-DE"}


def test_the_fallback_url_reads_the_language_and_answers_of_the_url_that_failed(hotline, client):
    """Twilio's Fallback URL (our webhook failed: a dead web process) names the URL that failed (``ErrorUrl``)."""
    call = _call(client, caller="+493012345678")
    _german_to_the_callback(call)
    failed = urljoin(PUBLIC_BASE_URL + "/", call.prompt.action)
    assert call.fallback(error_url=failed).kind == "record"
    assert _languages(call) == {"de-DE"}
    assert "Bitte nennen Sie nach dem Ton Ihre Rückrufnummer und was ausfällt." in _text(call)
    assert call.record(seconds=8).kind == "hangup" and _languages(call) == {"de-DE"}
    incident = _incident(hotline)
    assert incident.source == IncidentSource.FALLBACK and incident.company == "Müller Versand GmbH"
