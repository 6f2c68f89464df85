"""After an SMS outage the customer reads their texts in the order they were written.

Twilio refused every request for 7 s from the incident's opening: the receipt ("we have your report") waited out its
back-off (tried again at 2, 6 and 12 s). The rep acknowledged at 8 s, Twilio answering again: the acknowledgement
notice ("an engineer has taken your incident"), written then, was sent at once, 4 s before the receipt, and the
customer read them out of order. It now waits, untried, for the receipt, and goes the moment the receipt went; the
rep's own texts never wait for the customer's.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.event_kind import EventKind
from app.models import IncidentEvent, Page, PageStatus
from app.models.paging import CUSTOMER_ROLE
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from


def _customer_pages(desk, incident_id: int) -> dict[str, Page]:
    with desk.hotline.db.session() as s:
        return {p.purpose: p for p in s.scalars(select(Page).where(Page.incident_id == incident_id,
                                                                   Page.role == CUSTOMER_ROLE))}


def test_the_acknowledgement_notice_waits_for_the_receipt_twilio_refused_until_then(desk, network, twilio):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    twilio.fail_until(desk.t0 + timedelta(seconds=7))  # SMS and calls refused (500) for 7 s
    incident = desk.open_incident()
    desk.settle()
    desk.at(seconds=2)
    desk.at(seconds=6)  # the receipt's third try fails: the next one at 12 s
    assert customer.sms == [] and network.phone(ALICE).received == []

    desk.clock.set(desk.t0 + timedelta(seconds=8))  # Twilio answers again; Alice acknowledges by SMS (answered
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)  # at once)
    desk.settle()
    assert customer.sms == []  # the notice waits for the receipt, written before it
    pages = _customer_pages(desk, incident.id)
    assert (pages["ack_notice"].status, pages["ack_notice"].attempts) == (PageStatus.QUEUED, 0)  # no try spent
    with desk.hotline.db.session() as s:
        [waits] = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident.id,
                                                              IncidentEvent.kind == EventKind.CUSTOMER_SMS_WAITS))
    assert waits == {"page_id": pages["ack_notice"].id, "after_page_id": pages["receipt"].id,
                     "after_purpose": "receipt"}

    desk.at(seconds=12)  # the receipt goes, and the notice right after it
    assert len(customer.sms) == 2
    assert "we have your report" in customer.sms[0] and "has taken your incident" in customer.sms[1]
    sent = [m for m in twilio.messages if m.to == CUSTOMER]
    assert ["we have your report" in m.body for m in sent] == [True, False]
    pages = _customer_pages(desk, incident.id)
    assert pages["ack_notice"].attempts == 1 and pages["ack_notice"].sent_at == desk.t0 + timedelta(seconds=12)
