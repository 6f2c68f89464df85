"""What the customer's receipt and acknowledgement SMS say: never a callback time already past, one or two segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Channel, Incident, Page
from app.services.page_urls import PageUrls
from app.settings import Settings

DUE = datetime(2026, 12, 3, 3, 15, tzinfo=UTC)
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")


def _body(purpose: str, language: str, created_at: datetime, number: str = "+14155550100",
          hotline: str = "+15005550006") -> str:
    incident = Incident(reference="123456", callback_due_at=DUE, language=language, callback_phone=number)
    page = Page(id=1, channel=Channel.SMS, purpose=purpose, role="customer", to_number=number, created_at=created_at)
    settings = Settings(public_base_url="https://hotline.example", twilio_number=hotline)
    return PageUrls(settings).request_for(page, incident).body


@pytest.mark.parametrize(("language", "number", "past"), [("en-US", "+14155550100", "by 19:15"),
                                                          ("de-DE", "+491701234567", "um 04:15")])
def test_an_acknowledgement_after_the_deadline_apologises_instead_of_naming_a_past_time(language, number, past):
    body = _body("ack_notice", language, DUE + timedelta(minutes=7), number)
    assert past not in body and "123456" in body
    assert ("sorry" in body) if language == "en-US" else ("Entschuldigung" in body)


@pytest.mark.parametrize(("language", "number", "time"), [("en-US", "+14155550100", "19:15 PST"),
                                                          ("de-DE", "+491701234567", "04:15 Uhr (MEZ)")])
@pytest.mark.parametrize("purpose", ["receipt", "ack_notice"])
def test_on_time_the_deadline_is_on_the_customers_clock_within_two_segments(language, number, time, purpose):
    body = _body(purpose, language, DUE - timedelta(minutes=14), number)
    assert time in body and "123456" in body
    assert set(body) <= GSM7 and len(body) <= 306, body


@pytest.mark.parametrize(("language", "number"), [("en-US", "+14155550100"), ("de-DE", "+491701234567")])
def test_an_acknowledgement_while_the_caller_still_talks_names_no_time_within_two_segments(language, number):
    """Issue 13's early opening: the deadline is provisional until the details are in; the receipt gives it."""
    from app.services.customer_text import ack_notice_sms

    body = ack_notice_sms("123456", DUE, "UTC", language, DUE - timedelta(minutes=14), in_call=True)
    assert "123456" in body and ":15" not in body and ("When your call ends" in body or "Wenn Ihr Anruf endet" in body)
    assert set(body) <= GSM7 and len(body) <= 306, body


@pytest.mark.parametrize(("language", "number", "time", "words"), [
    ("en-US", "+14155550100", "19:11 PST", ("tried to call you", "call you again", "reply to this SMS")),
    ("de-DE", "+491701234567", "04:11 Uhr (MEZ)", ("versucht, Sie", "rufen Sie wieder an", "Antwort auf diese SMS")),
])
@pytest.mark.parametrize("hotline", ["+15005550006", ""])
def test_a_missed_callback_says_when_from_which_number_and_how_to_reach_us_within_two_segments(
        language, number, time, words, hotline):
    body = _body("callback_missed", language, DUE - timedelta(minutes=4), number, hotline)
    assert time in body and "123456" in body and all(word in body for word in words), body
    assert (hotline in body) if hotline else "+" not in body
    assert set(body) <= GSM7 and len(body) <= 306, body


@pytest.mark.parametrize(("language", "number", "words"), [
    ("en-US", "+14155550100", ("we promised to call you back by 19:15 PST and have not reached you", "We are sorry",
                               "escalated to our managers", "call you as soon as possible", "reply to this SMS")),
    ("de-DE", "+491701234567", ("Wir haben Sie nicht wie versprochen bis 04:15 Uhr (MEZ) zurückgerufen",
                                "Entschuldigung", "an unsere Manager eskaliert", "ruft Sie schnellstmöglich an",
                                "Ergänzungen")),
])
@pytest.mark.parametrize("hotline", ["+15005550006", ""])
def test_the_breach_notice_apologises_for_the_promised_time_in_the_customers_language_within_two_segments(
        language, number, words, hotline):
    body = _body("breach_notice", language, DUE + timedelta(seconds=1), number, hotline)
    assert "123456" in body and all(word in body for word in words), body
    assert (f"unter {hotline}" if language == "de-DE" else f"call us on {hotline}") in body if hotline else (
        "+" not in body)
    assert set(body) <= GSM7 and len(body) <= 306, body


@pytest.mark.parametrize(("language", "number", "words"), [
    ("en-US", "+14155550100", ("we promised to call you back by 19:15 PST; our call ended too soon to talk it through",
                               "We are sorry", "escalated to our managers", "call you again as soon as possible")),
    ("de-DE", "+491701234567", ("Rückruf bis 04:15 Uhr (MEZ) war zu kurz",
                                "Entschuldigung", "an unsere Manager eskaliert", "ruft Sie schnellstmöglich wieder an")),
])
@pytest.mark.parametrize("hotline", ["+15005550006", ""])
def test_a_customer_who_answered_a_call_too_short_to_count_is_not_told_we_never_reached_them(
        language, number, words, hotline):
    """An outside probe's customer talked 4 seconds, then read "we ... have not reached you" at the breach."""
    from app.services.customer_text import breach_notice_sms

    body = breach_notice_sms("123456", DUE, "America/Los_Angeles" if language == "en-US" else "Europe/Berlin",
                             language, hotline, DUE, too_short=True)
    assert "123456" in body and all(word in body for word in words), body
    assert "have not reached" not in body and "nicht wie versprochen" not in body
    assert (f"unter {hotline}" if language == "de-DE" else f"call us on {hotline}") in body if hotline else (
        "+" not in body)
    assert set(body) <= GSM7 and len(body) <= 306, body
