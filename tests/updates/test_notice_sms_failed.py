"""A one-off notice's SMS to the customer that fails for good is e-mailed instead (once), when they gave an address.

An outside probe's customer had their receipt SMS come back undelivered (30005), and the e-mail receipt followed;
at the deadline the apology SMS ("we promised to call you back by ... and have not reached you") came back
undelivered too, and nothing followed: the customer was told on no channel, while the incident's log said they had
been (``customer_breach_notice`` by SMS)."""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, IncidentEvent, Page, UpdateDeliveryStatus
from tests.paging.conftest import CUSTOMER, MARIA
from tests.paging.test_breach_notice import NOTICE, _acknowledged_and_warned

EMAILED = ("The SMS apology that the deadline passed to the customer was undelivered (error 30005): it is e-mailed "
           "to them instead")


def _rows(desk, model, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(model.incident_id == incident_id).order_by(model.id)))


def test_an_apology_sms_that_comes_back_undelivered_is_e_mailed_instead_once(desk, network, smtp):
    incident, _alice = _acknowledged_and_warned(desk, network)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms(NOTICE, fail="undelivered", error_code=30005)
    desk.at(minutes=15)

    [notice] = [p for p in _rows(desk, Page, incident.id) if p.purpose == "breach_notice"]
    assert notice.status == "undelivered"
    [mailed] = [d for d in _rows(desk, Delivery, incident.id) if d.purpose == "breach_notice"]
    assert (mailed.channel, mailed.recipient, mailed.to_address, mailed.status) == (
        "email", "customer", "dana@acme.example", UpdateDeliveryStatus.SENT)
    [mail] = smtp.inbox.to("dana@acme.example")
    assert incident.reference in mail["Subject"]
    lines = [e.text for e in timeline(_rows(desk, IncidentEvent, incident.id), _rows(desk, Page, incident.id))]
    assert EMAILED in lines

    desk.at(minutes=17)  # nothing more: one apology e-mail, one line
    assert len([d for d in _rows(desk, Delivery, incident.id) if d.purpose == "breach_notice"]) == 1
    assert len(smtp.inbox.to("dana@acme.example")) == 1


def test_an_apology_sms_undelivered_with_no_address_says_the_customer_was_not_told(desk, network, smtp):
    incident, _alice = _acknowledged_and_warned(desk, network)
    with desk.hotline.db.transaction() as s:  # the caller gave no e-mail address
        s.get(type(incident), incident.id).email = ""
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms(NOTICE, fail="undelivered", error_code=30005)
    desk.at(minutes=15)

    assert [d for d in _rows(desk, Delivery, incident.id) if d.purpose == "breach_notice"] == []
    lines = [e.text for e in timeline(_rows(desk, IncidentEvent, incident.id), _rows(desk, Page, incident.id))]
    assert ("The SMS apology that the deadline passed to the customer was undelivered (error 30005), and no e-mail "
            "address is on record: the customer was not told") in lines
