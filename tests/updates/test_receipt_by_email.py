"""A caller whose number takes no SMS (a landline) gets the written receipt by e-mail, through the real intake
webhooks, the escalation core, the delivery job and a real local SMTP server; a mobile caller still gets the SMS."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, DueStep, IncidentEvent, Page, SmsOptOut, StepKind, UpdateDeliveryStatus
from tests.paging.conftest import ALICE, CUSTOMER

UK_LANDLINE = "+442079460123"  # takes calls, never an SMS
HOTLINE_NUMBER = "+15005550006"  # the test settings' TWILIO_NUMBER


def _rows(desk, model, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(model.incident_id == incident_id).order_by(model.id)))


def _receipt_step(desk, incident_id) -> DueStep:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep).where(DueStep.incident_id == incident_id,
                                               DueStep.kind == StepKind.RECEIPT)).one()


def test_a_landline_caller_gets_the_receipt_by_email_and_no_sms(desk, network, smtp):
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)  # any SMS to the landline fails the test
    incident, _heard = desk.intake(caller=UK_LANDLINE)
    desk.settle()

    assert _receipt_step(desk, incident.id).outcome == "receipt_emailed"
    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []
    assert [p for p in _rows(desk, Page, incident.id) if p.role == "customer"] == []
    [delivery] = _rows(desk, Delivery, incident.id)
    due = f"{incident.callback_due_at.astimezone(ZoneInfo('Europe/London')):%H:%M} GMT"  # London in November
    assert (delivery.channel, delivery.purpose, delivery.recipient, delivery.to_address, delivery.status) == (
        "email", "receipt", "customer", "dana@acme.example", UpdateDeliveryStatus.SENT)
    assert delivery.subject == f"Sev-1 incident {incident.reference}: we have your report"
    assert f"reference {incident.reference}." in delivery.body
    assert f"An engineer will call you back by {due}." in delivery.body
    assert f"call us on {HOTLINE_NUMBER} and give your reference {incident.reference}" in delivery.body
    assert "SMS" not in delivery.body  # the number takes none: never offered as a way to add details

    [mail] = smtp.inbox.to("dana@acme.example")  # sent, once
    assert mail["Subject"] == delivery.subject
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == delivery.body.rstrip("\n")

    events = _rows(desk, IncidentEvent, incident.id)
    lines = [e.text for e in timeline(events, [])]
    assert "Receipt step: receipt emailed" in lines
    assert "EMAIL receipt to the customer queued" in lines
    assert "EMAIL receipt accepted for delivery (attempt 1)" in lines


def test_a_caller_whose_number_takes_sms_gets_the_receipt_by_sms_only(desk, network, smtp):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident, _heard = desk.intake(caller=CUSTOMER)
    desk.settle()

    assert _receipt_step(desk, incident.id).outcome == "receipt_queued"
    [receipt] = [m for m in network.twilio.messages if m.to == CUSTOMER]
    assert incident.reference in receipt.body
    assert _rows(desk, Delivery, incident.id) == [] and smtp.inbox.messages == []


def test_a_caller_whose_mobile_texted_stop_gets_the_receipt_by_email(desk, network, smtp):
    with desk.hotline.db.transaction() as s:  # the customer's mobile opted out of the hotline's SMS earlier
        s.add(SmsOptOut(phone=CUSTOMER, opted_out_at=desk.clock.now(), source="keyword", keyword="STOP"))
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)  # any SMS to the customer fails the test
    incident, _heard = desk.intake(caller=CUSTOMER)
    desk.settle()

    assert _receipt_step(desk, incident.id).outcome == "receipt_emailed"
    assert [m for m in network.twilio.messages if m.to == CUSTOMER] == []
    [delivery] = _rows(desk, Delivery, incident.id)
    assert (delivery.channel, delivery.purpose, delivery.status) == ("email", "receipt", UpdateDeliveryStatus.SENT)
    [mail] = smtp.inbox.to("dana@acme.example")
    assert incident.reference in mail["Subject"]


def test_a_withheld_number_with_an_email_address_gets_a_receipt_that_promises_no_call(desk, network, smtp):
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.email_only_incident()
    desk.settle()

    assert _receipt_step(desk, incident.id).outcome == "receipt_emailed"
    [delivery] = _rows(desk, Delivery, incident.id)
    assert (delivery.channel, delivery.purpose, delivery.to_address) == ("email", "receipt", "dana@acme.example")
    assert "no telephone number to call you back on" in delivery.body and "call you back by" not in delivery.body
