"""How the board words and colours a deadline (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.dashboard.display import countdown_text, urgency
from app.models import Incident

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _incident(answered_after_minutes=None, breached=False) -> Incident:
    answered = T0 + timedelta(minutes=answered_after_minutes) if answered_after_minutes is not None else None
    return Incident(captured_at=T0, callback_due_at=T0 + timedelta(minutes=15), callback_answered_at=answered,
                    breached_at=T0 + timedelta(minutes=15) if breached else None)


@pytest.mark.parametrize("seconds_left, incident, expected", [
    (600, _incident(), "ok"),
    (300, _incident(), "warn"),
    (0, _incident(), "bad"),
    (-60, _incident(breached=True), "bad"),
    (-600, _incident(answered_after_minutes=4), "ok"),  # met: green even long after the deadline
    (-600, _incident(answered_after_minutes=17), "bad"),  # answered, but late: never green
])
def test_urgency(seconds_left, incident, expected):
    assert urgency(seconds_left, incident) == expected


@pytest.mark.parametrize("seconds, text", [(725, "12:05 left"), (0, "0:00 left"), (-200, "3:20 overdue"),
                                           (-10_200, "170:00 overdue")])
def test_countdown_text(seconds, text):
    assert countdown_text(seconds) == text
