"""The prompt catalog and the helpers that format values for speech."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest

from ivr_flows.model import Lang
from ivr_flows.prompts import (
    CATALOGS,
    say_digits,
    say_duration,
    say_email,
    say_phone,
    say_time,
    text,
)

DUE = datetime(2025, 1, 15, 3, 27, tzinfo=UTC)
SUMMER_DUE = datetime(2025, 7, 15, 13, 5, tzinfo=UTC)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_every_language():
    en, de = CATALOGS[Lang.EN], CATALOGS[Lang.DE]
    assert set(en) == set(de)
    assert len(en) > 40


@pytest.mark.parametrize("key", sorted(CATALOGS[Lang.EN]))
def test_same_format_fields_in_both_languages(key):
    assert _fields(CATALOGS[Lang.EN][key]) == _fields(CATALOGS[Lang.DE][key])


@pytest.mark.parametrize("key", sorted(CATALOGS[Lang.DE]))
def test_german_is_formal_and_translated(key):
    de = CATALOGS[Lang.DE][key]
    assert not re.search(r"\b(du|dich|dir|dein|deine|deinen|euch|ihr)\b", de), de
    same_in_both = {"language_choice", "readback_name", "readback_service", "phone_plus", "email_plus"}
    if key not in same_in_both:
        assert de != CATALOGS[Lang.EN][key], key


def test_german_questions_use_sie():
    de = CATALOGS[Lang.DE]
    for key in ("ticket_entry", "callback_entry", "email_ask", "problem_ask", "readback_options"):
        assert re.search(r"\bSie\b", de[key]), key


def test_text_fills_fields_and_accepts_language_codes():
    assert text(Lang.EN, "ticket_not_found", ticket="4, 5") == "I could not find ticket 4, 5."
    assert text("de-DE", "ticket_not_found", ticket="4, 5") == "Ich konnte das Ticket 4, 5 nicht finden."


def test_text_with_missing_field_fails_loudly():
    with pytest.raises(KeyError):
        text(Lang.EN, "ticket_not_found")


def test_prompts_are_short_enough_to_follow():
    for lang, catalog in CATALOGS.items():
        for key, template in catalog.items():
            assert len(template) < 400, (lang, key)


@pytest.mark.parametrize(
    ("value", "spoken"),
    [("4521", "4, 5, 2, 1"), ("123456", "1, 2, 3, 4, 5, 6"), ("S1-42", "S, 1, 4, 2"), ("", "")],
)
def test_say_digits(value, spoken):
    assert say_digits(value) == spoken


@pytest.mark.parametrize(
    ("lang", "email", "spoken"),
    [
        (Lang.EN, "john.smith@example.com", "john dot smith at example dot com"),
        (Lang.DE, "john.smith@example.com", "john punkt smith ät example punkt com"),
        (Lang.EN, "ops-team_1@mail.example.org", "ops dash team underscore 1 at mail dot example dot org"),
        (Lang.DE, "ops-team_1@mail.example.org", "ops Bindestrich team unterstrich 1 ät mail punkt example punkt org"),
    ],
)
def test_say_email(lang, email, spoken):
    assert say_email(lang, email) == spoken


@pytest.mark.parametrize(
    ("lang", "number", "spoken"),
    [
        (Lang.EN, "+12125550100", "plus 1, 2 1 2, 5 5 5, 0 1 0 0"),
        (Lang.DE, "+4930123456", "plus 4 9, 3 0, 1 2 3 4 5 6"),
        (Lang.EN, "+442079460000", "plus 4 4, 2 0, 7 9 4 6, 0 0 0 0"),
    ],
)
def test_say_phone_groups_digits(lang, number, spoken):
    assert say_phone(lang, number) == spoken


@pytest.mark.parametrize(
    ("lang", "when", "phone", "spoken"),
    [
        (Lang.EN, DUE, "", "3:27 a.m. UTC"),
        (Lang.DE, DUE, "", "3:27 Uhr (UTC)"),
        (Lang.EN, DUE, "+12125550100", "10:27 p.m. EST"),  # New York: exactly one zone
        (Lang.EN, SUMMER_DUE, "+12125550100", "9:05 a.m. EDT"),
        (Lang.DE, DUE, "+4930123456", "4:27 Uhr (MEZ)"),
        (Lang.DE, SUMMER_DUE, "+4930123456", "15:05 Uhr (MESZ)"),
        (Lang.EN, DUE, "+18005550100", "3:27 a.m. UTC"),  # toll-free spans many zones
        (Lang.EN, datetime(2025, 1, 15, 12, 0, tzinfo=UTC), "", "12:00 p.m. UTC"),
        (Lang.EN, datetime(2025, 1, 15, 0, 5, tzinfo=UTC), "", "12:05 a.m. UTC"),
    ],
)
def test_say_time(lang, when, phone, spoken):
    assert say_time(lang, when, phone) == spoken


@pytest.mark.parametrize(
    ("lang", "seconds", "spoken"),
    [
        (Lang.EN, 120, "2 minutes"),
        (Lang.EN, 60, "1 minute"),
        (Lang.EN, 90, "90 seconds"),
        (Lang.DE, 120, "2 Minuten"),
        (Lang.DE, 60, "einer Minute"),
    ],
)
def test_say_duration(lang, seconds, spoken):
    assert say_duration(lang, seconds) == spoken
