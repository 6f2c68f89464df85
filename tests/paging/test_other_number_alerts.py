"""A rep's at-risk and breach alerts that fail for good go to their other number (``phone_alt``), as their page does
(a follow-up of probe Q, Q1: until this change only the escalation page did, and a rep whose number Twilio refused
for good heard nothing of the alerts). Through the simulated Twilio over HTTP and scripted phones that fail the test
on any SMS or call nobody expected (and on any expected one that never came)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Page, Rep
from tests.paging.conftest import ALICE, BOB, MARIA
from tests.paging.test_rep_other_number import ALICE_ALT, _alice_has_another_number, _events, _timeline

MARIA_ALT = "+14155550134"


def _alerts(desk, incident_id: int, purpose: str) -> dict[tuple[str, str], str]:
    """The incident's alerts of ``purpose``, by (number, channel): their status."""
    with desk.hotline.db.session() as s:
        return {(p.to_number, str(p.channel)): str(p.status) for p in s.scalars(select(Page).where(
            Page.incident_id == incident_id, Page.purpose == purpose))}


def _paged_until_minute_6(desk, network):
    """Nobody acknowledges: Alice (SMS, call, call again), Bob and Maria paged, as ``Desk.breached_unanswered``."""
    incident, customer = desk.unanswered_until_minute_3(network)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    return incident, customer


def test_an_at_risk_alert_twilio_refuses_for_good_goes_to_the_reps_other_number(desk, network, twilio):
    """Alice's at-risk SMS is refused (21610: she texted STOP, which Twilio alone heard): she is called with the alert
    as before, and the alert SMS goes to her other number, once; the timeline says so."""
    _alice_has_another_number(desk)
    incident, _customer = _paged_until_minute_6(desk, network)
    twilio.opted_out.add(ALICE)
    network.phone(ALICE).expect_call(answer=False)  # the at-risk alert, by voice, as before
    other = network.phone(ALICE_ALT).expect_sms("AT RISK")
    for number in (BOB, MARIA):
        network.phone(number).expect_sms("AT RISK")
    desk.at(minutes=10)
    assert other.unmet == [] and len(other.sms) == 1 and other.calls == []
    alerts = _alerts(desk, incident.id, "at_risk")
    assert (alerts[(ALICE, "sms")], alerts[(ALICE, "voice")], alerts[(ALICE_ALT, "sms")]) == (
        "failed", "no-answer", "delivered")
    assert (ALICE_ALT, "voice") not in alerts
    assert "SMS at-risk alert to Alice Primary failed; paging Alice Primary's other number instead" in _timeline(
        desk, incident.id)
    assert "SMS at-risk alert to Alice Primary's other number sent" in _timeline(desk, incident.id)
    [line] = _events(desk, incident.id, "page_failed_other_number")
    with desk.hotline.db.session() as s:
        alice_id = s.scalars(select(Rep.id).where(Rep.phone == ALICE)).one()
        other_page = s.get(Page, line.detail["other_page_id"])
        assert (other_page.rep_id, other_page.purpose, other_page.to_number) == (alice_id, "at_risk", ALICE_ALT)


def test_a_breach_alert_to_a_manager_refused_for_good_goes_to_their_other_number(desk, network, twilio):
    """Maria's number is refused for good since T+6 (21211): the breach alert, SMS and call, goes to her other number,
    once each; the customer is told as before."""
    with desk.hotline.db.transaction() as s:
        s.scalars(select(Rep).where(Rep.phone == MARIA)).one().phone_alt = MARIA_ALT
    incident, customer = _paged_until_minute_6(desk, network)
    for number in (ALICE, BOB, MARIA):
        network.phone(number).expect_sms("AT RISK")
    desk.at(minutes=10)
    twilio.refuse_to(MARIA, code=21211)
    other = network.phone(MARIA_ALT).expect_sms("BREACHED").expect_call(answer=False)
    customer.expect_sms("have not reached you")
    desk.at(minutes=15)
    assert other.unmet == [] and len(other.sms) == 1 and len(other.calls) == 1
    alerts = _alerts(desk, incident.id, "breach")
    assert alerts == {(MARIA, "sms"): "failed", (MARIA, "voice"): "failed", (MARIA_ALT, "sms"): "delivered",
                      (MARIA_ALT, "voice"): "no-answer"}
    words = _timeline(desk, incident.id)
    assert "SMS breach alert to Maria Manager failed; paging Maria Manager's other number instead" in words
    assert "Voice call breach alert to Maria Manager failed; paging Maria Manager's other number instead" in words
