"""A call's stored flow state written by another release (``CallState.from_dict``, ``known_fields``): during a rolling
upgrade a call's webhooks reach a newer and an older web host in any order (probe zb, ZB1). Keys a newer release
added are left out, keys an older release did not write take their defaults; what this release cannot continue
from (a stage or language it does not know, a key every release writes missing, an object that is none) is still
refused, so the webhook saves the caller as before (``intake.UnreadableCall``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.services.incidents import readable_state
from ivr_flows.model import (
    AffectedService,
    CallState,
    Captured,
    FlowPolicy,
    IncidentInfo,
    Lang,
    Stage,
    TicketInfo,
    TicketMatch,
)

DUE = datetime(2026, 11, 2, 3, 15, tzinfo=UTC)


def _state() -> CallState:
    return CallState(
        stage=Stage.EMAIL, caller_id="+14155550100", lang=Lang.DE,
        policy=FlowPolicy(sla_minutes=20, live_connect=True, hotline_number="+14155550111", email_leaves=True),
        captured=Captured(affected_service=AffectedService.SMTP, ticket_number="4521", ticket_match=TicketMatch.KEYPAD,
                          company="Acme Mail", contact_name="Dana Smith", callback_phone="+14155550199",
                          callback_extension="77", missing=("email",)),
        ticket=TicketInfo(number="4521", company="Acme Mail", email="ops@acme.example", has_pin=True),
        incident=IncidentInfo(reference="123456", callback_due_at=DUE, acknowledged=True, texts_off=True),
        tries=1, verified="pin", opened=True, confirmed=("company",), clock="America/Los_Angeles",
    )


def _newer(data: dict) -> dict:
    """``data`` as a newer release would write it: a key this release does not know at every level."""
    return {**data, "handover": {"from": "webA"}, "policy": {**data["policy"], "sms_fallback": True},
            "captured": {**data["captured"], "contact_title": "Head of Ops", "languages": ["en", "de"]},
            "ticket": {**data["ticket"], "priority": "p1"}, "incident": {**data["incident"], "severity": 1}}


def test_a_state_a_newer_release_wrote_reads_as_what_this_release_knows_of_it():
    state = _state()
    assert CallState.from_dict(_newer(state.to_dict())) == state
    assert readable_state(_newer(state.to_dict())) == state  # the webhooks' reader: the call goes on


def test_a_state_an_older_release_wrote_takes_the_defaults_of_what_it_did_not_know():
    state = _state().to_dict()
    data = {k: v for k, v in state.items() if k not in ("clock", "confirmed", "changed", "opened", "verified")}
    data["policy"] = {k: v for k, v in state["policy"].items() if k not in ("email_leaves", "hotline_number")}
    data["captured"] = {k: v for k, v in state["captured"].items() if k != "callback_extension"}
    data["ticket"] = {k: v for k, v in state["ticket"].items() if k != "has_pin"}
    read = CallState.from_dict(data)
    assert (read.clock, read.confirmed, read.opened, read.verified) == ("", (), False, "")
    assert read.policy == FlowPolicy(sla_minutes=20, live_connect=True)  # no receipt by e-mail promised
    assert read.captured.callback_extension == "" and read.captured.company == "Acme Mail"
    assert read.ticket == TicketInfo(number="4521", company="Acme Mail", email="ops@acme.example")


@pytest.mark.parametrize("change", [
    {"stage": "survey"},  # a stage this release does not know: nothing to continue from
    {"lang": "fr-FR"},  # nor a language it cannot speak
    {"captured": "Acme"}, {"policy": ["US"]}, {"ticket": "4521"},  # a known key of the wrong type
])
def test_what_this_release_cannot_continue_from_is_still_refused(change):
    data = {**_newer(_state().to_dict()), **change}
    with pytest.raises((KeyError, TypeError, ValueError)):
        CallState.from_dict(data)
    assert readable_state(data) is None


@pytest.mark.parametrize("key", ["stage", "lang", "policy", "captured"])
def test_a_key_every_release_writes_missing_is_refused(key):
    data = {k: v for k, v in _newer(_state().to_dict()).items() if k != key}
    assert readable_state(data) is None
