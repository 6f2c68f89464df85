"""A caller who keyed a ticket and hung up before saying the company: every text names the company of the ticket's
account "(from the ticket)", as the board does, never "unknown company". Unless that
account has a support PIN the caller did not prove (a wrong one, or none): anyone may key another customer's ticket
number, so the incident is not named, paged to that customer's TAM or shown as theirs (``tickets.account_of``)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Account, Incident, IncidentEvent
from app.services.tickets import parse_ticket_input, upsert_ticket
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_ack_guards import _ticket_with_a_tam_at_work
from tests.paging.test_policy import TAM


def _keys_a_ticket_and_hangs_up(desk, *then: str) -> Incident:
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    call.press("1")
    call.press("2")  # SMTP injection failing
    call.press("7788")
    for keys in then:
        call.press(keys)
    call.hang_up()
    with desk.hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()


def _without_a_pin(desk) -> None:
    """Ticket 7788 as ``_ticket_with_a_tam_at_work`` has it, of an account with no support PIN: nothing to prove."""
    _ticket_with_a_tam_at_work(desk)
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({"number": "7788", "company": "Globex Mailers", "support_pin": "-"}),
                      desk.clock.now())
        assert s.scalars(select(Account).where(Account.name == "Globex Mailers")).one().support_pin_hash == ""


def _shown(desk, incident: Incident) -> tuple[str, str]:
    """The company as the board's row and the incident's page show it."""
    login_as(desk.client, desk.hotline)
    row = parse(desk.client.get("/board")).find("tr", id=f"inc-{incident.reference}").find(cls="company").text()
    return row, parse(desk.client.get(f"/incidents/{incident.reference}")).find(cls="company").text()


def test_a_ticket_callers_company_is_named_from_the_ticket_in_pages_and_on_the_board(desk, network):
    _without_a_pin(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1")
    incident = _keys_a_ticket_and_hangs_up(desk)  # asked for the company next
    desk.settle()
    assert incident.company == "" and incident.ticket_number == "7788"  # the caller never said it
    # named as the board names it; the caller (CUSTOMER) proved nothing and is not the ticket's contact: said too
    # (tests/paging/test_unverified_caller_pages.py)
    named = "Globex Mailers (from the ticket), UNVERIFIED caller, number not the ticket's: "
    assert alice.sms[0].startswith(f"SEV1 {incident.reference} {named}")
    assert tam.sms[0].startswith(f"SEV1 {incident.reference} {named}")
    row, page = _shown(desk, incident)
    assert row == "Globex Mailers (from the ticket), UNVERIFIED caller, number not the ticket's"
    assert "Globex Mailers (from the ticket), UNVERIFIED caller, number not the ticket's" in page


@pytest.mark.parametrize("pin", [("1111",), ()], ids=["wrong_pin", "hung_up_at_the_pin"])
def test_a_keyed_ticket_whose_pin_was_not_proven_names_no_company_and_pages_no_tam(desk, network, pin):
    _ticket_with_a_tam_at_work(desk)  # its account has the PIN 2468; its TAM is at work: they would be texted
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = _keys_a_ticket_and_hangs_up(desk, *pin)
    desk.settle()
    assert incident.ticket_number == "7788" and incident.company == ""  # the ticket stays linked, unnamed
    assert alice.sms[0].startswith(f"SEV1 {incident.reference} unknown company: ")
    assert all("Globex" not in m.body for m in desk.network.twilio.messages)
    assert TAM not in [m.to for m in desk.network.twilio.messages]  # the TAM's phone expects nothing either
    row, page = _shown(desk, incident)
    assert "Globex" not in row and "Globex" not in page
    with desk.hotline.db.session() as s:
        checked = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                        IncidentEvent.kind == "caller_details_checked")).one()
    assert checked.detail["verified"] == "no"


def test_a_keyed_ticket_proven_with_its_pin_names_the_company_and_pages_the_tam(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1")
    incident = _keys_a_ticket_and_hangs_up(desk, "2468")  # the right PIN, then hangs up
    desk.settle()
    assert incident.caller_verified == "pin"
    assert alice.sms[0].startswith(f"SEV1 {incident.reference} Globex Mailers: ")
    assert tam.sms[0].startswith(f"SEV1 {incident.reference} Globex Mailers: ")
    row, page = _shown(desk, incident)
    assert "Globex Mailers" in row and "Globex Mailers" in page
