"""A caller who keyed a ticket and hung up before saying the company: every text names
the company of the ticket's account, as the TAM's e-mail does, never "unknown company"; the board says it came
from the ticket."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_ack_guards import _ticket_with_a_tam_at_work
from tests.paging.test_policy import TAM


def _keys_a_ticket_and_hangs_up(desk) -> Incident:
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    call.press("1")
    call.press("2")  # SMTP injection failing
    call.press("7788")  # hangs up when asked for the ticket's support PIN
    call.hang_up()
    with desk.hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()


def test_a_ticket_callers_company_is_named_from_the_ticket_in_pages_and_on_the_board(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1")
    incident = _keys_a_ticket_and_hangs_up(desk)
    desk.settle()
    assert incident.company == ""  # the caller never said it
    assert alice.sms[0].startswith(f"SEV1 {incident.reference} Globex Mailers: ")
    assert tam.sms[0].startswith(f"SEV1 {incident.reference} Globex Mailers: ")
    login_as(desk.client, desk.hotline)
    row = parse(desk.client.get("/board")).find("tr", id=f"inc-{incident.reference}")
    assert "Globex Mailers (from the ticket)" in row.find(cls="company").text()
    page = parse(desk.client.get(f"/incidents/{incident.reference}")).find(cls="company").text()
    assert "Globex Mailers (from the ticket)" in page
