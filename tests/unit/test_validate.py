"""Cleaning and validation of caller input."""

from __future__ import annotations

import pytest

from ivr_flows.validate import (
    clean_text,
    is_valid_email,
    is_valid_phone,
    normalize_spoken_email,
    parse_callback_number,
)

REGIONS = ("US", "CA", "GB", "DE", "AT", "CH")


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        ("  Acme   Mail\tGmbH \n", 200, "Acme Mail GmbH"),
        ("<b>Müller</b> &amp; Söhne", 200, "Müller &amp; Söhne"),
        ("<script>alert(1)</script>Globex", 200, "alert(1) Globex"),
        ("Bad\x00\x07Corp\u200b", 200, "Bad Corp"),
        ("Zoë Ünal, Café Crème, 日本メール株式会社", 200, "Zoë Ünal, Café Crème, 日本メール株式会社"),
        ("Robert'); DROP TABLE incidents;--", 200, "Robert'); DROP TABLE incidents;--"),
        ("a" * 10_000, 200, "a" * 200),
        ("word " * 100, 12, "word word wo"),
        ("", 200, ""),
        (None, 200, ""),
        ("<<>>", 200, "< >"),
    ],
)
def test_clean_text(raw, limit, expected):
    assert clean_text(raw, limit) == expected


def test_clean_text_composes_unicode_to_nfc():
    decomposed = "Mu\u0308ller"  # u + combining diaeresis
    assert clean_text(decomposed, 50) == "Müller"


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("john dot smith at example dot com", "john.smith@example.com"),
        ("John.Smith AT Example.com", "john.smith@example.com"),
        ("john.smith@example.com.", "john.smith@example.com"),
        ("j underscore doe at mail dash host dot co dot uk", "j_doe@mail-host.co.uk"),
        ("ops hyphen team at example dot org", "ops-team@example.org"),
        ("max punkt mustermann ät beispiel punkt de", "max.mustermann@beispiel.de"),
        ("Max Punkt Mustermann at Beispiel Punkt de", "max.mustermann@beispiel.de"),
        ("support minus team ät firma bindestrich eins punkt de", "support-team@firma-eins.de"),
        ("erika unterstrich muster ät example punkt at", "erika_muster@example.at"),
        ("noc at example dot at", "noc@example.at"),
        ("ops plus alerts at example dot com", "ops+alerts@example.com"),
        ("", ""),
    ],
)
def test_normalize_spoken_email(spoken, expected):
    assert normalize_spoken_email(spoken) == expected


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("john.smith@example.com", True),
        ("ops+alerts@mail.example.co.uk", True),
        ("a@b.de", True),
        ("john smith@example.com", False),
        ("john@@example.com", False),
        ("john@example", False),
        ("@example.com", False),
        (".john@example.com", False),
        ("john..smith@example.com", False),
        ("john@-example.com", False),
        ("", False),
        ("x" * 64 + "@" + "d" * 61 + "." + "d" * 61 + "." + "d" * 61 + ".com", True),  # 254 characters
        ("x" * 64 + "@" + "d" * 61 + "." + "d" * 61 + "." + "d" * 62 + ".com", False),  # 255 characters
        ("x@" + "d" * 64 + ".com", False),  # a domain label is at most 63 characters
        ("x" * 65 + "@example.com", False),
    ],
)
def test_is_valid_email(email, ok):
    assert is_valid_email(email) is ok


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+12125550100", "US", "+12125550100"),
        ("(212) 555-0100", "US", "+12125550100"),
        ("2125550100", "US", "+12125550100"),
        ("+4930123456", "US", "+4930123456"),
        ("004930123456", "US", "+4930123456"),
        ("491701234567", "US", "+491701234567"),
        ("030123456", "DE", "+4930123456"),
        ("+442079460000", "US", "+442079460000"),
        ("+43664123456", "US", "+43664123456"),
        ("+18005550100", "US", "+18005550100"),  # toll-free is fine to call
    ],
)
def test_parse_callback_number_accepts(raw, region, expected):
    assert parse_callback_number(raw, region, REGIONS) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "+266696687",  # Twilio's "withheld" caller ID: parses, but is not valid
        "anonymous",
        "Anonymous",
        "restricted",
        "unknown",
        "private",
        "",
        "   ",
        None,
        "+19005551234",  # US premium rate
        "+449091234567",  # UK premium rate
        "+4918012345678",  # German shared cost
        "+33123456789",  # valid, but France is not an allowed region
        "+1212555010000000000000",  # more than 20 characters
        "12345",
        "not a number",
        "+1 212 555 01",  # too short
    ],
)
def test_parse_callback_number_refuses(raw):
    assert parse_callback_number(raw, "US", REGIONS) is None


def test_is_valid_phone_rejects_withheld_ids():
    assert is_valid_phone("+12125550100")
    assert not is_valid_phone("+266696687")
    assert not is_valid_phone("anonymous")
    assert not is_valid_phone("")
