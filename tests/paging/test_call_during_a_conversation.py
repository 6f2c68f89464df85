"""A rep's CALL while another rep is on the phone with the customer (a bridged callback answered, not ended): an
outside probe's second rep's CALL took the incident over, texted the talking rep "You need do nothing more" and
dialled the customer a second time mid-conversation (and a manager's "Call the customer now" a third). Nothing is
placed or taken over now; the rep is told who is talking with the customer since when, and how to go on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Callback, IncidentEvent
from tests.paging.conftest import ALICE, BOB
from tests.paging.test_at_risk_unproven_callback import _callback_by_sms
from tests.paging.test_callback_proof import _dial_done, _leg_status, _press_key, _whisper
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_twilio_failures import _work


def _talking(desk, network) -> Callback:
    """Alice's CALL at T+2: the customer answers at T+2:30 and presses the key; they talk on."""
    callback = _callback_by_sms(desk, network)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=30))
    assert "<Gather" in _whisper(desk, callback)
    _leg_status(desk, callback, "in-progress", 150)
    _press_key(desk, callback)
    _work(desk)
    return callback


def _rows(desk, model, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(model).where(model.incident_id == incident_id).order_by(model.id)))


def test_a_second_reps_call_while_the_first_talks_with_the_customer_places_nothing_and_takes_nothing(desk, network):
    callback = _talking(desk, network)
    incident = desk.incident(callback.incident_id)
    ref = incident.reference
    desk.clock.set(desk.t0 + timedelta(minutes=3))
    answer = _sms_from(desk, BOB, f"CALL {ref}", sid="SM" + "8" * 32).get_data(as_text=True)
    assert f"Alice Primary is on the phone with the customer of {ref} (answered at" in answer
    assert "no call was placed" in answer and f"reply CALLED {ref}" in answer
    _work(desk)
    assert [c.id for c in _rows(desk, Callback, incident.id)] == [callback.id]  # the customer is not dialled again
    after = desk.incident(incident.id)
    assert after.acknowledged_by == incident.acknowledged_by  # Alice still owns it; nobody texted her to stop
    kinds = [e.kind for e in _rows(desk, IncidentEvent, incident.id)]
    assert "taken_over" not in kinds and kinds.count("callback_requested") == 1
    assert not [m for m in network.phone(ALICE).sms if "took this incident over" in m]

    mine = _sms_from(desk, ALICE, f"CALL {ref}", sid="SM" + "9" * 32).get_data(as_text=True)
    assert "Your call with the customer of" in mine and "no second call was placed" in mine
    assert len(_rows(desk, Callback, incident.id)) == 1


def test_once_the_conversation_ended_a_call_is_placed_again(desk, network):
    callback = _talking(desk, network)
    ref = desk.incident(callback.incident_id).reference
    desk.clock.set(desk.t0 + timedelta(minutes=9))
    _dial_done(desk, callback, "completed", seconds="390")  # the rep's <Dial> ended (no word of the leg's own end)
    [ended] = _rows(desk, Callback, callback.incident_id)
    assert ended.outcome == "met" and ended.ended_at == desk.t0 + timedelta(minutes=9)
    answer = _sms_from(desk, BOB, f"CALL {ref}", sid="SM" + "8" * 32).get_data(as_text=True)
    assert "Calling you now" in answer
    assert len(_rows(desk, Callback, callback.incident_id)) == 2
