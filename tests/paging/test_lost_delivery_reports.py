"""Delivery reports Twilio sent for the hotline's other SMS that never reached it: asked of Twilio like a page's.

The customer's update and resolution-proposal SMS, the owner's and managers' reminders (``deliveries``) and the
one-off notices (a missed caller's invitation, a volume alert: ``notices``) have status callbacks too. One lost
left the row "sent" for ever: an undelivered update was never shown failed, and an undelivered proposal counted as
having reached the customer, so their silence closed the incident as resolved. The lookup applies what Twilio says
through the status callback's own code, as it does for pages.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models import Delivery, DueStep, IncidentEvent, Notice, ProposalKind, StepKind
from app.queue import schedule
from app.services.acks import lock_incident
from app.services.resolution import propose
from app.services.updates import write_update
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_lost_status_callbacks import _lookups, _record
from tests.paging.test_twilio_failures import _signed_post

UPDATE_STATUS, SMS_STATUS = "/twilio/updates/sms-status", "/twilio/sms/status"


def _deliveries(desk, incident_id: int, purpose: str) -> list[Delivery]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Delivery).where(Delivery.incident_id == incident_id, Delivery.purpose == purpose,
                                                     Delivery.channel == "sms").order_by(Delivery.id)))


def _events(desk, incident_id: int, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _answered_incident(desk, network):
    """Alice acknowledged at T0, and the customer answered her bridged callback (a key pressed) at T0."""
    from tests.paging.test_callback_rep_leg import _sms_from

    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_call()
    network.phone(CUSTOMER).expect_call(press="1")
    assert "Calling you now" in _sms_from(desk, alice.number, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    desk.t0 = desk.clock.now()  # the conversation took a minute of the clock: the times below count from its end
    return incident


def _update_with_its_report_lost(desk, network, fail: str = ""):
    """Alice writes the customer an update whose SMS's delivery reports are lost; ``fail``: what Twilio made of it."""
    incident = _answered_incident(desk, network)
    network.lose_status_callbacks(UPDATE_STATUS)
    network.phone(CUSTOMER).expect_sms("API calls are failing", **({"fail": fail} if fail else {}))
    with desk.hotline.db.transaction() as s:
        assert write_update(s, lock_incident(s, incident.reference), what_is_wrong="API calls are failing",
                            by="Alice Primary", via="dashboard", now=desk.clock.now()).ok
    desk.settle()
    [sms] = _deliveries(desk, incident.id, "update")
    assert sms.status == "sent" and sms.provider_id.startswith("SM")
    return incident, sms


def test_an_undelivered_update_whose_report_was_lost_reads_failed_as_its_report_would_have_made_it(
        desk, network, twilio):
    incident, sms = _update_with_its_report_lost(desk, network, fail="undelivered")
    assert _record(twilio, sms.provider_id).status == "undelivered"
    desk.at(minutes=1, seconds=50)  # its report may still come: not asked yet
    assert _lookups(twilio, sms.provider_id) == 0
    # reaching the customer by no channel (no SMTP here), the update tells its owner to phone them (``unreached``)
    alice = network.phone(ALICE).expect_sms("customer update 1 reached them by NO channel")
    desk.at(minutes=2)
    assert [m for m in alice.sms if "NO channel" in m] == [alice.sms[-1]]  # once (her earlier SMS: the pages)
    assert len(_events(desk, incident.id, "customer_update_undelivered")) == 1
    [after] = _deliveries(desk, incident.id, "update")
    # what the delivery report does (deliveries.sms_status): failed, Twilio's status and code as its error
    assert (after.status, after.last_error) == ("failed", "Twilio undelivered 30003")
    [status] = _events(desk, incident.id, "delivery_status")
    assert status.detail == {"delivery_id": sms.id, "status": "undelivered", "error_code": "30003"}
    [asked] = _events(desk, incident.id, "status_asked")
    assert asked.detail == {"delivery_id": sms.id, "sid": sms.provider_id, "ask": 1}
    for lost in network.lost:  # the lost report turns up after all: nothing moves
        _signed_post(desk, lost.url, lost.params)
    desk.at(minutes=30)
    assert _lookups(twilio, sms.provider_id) == 1
    assert [e.detail["status"] for e in _events(desk, incident.id, "delivery_status")
            if e.detail["delivery_id"] == sms.id] == ["undelivered"]  # (the owner's alert has a report of its own)


def test_a_delivered_update_whose_report_was_lost_reads_delivered(desk, network, twilio):
    incident, _sms = _update_with_its_report_lost(desk, network)
    desk.at(minutes=2)
    assert [d.status for d in _deliveries(desk, incident.id, "update")] == ["delivered"]


def test_an_undelivered_proposal_whose_report_was_lost_never_lets_silence_close_the_incident(desk, network, twilio):
    incident = _answered_incident(desk, network)
    network.lose_status_callbacks(UPDATE_STATUS)
    network.phone(CUSTOMER).expect_sms("resolved", fail="undelivered")
    with desk.hotline.db.transaction() as s:
        assert propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED, summary="A fix is deployed",
                       by="Alice Primary", now=desk.clock.now(), settings=desk.hotline.settings).ok
    desk.settle()
    told = network.phone(ALICE).expect_sms("the resolution proposal reached the customer by NO channel")
    desk.at(minutes=2)  # the lookup finds it undelivered: the owner is told to phone them, not 72 hours later
    assert [m for m in told.sms if "NO channel" in m] == [told.sms[-1]]  # once (her earlier SMS: the pages)
    assert len(_events(desk, incident.id, "resolution_proposal_undelivered")) == 1
    # known to have reached nobody, it proves nothing at once: the incident stays open, the 72 h silence step ends,
    # and the round it paused resumes at its own due time (an hour after the call: no interval was keyed)
    assert [e.kind for e in _events(desk, incident.id, "resolution_undelivered")] == ["resolution_undelivered"]
    with desk.hotline.db.session() as s:
        expiry = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                                 DueStep.kind == StepKind.RESOLUTION_EXPIRY)).one()
    assert (expiry.status, expiry.outcome) == ("done", "proposal_undelivered")
    alice = network.phone(ALICE).expect_sms("customer update 1 due by")  # reminded, as for any round
    maria = network.phone(MARIA).expect_sms("customer update 1 was due")  # and the managers told it is late
    # (the customer, told no interval nor any update time in writing, is sent no apology: nothing was promised them)
    for minute in (5, 15, 60, 61):
        desk.at(minutes=minute)
    assert desk.incident(incident.id).status == "open"
    assert _events(desk, incident.id, "resolved_unconfirmed") == []
    assert alice.sms and maria.sms
    assert [d.status for d in _deliveries(desk, incident.id, "proposal")] == ["failed"]


def test_an_undelivered_missed_call_invitation_whose_report_was_lost_reads_undelivered(desk, network, twilio):
    caller = "+14155550177"
    network.lose_status_callbacks(SMS_STATUS)
    network.phone(caller).expect_sms("missed your call", fail="undelivered")
    with desk.hotline.db.transaction() as s:
        notice = Notice(purpose="missed_call", to_number=caller, body="Sev-1 hotline: we missed your call.",
                        created_at=desk.clock.now())
        s.add(notice)
        s.flush()
        schedule(s, "notice", notice.id, desk.clock.now())
        notice_id = notice.id
    desk.settle()
    with desk.hotline.db.session() as s:
        sid = s.get(Notice, notice_id).twilio_sid
        assert s.get(Notice, notice_id).status == "sent"
    desk.at(minutes=2)
    with desk.hotline.db.session() as s:
        notice = s.get(Notice, notice_id)
        assert (notice.status, notice.last_error) == ("undelivered", "Twilio undelivered (error 30003)")
    assert _lookups(twilio, sid) == 1
    desk.at(minutes=30)
    assert _lookups(twilio, sid) == 1
