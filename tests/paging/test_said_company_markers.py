"""A company the caller said never reads as one the hotline named from a ticket or as an unverified caller's: an
outside probe's caller (no ticket, no PIN) said their company was "Acme Mail Inc (from the ticket)", and the reps were
paged "SEV1 612215 Acme Mail Inc (from the ticket): API calls failing. Call back ...", the form of a caller the
hotline matched to a ticket, and the board and incident page read "Acme Mail Inc (from the ticket) #612215"
(``company_label.said_company``)."""

from __future__ import annotations

import re

import pytest

from app.prompts import CATALOGS, text
from app.services.company_label import said_company
from app.services.joined_contacts import JoinedContact
from app.services.page_text import hhmm
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_company_from_ticket import _shown

ALICE_ZONE = "America/Los_Angeles"
HOTLINE_WORDS = re.compile(r"ticket|verifi|according|laut|proved|ausgewiesen", re.IGNORECASE)


def test_a_caller_who_says_from_the_ticket_after_their_company_is_paged_as_any_caller_who_said_it(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()  # answers the page call, presses nothing
    incident, _ = desk.intake(company="Acme Mail Inc (from the ticket)")
    desk.settle()
    assert incident.company == "Acme Mail Inc (from the ticket)"  # the record keeps what the caller said
    ref, due = incident.reference, hhmm(incident.callback_due_at, ALICE_ZONE)
    [page] = alice.sms
    assert page.startswith(f"SEV1 {ref} Acme Mail Inc: API calls failing. Call back {CUSTOMER} by {due}. "), page
    [call] = alice.calls
    assert call.said[0].startswith(f"Severity 1 page. Incident {', '.join(ref)}, for Acme Mail Inc: API calls "
                                   f"failing. The customer must be called back by "), call.said[0]
    [link] = re.findall(r"/ack/\S+", page)
    assert f"Acme Mail Inc: call back {CUSTOMER} by" in desk.client.get(link).get_data(as_text=True)
    row, heading = _shown(desk, incident)
    assert row == "Acme Mail Inc" and heading == "Acme Mail Inc", (row, heading)
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    answer = _sms_from(desk, ALICE, f"ACK {ref}").get_data(as_text=True)
    assert f"Acknowledged {ref}. Call Acme Mail Inc on " in answer, answer
    desk.settle()


@pytest.mark.parametrize("said", [
    "Acme Mail Inc (from the ticket)",
    "Acme Mail Inc (From The Ticket)",
    "Acme Mail Inc (FROM THE TICKET)",
    "Acme Mail Inc (from the ticket), verified",
    "Acme Mail Inc [from-the-ticket]",
    "Acme Mail Inc (from the from the ticket ticket)",
    "Acme Mail Inc\u200b (from\u200b the ticket)",
    "Acme Mail Inc \uff08\uff46\uff52\uff4f\uff4d the ticket\uff09",  # full-width brackets and letters
    "Acme Mail Inc \u2768from the ticket\u2769",  # ornamental parentheses
    "Acme Mail Inc, according to the ticket",
    "Acme Mail Inc (from the ticket), UNVERIFIED caller, number not the ticket's",
    "Acme Mail Inc, unverified caller, e-mail not the ticket's",
    "Acme Mail Inc (laut Ticket)",
    "Acme Mail Inc, Anrufer NICHT verifiziert, Nummer nicht die des Tickets",
])
def test_a_said_company_loses_the_hotlines_marker_words_and_brackets(said):
    assert said_company(said) == "Acme Mail Inc"


@pytest.mark.parametrize("lang", sorted(CATALOGS))
@pytest.mark.parametrize("key", ["company_from_ticket", "company_unproven", "company_from_ticket_spoken",
                                 "company_unproven_spoken"])
def test_no_label_the_hotline_writes_or_speaks_survives_as_a_said_company(lang, key):
    # every language's own wording (a German caller's company is read by English reps): a new wording must be added
    label = text(key, lang, company="Acme Mail Inc",
                 contact=text(f"company_contact_number{'_spoken' if 'spoken' in key else ''}", lang))
    said = said_company(f"Acme Mail Inc{label}" if label.startswith(" ") else label)  # the caution: a sentence after
    assert said.startswith("Acme Mail Inc") and "(" not in said and not HOTLINE_WORDS.search(said), said
    if key != "company_unproven_spoken":
        assert said == "Acme Mail Inc"


@pytest.mark.parametrize("name", ["Acme Mail Inc", "Acme, Inc.", "Ticketmaster GmbH", "Procter and Gamble",
                                  "AT&T", "O'Reilly Media", "Müller Logistik AG"])
def test_an_ordinary_company_reads_as_said(name):
    assert said_company(name) == name


def test_a_said_company_keeps_its_words_in_square_brackets():
    assert said_company("Acme (Europe) Ltd") == "Acme [Europe] Ltd"
    assert said_company("from the ticket") == ""


def test_a_joined_contacts_company_in_a_page_carries_no_marker():
    joined = JoinedContact(at=None, due_at=None, company="Initech (from the ticket)", contact_name="Jane Roe",
                           callback_phone="+14155550197")
    assert joined.label() == "+14155550197 (Jane Roe, Initech)"
