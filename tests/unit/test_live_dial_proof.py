"""What the rep's <Dial><Queue> action proves about a live connect (app/services/live_connect.dial_rules_out_bridge,
bridge_on_record)."""

from datetime import UTC, datetime

import pytest

from app.models import Callback, LiveWait
from app.services.callbacks import MIN_CONVERSATION_SECONDS, conversation_too_short
from app.services.live_connect import bridge_on_record, dial_rules_out_bridge


@pytest.mark.parametrize(("status", "seconds", "bridged", "rules_out"), [
    ("completed", "42", "", False),  # not ruled out, and not proven either (``bridge_on_record``)
    ("completed", "42", "true", False),
    ("answered", "5", "", False),
    ("completed", "", "", False),
    ("completed", "0", "", True),  # the caller was gone during "connecting you now": nobody was reached
    ("completed", " 0 ", "", True),
    ("completed", "17", "false", True),  # Twilio says the two were never bridged
    ("completed", "17", "FALSE", True),
    ("no-answer", "0", "", True),
    ("busy", "", "", True),
    ("failed", "", "", True),
    ("canceled", "3", "", True),
])
def test_a_dial_not_completed_or_without_time_on_it_rules_the_connection_out(status, seconds, bridged, rules_out):
    assert dial_rules_out_bridge(status, seconds, bridged) is rules_out


CALLER = "CA" + "c" * 32


@pytest.mark.parametrize(("result", "counted_from", "dial_bridged_caller", "proven"), [
    ("", "", "", False),  # a completed <Dial> with seconds on it, and nothing else: the probe's 45-second dial
    ("hangup", "", "", False),
    ("", "", CALLER, True),  # DialBridged=true naming this caller
    ("", "", "CA" + "d" * 32, False),  # ... naming another
    ("bridged", "", "", True),  # the caller's own QueueResult
    ("", CALLER, "", True),  # /bridging counted the callback from this caller's call
    ("", "CA" + "d" * 32, "", False),
])
def test_only_a_report_that_names_the_bridge_proves_it(result, counted_from, dial_bridged_caller, proven):
    wait = LiveWait(call_sid=CALLER, result=result)
    callback = Callback(customer_call_sid=counted_from, answered_at=datetime(2026, 1, 5, tzinfo=UTC) if counted_from
                        else None)
    assert bridge_on_record(wait, callback, dial_bridged_caller) is proven


@pytest.mark.parametrize(("seconds", "bridged", "too_short"), [
    ("0", "", True),  # the customer pressed the key and the call ended at once
    ("3", "true", True),
    ("9", "", True),
    ("10", "", False),  # MIN_CONVERSATION_SECONDS: a conversation long enough to start working on the incident
    ("60", "true", False),
    ("", "", False),  # no duration sent: taken at its word (not too short)
    ("60", "false", True),  # Twilio says the two were never bridged
])
def test_a_bridged_callback_shorter_than_the_minimum_conversation_is_too_short(seconds, bridged, too_short):
    assert MIN_CONVERSATION_SECONDS == 10
    assert conversation_too_short(seconds, bridged) is too_short
