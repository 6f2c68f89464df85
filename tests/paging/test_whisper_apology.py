"""The customer's whisper apologises for a late callback by the answer's time, as the callback's outcome counts it:
an outside probe's customer answered 20 s before the deadline (Twilio's stamped status came first), Twilio fetched
the whisper after it, and the customer heard "We are sorry this call comes later than we promised" of a callback
counted met (managers were told "NOT breached after all")."""

from __future__ import annotations

from datetime import timedelta

from tests.paging.test_breach_whisper_proof import _after_t0, _due, _ringing
from tests.paging.test_callback_proof import _alice_presses_2, _callback, _leg_status, _press_key, _whisper

SORRY = "later than we promised"


def test_a_whisper_fetched_after_the_deadline_of_a_leg_answered_before_it_is_no_apology(desk, network):
    callback = _alice_presses_2(desk, minutes=14)
    _ringing(desk, callback)
    due = _due(desk, callback)
    desk.clock.set(due + timedelta(seconds=18))  # the answered status, late, stamped 20 s before the deadline
    _leg_status(desk, callback, "in-progress", _after_t0(desk, due - timedelta(seconds=20)))
    desk.clock.set(due + timedelta(seconds=19))
    said = _whisper(desk, callback)
    assert "Press any key to speak with our support team" in said and SORRY not in said
    _press_key(desk, callback)
    assert _callback(desk, callback.incident_id).outcome == "met"  # the same rule: in time


def test_a_whisper_of_a_leg_answered_after_the_deadline_apologises(desk, network):
    callback = _alice_presses_2(desk, minutes=14)
    _ringing(desk, callback)
    due = _due(desk, callback)
    desk.clock.set(due + timedelta(seconds=19))
    _leg_status(desk, callback, "in-progress", _after_t0(desk, due + timedelta(seconds=2)))
    said = _whisper(desk, callback)
    assert SORRY in said
    _press_key(desk, callback)
    assert _callback(desk, callback.incident_id).outcome == "late"
