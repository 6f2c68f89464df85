"""A rep's at-risk and breach alerts that fail for good go to their other number (``phone_alt``), as their page does
(a follow-up of probe Q, Q1: until this change only the escalation page did, and a rep whose number Twilio refused
for good heard nothing of the alerts). Through the simulated Twilio over HTTP and scripted phones that fail the test
on any SMS or call nobody expected (and on any expected one that never came). Likewise a bridged callback's call to
the rep that Twilio refuses for good is made to their other number, once."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Callback, Page, Rep
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
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


def test_a_bridged_callbacks_call_to_the_rep_refused_for_good_is_made_to_their_other_number(desk, network, twilio):
    """Alice texts CALL; Twilio refuses the call to her number for good (21215, geo permissions, since her first page
    rang): the hotline calls her other number once, she answers there and the customer is dialled and reached.
    Before, the callback closed as "rep not reached" and she was texted to call the customer herself."""
    from tests.paging.test_acknowledgement import _sms_from
    from tests.paging.test_rep_other_number import GEO_PERMISSIONS, _creates_to

    _alice_has_another_number(desk)
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    twilio.refuse_to(ALICE, GEO_PERMISSIONS, resource="Calls")
    customer.expect_sms("has taken your incident").expect_call(press="1", answered=True)
    other = network.phone(ALICE_ALT).expect_call()
    desk.clock.set(desk.t0.replace(minute=desk.t0.minute + 1))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    assert other.unmet == [] and len(other.calls) == 1 and other.sms == []
    assert _creates_to(twilio, ALICE).count("Calls.json") == 2  # her page call, and the refused callback call
    with desk.hotline.db.session() as s:
        [callback] = s.scalars(select(Callback).where(Callback.incident_id == incident.id)).all()
        assert (callback.outcome, callback.attempts) == ("met", 2)
    assert desk.incident(incident.id).callback_answered_at is not None
    assert len(_events(desk, incident.id, "callback_rep_other_number")) == 1
    assert _events(desk, incident.id, "callback_rep_not_reached") == []
    assert ("The hotline could not call the rep (Twilio refused their number): calling the rep's other number "
            "instead") in _timeline(desk, incident.id)


def test_a_bridged_callbacks_call_refused_on_both_numbers_tells_the_rep_once(desk, network, twilio):
    """Her other number refused too: the callback ends "rep not reached" and she is texted so, as before; no number
    of hers is called twice for it."""
    from tests.paging.test_acknowledgement import _sms_from
    from tests.paging.test_rep_other_number import _creates_to

    _alice_has_another_number(desk)
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    twilio.refuse_to(ALICE, 21215, resource="Calls")
    twilio.refuse_to(ALICE_ALT, 21215, resource="Calls")
    customer.expect_sms("has taken your incident")
    alice.expect_sms("could not reach you")
    desk.clock.set(desk.t0.replace(minute=desk.t0.minute + 1))
    _sms_from(desk, ALICE, f"CALL {incident.reference}")
    desk.settle()
    assert _creates_to(twilio, ALICE_ALT) == ["Calls.json"]
    assert _creates_to(twilio, ALICE).count("Calls.json") == 2
    with desk.hotline.db.session() as s:
        [callback] = s.scalars(select(Callback).where(Callback.incident_id == incident.id)).all()
        assert callback.outcome == "rep_not_reached"
    assert len(_events(desk, incident.id, "callback_rep_not_reached")) == 1
