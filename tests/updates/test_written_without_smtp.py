"""A customer whose number opted out of SMS (STOP) can be reached in writing only by e-mail, and only when SMTP is
configured: without SMTP_HOST the rep reads that the customer was NOT told of the interval and that the update was
NOT sent, and no e-mail is queued for the delivery job to skip (an outside tester read "Confirmation to the customer
queued (e-mail)" 40 ms before the job logged ``delivery_skipped`` ``no_smtp``).

The in-memory phone network of test_update_channels (Alice on call), real SQL, Redis, worker and SMTP.
"""

from __future__ import annotations

import pytest

from app.models import Delivery, IncidentEvent
from tests.updates import test_update_channels as channels
from tests.updates.backoffice import settle
from tests.updates.test_update_channels import ALICE, CUSTOMER, _incident, _rows, _sms

hotline = channels.hotline  # the fixture: the in-memory phone network with Alice on call


@pytest.fixture
def settings(settings, request):
    """The test settings with SMTP (``request.param`` True) or without it (SMTP_HOST unset)."""
    return settings if request.param else settings.with_overrides(smtp_host="")


def _opted_out_and_acknowledged(client, hotline):
    incident = _incident(client, hotline)  # called back, with an e-mail address
    _sms(client, CUSTOMER, "STOP")
    _sms(client, ALICE, f"ACK {incident.reference}")
    settle(hotline)
    return incident


def _told(hotline, incident) -> list:
    return [e.detail.get("customer_told") for e in _rows(hotline, IncidentEvent, incident_id=incident.id,
                                                          kind="update_interval_agreed")]


@pytest.mark.parametrize("settings", [False], indirect=True)
def test_without_smtp_an_opted_out_customer_is_not_told_and_the_rep_reads_so(hotline, client, smtp):
    incident = _opted_out_and_acknowledged(client, hotline)
    ref = incident.reference

    reply = _sms(client, ALICE, f"EVERY 30 {ref}")
    settle(hotline)
    assert f"Updates for {ref} every 30 minutes." in reply
    assert "The customer was NOT told" in reply and "queued" not in reply
    assert _told(hotline, incident) == [""]  # the log says nothing could carry it
    assert _rows(hotline, Delivery, incident_id=incident.id, purpose="interval") == []

    reply = _sms(client, ALICE, f"UPDATE {ref} The API returns 500s; a fix is being rolled out.")
    settle(hotline)
    assert f"Update 1 for {ref} recorded (on time) but NOT sent" in reply
    assert [d.channel for d in _rows(hotline, Delivery, incident_id=incident.id, purpose="update")
            if d.channel == "email"] == []
    [sent] = [e.detail for e in _rows(hotline, IncidentEvent, incident_id=incident.id, kind="customer_update_sent")]
    assert sent["channels"] == []
    assert len(_rows(hotline, IncidentEvent, incident_id=incident.id, kind="customer_update_undelivered")) == 1
    assert smtp.inbox.to("dana@acme.example") == []


@pytest.mark.parametrize("settings", [True], indirect=True)
def test_with_smtp_an_opted_out_customer_is_told_by_e_mail(hotline, client, smtp):
    incident = _opted_out_and_acknowledged(client, hotline)
    ref = incident.reference

    reply = _sms(client, ALICE, f"EVERY 30 {ref}")
    settle(hotline)
    assert "Confirmation to the customer queued (e-mail)." in reply
    assert _told(hotline, incident) == ["email"]
    [row] = _rows(hotline, Delivery, incident_id=incident.id, purpose="interval")
    assert row.channel == "email" and row.status == "sent"
    assert [m for m in smtp.inbox.to("dana@acme.example") if "interval" in str(m["Subject"]).lower()]

    reply = _sms(client, ALICE, f"UPDATE {ref} The API returns 500s; a fix is being rolled out.")
    settle(hotline)
    assert f"Update 1 for {ref} sent (on time)." in reply
    [sent] = [e.detail for e in _rows(hotline, IncidentEvent, incident_id=incident.id, kind="customer_update_sent")]
    assert sent["channels"] == ["email"]
