"""How the TAM target reaches an account's TAM (``oncall.tam_target``, the one place it is decided).

In their business hours by phone on the policy's channels; outside them, or with no TAM phone, by e-mail to
``tam_email`` (it wakes nobody); with neither, nobody.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Account, Incident
from app.models.paging import TAM_ROLE
from app.oncall.contactable import TEXTED_NO_EMAIL
from app.services.oncall import tam_may_call, tam_target
from app.services.tam_mail import AFTER_HOURS, NO_PHONE, tam_email

THURSDAY_0300 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # noon in Tokyo, 22:00 on Wednesday in New York
PHONE, EMAIL_ADDRESS = "+14155550144", "terry@globex.example"


def _incident(language: str = "en-US") -> Incident:
    due = THURSDAY_0300 + timedelta(minutes=15)
    return Incident(reference="375351", company="Globex Mailers", affected_service="smtp", callback_phone="",
                    email="hank@globex.example", callback_due_at=due, captured_at=THURSDAY_0300, language=language)


def _account(zone: str, phone: str = PHONE, email: str = EMAIL_ADDRESS) -> Account:
    return Account(id=7, name="Globex Mailers", tam_name="Terry TAM", tam_phone=phone, tam_email=email,
                   tam_time_zone=zone, tam_business_hours="mon-fri 09:00-17:00")


def _reached(account: Account | None, channels: list[str] | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(who.phone, who.email, who.channels) for who in tam_target(account, THURSDAY_0300, channels)
            if who.role == TAM_ROLE and who.name == "Terry TAM"]


def test_in_business_hours_the_tam_is_paged_on_their_phone_by_the_targets_channels():
    assert _reached(_account("Asia/Tokyo"), ["sms"]) == [(PHONE, "", ("sms",))]
    assert _reached(_account("Asia/Tokyo")) == [(PHONE, "", ("sms", "voice"))]


def test_outside_business_hours_the_tam_is_emailed_whatever_channels_the_target_names():
    assert _reached(_account("America/New_York"), ["sms", "voice"]) == [("", EMAIL_ADDRESS, ("email",))]


def test_with_no_tam_phone_the_tam_is_emailed_even_in_business_hours():
    assert _reached(_account("Asia/Tokyo", phone=""), ["sms"]) == [("", EMAIL_ADDRESS, ("email",))]


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_with_neither_phone_nor_address_nobody_is_reached(zone):
    assert _reached(_account(zone, phone="", email="")) == []
    assert tam_target(None, THURSDAY_0300, ["sms"]) == []


@pytest.mark.parametrize("channels", [None, ["sms"], ["voice"], ["sms", "voice"]])
def test_outside_business_hours_with_no_address_the_tam_is_texted_never_rung(channels):
    # probe A F7: the TAM with a phone but no e-mail heard nothing of their account's Sev-1s at night
    [who] = tam_target(_account("America/New_York", email=""), THURSDAY_0300, channels)
    assert (who.phone, who.email, who.channels, who.why) == (PHONE, "", ("sms",), TEXTED_NO_EMAIL)
    assert not tam_may_call(_account("America/New_York", email=""), THURSDAY_0300)
    assert tam_may_call(_account("Asia/Tokyo", email=""), THURSDAY_0300)


def test_the_email_says_what_the_text_says_why_it_came_in_writing_and_that_nothing_is_asked():
    incident = _incident()
    subject, body = tam_email(incident, "page", THURSDAY_0300, why=AFTER_HOURS, hours="mon-fri 09:00-17:00",
                              zone="America/New_York")
    assert subject == (f"SEV1 {incident.reference} Globex Mailers: Severity 1 incident (for your information, "
                       "nothing to do)")
    assert body.startswith(f"SEV1 {incident.reference} Globex Mailers: ")
    assert "For your information as the account's TAM" in body and "EST" in body
    assert "outside your business hours (mon-fri 09:00-17:00, America/New_York)" in body
    assert "You need do nothing" in body and "Reply ACK" not in body and "/ack/" not in body
    assert "Sie müssen" not in body  # an English caller: English only
    _subject, no_phone = tam_email(incident, "breach", THURSDAY_0300, why=NO_PHONE, hours="", zone="UTC")
    assert "BREACHED" in no_phone and "no phone number is on file for you" in no_phone


def test_a_german_callers_incident_is_told_to_the_tam_in_english_and_then_in_german():
    incident = _incident("de-DE")
    _subject, body = tam_email(incident, "at_risk", THURSDAY_0300, why=AFTER_HOURS, hours="mon-fri 09:00-17:00",
                               zone="Europe/Berlin")
    english, german = body.split("\n\n-----\n\n")
    assert "AT RISK" in english and "outside your business hours" in english
    assert "GEFÄHRDET" in german and "außerhalb Ihrer Geschäftszeiten (mon-fri 09:00-17:00, Europe/Berlin)" in german
    assert "Sie müssen nichts tun" in german


def test_a_page_leaving_after_the_resolution_says_in_both_languages_when_it_was_opened_and_resolved():
    incident = _incident("de-DE")
    incident.received_at = THURSDAY_0300 - timedelta(minutes=2)
    subject, body = tam_email(incident, "page", THURSDAY_0300 + timedelta(minutes=40), why=AFTER_HOURS,
                              hours="mon-fri 09:00-17:00", zone="Europe/Berlin",
                              resolved_at=THURSDAY_0300 + timedelta(minutes=30))
    assert subject.endswith(": Severity 1 incident, resolved (for your information, nothing to do)")
    english, german = body.split("\n\n-----\n\n")
    assert "was opened at 2026-11-26 03:58 CET and resolved at 2026-11-26 04:30 CET. You need not reply." in english
    assert "You need do nothing: the incident is resolved." in english and "paged" not in english
    assert "wurde um 2026-11-26 03:58 CET eröffnet und um 2026-11-26 04:30 CET gelöst. Sie müssen nicht antworten." in german
    assert "Sie müssen nichts tun: Der Vorfall ist gelöst." in german and "alarmiert" not in german
