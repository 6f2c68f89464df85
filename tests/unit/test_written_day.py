"""A time the customer reads names its day when that is not the message's day on the incident's clock, by the rule
the call speaks its times (``say_day``), in English and German, and the SMS stay within two GSM-7 segments.

Outside probe: a call at 11:58 p.m. EST heard "by tomorrow at 12:13 a.m. EST" on the phone, then read "An engineer
will call you back by 00:13 EST" in the receipt SMS, with no word of tomorrow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Channel, CustomerUpdate, Incident, Page
from app.services import customer_text, update_text
from app.services.page_urls import PageUrls
from app.settings import Settings
from ivr_flows.prompts import say_time

NY = "+12125550142"  # New York: EST in December
DE_MOBILE = "+491701234567"  # Germany: MEZ in December
HOTLINE = "+15005550006"
LONGEST = "+861065529988123"  # E.164's longest: 15 digits
# 11:58 p.m. on Monday, December 7 on each caller's clock; the 15-minute deadline is 00:13 on Tuesday
NY_LATE, DE_LATE = datetime(2026, 12, 8, 4, 58, tzinfo=UTC), datetime(2026, 12, 7, 22, 58, tzinfo=UTC)
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")


def _body(purpose: str, language: str, phone: str, due: datetime, created_at: datetime, hotline: str = HOTLINE) -> str:
    """The SMS the hotline sends for ``purpose``, written at ``created_at`` (the page row's moment)."""
    incident = Incident(reference="123456", callback_due_at=due, language=language, callback_phone=phone)
    page = Page(id=1, channel=Channel.SMS, purpose=purpose, role="customer", to_number=phone, created_at=created_at)
    urls = PageUrls(Settings(public_base_url="https://hotline.example", twilio_number=hotline))
    return urls.request_for(page, incident).body


@pytest.mark.parametrize(("language", "phone", "now", "receipt", "ack"), [
    ("en-US", NY, NY_LATE,
     "Sev-1 hotline: we have your report, reference 123456. An engineer will call you back by tomorrow at 00:13 EST. "
     "To add details, reply to this SMS.",
     "Sev-1 hotline, reference 123456: an engineer has taken your incident and will call you back no later than "
     "tomorrow at 00:13 EST."),
    ("de-DE", DE_MOBILE, DE_LATE,
     "Severity-1-Hotline: Wir haben Ihre Meldung, Referenznummer 123456. Ein Techniker ruft Sie spätestens morgen um "
     "00:13 Uhr (MEZ) zurück. Ergänzungen senden Sie als Antwort auf diese SMS.",
     "Severity-1-Hotline, Referenznummer 123456: Ein Techniker hat Ihren Vorfall übernommen und ruft Sie spätestens "
     "morgen um 00:13 Uhr (MEZ) zurück."),
])
def test_a_deadline_after_midnight_reads_tomorrow_in_the_receipt_and_the_acknowledgement(
        language, phone, now, receipt, ack):
    due = now + timedelta(minutes=15)
    assert _body("receipt", language, phone, due, now) == receipt
    assert _body("ack_notice", language, phone, due, now + timedelta(minutes=1)) == ack
    for body in (receipt, ack):
        assert set(body) <= GSM7 and len(body) <= 306, body


@pytest.mark.parametrize(("language", "phone", "now", "time"), [
    ("en-US", NY, NY_LATE - timedelta(hours=1), "by 23:13 EST."),
    ("de-DE", DE_MOBILE, DE_LATE - timedelta(hours=1), "spätestens um 23:13 Uhr (MEZ) zurück."),
])
def test_a_deadline_the_same_day_is_written_as_before(language, phone, now, time):
    assert time in _body("receipt", language, phone, now + timedelta(minutes=15), now)


@pytest.mark.parametrize(("language", "phone", "words"), [
    ("en-US", NY, "we promised to call you back by yesterday at 23:59 EST and have not reached you"),
    ("de-DE", DE_MOBILE, "Wir haben Sie nicht wie versprochen bis gestern um 23:59 Uhr (MEZ) zurückgerufen"),
])
def test_the_apology_written_after_midnight_names_yesterdays_deadline(language, phone, words):
    due = (NY_LATE if language == "en-US" else DE_LATE) + timedelta(minutes=1)  # 23:59 on their clock
    assert words in _body("breach_notice", language, phone, due, due + timedelta(seconds=90))


@pytest.mark.parametrize(("language", "phone"), [("en-US", NY), ("de-DE", DE_MOBILE)])
@pytest.mark.parametrize("hotline", [HOTLINE, LONGEST, ""])
@pytest.mark.parametrize("short", [False, True])
def test_every_deadline_sms_with_its_day_stays_within_two_segments(language, phone, hotline, short):
    """The receipt and acknowledgement with tomorrow's deadline, the apology (also after a call too short to count)
    and the missed call with yesterday's, in summer time (MESZ / EDT: the longer zone names)."""
    # 23:59 on Sunday, September 27 on their clock
    due = datetime(2026, 9, 28, 3, 59, tzinfo=UTC) if language == "en-US" else datetime(2026, 9, 27, 21, 59, tzinfo=UTC)
    bodies = [_body("receipt", language, phone, due + timedelta(minutes=15), due, hotline),
              _body("ack_notice", language, phone, due + timedelta(minutes=15), due, hotline),
              customer_text.breach_notice_sms("123456", due, "America/New_York" if language == "en-US" else
                                              "Europe/Berlin", language, hotline, due + timedelta(minutes=2),
                                              too_short=short),
              customer_text.callback_missed_sms("123456", due, "America/New_York" if language == "en-US" else
                                                "Europe/Berlin", language, hotline, due + timedelta(minutes=2))]
    assert all(("tomorrow" in body or "yesterday" in body) if language == "en-US" else
               ("morgen" in body or "gestern" in body) for body in bodies), bodies
    for body in bodies:
        assert set(body) <= GSM7 and len(body) <= 306, (len(body), body)


@pytest.mark.parametrize(("language", "zone", "start"), [
    ("en-US", "America/New_York", "Sev-1 hotline: yesterday at 23:58 EST we tried to call you from +15005550006"),
    ("de-DE", "Europe/Berlin", "Severity-1-Hotline: Wir haben gestern um 23:58 Uhr (MEZ) versucht, Sie von "
                               "+15005550006 aus"),
])
def test_a_missed_call_texted_after_midnight_says_yesterday(language, zone, start):
    """The SMS of an attempt held back by the missed-SMS window goes out with the next attempt, after midnight."""
    attempt = NY_LATE if language == "en-US" else DE_LATE
    body = customer_text.callback_missed_sms("123456", attempt, zone, language, HOTLINE, attempt + timedelta(minutes=4))
    assert body.startswith(start) and set(body) <= GSM7 and len(body) <= 306, body
    same_day = customer_text.callback_missed_sms("123456", attempt, zone, language, HOTLINE, attempt)
    assert ("Sev-1 hotline: at 23:58 EST we tried" if language == "en-US"
            else "Severity-1-Hotline: Wir haben um 23:58 Uhr (MEZ) versucht") in same_day


@pytest.mark.parametrize(("language", "zone", "line"), [
    ("en-US", "Europe/London", "An engineer will call you back by tomorrow at 00:13 GMT."),
    ("de-DE", "Europe/Berlin", "Ein Techniker ruft Sie spätestens morgen um 00:13 Uhr (MEZ) zurück."),
])
def test_the_receipt_email_after_midnight_names_tomorrow(language, zone, line):
    now = datetime(2026, 12, 7, 23, 58, tzinfo=UTC) if language == "en-US" else DE_LATE
    _subject, body = customer_text.receipt_email("123456", now + timedelta(minutes=15), zone, language, name="Dana",
                                                 hotline_number=HOTLINE, has_callback_number=True, now=now)
    assert f"\n\n{line}\n\n" in body


def _update(written_at: datetime) -> CustomerUpdate:
    return CustomerUpdate(what_is_wrong="A load balancer drops connections", expected_resolution="", workaround="",
                          written_at=written_at)


@pytest.mark.parametrize(("language", "phone", "written", "sms", "mail"), [
    ("en-US", NY, NY_LATE - timedelta(minutes=28), "Next update by tomorrow at 00:30 EST.",
     "Your next update will come by tomorrow at 00:30 EST."),
    ("de-DE", DE_MOBILE, DE_LATE - timedelta(minutes=28), "Nächstes Update bis morgen um 00:30 Uhr (MEZ).",
     "Das nächste Update erhalten Sie bis morgen um 00:30 Uhr (MEZ)."),
])
def test_a_next_update_after_midnight_reads_tomorrow_in_every_update_text(language, phone, written, sms, mail):
    """Until this change the customer read "2026-12-08 00:30 EST": the same day, in other words than the phone's."""
    incident = Incident(reference="123456", language=language, callback_phone=phone, contact_name="Dana")
    due = written + timedelta(hours=1)
    assert update_text.update_sms(incident, _update(written), due).endswith(sms)
    assert mail in update_text.update_email(incident, _update(written), due)[1]
    assert update_text.interval_sms(incident, 60, due, written).endswith(sms)
    assert update_text.decision_reply(incident, False, next_due=due, now=written).endswith(mail)


def test_the_written_and_the_spoken_answer_to_a_no_name_the_same_day():
    incident = Incident(reference="123456", language="en-US", callback_phone=NY)
    due, now = NY_LATE + timedelta(hours=24), NY_LATE
    assert update_text.decision_reply(incident, False, next_due=due, now=now).endswith(
        "Your next update will come by tomorrow at 23:58 EST.")
    assert update_text.decision_reply(incident, False, True, next_due=due, now=now).endswith(
        "Your next update will come by tomorrow at 11:58 p.m. EST.")


@pytest.mark.parametrize("language", ["en-US", "de-DE"])
@pytest.mark.parametrize("ahead", [timedelta(hours=-24), timedelta(minutes=1), timedelta(minutes=15),
                                   timedelta(days=3), timedelta(days=-5)])
@pytest.mark.parametrize("at", [False, True])
def test_a_written_time_names_its_day_by_the_spoken_rule(language, ahead, at):
    """One rule: the written phrase is the spoken one with the written clock ("00:13 EST" for "12:13 a.m. EST")."""
    when = NY_LATE + ahead
    written = customer_text.written_time(when, "America/New_York", language, NY_LATE, at=at)
    spoken = say_time(language, when, zone_name="America/New_York", now=NY_LATE, at=at)
    written_clock = customer_text.written_time(when, "America/New_York", language, when)
    spoken_clock = say_time(language, when, zone_name="America/New_York")
    assert written.replace(written_clock, "{time}") == spoken.replace(spoken_clock, "{time}")
    assert (written == written_clock) == (ahead == timedelta(minutes=1) and not (at and language == "de-DE"))


@pytest.mark.parametrize(("language", "moment", "written"), [
    ("en-US", timedelta(0), "at 23:58 EST"),
    ("en-US", timedelta(days=-1), "yesterday at 23:58 EST"),
    ("en-US", timedelta(days=-3), "on Friday, December 4 at 23:58 EST"),
    ("de-DE", timedelta(0), "um 23:58 Uhr (EST)"),
    ("de-DE", timedelta(days=-3), "am Freitag, 4. Dezember, um 23:58 Uhr (EST)"),
])
def test_a_moment_carries_its_own_at_or_on(language, moment, written):
    """Where a text had "at {at}" / "um {at}" ("we tried to call you at", "was closed at")."""
    assert customer_text.written_time(NY_LATE + moment, "America/New_York", language, NY_LATE, moment=True) == written
