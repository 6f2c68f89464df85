"""Which updates the customer was owed (``app/services/update_rounds``): the schedule starts when a callback reaches
the customer, never with an update written before; an update seconds (or minutes) after the one that answered the
last round answers no round of its own; an update early within its interval still answers its round and moves the
next one. Found by an outside probe: an UPDATE texted before any callback started a schedule, and one sent 7 s after
it was reported as "Update 2 (on time)"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.db import Database
from app.models import CustomerUpdate, Delivery, DueStep, FollowUp, Incident, IncidentEvent, StepKind
from app.models.user import Role
from app.reports.updates import update_figures
from app.services.acks import Actor, resolve
from app.services.update_rounds import Extra, why_extra
from app.services.updates import write_update
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.conftest import verified_callback
from tests.updates.test_customer_sms import _rows, _text_hotline

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOT_REACHED = "extra: no update is owed before a callback reaches the customer; the schedule starts with that callback"


def _at(minutes: float, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


@pytest.mark.parametrize(("updating", "due", "last", "interval", "now", "extra"), [
    (None, None, None, 60, _at(1), Extra.NOT_REACHED),  # no schedule: nobody reached the customer yet
    (False, None, _at(0), 60, _at(1), Extra.PAUSED),  # a proposal awaits the customer's answer
    (True, _at(60), None, 60, _at(0, 7), None),  # the first round, however soon after the callback
    (True, _at(60), _at(0), 60, _at(0, 7), Extra.TOO_SOON),  # 7 s after the update that answered the last round
    (True, _at(60), _at(0), 60, _at(14, 59), Extra.TOO_SOON),
    (True, _at(60), _at(0), 60, _at(15), None),  # a quarter of the interval on: the next round, early, on time
    (True, _at(60), _at(0), 60, _at(45), None),  # 45 min into 60: answers its round (never punished for it)
    (True, _at(15), _at(0), 15, _at(3, 44), Extra.TOO_SOON),
    (True, _at(15), _at(0), 15, _at(3, 45), None),
    (True, _at(1), _at(0), 60, _at(2), None),  # the round open is overdue: whatever comes answers it, late
])
def test_the_rule_of_which_update_answers_a_round(updating, due, last, interval, now, extra):
    assert why_extra(updating=updating, next_due_at=due, last_answered_at=last, interval_minutes=interval,
                     now=now) == extra


def _update_steps(desk, incident_id: int) -> list[DueStep]:
    return [s for s in _rows(desk, DueStep, incident_id=incident_id)
            if s.kind in (StepKind.UPDATE_REMINDER, StepKind.UPDATE_DUE)]


def test_updates_texted_before_any_callback_are_extras_that_start_no_schedule(desk, network, smtp):
    """The probe's case: Alice acknowledged, nobody called the customer yet, she texts two UPDATEs 7 s apart."""
    incident, _alice = desk.acknowledged_by_alice(network)
    ref = incident.reference
    customer = network.phone(CUSTOMER)
    customer.expect_sms(f"Sev-1 {ref} update: Looking at the API cluster.")
    customer.expect_sms(f"Sev-1 {ref} update: A disk failed in the cluster.")
    [first] = _text_hotline(desk, f"UPDATE {ref} Looking at the API cluster", sender=ALICE)
    desk.at(seconds=7)
    [second] = _text_hotline(desk, f"UPDATE {ref} A disk failed in the cluster", sender=ALICE)
    desk.settle()
    assert first == second == f"Update for {ref} sent ({NOT_REACHED})."
    assert customer.unmet == []  # both reached the customer: an extra is sent as any update
    assert [d.status for d in _rows(desk, Delivery, incident_id=incident.id, channel="sms", purpose="update")] == [
        "delivered", "delivered"]
    assert [(u.round, u.due_at, u.late_seconds) for u in _rows(desk, CustomerUpdate, incident_id=incident.id)] == [
        (0, None, 0), (0, None, 0)]
    # nothing is owed: no schedule, so no "customer update 1 due" reminder nor "was due" alert to the managers
    assert _rows(desk, FollowUp, incident_id=incident.id) == [] and _update_steps(desk, incident.id) == []
    events = _rows(desk, IncidentEvent, incident_id=incident.id)
    words = [entry.text for entry in timeline(events, []) if "customer update" in entry.text.lower()]
    assert [w.split(" to ")[0] for w in words] == [
        "A customer update sent via sms (extra: none is owed before a callback reaches the customer)"] * 2
    with desk.hotline.db.session() as s:
        f = update_figures(s, desk.t0 - timedelta(hours=1), desk.t0 + timedelta(days=1))
    assert (f.updates_owed, f.on_time, f.late, f.missed, f.extra_updates) == (0, 0, 0, 0, 2)
    login_as(desk.client, desk.hotline, Role.REP, name="Alice at her desk", rep_name="Alice Primary")
    page = desk.client.get(f"/incidents/{ref}/updates").get_data(as_text=True)  # the page says why, as the timeline
    assert page.count("extra<br><small>none is owed before a callback reaches the customer</small>") == 2


def test_an_interval_texted_before_any_callback_starts_no_schedule_and_tells_the_customer_nothing(desk, network, smtp):
    """EVERY before anyone reached the customer started the schedule too: reminders, late alerts to the managers
    and an "as agreed, every 30 minutes" SMS to a customer nobody had spoken to."""
    incident, _alice = desk.acknowledged_by_alice(network)
    ref = incident.reference
    [reply] = _text_hotline(desk, f"EVERY 30 {ref}", sender=ALICE)
    desk.settle()
    assert reply == (f"No callback has reached the customer of {ref} yet: the update interval is agreed with them "
                     "on the callback. Nothing was changed; the customer was not told.")
    assert _rows(desk, FollowUp, incident_id=incident.id) == [] and _update_steps(desk, incident.id) == []
    assert _rows(desk, Delivery, incident_id=incident.id, purpose="interval") == []
    assert network.phone(CUSTOMER).unmet == []


def _write(session, incident, minutes: float, what: str, seconds: float = 0) -> str:
    result = write_update(session, incident, what_is_wrong=what, by="Alice", via="dashboard",
                          now=_at(minutes, seconds))
    assert result.ok, result.message
    return result.message


def _due(session, incident) -> datetime:
    return session.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).one().next_due_at


def test_the_schedule_starts_at_the_callback_and_an_update_right_after_the_last_answers_no_round(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as s:
            incident = Incident(reference="OWE1", received_at=T0, captured_at=T0, callback_due_at=_at(15),
                                callback_phone="+14155550100", email="dana@acme.example", contact_name="Dana")
            s.add(incident)
            s.flush()
            assert _write(s, incident, 1, "looking") == f"Update for OWE1 sent ({NOT_REACHED})."
            assert s.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).first() is None
            verified_callback(s, incident, _at(5))  # the answer starts the schedule: round 1 due an hour on
            assert _due(s, incident) == _at(65)
            assert _write(s, incident, 20, "disk found") == "Update 1 for OWE1 sent (on time)."
            assert _due(s, incident) == _at(80)
            too_soon = _write(s, incident, 20, "replacing it", seconds=7)
            assert too_soon.startswith("Update for OWE1 sent (extra: it follows the last update by less than a "
                                       "quarter of the interval, so it counts as no round of its own; the next is "
                                       "still due by ")
            assert _due(s, incident) == _at(80)  # moved nowhere: the customer is still owed one by then
            # 40 minutes after the last: early within its interval, it answers round 2 and moves round 3
            assert _write(s, incident, 60, "rebuilding") == "Update 2 for OWE1 sent (on time)."
            assert _due(s, incident) == _at(120)
            assert _write(s, incident, 130, "rebuilt") == "Update 3 for OWE1 sent (10 min late)."
            assert _write(s, incident, 131, "verifying").startswith("Update for OWE1 sent (extra: it follows")
            assert _due(s, incident) == _at(190)
            assert resolve(s, incident, Actor(name="Maria", via="dashboard", is_manager=True), _at(150),
                           reason="the customer left for the weekend").ok
            rounds = [(u.round, u.late_seconds) for u in s.scalars(select(CustomerUpdate).where(
                CustomerUpdate.incident_id == incident.id).order_by(CustomerUpdate.id))]
            extras = [e.detail.get("extra") for e in s.scalars(select(IncidentEvent).where(
                IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "customer_update_sent")
                .order_by(IncidentEvent.id))]
        with db.session() as s:
            f = update_figures(s, T0, T0 + timedelta(days=1))
    finally:
        db.dispose()
    assert rounds == [(0, 0), (1, 0), (0, 0), (2, 0), (3, 600), (0, 0)]
    assert extras == ["not_reached", None, "too_soon", None, None, "too_soon"]
    assert (f.updates_owed, f.on_time, f.late, f.missed, f.extra_updates) == (3, 2, 1, 0, 3)
    assert f.punctuality_percent == 66.7
