"""The rep's leg of a bridged callback is placed (or the rep told it failed) even when its last try dies.

``place_rep_call`` claims a try (``attempts`` + 1, ``placing_since``) before it asks Twilio. A run
that dies after the claim (a SIGKILLed worker, or the database connection lost as it records a
Twilio failure) leaves the claim behind; the watchdog (``due_callbacks``) hands a stale claim over
again, but it skipped every callback at ``MAX_ATTEMPTS``: a claim that died on the last try stayed
"pending" for good, the rep was never called nor told, and the incident counted a callback in flight.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.models import Callback, IncidentEvent
from app.services.callback_calls import MAX_ATTEMPTS
from tests.faults.backoffice import Backoffice
from tests.paging.conftest import ALICE
from tests.paging.test_callback_rep_leg import _sms_from


def _callback(desk, incident_id) -> Callback:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Callback).where(Callback.incident_id == incident_id)).one()


def test_a_rep_call_whose_last_try_died_mid_placement_is_placed_again(desk, network, clock):
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    callback = _callback(desk, incident.id)
    # Twilio failed the first tries; the worker that claimed the last one was SIGKILLed before it reached
    # Twilio (or lost its database connection recording the failure), and its job went with it.
    died = clock.now()
    with desk.hotline.db.transaction() as s:
        s.execute(update(Callback).where(Callback.id == callback.id).values(
            attempts=MAX_ATTEMPTS, placing_since=died, last_error="Throttled: simulated 429"))
    desk.hotline.jobs.redis.flushdb()

    alice.expect_call(answer=False).expect_sms("could not reach you")
    Backoffice(desk.hotline, network, clock).run_until(died + timedelta(minutes=1))

    callback = _callback(desk, incident.id)
    assert callback.rep_call_sid and callback.outcome == "rep_not_reached"  # called, and the rep was told
    assert callback.placed_at - died <= timedelta(seconds=45)
    with desk.hotline.db.session() as s:
        placed = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "callback_rep_call_placed"))]
    assert placed == [{"callback_id": callback.id, "sid": callback.rep_call_sid, "possible_duplicate": True}]
    assert alice.unmet == []
