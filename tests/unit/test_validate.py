"""Cleaning and validation of caller input."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from ivr_flows.number_kinds import CALLABLE_TYPES, refused_kind
from ivr_flows.validate import (
    callback_refusal,
    clean_text,
    email_for_caller,
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
        ("<b>Müller</b> &amp; Söhne", 200, "<b>Müller</b> &amp; Söhne"),  # words, escaped where shown
        ("<script>alert(1)</script>Globex", 200, "<script>alert(1)</script>Globex"),
        ("error <550 mailbox unavailable> on send", 200, "error <550 mailbox unavailable> on send"),
        ("Bad\x00\x07Corp\u200b", 200, "Bad Corp"),
        ("Zoë Ünal, Café Crème, 日本メール株式会社", 200, "Zoë Ünal, Café Crème, 日本メール株式会社"),
        ("Robert'); DROP TABLE incidents;--", 200, "Robert'); DROP TABLE incidents;--"),
        ("a" * 10_000, 200, "a" * 200),
        ("word " * 100, 12, "word word wo"),
        ("", 200, ""),
        (None, 200, ""),
        ("<<>>", 200, "<<>>"),
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
        # a German recognizer writes the umlauts it hears; a local part writes them as German addresses do ...
        ("Mu\u0308ller at example dot de", "mueller@example.de"),  # decomposed, as some engines write it
        ("m. ü. l. l. e. r. ät example punkt de", "mueller@example.de"),  # spelled letter by letter
        ("rené at exemple dot fr", "rene@exemple.fr"),  # any other accent is dropped
        ("ｊｏｈｎ at example dot com", "john@example.com"),  # full-width letters
        ("john at ｅｘａｍｐｌｅ dot com", "john@example.com"),  # in the domain too
        # ... never a domain: baeckerei-schmidt.de is another registrable domain than bäckerei-schmidt.de (an
        # outside probe's German caller was read back info@baeckerei-schmidt.de). The domain is kept as the IDN
        # it is, in the ASCII form SMTP takes (IDNA 2008: straße.de keeps its ß); the caller hears its letters
        ("info at bäckerei-schmidt punkt de", "info@xn--bckerei-schmidt-0kb.de"),
        ("info ät Bäckerei Bindestrich Schmidt Punkt de", "info@xn--bckerei-schmidt-0kb.de"),
        ("Jürgen Punkt Müller ät Bäckerei Punkt de", "juergen.mueller@xn--bckerei-5wa.de"),
        ("ÖZTÜRK at Straße dot de", "oeztuerk@xn--strae-oqa.de"),
        ("rené at café dot fr", "rene@xn--caf-dma.fr"),
        ("info at ba\u0308ckerei punkt de", "info@xn--bckerei-5wa.de"),  # decomposed: the same domain
        ("", ""),
    ],
)
def test_normalize_spoken_email(spoken, expected):
    assert normalize_spoken_email(spoken) == expected


def test_a_letter_no_address_can_hold_still_refuses_the_address():
    assert not is_valid_email(normalize_spoken_email("王 at example dot com"))  # the caller is asked again


def test_an_internationalised_domain_is_stored_as_smtp_takes_it_and_read_back_in_its_own_letters():
    email = normalize_spoken_email("info at bäckerei-schmidt punkt de")
    assert is_valid_email(email) and email.isascii()
    assert email.split("@")[1].encode("ascii").decode("idna") == "bäckerei-schmidt.de"  # the domain said, no other
    assert email_for_caller(email) == "info@bäckerei-schmidt.de"
    assert email_for_caller("juergen.mueller@example.de") == "juergen.mueller@example.de"
    assert normalize_spoken_email("info at bäckerei-schmidt punkt de") == email  # said again: the same
    assert normalize_spoken_email("info at -bäckerei punkt de") == ""  # a domain IDNA refuses: asked again


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
        ("+445612345678", "US", "+445612345678"),  # UK VoIP (056)
        ("+4915112345678", "US", "+4915112345678"),  # German mobile
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
        "+447012345678",  # UK personal number (070): revenue share
        "+4970012345678",  # German personal number (0700)
        "+15002345678",  # US personal number (500)
        "+445512345678",  # UK UAN (055)
        "+31842123456",  # Dutch UAN (084)
        "+447640123456",  # UK pager (076)
        "+49177991234567",  # German voicemail access (0177 99)
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


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("+447012345678", "premium"),  # personal number
        ("+31842123456", "premium"),  # UAN
        ("+447640123456", "premium"),  # pager
        ("+19005551234", "premium"),
        ("+33123456789", "region"),
        ("+12125550100", ""),
    ],
)
def test_callback_refusal_names_every_refused_kind(raw, why):
    assert callback_refusal(raw, "US", REGIONS) == why


def test_only_fixed_line_mobile_toll_free_and_voip_are_callable():
    assert CALLABLE_TYPES == {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE,
                              PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP}
    kinds = {raw: refused_kind(phonenumbers.parse(raw)) for raw in (
        "+447012345678", "+445512345678", "+447640123456", "+49177991234567", "+19005551234", "+4918012345678",
        "+12125550100", "+18005550100", "+445612345678")}
    assert kinds == {
        "+447012345678": "a personal number", "+445512345678": "a UAN (universal access) number",
        "+447640123456": "a pager number", "+49177991234567": "a voicemail access number",
        "+19005551234": "a premium-rate number", "+4918012345678": "a shared-cost number",
        "+12125550100": "", "+18005550100": "", "+445612345678": "",
    }


@pytest.mark.parametrize("hotline", ["+14155550000", "+1 415-555-0000"])
@pytest.mark.parametrize("raw", ["+14155550000", "4155550000", "(415) 555-0000", "0014155550000"])
def test_the_hotline_number_is_never_a_callback_number(raw, hotline):
    assert parse_callback_number(raw, "US", REGIONS, hotline_number=hotline) is None
    assert callback_refusal(raw, "US", REGIONS, hotline_number=hotline) == "own"
    assert parse_callback_number("+14155550001", "US", REGIONS, hotline_number=hotline) == "+14155550001"
    assert parse_callback_number(raw, "US", REGIONS) == "+14155550000"  # no hotline number configured
