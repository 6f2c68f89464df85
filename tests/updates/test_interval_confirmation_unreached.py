"""The customer's written confirmation of the agreed interval that comes back undelivered is not "told in writing".

An outside probe's rep pressed 1 ("every 30 minutes"), the confirmation SMS came back undelivered (30006), and the
hotline still held the customer told: nobody was told, ``untold_interval`` never reminded the rep, and the rep's
``EVERY 30`` to have it re-sent sent nothing. Now the owner is told as for an undelivered update (``unreached``),
the interval counts as untold, and agreeing it again sends it again.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models import Delivery, IncidentEvent
from app.models.user import Role
from app.services.acks import lock_incident
from app.services.deliveries import sms_status
from app.services.updates import told_interval, untold_interval
from tests.integration.dashboard_support import login, make_user
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from

UNDELIVERED = "interval_confirmation_undelivered"


def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def _lines(desk, incident, kind):
    return [e for e in _rows(desk, IncidentEvent, incident_id=incident.id) if e.kind == kind]


def _told(desk, incident):
    with desk.hotline.db.session() as session:
        fresh = lock_incident(session, incident.reference)
        return told_interval(session, fresh), untold_interval(session, fresh)


def test_an_undelivered_interval_confirmation_tells_the_owner_and_every_sends_it_again(desk, network, smtp, client):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    customer.expect_sms("as agreed, you will get an update every hour", fail="undelivered", error_code=30006)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])  # connect, then "every hour"
    alice.expect_sms("the confirmation of the update interval reached the customer by NO channel")
    incident = desk.open_incident()
    desk.settle()
    ref = incident.reference
    assert alice.unmet == []
    assert alice.sms[-1] == (f"SEV1 {ref} Acme Mail: the confirmation of the update interval reached the customer by "
                             f"NO channel (SMS failed). Phone them: {CUSTOMER}. Reply EVERY <minutes> {ref} to send "
                             "it again.")
    [sms] = _rows(desk, Delivery, purpose="interval")
    assert (sms.status, sms.last_error) == ("failed", "Twilio undelivered 30006")
    [line] = _lines(desk, incident, UNDELIVERED)
    assert line.detail["interval_id"] == sms.id and line.detail["told"] == ["owner"]
    # the customer never read it: not told, and the rep reads so with each answer
    told, untold = _told(desk, incident)
    assert told is None and "the customer was not told" in untold

    # a late copy of Twilio's report tells nobody again
    with desk.hotline.db.transaction() as session:
        sms_status(session, sms.id, "undelivered", "30006", desk.clock.now())
    desk.settle()
    assert len(_lines(desk, incident, UNDELIVERED)) == 1 and len(_rows(desk, Delivery, purpose="unreached")) == 1

    # the rep agrees the same interval again: it is sent again, and now it is told
    customer.expect_sms(f"Sev-1 {ref}: as agreed, you will get an update every hour")
    reply = _sms_from(desk, ALICE, f"EVERY 60 {ref}").get_data(as_text=True)
    desk.settle()
    assert "Confirmation to the customer queued (SMS)" in reply
    assert customer.unmet == []
    assert [d.status for d in _rows(desk, Delivery, purpose="interval")] == ["failed", "delivered"]
    told, untold = _told(desk, incident)
    assert told == (60, "sms") and untold == ""
    login(client, make_user(desk.hotline, Role.MANAGER).email)
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert ("The confirmation of the update interval reached the customer by NO channel (sms failed): they were not "
            "told it; the owner told by SMS to phone them") in page


def test_an_undelivered_confirmation_superseded_by_a_later_one_alerts_nobody(desk, network, smtp):
    """The rep agreed another interval before the first confirmation's report came: the customer reads the later one,
    so the earlier one's failure leaves nothing to phone about."""
    network.lose_status_callbacks("/twilio/updates/sms-status")  # the first report comes late (below)
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    customer.expect_sms("as agreed, you will get an update every hour")
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    incident = desk.open_incident()
    desk.settle()
    ref = incident.reference
    customer.expect_sms("as agreed, you will get an update every 30 minutes")
    assert "Confirmation to the customer queued (SMS)" in _sms_from(desk, ALICE, f"EVERY 30 {ref}").get_data(
        as_text=True)
    desk.settle()
    first, _second = _rows(desk, Delivery, purpose="interval")
    with desk.hotline.db.transaction() as session:
        sms_status(session, first.id, "undelivered", "30006", desk.clock.now())
    desk.settle()
    assert _lines(desk, incident, UNDELIVERED) == [] and _rows(desk, Delivery, purpose="unreached") == []
    assert _told(desk, incident)[0] == (30, "sms")
