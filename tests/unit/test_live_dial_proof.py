"""What the rep's <Dial><Queue> action proves about a live connect (app/services/live_connect.dial_proves_bridge)."""

import pytest

from app.services.live_connect import dial_proves_bridge


@pytest.mark.parametrize(("status", "seconds", "bridged", "proves"), [
    ("completed", "42", "", True),
    ("completed", "42", "true", True),
    ("answered", "5", "", True),
    ("completed", "", "", True),  # no duration sent: taken at its status (a real bridge must not be dialled again)
    ("completed", "0", "", False),  # the caller was gone during "connecting you now": nobody was reached
    ("completed", " 0 ", "", False),
    ("completed", "17", "false", False),  # Twilio says the two were never bridged
    ("completed", "17", "FALSE", False),
    ("no-answer", "0", "", False),
    ("busy", "", "", False),
    ("failed", "", "", False),
    ("canceled", "3", "", False),
])
def test_only_a_completed_bridge_with_time_on_it_proves_the_connection(status, seconds, bridged, proves):
    assert dial_proves_bridge(status, seconds, bridged) is proves
