"""Callback attempts close together (a rep pressing 1 to retry, again and again) text the customer "we tried to call
you" once per ``MISSED_SMS_WINDOW``, not once per attempt; an attempt after the window texts them again, and so does
the next attempt when the earlier SMS failed at Twilio. Every attempt is still logged and counted (the API, the
report); its log line, and the timeline, say why the customer was not texted again."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import IncidentEvent, IncidentFactsRow
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_alert_counts import _api_get
from tests.paging.test_callback_missed_sms import MISSED, _callbacks, _missed_pages
from tests.paging.test_twilio_failures import _signed_post


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
    assert said[1:] == ["Customer not reached (no-answer); the customer was not texted again: a missed-call SMS had "
                        f"gone at {desk.t0:%H:%M} UTC, less than 5 minutes before"] * 2

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


# ------------------------------------------------------------------ the SMS that held an attempt back fails later

SMS_STATUS = "/twilio/sms/status"


def _report_lost(desk, network, page):
    """Twilio's status callbacks of ``page`` (lost so far: the test says when they arrive) reach the app now."""
    for lost in [w for w in network.lost if w.params.get("MessageSid") == page.twilio_sid]:
        _signed_post(desk, lost.url, lost.params)
    desk.settle()


def _held_back_attempt(desk, network, then_reached=False):
    """Attempt 1 texts the customer (an SMS whose status callbacks are lost: its fate is reported later), attempt 2,
    50 s later (Alice texts CALL), is not texted on its account; ``then_reached``: Alice presses 1 to try again at
    once, and the customer answers. Returns the incident, the customer's phone, the SMS's page and attempt 2's
    line."""
    network.lose_status_callbacks(SMS_STATUS)
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answer=False).expect_sms(MISSED, fail="undelivered")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()
    desk.at(seconds=50)
    customer.expect_call(answer=False)
    if then_reached:
        customer.expect_call(press="1", answered=True)
    alice.expect_call(press="1" if then_reached else None)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    [first_sms] = _missed_pages(desk, incident.id)
    assert first_sms.status == "sent"  # its fate is not known yet
    first, held = _attempt_lines(desk, incident.id)
    assert "customer_not_texted" not in first.detail and held.detail["customer_not_texted"] == "missed_sms_recent"
    return incident, customer, first_sms, held


def _resent_lines(desk, incident_id):
    return [e for e in _events(desk, incident_id) if e.kind == "missed_sms_resent"]


def test_an_sms_undelivered_after_holding_back_an_attempt_is_sent_anew_for_it_once(desk, network):
    incident, customer, first_sms, held = _held_back_attempt(desk, network)
    held_at = held.at.astimezone(ZoneInfo("America/Los_Angeles"))  # the customer's clock (+1 415)
    desk.at(minutes=1, seconds=30)  # a later minute than the attempt's: the SMS names the attempt's time
    customer.expect_sms(f"at {held_at:%H:%M %Z} we tried to call you")
    _report_lost(desk, network, first_sms)

    first, fresh = _missed_pages(desk, incident.id)
    assert first.status == "undelivered" and fresh.to_number == CUSTOMER and fresh.status == "sent"
    assert _missed_sms(customer) == [next(b for b in customer.sms if MISSED in b)]
    assert f"at {held_at:%H:%M %Z} we tried to call you" in _missed_sms(customer)[0]
    [resent] = _resent_lines(desk, incident.id)
    assert resent.detail["replaces_page_id"] == first.id and resent.detail["failed_status"] == "undelivered"
    assert resent.detail["attempt_at"] == held.at.isoformat() and resent.detail["alerted"] == 1
    words = [entry.text for entry in timeline(_events(desk, incident.id), _missed_pages(desk, incident.id))]
    assert ("The missed-call SMS to the customer was undelivered: a new one tells them of the attempt of "
            f"{held.at:%H:%M} UTC, not texted on its account") in words
    # the held-back attempt no longer reads as if the failed SMS stood for it
    assert ("Customer not reached (no-answer); the customer was not texted again: a missed-call SMS had gone at "
            f"{first.created_at:%H:%M} UTC, less than 5 minutes before") in words
    assert not [w for w in words if "stands for" in w]

    # the same report again (Twilio retries a callback) sends nothing more
    _report_lost(desk, network, first_sms)
    assert len(_missed_pages(desk, incident.id)) == 2 and len(_resent_lines(desk, incident.id)) == 1
    network.verify()


def test_a_fresh_sms_failing_in_turn_sends_nothing_more(desk, network):
    incident, customer, first_sms, _held = _held_back_attempt(desk, network)
    desk.at(minutes=1, seconds=30)
    customer.expect_sms(MISSED, fail="undelivered")
    _report_lost(desk, network, first_sms)
    first, fresh = _missed_pages(desk, incident.id)
    _report_lost(desk, network, fresh)  # undelivered too: it held back no attempt, nothing more goes

    assert [p.status for p in _missed_pages(desk, incident.id)] == ["undelivered", "undelivered"]
    assert len(_resent_lines(desk, incident.id)) == 1 and _missed_sms(customer) == []
    network.verify()  # any third SMS to the customer fails here


def test_a_customer_reached_before_the_sms_failed_is_not_texted(desk, network):
    incident, _customer, first_sms, _held = _held_back_attempt(desk, network, then_reached=True)
    assert [c.outcome for c in _callbacks(desk, incident.id)] == ["attempted", "attempted", "met"]
    desk.at(minutes=1, seconds=30)
    _report_lost(desk, network, first_sms)

    [page] = _missed_pages(desk, incident.id)
    assert page.status == "undelivered" and _resent_lines(desk, incident.id) == []
    network.verify()  # an SMS to the customer now would be unexpected
