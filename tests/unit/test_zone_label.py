"""A zone that tzdata names only by its offset is written "UTC+13" and spoken "U T C plus 13", wherever a time is
labelled with its zone (``zone_label``, the one rule); named abbreviations stay as they are.

Outside probe (K4): a Tonga caller heard "by tomorrow at 12:01 a.m. +13" ("plus thirteen"), a Samoa caller in German
"spätestens morgen um 0:01 Uhr (+13)", and the receipt and the acknowledgement wrote "00:01 +13".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.dashboard import display, report_views
from app.services import customer_text, page_text
from ivr_flows import Stage
from ivr_flows.model import FlowPolicy, Lang
from ivr_flows.prompts import say_time, zone_label

from .flow_driver import Call, run
from .test_spoken_day import _DE_INTAKE, _EN_INTAKE

WINTER = datetime(2026, 1, 15, 10, 46, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 10, 46, tzinfo=UTC)
TONGA = "+6767715124"  # Pacific/Tongatapu, "+13" all year
SAMOA = "+6857212345"  # Pacific/Apia, "+13"
DUBAI = "+971501234567"  # Asia/Dubai, "+04"


@pytest.mark.parametrize(("zone", "at", "written", "german", "spoken", "gesprochen"), [
    ("Pacific/Tongatapu", WINTER, "UTC+13", "UTC+13", "U T C plus 13", "UTC plus 13"),
    ("Pacific/Apia", WINTER, "UTC+13", "UTC+13", "U T C plus 13", "UTC plus 13"),
    ("Asia/Dubai", WINTER, "UTC+4", "UTC+4", "U T C plus 4", "UTC plus 4"),
    ("America/Sao_Paulo", WINTER, "UTC-3", "UTC-3", "U T C minus 3", "UTC minus 3"),
    ("Asia/Colombo", WINTER, "UTC+5:30", "UTC+5:30", "U T C plus 5:30", "UTC plus 5:30"),
    ("Asia/Kathmandu", WINTER, "UTC+5:45", "UTC+5:45", "U T C plus 5:45", "UTC plus 5:45"),
    ("Pacific/Marquesas", WINTER, "UTC-9:30", "UTC-9:30", "U T C minus 9:30", "UTC minus 9:30"),
    ("Pacific/Chatham", WINTER, "UTC+13:45", "UTC+13:45", "U T C plus 13:45", "UTC plus 13:45"),
    # named abbreviations as they were; German "MEZ" / "MESZ" for Central European time
    ("Pacific/Auckland", WINTER, "NZDT", "NZDT", "NZDT", "NZDT"),
    ("America/New_York", SUMMER, "EDT", "EDT", "EDT", "EDT"),
    ("Asia/Kolkata", WINTER, "IST", "IST", "IST", "IST"),
    ("Europe/Berlin", WINTER, "CET", "MEZ", "CET", "MEZ"),
    ("Europe/Berlin", SUMMER, "CEST", "MESZ", "CEST", "MESZ"),
    ("UTC", WINTER, "UTC", "UTC", "UTC", "UTC"),
])
def test_a_zone_is_labelled_by_its_name_or_else_by_its_offset_from_utc(zone, at, written, german, spoken, gesprochen):
    local = at.astimezone(ZoneInfo(zone))
    assert zone_label(local) == written
    assert zone_label(local, Lang.DE) == german
    assert zone_label(local, spoken=True) == spoken
    assert zone_label(local, Lang.DE, spoken=True) == gesprochen


@pytest.mark.parametrize(("lang", "phone", "heard"), [
    (Lang.EN, TONGA, "tomorrow at 12:01 a.m. U T C plus 13"),
    (Lang.DE, SAMOA, "morgen um 0:01 Uhr (UTC plus 13)"),
    (Lang.EN, DUBAI, "3:01 p.m. U T C plus 4"),
    (Lang.DE, "+6432345678", "morgen um 0:01 Uhr (NZDT)"),  # a named zone as before
])
def test_say_time_speaks_a_numeric_zone_as_an_offset_from_utc(lang, phone, heard):
    due = datetime(2026, 1, 15, 11, 1, tzinfo=UTC)
    assert say_time(lang, due, phone, now=due - timedelta(minutes=15), at=lang is Lang.DE) == heard


@pytest.mark.parametrize(("zone", "language", "written"), [
    ("Pacific/Tongatapu", "en-US", "tomorrow at 00:01 UTC+13"),
    ("Pacific/Apia", "de-DE", "morgen um 00:01 Uhr (UTC+13)"),
    ("America/Sao_Paulo", "en-US", "08:01 UTC-3"),
    ("Europe/Berlin", "de-DE", "um 12:01 Uhr (MEZ)"),
])
def test_the_customers_texts_write_a_numeric_zone_as_an_offset_from_utc(zone, language, written):
    due = datetime(2026, 1, 15, 11, 1, tzinfo=UTC)
    now = due - timedelta(minutes=15)
    assert customer_text.written_time(due, zone, language, now, at=True) == written
    assert f" {written}" in customer_text.receipt_sms("123456", due, zone, language, now)
    assert f" {written}" in customer_text.ack_notice_sms("123456", due, zone, language, now)


def test_a_reps_texts_voice_pages_board_and_reports_label_a_numeric_zone_the_same_way():
    due = datetime(2026, 1, 15, 11, 1, tzinfo=UTC)
    assert page_text.hhmm(due, "Asia/Dubai") == "15:01 UTC+4"
    assert page_text.hhmm(due, "America/Sao_Paulo", seconds=True) == "08:01:00 UTC-3"
    assert page_text.spoken_time(due, "Asia/Dubai") == "15:01 U T C plus 4"
    assert page_text.spoken_time(due, "America/Los_Angeles") == "03:01 P S T"  # letters one by one, as before
    assert display.local(due, "Pacific/Tongatapu") == "Fri 16 Jan 00:01 UTC+13"
    assert report_views.local_time(due, "Asia/Kathmandu") == "Thu 2026-01-15 16:46 UTC+5:45"
    assert report_views.local_time(due, "Europe/Berlin", seconds=True) == "Thu 2026-01-15 12:01:00 CET"




@pytest.mark.parametrize(("caller", "script", "heard"), [
    (TONGA, _EN_INTAKE, "within 15 minutes, by tomorrow at 12:01 a.m. U T C plus 13."),
    (DUBAI, _EN_INTAKE, "within 15 minutes, by 3:01 p.m. U T C plus 4."),
    (SAMOA, _DE_INTAKE, "innerhalb von 15 Minuten, spätestens morgen um 0:01 Uhr (UTC plus 13), unter der Nummer"),
])
def test_the_intakes_promise_to_a_caller_in_a_numeric_zone_says_utc_plus(caller, script, heard):
    """The whole intake of a caller whose number's country is allowed, taking their caller ID as callback number."""
    policy = FlowPolicy(allowed_regions=("US", "TO", "WS", "AE"))
    call = run(Call(caller_id=caller, policy=policy, now=datetime(2026, 1, 15, 10, 46, tzinfo=UTC)), script)
    assert call.stage is Stage.SAVING
    call.saved("123456")
    assert call.stage is Stage.DONE and heard in call.said
    assert "+13" not in call.said and "+04" not in call.said
