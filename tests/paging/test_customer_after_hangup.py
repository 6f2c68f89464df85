"""The customer's side after they hang up: what a late callback and its notice tell them (scripted phones)."""

from __future__ import annotations

from datetime import timedelta

from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA


def test_a_late_callback_apologises_and_never_names_a_time_already_past(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    for number in (ALICE, BOB, MARIA):
        network.phone(number).expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=15)
    customer.expect_sms("has taken your incident").expect_call(press="1", answered=True)
    alice.expect_call()
    from tests.paging.test_acknowledgement import _sms_from

    desk.clock.set(desk.t0 + timedelta(minutes=16))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    receipt, notice = customer.sms
    due = receipt.split("call you back by ")[1].split(".")[0]  # the time the receipt promised, e.g. "19:15 PST"
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
