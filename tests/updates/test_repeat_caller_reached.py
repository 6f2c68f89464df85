"""A customer the rep reached (``CALLED``: the escalation core's ``customer_reached``) who calls again hears that
they were called and when their next update comes, never a callback promised or apologised for (an outside probe)."""

from __future__ import annotations

from datetime import timedelta

from ivr_flows.prompts import say_time
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_live_connect import _call, _said, _step

CUSTOMER_CLOCK = "America/Los_Angeles"


def _called_and_every_hour(desk, network):
    """Alice acknowledges, texts CALLED at 5 minutes and agrees updates every hour (the customer is told)."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    incident = desk.open_incident()
    desk.settle()
    desk.at(minutes=5)
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {incident.reference}").get_data(as_text=True)
    customer.expect_sms("as agreed, you will get an update every hour")
    _sms_from(desk, ALICE, f"EVERY 60 {incident.reference}")
    desk.settle()
    return incident


def _status_heard(desk, reference: str) -> str:
    """The customer calls again from their number and proves the incident with its reference: what they hear."""
    again = _call(desk)
    again.dial()
    assert "open incident for the number" in _said(_step(desk, again, lambda c: c.press("1")))
    _step(desk, again, lambda c: c.press("1"))
    return _said(_step(desk, again, lambda c: c.press(reference)))


def test_a_customer_the_rep_reported_called_hears_so_and_when_the_next_update_comes(desk, network, smtp):
    incident = _called_and_every_hour(desk, network)
    next_update = desk.t0 + timedelta(minutes=5 + 60)
    desk.clock.set(desk.t0 + timedelta(minutes=9))
    heard = _status_heard(desk, incident.reference)
    assert "will call you back" not in heard and "haven't called you back" not in heard, heard
    when = say_time("en-US", next_update, zone_name=CUSTOMER_CLOCK, now=desk.clock.now(), at=True)
    assert f"We have called you back, and our team is working on it. Your next update will come by {when}." in heard


def test_after_the_deadline_a_customer_the_rep_reported_called_is_not_apologised_to(desk, network, smtp):
    incident = _called_and_every_hour(desk, network)
    # the deadline passed: the self-report is on record as breached (never "met"), and the managers are told so
    network.phone(MARIA).expect_sms("the only call was self-reported by Alice Primary (unverified)").expect_call(
        answer=False)
    desk.at(minutes=15, seconds=30)
    desk.clock.set(desk.t0 + timedelta(minutes=16))
    heard = _status_heard(desk, incident.reference)
    assert "sorry" not in heard.lower() and "will call you" not in heard, heard
    assert "We have called you back, and our team is working on it. Your next update will come by" in heard
