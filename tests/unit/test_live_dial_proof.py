"""What the rep's <Dial><Queue> action proves about a live connect (app/services/live_connect.dial_proves_bridge)."""

import pytest

from app.services.callbacks import MIN_CONVERSATION_SECONDS, conversation_too_short
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


@pytest.mark.parametrize(("seconds", "bridged", "too_short"), [
    ("0", "", True),  # the customer pressed the key and the call ended at once
    ("3", "true", True),
    ("9", "", True),
    ("10", "", False),  # MIN_CONVERSATION_SECONDS: a conversation long enough to start working on the incident
    ("60", "true", False),
    ("", "", False),  # no duration sent: taken at its word, as dial_proves_bridge takes it
    ("60", "false", True),  # Twilio says the two were never bridged
])
def test_a_bridged_callback_shorter_than_the_minimum_conversation_is_too_short(seconds, bridged, too_short):
    assert MIN_CONVERSATION_SECONDS == 10
    assert conversation_too_short(seconds, bridged) is too_short
