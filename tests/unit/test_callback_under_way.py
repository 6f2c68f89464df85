"""The facts fold's rule for a callback under way: an answer counted at the key press is proven once
``MIN_CONVERSATION_SECONDS`` have passed since the key (the line's ``talking_since``) or its leg's end is logged;
before that, as of ``as_of``, it is ``Outcome.PENDING``: neither met nor breached (outside probe V, V1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.reports.facts import IncidentFacts, LoggedEvent, Outcome

OPENED = datetime(2026, 12, 7, 18, 49, 19, tzinfo=UTC)
DUE = OPENED + timedelta(minutes=15)


def _log(key: datetime, *more: LoggedEvent, talking_since: bool = True) -> list[LoggedEvent]:
    answered = key - timedelta(seconds=2)
    detail = {"callback_id": 1, "answered_at": answered.isoformat(), "seconds_after_capture": 1.0,
              **({"talking_since": key.isoformat()} if talking_since else {})}
    return [LoggedEvent("incident_opened", OPENED, "ivr", {"reference": "402451", "callback_due_at": DUE.isoformat()}),
            LoggedEvent("acknowledged", OPENED + timedelta(seconds=30), "Alice", {"rep_id": 1}),
            LoggedEvent("callback_requested", OPENED + timedelta(minutes=1), "Alice", {"callback_id": 1, "rep_id": 1}),
            LoggedEvent("callback_met", key, "twilio", detail), *more]


def _cut(events: list[LoggedEvent], as_of: datetime) -> IncidentFacts:
    return IncidentFacts.from_events([e for e in events if e.at <= as_of], as_of)


KEY = OPENED + timedelta(minutes=1, seconds=16)


@pytest.mark.parametrize(("after_key", "outcome"), [(0, Outcome.PENDING), (2, Outcome.PENDING), (9.9, Outcome.PENDING),
                                                     (10, Outcome.MET), (600, Outcome.MET)])
def test_an_answer_is_under_way_until_the_minimum_conversation_has_passed(after_key, outcome):
    facts = _cut(_log(KEY), KEY + timedelta(seconds=after_key))
    assert facts.outcome == outcome
    assert (facts.answered_at is None, facts.seconds_to_callback is None) == ((outcome == Outcome.PENDING),) * 2
    assert not facts.breached(KEY + timedelta(seconds=after_key))
    assert facts.unproven_until == KEY + timedelta(seconds=10)


def test_a_four_second_call_withdrawn_at_its_end_is_attempted_and_under_way_before():
    ended = KEY + timedelta(seconds=4)
    events = _log(KEY, LoggedEvent("callback_leg_status", ended, "twilio", {"callback_id": 1, "status": "completed"}),
                  LoggedEvent("callback_withdrawn", ended, "twilio", {
                      "callback_id": 1, "answered_at": (KEY - timedelta(seconds=2)).isoformat(),
                      "why": "bridge_too_short"}))
    assert _cut(events, KEY + timedelta(seconds=2)).outcome == Outcome.PENDING
    assert _cut(events, ended).outcome == Outcome.ATTEMPTED
    assert IncidentFacts.from_events(events).outcome == Outcome.ATTEMPTED


@pytest.mark.parametrize("kind", ["callback_leg_status", "callback_rep_leg_status"])
def test_a_leg_whose_end_is_logged_proves_the_answer_at_once(kind):
    events = _log(KEY, LoggedEvent(kind, KEY + timedelta(seconds=3), "twilio", {"callback_id": 1, "status": "completed"}))
    facts = _cut(events, KEY + timedelta(seconds=3))
    assert facts.outcome == Outcome.MET and facts.unproven_until is None


def test_a_key_pressed_just_before_the_deadline_is_neither_met_nor_breached_seconds_after_it():
    key = DUE - timedelta(seconds=3)
    facts = _cut(_log(key), DUE + timedelta(seconds=2))
    assert facts.outcome == Outcome.PENDING and not facts.breached(DUE + timedelta(seconds=2))
    assert facts.breach_reason(DUE + timedelta(seconds=2)) is None
    assert _cut(_log(key), key + timedelta(seconds=10)).outcome == Outcome.MET


def test_a_line_written_before_the_key_press_was_named_is_read_as_before():
    assert _cut(_log(KEY, talking_since=False), KEY).outcome == Outcome.MET


def test_the_end_of_a_rep_call_that_failed_and_moved_to_their_other_number_proves_no_answer():
    """Fix Q1: the rep's call failed (Twilio took it, then reported ``failed``) and was made to their other number,
    where the customer was reached: the failed call's end, or a late repeat of it, is not the end of that leg."""
    failed_at = OPENED + timedelta(minutes=1, seconds=5)
    ordered = _log(KEY)
    met = ordered.pop()
    ordered += [LoggedEvent("callback_rep_leg_status", failed_at, "twilio", {"callback_id": 1, "status": "failed"}),
                LoggedEvent("callback_rep_other_number", failed_at, "twilio", {
                    "callback_id": 1, "rep_id": 1, "why": "failed", "failed_call": "CA" + "1" * 32}),
                met,
                LoggedEvent("callback_rep_leg_status", KEY + timedelta(seconds=1), "twilio", {
                    "callback_id": 1, "status": "failed", "left_call": True})]
    assert _cut(ordered, KEY + timedelta(seconds=2)).outcome == Outcome.PENDING
    assert _cut(ordered, KEY + timedelta(seconds=10)).outcome == Outcome.MET
