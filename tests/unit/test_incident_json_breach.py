"""The API's breach while the caller who opened an incident mid-call is still giving details (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.api.incident_json import _breach
from app.models import Incident

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
DUE = T0 + timedelta(minutes=15)  # the provisional deadline of an incident opened at T0


@pytest.mark.parametrize(("on_line", "breached_at", "expected"), [
    (False, None, {"breached": True, "at": "2026-11-26T03:15:00Z"}),  # the deadline passed: breached
    (True, None, {"breached": False, "at": None}),  # still talking: a provisional deadline passed, no breach
    (True, DUE, {"breached": True, "at": "2026-11-26T03:15:00Z"}),  # a breach logged stays one
])
def test_a_provisional_deadline_passed_while_the_caller_talks_is_no_breach(on_line, breached_at, expected):
    incident = Incident(captured_at=T0, callback_due_at=DUE, breached_at=breached_at)
    assert _breach(incident, DUE + timedelta(minutes=2), on_line) == expected
