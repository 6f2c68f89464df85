"""A caller's own words can never plant a callback number in a rep's page (outside probe M2).

The probe said its company was "Acme. Call back +19005550000 by 12:20 UTC. Reply ACK 111111 SEV1 222222 Globex": the
rep's SMS page began "SEV1 588628 Acme. Call back +19005550000 by 12: 20 U: API calls failing. Call back <real> ...",
and the voice page spoke that +1 900 number and no other. Now what a caller says is defanged where staff read it
(``company_label.said_company``: numbers, times and the page's own field words), and the voice page says the real
callback number's last digits after its own fields. A forwarded text (or what a caller adds) naming a number the IVR
would refuse as a callback number says so (``named_numbers``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from app.services.company_label import said_company
from app.services.joined_contacts import JoinedContact
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.test_customer_sms import _text_hotline

PLANTED = "Acme. Call back +19005550000 by 12:20 UTC. Reply ACK 111111\n\nSEV1 222222 Globex"
# a page's own field words, a time, or five digits however written (a phone number: "(312) 555 0142")
FIELD_WORDS = re.compile(r"call\s+(me\s+)?back|reply\s*ack|sev\s*1|\d:\d|\d(?:[\s.()\[\]-]*\d){4}", re.IGNORECASE)


def test_a_company_naming_a_callback_number_is_paged_without_it_and_the_voice_page_says_the_real_one(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()  # answers the page call, presses nothing
    incident, _ = desk.intake(company=PLANTED)
    desk.settle()
    assert incident.company.startswith("Acme. Call back +19005550000")  # the record keeps what was said
    [page] = alice.sms
    assert "9005550000" not in page and "111111" not in page and "222222" not in page, page
    # the page's own fields come once: the real number to call back, and its own reference to acknowledge
    assert re.findall(r"Call back (\S+)", page) == [CUSTOMER], page
    assert re.findall(r"ACK (\d+)", page) == [incident.reference], page
    [call] = alice.calls
    spoken = " ".join(call.said)
    assert "9, 0, 0, 5" not in spoken and "9005550000" not in spoken and "+1" not in spoken, spoken
    assert "The number to call back ends in 0, 1, 0, 0." in spoken, spoken  # CUSTOMER's last four digits


@pytest.mark.parametrize("said", [PLANTED, "Globex, callback 1-900-555-0000 before 9 pm",
                                  "Initech call me back on (312) 555 0142", "SEV 1 999999 Acme"])
def test_a_said_company_keeps_no_number_time_or_page_field_words(said):
    shown = said_company(said)
    assert shown and not FIELD_WORDS.search(shown), shown


@pytest.mark.parametrize("name", ["3M", "7-Eleven", "Acme 2000", "Web 2.0 Inc", "Acme Mail Inc", "Callback Systems"])
def test_a_company_name_with_a_few_digits_is_kept(name):
    assert said_company(name) == name


def test_a_joined_contacts_name_is_defanged_as_a_company_is():
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    contact = JoinedContact(at=now, due_at=now, callback_phone="+14155550177",
                            contact_name="Bob, call back +19005550000 at 10:15", company="Initech")
    assert contact.label() == "+14155550177 (Bob, [number] at [time], Initech)", contact.label()


def test_a_text_naming_a_premium_rate_number_reaches_the_reps_with_a_warning(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    words = f"{incident.reference} please call me back on +1 900 555 0000 instead, my line is down"
    alice.expect_sms(f"SEV1 {incident.reference} Acme Mail: the customer texted: {words} [HOTLINE: +19005550000 is "
                     "a premium-rate or other special number; we never call such a number back, and the sender is "
                     "not proven]")
    _text_hotline(desk, words)
    desk.settle()
    assert alice.unmet == []


def test_a_text_naming_a_number_abroad_says_so_and_an_ordinary_number_goes_as_it_was(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    desk.open_incident()
    desk.settle()
    words = "call me on +61 2 9374 4000 or on +1 415 555 0177"
    alice.expect_sms(f"the customer texted: {words} [HOTLINE: +61293744000 is in a country we do not call back; we "
                     "never call such a number back, and the sender is not proven]")
    _text_hotline(desk, words)
    desk.settle()
    assert alice.unmet == []
    alice.expect_sms("the customer texted: please use +1 415 555 0177 now")  # an ordinary number: no note
    _text_hotline(desk, "please use +1 415 555 0177 now")
    desk.settle()
    assert alice.unmet == [] and "HOTLINE" not in alice.sms[-1]
