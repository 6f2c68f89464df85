"""Callback attempts close together (a rep pressing 1 to retry, again and again) text the customer "we tried to call
you" once per ``MISSED_SMS_WINDOW``, not once per attempt; an attempt after the window texts them again, and so does
the next attempt when the earlier SMS failed at Twilio. Every attempt is still logged and counted (the API, the
report); its log line, and the timeline, say why the customer was not texted again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Callback, IncidentEvent, IncidentFactsRow, Page
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_alert_counts import _api_get

MISSED = "tried to call you"


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _missed_pages(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "callback_missed")
                              .order_by(Page.id)))


def _events(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                              .order_by(IncidentEvent.at, IncidentEvent.id)))


def _attempt_lines(desk, incident_id):
    return [e for e in _events(desk, incident_id) if e.kind == "callback_attempted"]


def _missed_sms(customer):
    return [body for body in customer.sms if MISSED in body]


def test_three_attempts_within_a_minute_text_once_and_one_after_the_window_texts_again(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    # any second "we tried to call you" SMS among the first three attempts fails the test (an unexpected SMS)
    customer.expect_call(answer=False).expect_sms(MISSED).expect_call(answer=False).expect_call(answer=False)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "1", "1"])  # 1: try the customer again
    incident = desk.open_incident()
    desk.settle()

    callbacks = _callbacks(desk, incident.id)
    assert [c.outcome for c in callbacks] == ["attempted"] * 3
    assert max(c.ended_at for c in callbacks) - min(c.ended_at for c in callbacks) < timedelta(minutes=1)
    assert len(_missed_sms(customer)) == 1 and len(_missed_pages(desk, incident.id)) == 1
    [first_sms] = _missed_pages(desk, incident.id)
    assert first_sms.status in ("sent", "delivered")
    lines = _attempt_lines(desk, incident.id)
    assert len(lines) == 3  # every attempt is logged, as before
    assert "customer_not_texted" not in lines[0].detail and lines[0].detail["alerted"] == 1
    texted_at = (first_sms.sent_at or first_sms.created_at).isoformat()
    for quiet in lines[1:]:
        assert quiet.detail["customer_not_texted"] == "missed_sms_recent" and quiet.detail["alerted"] == 0
        assert quiet.detail["last_texted_at"] == texted_at and quiet.detail["window_minutes"] == 5
    words = [entry.text for entry in timeline(_events(desk, incident.id), _missed_pages(desk, incident.id))]
    said = [w for w in words if w.startswith("Customer not reached")]
    assert said[0] == "Customer not reached (no-answer)"  # the attempt that texted reads as before
    assert said[1:] == ["Customer not reached (no-answer); the customer was not texted again: the missed-call SMS "
                        f"of {desk.t0:%H:%M} UTC, less than 5 minutes before, stands for this attempt"] * 2

    # after the window, Alice asks for the callback again by SMS: this attempt is a new try, told as before
    desk.at(minutes=6)  # the window (decide.MISSED_SMS_WINDOW) is 5 minutes
    customer.expect_call(answer=False).expect_sms(MISSED)
    alice.expect_call()
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()

    assert [c.outcome for c in _callbacks(desk, incident.id)] == ["attempted"] * 4
    assert len(_missed_sms(customer)) == 2 and len(_missed_pages(desk, incident.id)) == 2
    lines = _attempt_lines(desk, incident.id)
    assert len(lines) == 4 and "customer_not_texted" not in lines[3].detail and lines[3].detail["alerted"] == 1
    # every attempt is counted as before: the API and the report
    assert _api_get(desk, f"/api/v1/incidents/{incident.reference}")["callback"]["attempts"] == 4
    with desk.hotline.db.session() as s:
        assert s.get(IncidentFactsRow, incident.id).outcome == "attempted"
    network.verify()


def test_an_sms_that_failed_at_twilio_stands_for_nothing_the_next_attempt_texts(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answer=False).expect_sms(MISSED, fail="undelivered")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()
    [page] = _missed_pages(desk, incident.id)
    assert page.status == "undelivered"

    desk.at(minutes=1)  # well within the window: the undelivered SMS told them nothing, this attempt's SMS goes
    # ... and then stands for the attempt Alice retries at once (pressing 1): no third SMS
    customer.expect_call(answer=False).expect_sms(MISSED).expect_call(answer=False)
    alice.expect_call(press="1")
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()

    assert [c.outcome for c in _callbacks(desk, incident.id)] == ["attempted"] * 3
    assert [p.status for p in _missed_pages(desk, incident.id)] == ["undelivered", "delivered"]
    assert len(_missed_sms(customer)) == 1  # the undelivered one never reached their phone: this one did
    assert [line.detail.get("customer_not_texted") for line in _attempt_lines(desk, incident.id)] == [
        None, None, "missed_sms_recent"]
    network.verify()
