"""Policy step 5 does not hang on one webhook: a met callback owes the customer updates even when the end of the
call (the <Dial action>, ``/dial-done``) never reaches the hotline (Twilio's request failed, the app was down).

Signed webhooks end to end through the simulated Twilio and scripted phones, on a fake clock; a lost webhook is
one the app never sees (the network's transport answers 502 in its place).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Callback, Delivery, DueStep, FollowUp, IncidentEvent, Rep
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_live_connect import _call, _incident_id, _intake, _step

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")


def _lose(network, path: str) -> list[str]:
    """Every webhook to ``path`` is lost on its way to the app; returns the URLs lost."""
    lost, real = [], network.transport

    def transport(url, params, headers):
        if path in url:
            lost.append(url)
            return 502, "Bad Gateway"  # the app never saw it
        return real(url, params, headers)

    network.transport, network.strict = transport, False
    return lost


def _rows(desk, model, **where):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).filter_by(**where).order_by(model.id)))


def _alice_id(desk) -> int:
    with desk.hotline.db.session() as s:
        return s.scalar(select(Rep.id).where(Rep.phone == ALICE))


def _sent(desk, incident_id: int, purpose: str, to: str) -> list[Delivery]:
    return [d for d in _rows(desk, Delivery, incident_id=incident_id, purpose=purpose) if d.to_address == to]


def _owner_reminded_then_managers_told(desk, network, incident_id: int, due) -> None:
    """Ten minutes before ``due`` the owner is reminded; at ``due`` the managers hear the update is late."""
    alice, maria = network.phone(ALICE), network.phone(MARIA)
    alice.expect_sms("customer update 1 due")
    desk.clock.set(due - timedelta(minutes=10))
    desk.settle()
    assert [d.status for d in _sent(desk, incident_id, "update_reminder", ALICE)] == ["delivered"]
    maria.expect_sms("customer update 1 was due")
    desk.clock.set(due)
    desk.settle()
    assert [d.status for d in _sent(desk, incident_id, "update_late", MARIA)] == ["delivered"]
    assert alice.unmet == [] and maria.unmet == []


def test_a_met_bridged_callback_whose_dial_done_is_lost_still_owes_updates(desk, network, smtp):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, talk_seconds=300)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])  # connect on the page call
    lost = _lose(network, "/twilio/bridge/dial-done")
    incident = desk.open_incident()
    desk.settle()

    [callback] = _rows(desk, Callback, incident_id=incident.id)
    assert callback.outcome == "met" and callback.person_confirmed_at is not None  # the customer pressed the key
    assert len(lost) == 1 and network.failures == [f"{lost[0]} answered HTTP 502: 'Bad Gateway'"]
    assert "update interval" not in alice.calls[0].heard  # the rep was never offered the interval
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.interval_minutes == 60 and follow_up.round == 1
    assert follow_up.owner_rep_id == _alice_id(desk)
    # counted from the answer, the only moment the hotline knows of (the end of the call never came)
    assert follow_up.next_due_at == callback.person_confirmed_at + timedelta(minutes=60)
    _owner_reminded_then_managers_told(desk, network, incident.id, follow_up.next_due_at)


def test_a_live_connection_whose_rep_dial_done_is_lost_still_owes_updates(desk, network, smtp):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=240)  # the hotline calls her for the live connect
    lost = _lose(network, "/twilio/live/dial-done")
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    _step(desk, call, lambda c: c.press("1"))  # wait on the line: Alice's leg takes the caller out of the queue

    [callback] = _rows(desk, Callback, incident_id=incident_id)
    assert callback.outcome == "met" and callback.customer_call_sid == call.call_sid and call.ended
    assert len(lost) == 1 and "update interval" not in alice.calls[-1].heard
    [follow_up] = _rows(desk, FollowUp, incident_id=incident_id)
    assert follow_up.state == "updating" and follow_up.owner_rep_id == _alice_id(desk)
    _owner_reminded_then_managers_told(desk, network, incident_id, follow_up.next_due_at)


def test_both_the_answer_and_the_end_of_the_call_start_one_schedule_counted_from_the_end(desk, network, smtp):
    """The normal case: the schedule started at the answer is the one the end of the call finds; its first
    update is due one interval after the call ended (as before), with one reminder and one late alert."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, talk_seconds=40 * 60)  # a long first call
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])  # no interval key: the default hour
    incident = desk.open_incident()
    desk.settle()
    ended = desk.clock.now()
    assert "update interval" in alice.calls[0].heard
    # no key: the default hour, which nobody told the customer: Alice hears how to confirm one to them
    assert "The customer was not told an interval" in alice.calls[0].heard
    assert _rows(desk, Delivery, incident_id=incident.id, purpose="interval") == []
    [callback] = _rows(desk, Callback, incident_id=incident.id)
    assert callback.outcome == "met" and callback.person_confirmed_at <= ended - timedelta(minutes=40)
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.agreed_via == "default" and follow_up.owner_rep_id == _alice_id(desk)
    assert follow_up.next_due_at == ended + timedelta(minutes=60)
    steps = [(s.kind, s.level, s.due_at) for s in _rows(desk, DueStep, incident_id=incident.id)
             if s.kind.startswith("update_")]
    assert sorted(steps) == [("update_due", 1, ended + timedelta(minutes=60)),
                             ("update_reminder", 1, ended + timedelta(minutes=50))]
    with desk.hotline.db.session() as s:
        kinds = list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)))
    assert kinds.count("updates_scheduled") == 1
    # the answer's schedule (due 60 minutes after it) reminds nobody 50 minutes after the answer
    desk.clock.set(callback.person_confirmed_at + timedelta(minutes=55))
    desk.settle()
    assert _sent(desk, incident.id, "update_reminder", ALICE) == []
    _owner_reminded_then_managers_told(desk, network, incident.id, ended + timedelta(minutes=60))


def test_an_interval_the_rep_keys_in_at_the_end_of_the_call_wins_over_the_default_started_at_the_answer(
        desk, network, smtp):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, talk_seconds=600)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "3"])  # "3": every 4 hours
    customer.expect_sms("as agreed, you will get an update every 4 hours")  # told in writing
    incident = desk.open_incident()
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 240 and follow_up.agreed_via == "keypad"
    assert follow_up.next_due_at == desk.clock.now() + timedelta(hours=4)
    desk.clock.set(desk.clock.now() + timedelta(hours=2))  # the default hour has long passed: nothing is owed yet
    desk.settle()
    assert _rows(desk, Delivery, incident_id=incident.id, purpose="update_reminder") == []
    assert _rows(desk, Delivery, incident_id=incident.id, purpose="update_late") == []


def test_the_default_hour_keyed_in_at_the_end_of_the_call_is_told_to_the_customer_in_writing(desk, network, smtp):
    """An outside probe: the rep pressed 2 ("every hour") and heard the interval was confirmed to the customer in
    writing, but nothing was sent: the hour was the schedule's default, so the interval had not "changed", though
    nobody had ever told the customer of it."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, talk_seconds=600)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])  # "2": every hour
    customer.expect_sms("as agreed, you will get an update every hour")  # told in writing
    incident = desk.open_incident()
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert (follow_up.interval_minutes, follow_up.agreed_via) == (60, "keypad")
    [told] = _rows(desk, Delivery, incident_id=incident.id, purpose="interval")
    assert told.channel == "sms" and "every hour" in told.body
    with desk.hotline.db.session() as s:
        agreed = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident.id,
                                                              IncidentEvent.kind == "update_interval_agreed")).one()
    assert agreed["customer_told"] == "sms"


def test_a_callback_reported_by_sms_owes_updates_too(desk, network, smtp):
    """CALLED stops the chase (never "met"); without a schedule the incident would go quiet for good."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    incident = desk.open_incident()
    desk.settle()
    desk.at(minutes=5)
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {incident.reference}").get_data(as_text=True)
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {incident.reference} again").get_data(as_text=True)
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.owner_rep_id == _alice_id(desk)
    assert follow_up.next_due_at == desk.t0 + timedelta(minutes=5 + 60)
    assert len([s for s in _rows(desk, DueStep, incident_id=incident.id) if s.kind == "update_due"]) == 1
    # the breach is on record for a self-report, and the managers told the only call was self-reported (session 44);
    # the reps are not chased
    network.phone(MARIA).expect_sms("the only call was self-reported").expect_call(answer=False)
    desk.at(minutes=15)
    _owner_reminded_then_managers_told(desk, network, incident.id, follow_up.next_due_at)


def test_a_rep_who_reports_a_callback_by_sms_is_asked_to_agree_the_interval_and_every_tells_the_customer(
        desk, network, smtp):
    """Policy step 5: updates at an interval agreed with the customer. CALLED starts them at the default hour, which
    nobody agreed with the customer nor told them (an outside probe): the reply says so and how to confirm one;
    once it is confirmed to the customer in writing, the reply no longer asks."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    incident = desk.open_incident()
    ref = incident.reference
    desk.settle()
    desk.at(minutes=5)
    reply = _sms_from(desk, ALICE, f"CALLED {ref}").get_data(as_text=True)
    assert "Updates are due every hour; the customer was not told" in reply and f"EVERY &lt;minutes&gt; {ref}" in reply
    customer.expect_sms("as agreed, you will get an update every hour")
    assert "Confirmation to the customer queued (SMS)" in _sms_from(desk, ALICE, f"EVERY 60 {ref}").get_data(as_text=True)
    desk.settle()
    [told] = _rows(desk, Delivery, incident_id=incident.id, purpose="interval")
    assert told.to_address == CUSTOMER and "every hour" in told.body
    again = _sms_from(desk, ALICE, f"CALLED {ref} again").get_data(as_text=True)  # another SMS (same Sid)
    assert "Noted" in again and "not told" not in again
