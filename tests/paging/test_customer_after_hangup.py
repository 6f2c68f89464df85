"""The customer's side after they hang up: what a late callback and its notice tell them (scripted phones)."""

from __future__ import annotations

from tests.paging.conftest import ALICE, CUSTOMER


def test_a_late_callback_apologises_and_never_names_a_time_already_past(desk, network):
    incident, customer = desk.called_back_late_by_alice(network)
    receipt, breach_notice, notice = customer.sms
    due = receipt.split("call you back by ")[1].split(".")[0]  # the time the receipt promised, e.g. "19:15 PST"
    assert f"call you back by {due} and have not reached you" in breach_notice  # told at the breach, with its time
    assert due not in notice and "sorry" in notice  # 16 minutes in: no deadline already past
    heard = customer.calls[0].heard
    assert "sorry" in heard and "later than we promised" in heard
    assert "your engineer" not in heard  # whoever calls (a manager too) is "our support team"


def test_an_on_time_callback_is_not_an_apology(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    desk.open_incident()
    desk.settle()
    heard = customer.calls[0].heard
    assert "Press any key to speak with our support team" in heard and "sorry" not in heard
