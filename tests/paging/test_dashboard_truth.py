"""What the board and the incident page say, compared with the database and the compliance report.

Incidents are driven into each state through the scripted phones and the fake clock; the pages are read as a
rep reads them (parsed HTML text), never from the code that builds them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Callback
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as, post_form
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_callback_rep_leg import _sms_from


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _board_state(client, reference):
    row = parse(client.get("/board")).find("tr", id=f"inc-{reference}")
    return row.find(cls="state").text()


def _page_state(client, reference):
    return parse(client.get(f"/incidents/{reference}")).find(id="state-box").text()


def test_a_rep_not_reached_is_never_shown_as_calling_the_customer(desk, network, client):
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    alice.expect_call(answer=False).expect_sms("could not reach you")
    _sms_from(desk, ALICE, f"CALL {incident.reference}")
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "rep_not_reached"  # the customer was never dialled

    login_as(client, desk.hotline)
    for said in (_board_state(client, incident.reference), _page_state(client, incident.reference)):
        assert "Calling the customer" not in said
        assert "NOT called" in said


def test_a_customer_who_did_not_answer_is_not_shown_as_being_called(desk, network, client):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answer=False).expect_sms("tried to call you")
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])
    incident = desk.open_incident()
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "attempted"

    login_as(client, desk.hotline)
    for said in (_board_state(client, incident.reference), _page_state(client, incident.reference)):
        assert "Calling the customer" not in said
        assert "not reached" in said


def test_a_taken_over_incident_never_says_the_new_owner_acknowledged_it(desk, network, client):
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=4)
    alice.expect_sms(f"SEV1 {incident.reference} Acme Mail: Bob Secondary took this incident over from you")  # who took it
    login_as(client, desk.hotline, name="Bob Secondary", rep_name="Bob Secondary")
    post_form(client, f"/incidents/{incident.reference}/take-over")
    desk.settle()
    assert desk.incident(incident.id).acknowledged_at == desk.t0  # Alice's acknowledgement stands in the row

    row = parse(client.get("/board")).find("tr", id=f"inc-{incident.reference}")
    said = " ".join(td.text() for td in row.find_all("td") if td.attrs.get("data-label") == "State")
    assert "Acknowledged by Bob" not in said
    assert "Taken over by Bob Secondary at 03:04 UTC" in said
    box = parse(client.get(f"/incidents/{incident.reference}")).find(id="state-box").text()
    assert "Acknowledged by Bob" not in box
    assert "Taken over by Bob Secondary at 03:04 UTC" in box and "Alice Primary" in box


def test_twilio_failing_every_page_puts_a_banner_on_the_board_until_a_page_is_accepted_again(desk, network, client,
                                                                                             twilio):
    """/healthz said "paging: failing" during the tester's outage; the board, where a manager looks, said nothing."""

    login_as(client, desk.hotline)
    assert parse(client.get("/board")).find_all(id="paging-failing") == []
    twilio.fail_until(desk.t0 + timedelta(seconds=20), status=503)
    incident = desk.open_incident()
    desk.at(seconds=2)  # the first tries of the receipt, Alice's SMS and her call have failed
    board = parse(client.get("/board"))
    [banner] = board.find_all(id="paging-failing")
    # and the board left open gets it with its next live update, keyed by when the failing began
    [live] = parse(client.get("/board/rows")).find_all(id="paging-failing")
    assert live.attrs["data-key"] == banner.attrs["data-key"] and banner.attrs["data-key"].startswith("paging-failing 20")
    assert banner.attrs["role"] == "alert"
    assert banner.text().startswith("Paging is failing: no page has reached Twilio since ")
    assert "so reps are not being paged" in banner.text()
    assert board.find("tr", id=f"inc-{incident.reference}").find(cls="state").text() == "Page not sent yet"
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    for second in range(4, 41, 2):  # Twilio answers again at 20 s: the pages leave
        desk.at(seconds=second)
    board = parse(client.get("/board"))
    assert board.find_all(id="paging-failing") == []
    assert parse(client.get("/board/rows")).find_all(id="paging-failing") == []
    assert board.find("tr", id=f"inc-{incident.reference}").find(cls="state").text() == "Paged, not acknowledged"
