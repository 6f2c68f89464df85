"""Without SMTP no e-mail can reach the customer (``deliveries.can_email``, the rule the escalation core's
``Snapshot.has_email`` now follows): the landline caller's receipt is not "e-mailed" and then recorded as NOT sent, it
is not chosen at all; without a number or an e-mail address nothing is written either (and nothing claims
otherwise)."""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, DueStep, IncidentEvent, StepKind
from tests.paging.conftest import ALICE

UK_LANDLINE = "+442079460123"  # takes calls, never an SMS


def _rows(desk, model, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(model.incident_id == incident_id).order_by(model.id)))


def _receipt_outcome(desk, incident_id) -> str:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep.outcome).where(DueStep.incident_id == incident_id,
                                                       DueStep.kind == StepKind.RECEIPT)).one()


def test_without_smtp_no_receipt_is_chosen_for_e_mail(desk, network):
    assert not desk.hotline.settings.smtp_host
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)  # any SMS to the landline fails the test
    incident, _heard = desk.intake(caller=UK_LANDLINE)
    desk.settle()

    assert _receipt_outcome(desk, incident.id) == "skipped_not_textable"
    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []
    assert _rows(desk, Delivery, incident.id) == []
    lines = [e.text for e in timeline(_rows(desk, IncidentEvent, incident.id), [])]
    assert not any("EMAIL receipt" in line or "accepted for delivery" in line for line in lines)
