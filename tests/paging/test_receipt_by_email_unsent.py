"""Without SMTP the landline caller's e-mailed receipt is recorded as NOT sent, visibly; without a number or an
e-mail address nothing is written at all (and nothing claims otherwise)."""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, DueStep, IncidentEvent, StepKind, UpdateDeliveryStatus
from tests.paging.conftest import ALICE

UK_LANDLINE = "+442079460123"  # takes calls, never an SMS


def _rows(desk, model, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(model.incident_id == incident_id).order_by(model.id)))


def _receipt_outcome(desk, incident_id) -> str:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep.outcome).where(DueStep.incident_id == incident_id,
                                                       DueStep.kind == StepKind.RECEIPT)).one()


def test_without_smtp_the_emailed_receipt_is_recorded_as_not_sent(desk, network):
    assert not desk.hotline.settings.smtp_host
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)  # any SMS to the landline fails the test
    incident, _heard = desk.intake(caller=UK_LANDLINE)
    desk.settle()

    assert _receipt_outcome(desk, incident.id) == "receipt_emailed"
    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []
    [delivery] = _rows(desk, Delivery, incident.id)
    assert (delivery.channel, delivery.purpose, delivery.to_address, delivery.status, delivery.sent_at) == (
        "email", "receipt", "dana@acme.example", UpdateDeliveryStatus.SKIPPED, None)
    assert incident.reference in delivery.subject and incident.reference in delivery.body
    lines = [e.text for e in timeline(_rows(desk, IncidentEvent, incident.id), [])]
    assert "EMAIL receipt to the customer NOT sent: SMTP is not configured" in lines
    assert not any("accepted for delivery" in line for line in lines)


def test_a_withheld_number_with_an_email_address_gets_a_receipt_that_promises_no_call(desk, network):
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.email_only_incident()
    desk.settle()

    assert _receipt_outcome(desk, incident.id) == "receipt_emailed"
    [delivery] = _rows(desk, Delivery, incident.id)
    assert (delivery.channel, delivery.purpose, delivery.to_address) == ("email", "receipt", "dana@acme.example")
    assert "no telephone number to call you back on" in delivery.body and "call you back by" not in delivery.body
