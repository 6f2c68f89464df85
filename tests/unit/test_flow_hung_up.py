"""The pure flow's account of a caller who hung up: a value read back and awaiting their yes is kept, unconfirmed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr_flows.capture import hung_up
from ivr_flows.model import AppendToIncident, CallState, Captured, IncidentInfo, Stage


@pytest.mark.parametrize(("stage", "pending", "field"), [
    (Stage.CALLBACK_CONFIRM, "+14155550123", "callback_phone"),
    (Stage.EMAIL_CONFIRM, "ops@acme.example", "email"),
    (Stage.COMPANY, "Acme Mail Inc", "company"),  # the ticket's, offered to a caller who keyed its PIN
    (Stage.CONTACT_NAME, "Dana Smith", "contact_name"),
])
def test_a_value_awaiting_the_callers_yes_is_kept_unconfirmed(stage, pending, field):
    state = CallState(stage=stage, pending=pending, captured=Captured(missing=(field,)))
    left, lines = hung_up(state)
    assert getattr(left.captured, field) == pending and field not in left.captured.missing
    assert (left.stage, left.pending) == (stage, "")
    assert [(line.kind, line.detail) for line in lines][0] == ("field_unconfirmed", {"field": field, "when": "hang_up"})


def test_the_extension_read_back_with_a_number_is_kept_with_it():
    state = CallState(stage=Stage.CALLBACK_CONFIRM, pending="+14155550123", pending_extension="204")
    left, lines = hung_up(state)
    assert (left.captured.callback_phone, left.captured.callback_extension) == ("+14155550123", "204")
    assert [(line.kind, line.detail) for line in lines][1] == ("callback_extension", {"extension": "204"})


@pytest.mark.parametrize("stage", [Stage.EMAIL, Stage.CALLBACK_ENTRY, Stage.PROBLEM, Stage.READBACK])
def test_nothing_pending_leaves_the_state_as_it_was(stage):
    state = CallState(stage=stage, captured=Captured(company="Acme Mail Inc"))
    assert hung_up(state) == (state, ())


def test_what_a_repeat_caller_said_to_add_before_the_recording_is_added_to_their_incident():
    incident = IncidentInfo(reference="123456", callback_due_at=datetime(2026, 12, 4, 19, 15, tzinfo=UTC))
    state = CallState(stage=Stage.ADD_RECORDING, incident=incident, verified="reference", pending="SMTP fails too")
    left, effects = hung_up(state)
    assert effects[0] == AppendToIncident(reference="123456", text="SMTP fails too") and left.pending == ""
