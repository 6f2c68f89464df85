"""A customer whose number takes no SMS (a landline, or no number at all) is told by e-mail, once, that the deadline
passed without reaching them; without an e-mail address either, nothing is written and the timeline says so."""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, IncidentEvent, UpdateDeliveryStatus
from tests.paging.conftest import ALICE, MARIA

UK_LANDLINE = "+442079460123"  # takes calls, never an SMS
HOTLINE_NUMBER = "+15005550006"  # the test settings' TWILIO_NUMBER


def _rows(desk, model, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(model.incident_id == incident_id).order_by(model.id)))


def _through_the_breach(desk, network, open_it):
    """Alice acknowledges the page at once and calls nobody back: at-risk at T+10, the breach at T+15, the first
    repage at T+20. Any SMS to the customer fails the test."""
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    incident = open_it()
    desk.settle()
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=15)
    alice.expect_sms("BREACHED").expect_call(answer=False)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=20)
    return incident


def test_a_landline_customer_is_told_by_email_once_that_the_deadline_passed(desk, network, smtp):
    incident = _through_the_breach(desk, network, lambda: desk.intake(caller=UK_LANDLINE)[0])

    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []
    receipt, notice = _rows(desk, Delivery, incident.id)  # one notice, though the repage ran since
    assert receipt.purpose == "receipt"
    assert (notice.channel, notice.purpose, notice.recipient, notice.to_address, notice.status) == (
        "email", "breach_notice", "customer", "dana@acme.example", UpdateDeliveryStatus.SENT)
    assert notice.subject == f"Sev-1 incident {incident.reference}: we are sorry, we have not reached you yet"
    # the time we promised, on the customer's clock (London in winter)
    assert (f"we promised to call you back by 03:15 GMT about your Severity-1 incident, reference "
            f"{incident.reference}, and we have not reached you. We are sorry.") in notice.body
    assert "escalated to our managers, and an engineer will call you as soon as possible" in notice.body
    assert f"call us on {HOTLINE_NUMBER} and give your reference {incident.reference}" in notice.body
    [mail] = [m for m in smtp.inbox.to("dana@acme.example") if m["Subject"] == notice.subject]
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == notice.body.rstrip("\n")

    lines = [e.text for e in timeline(_rows(desk, IncidentEvent, incident.id), [])]
    assert [line for line in lines if line.startswith("Apology to the customer")] == [
        "Apology to the customer queued by e-mail: the callback deadline of 03:15 UTC passed without reaching them; "
        "escalated to the managers, an engineer calls as soon as possible"]
    assert "EMAIL breach_notice accepted for delivery (attempt 1)" in lines


def test_a_customer_without_a_number_is_told_by_email_that_we_did_not_reach_them_in_writing(desk, network, smtp):
    incident = _through_the_breach(desk, network, desk.email_only_incident)

    [notice] = [d for d in _rows(desk, Delivery, incident.id) if d.purpose == "breach_notice"]
    assert (notice.channel, notice.to_address, notice.status) == ("email", "dana@acme.example",
                                                                  UpdateDeliveryStatus.SENT)
    assert "we promised that an engineer would reach you by 03:15 UTC" in notice.body  # no number: no zone but UTC
    assert "contact you at this e-mail address as soon as possible" in notice.body and "call you" not in notice.body


def test_a_landline_customer_without_an_email_address_is_told_nothing_and_the_timeline_says_so(desk, network, smtp):
    def landline_without_address():
        incident = desk.intake(caller=UK_LANDLINE)[0]
        with desk.hotline.db.transaction() as s:
            s.get(type(incident), incident.id).email = ""
        return incident

    incident = _through_the_breach(desk, network, landline_without_address)

    assert [d for d in _rows(desk, Delivery, incident.id) if d.purpose == "breach_notice"] == []
    notices = [e.detail for e in _rows(desk, IncidentEvent, incident.id) if e.kind == "customer_breach_notice"]
    assert [d["channel"] for d in notices] == ["none"]  # logged once, though the repage ran since
    lines = [e.text for e in timeline(_rows(desk, IncidentEvent, incident.id), [])]
    assert ("Customer NOT told that the callback deadline passed: their number takes no SMS (or opted out) and there "
            "is no e-mail address") in lines
