"""What the notices of a close the customer never agreed to in writing tell them to send, and that the inbound SMS
parser reads exactly that as a NO naming the incident: within REOPEN_WINDOW_DAYS it reopens it (``reopen``), and the
notice says so, in both languages, within two GSM-7 segments. The e-mail versions say to call: nothing reads a reply
to the hotline's e-mails, and a NO reopens only from the incident's number by SMS."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from app.escalation.decide import AGREED_CLOSING_NOTICE, CLOSING_NOTICE
from app.models import Channel, Incident, Page
from app.services import customer_text
from app.services.customer_sms import REFERENCE, answer_word
from app.services.page_urls import PageUrls
from app.settings import Settings

CLOSED = datetime(2026, 12, 8, 4, 58, tzinfo=UTC)  # 11:58 p.m. EST
NY, DE_MOBILE = "+12125550142", "+491701234567"
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
# the reply a notice asks for: "reply NO 123456" / "antworten Sie [innerhalb von 7 Tagen] NEIN 123456"
ASKED = re.compile(r"(?:reply|antworten Sie(?: innerhalb (?:von \d+ Tagen|eines Tages))?) ((?:NO|NEIN) \d{6})")


def _notice(purpose: str, language: str, hotline: str, days: int) -> str:
    phone = NY if language == "en-US" else DE_MOBILE
    incident = Incident(reference="123456", callback_due_at=CLOSED, language=language, callback_phone=phone)
    page = Page(id=1, channel=Channel.SMS, purpose=purpose, role="customer", to_number=phone, created_at=CLOSED)
    settings = Settings(public_base_url="https://hotline.example", twilio_number=hotline, reopen_window_days=days)
    return PageUrls(settings).request_for(page, incident).body


@pytest.mark.parametrize("purpose", [CLOSING_NOTICE, AGREED_CLOSING_NOTICE])
@pytest.mark.parametrize(("language", "days", "within"), [
    ("en-US", 7, "reply NO 123456 within 7 days to reopen it"),
    ("en-US", 1, "reply NO 123456 within 1 day to reopen it"),
    ("en-US", 90, "reply NO 123456 within 90 days to reopen it"),
    ("de-DE", 7, "antworten Sie innerhalb von 7 Tagen NEIN 123456, um ihn wieder zu öffnen"),
    ("de-DE", 1, "antworten Sie innerhalb eines Tages NEIN 123456, um ihn wieder zu öffnen"),
])
@pytest.mark.parametrize("hotline", ["+15005550006", "+861065529988123", ""])
def test_a_notice_asks_for_the_reply_that_reopens_it_and_how_long(purpose, language, days, within, hotline):
    body = _notice(purpose, language, hotline, days)
    assert within in body, body
    assert "reply to this SMS" not in body and "antworten Sie auf diese SMS" not in body
    assert (hotline in body) if hotline else "+" not in body
    [asked] = ASKED.findall(body)
    assert answer_word(asked) is False and REFERENCE.findall(asked) == ["123456"]  # the parser's NO naming it
    assert set(body) <= GSM7 and len(body) <= 306, (len(body), body)


@pytest.mark.parametrize("purpose", [CLOSING_NOTICE, AGREED_CLOSING_NOTICE])
@pytest.mark.parametrize(("language", "ending"), [
    ("en-US", "If it is not solved, reply NO 123456 or call us on +15005550006."),
    ("de-DE", "Ist das Problem nicht gelöst, antworten Sie NEIN 123456 oder rufen Sie uns unter +15005550006 an."),
])
def test_with_no_reopen_window_a_notice_promises_no_reopen(purpose, language, ending):
    """REOPEN_WINDOW_DAYS=0: a NO reopens nothing, but still reaches the engineer at once (``customer_sms``)."""
    body = _notice(purpose, language, "+15005550006", 0)
    assert body.endswith(ending) and "reopen" not in body and "öffnen" not in body


def test_the_managers_closing_notice_in_full():
    assert _notice(CLOSING_NOTICE, "en-US", "+15005550006", 7) == (
        "Sev-1 hotline: your incident 123456 was closed by our support team at 23:58 EST. If it is not solved, reply "
        "NO 123456 within 7 days to reopen it, or call us on +15005550006.")
    assert _notice(CLOSING_NOTICE, "de-DE", "", 7) == (
        "Severity-1-Hotline: Ihr Vorfall 123456 wurde um 05:58 Uhr (MEZ) von unserem Support-Team geschlossen. Ist das "
        "Problem nicht gelöst, antworten Sie innerhalb von 7 Tagen NEIN 123456, um ihn wieder zu öffnen.")


@pytest.mark.parametrize("email", [customer_text.closing_notice_email, customer_text.agreed_closing_email])
@pytest.mark.parametrize(("language", "call", "at"), [
    ("en-US", "call us on +15005550006 and give your reference 123456", "at 23:58 EST."),
    ("de-DE", "rufen Sie uns bitte unter +15005550006 an und nennen Sie Ihre Referenznummer 123456", "um 23:58 Uhr"),
])
def test_the_email_notices_say_to_call_never_to_reply(email, language, call, at):
    _subject, body = email("123456", CLOSED, "America/New_York", language, name="Dana", hotline_number="+15005550006")
    assert call in body and at in body
    assert "reply NO" not in body and "NEIN 123456" not in body  # no SMS reaches this customer
