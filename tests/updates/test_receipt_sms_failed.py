"""A receipt SMS that fails for good is followed by the e-mail receipt (once) when the caller gave an address, and the
timeline says so; without an address the timeline says the customer holds no written reference.

An outside probe's caller (e-mail given, SMTP configured) had their receipt SMS reported ``sent`` then
``undelivered`` with ``ErrorCode=30003`` (unreachable handset), or ``failed``/30006 (a landline): nothing followed,
while the IVR had told them "You'll also get a text message with this reference"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, DueStep, Incident, IncidentEvent, Page, StepKind, UpdateDeliveryStatus
from app.services.page_status import sms_status
from tests.paging.conftest import ALICE, CUSTOMER

EMAILED = "The receipt SMS to the customer {how} (error {code}): the receipt is e-mailed to them instead"


def _rows(desk, model, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(model.incident_id == incident_id).order_by(model.id)))


def _lines(desk, incident_id) -> list[str]:
    return [e.text for e in timeline(_rows(desk, IncidentEvent, incident_id), _rows(desk, Page, incident_id))]


def _receipt_outcome(desk, incident_id) -> str:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep.outcome).where(DueStep.incident_id == incident_id,
                                                       DueStep.kind == StepKind.RECEIPT)).one()


@pytest.mark.parametrize(("fail", "code", "how"), [("undelivered", 30003, "was undelivered"),
                                                   ("failed", 30006, "failed")])
def test_a_receipt_sms_that_fails_is_followed_by_the_email_receipt_once(desk, network, smtp, fail, code, how):
    network.phone(CUSTOMER).expect_sms("we have your report", fail=fail, error_code=code)
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident, _heard = desk.intake(caller=CUSTOMER)
    desk.settle()

    assert _receipt_outcome(desk, incident.id) == "receipt_queued"  # the SMS was tried first
    [receipt] = [p for p in _rows(desk, Page, incident.id) if p.purpose == "receipt"]
    assert receipt.status == fail
    [delivery] = _rows(desk, Delivery, incident.id)
    assert (delivery.channel, delivery.purpose, delivery.recipient, delivery.to_address, delivery.status) == (
        "email", "receipt", "customer", "dana@acme.example", UpdateDeliveryStatus.SENT)
    [mail] = smtp.inbox.to("dana@acme.example")
    assert incident.reference in mail["Subject"] and incident.reference in mail.get_content()
    lines = _lines(desk, incident.id)
    assert EMAILED.format(how=how, code=code) in lines
    assert "EMAIL receipt accepted for delivery (attempt 1)" in lines
    # the line comes after the SMS's own report, and before the e-mail it caused
    assert lines.index(EMAILED.format(how=how, code=code)) < lines.index("EMAIL receipt to the customer queued")

    desk.at(minutes=2)  # nothing more: one e-mail receipt, one line
    assert len(_rows(desk, Delivery, incident.id)) == 1 and len(smtp.inbox.to("dana@acme.example")) == 1
    assert _lines(desk, incident.id).count(EMAILED.format(how=how, code=code)) == 1


def test_a_second_final_report_of_the_same_receipt_sms_emails_nothing_more(desk, network, smtp):
    network.phone(CUSTOMER).expect_sms("we have your report", fail="failed", error_code=30006)
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident, _heard = desk.intake(caller=CUSTOMER)
    desk.settle()
    [receipt] = [p for p in _rows(desk, Page, incident.id) if p.purpose == "receipt"]
    # Twilio's "failed" and then an "undelivered" for the same message (both final, same rank: the page moves)
    desk.run(lambda s, now: sms_status(s, receipt.id, "undelivered", receipt.twilio_sid, "30003", now))
    assert [p.status for p in _rows(desk, Page, incident.id) if p.purpose == "receipt"] == ["undelivered"]
    assert len(_rows(desk, Delivery, incident.id)) == 1 and len(smtp.inbox.to("dana@acme.example")) == 1
    assert sum(line.startswith("The receipt SMS to the customer") for line in _lines(desk, incident.id)) == 1


def test_a_receipt_sms_twilio_refuses_for_good_is_followed_by_the_email_receipt(desk, network, twilio, smtp):
    twilio.refuse_to(CUSTOMER, code=21614)  # "the 'To' number cannot receive SMS": refused for good
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident, _heard = desk.intake(caller=CUSTOMER)
    desk.settle()

    [receipt] = [p for p in _rows(desk, Page, incident.id) if p.purpose == "receipt"]
    assert (receipt.status, receipt.attempts) == ("failed", 1)
    [delivery] = _rows(desk, Delivery, incident.id)
    assert (delivery.purpose, delivery.to_address, delivery.status) == (
        "receipt", "dana@acme.example", UpdateDeliveryStatus.SENT)
    assert len(smtp.inbox.to("dana@acme.example")) == 1
    assert "The receipt SMS to the customer failed: the receipt is e-mailed to them instead" in _lines(desk, incident.id)


def test_a_receipt_sms_that_fails_without_an_address_says_the_customer_holds_no_written_reference(
        desk, network, smtp):
    network.phone(CUSTOMER).expect_sms("we have your report", fail="undelivered", error_code=30003)
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident, _heard = desk.intake(caller=CUSTOMER)
    with desk.hotline.db.transaction() as s:  # as a caller who gave no address (the receipt SMS has not left yet)
        s.get(Incident, incident.id).email = ""
    desk.settle()

    [receipt] = [p for p in _rows(desk, Page, incident.id) if p.purpose == "receipt"]
    assert receipt.status == "undelivered"
    assert _rows(desk, Delivery, incident.id) == [] and smtp.inbox.messages == []
    assert ("The receipt SMS to the customer was undelivered (error 30003), and no e-mail address is on record: "
            "the customer holds no written reference, only what they heard on the call") in _lines(desk, incident.id)
    [line] = [e for e in _rows(desk, IncidentEvent, incident.id) if e.kind == "receipt_sms_failed_no_address"]
    assert line.detail["page_id"] == receipt.id and line.detail["error_code"] == "30003"
    assert line.at - desk.t0 < timedelta(minutes=10)
