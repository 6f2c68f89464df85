"""Without SMTP no e-mail can reach the customer: a notice whose SMS fails is never "e-mailed instead".

An outside probe's manager closed an incident; the closing-notice SMS came back undelivered (30003) and the timeline
said "it is e-mailed to them instead", then "NOT sent: SMTP is not configured", and nobody was told that the customer
never learnt of the close (their last word from us was when the next update would come). The choice of e-mail now
follows the delivery job's rule (``deliveries.can_email``), and a closing notice that reached them by no channel has
whoever closed it and the owner texted to phone them, as for an update that reached them by no channel."""

from __future__ import annotations

import pytest

from app.models import Delivery, IncidentEvent
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.updates.test_breach_notice_by_email import UK_LANDLINE, _rows, _through_the_breach
from tests.updates.test_closing_notice import _lines, _manager_resolves


@pytest.fixture
def settings(settings):
    """The test settings without SMTP (SMTP_HOST unset)."""
    return settings.with_overrides(smtp_host="")


def test_a_closing_notice_sms_undelivered_without_smtp_is_not_emailed_and_the_closer_and_owner_phone(
        desk, network, client):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_sms("have not reached you")
    incident = _through_the_breach(desk, network, desk.open_incident)  # Alice owns it; she has an e-mail address
    customer.expect_sms("was closed by our support team", fail="undelivered", error_code=30003)
    network.phone(MARIA).expect_sms("reached the customer by NO channel (SMS undelivered, e-mail not sent: SMTP is "
                                    f"not configured). They do not know it is closed: phone them: {CUSTOMER}.")
    network.phone(ALICE).expect_sms("the notice that the support team closed the incident reached the customer by NO")
    desk.at(minutes=21)

    _manager_resolves(desk, client, incident.reference)

    assert [d for d in _rows(desk, Delivery, incident.id) if d.channel == "email"] == []
    [failed] = [e.detail for e in _rows(desk, IncidentEvent, incident.id)
                if e.kind == "customer_notice_sms_failed_no_address"]
    assert failed["told"] == ["closer", "owner"]
    lines = _lines(desk, incident.id)
    assert not [line for line in lines if "e-mailed to them instead" in line], lines
    assert ("The SMS notice of the closing to the customer was undelivered (error 30003), and no e-mail can go (SMTP "
            "is not configured): the customer was not told; closer and owner texted to phone them") in lines


def test_without_smtp_a_landline_customer_is_not_promised_the_closing_notice_by_email(desk, network, client):
    incident = _through_the_breach(desk, network, lambda: desk.intake(caller=UK_LANDLINE)[0])  # with an address

    page = _manager_resolves(desk, client, incident.reference)

    assert "The customer could NOT be told that it was closed: their number takes no SMS and no e-mail can reach " \
           "them." in page
    assert "told by e-mail" not in page
    assert [d for d in _rows(desk, Delivery, incident.id) if d.channel == "email"] == []
    assert ("Customer NOT told that the incident was closed: their number takes no SMS (or opted out) and no e-mail "
            "can go (SMTP is not configured)") in _lines(desk, incident.id)
