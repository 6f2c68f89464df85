"""What an ended call's flow state keeps once its answers are forgotten (``CallState.without_answers``): what later
webhooks read (stage, language, proof, incident, policy), nothing the caller said, keyed or was read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

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
from ivr_flows.questions import say_due

DUE = datetime(2026, 11, 2, 3, 15, tzinfo=UTC)
PERSONAL = ("+14155550100", "+14155550199", "Acme Mail", "Dana Smith", "dana@acme.example", "4521", "Every API call",
            "RE0123", "77", "+4930123456", "ops@acme.example")


def _full() -> CallState:
    return CallState(
        stage=Stage.DONE, caller_id="+14155550100", lang=Lang.DE, policy=FlowPolicy(live_connect=True),
        captured=Captured(affected_service=AffectedService.SMTP, ticket_number="4521", ticket_match=TicketMatch.KEYPAD,
                          company="Acme Mail", contact_name="Dana Smith", callback_phone="+14155550199",
                          callback_extension="77", email="dana@acme.example", problem_text="Every API call fails",
                          recording_url="https://api.twilio.com/Recordings/RE0123", recording_seconds=25,
                          missing=("email",)),
        ticket=TicketInfo(number="4521", company="Acme Mail", contact_name="Dana Smith", email="ops@acme.example",
                          phone="+4930123456", has_pin=True),
        incident=IncidentInfo(reference="123456", callback_due_at=DUE, acknowledged=True),
        pending="+4930123456", pending_extension="77", verified="pin", related_reference="654321", opened=True,
        confirmed=("company",),
    )


def test_nothing_the_caller_said_keyed_or_was_read_is_kept():
    text = json.dumps(_full().without_answers().to_dict())
    assert [said for said in PERSONAL if said in text] == []


def test_what_later_webhooks_read_is_kept_and_reads_back():
    state = CallState.from_dict(_full().without_answers().to_dict())
    full = _full()
    assert (state.stage, state.lang, state.policy, state.incident, state.verified, state.opened) == (
        full.stage, full.lang, full.policy, full.incident, full.verified, full.opened)
    assert state.related_reference == "654321" and state.confirmed == ("company",)
    assert state.captured == Captured(affected_service=AffectedService.SMTP, ticket_match=TicketMatch.KEYPAD,
                                      recording_seconds=25, missing=("email",))
    assert state.without_answers() == state  # forgetting twice changes nothing


def test_the_callers_clock_is_kept_and_the_stripped_state_speaks_on_it():
    full = _full()  # German prompts, a San Francisco callback number
    stripped = CallState.from_dict(full.without_answers().to_dict())
    assert (stripped.clock, stripped.lang) == ("America/Los_Angeles", Lang.DE)
    now = DUE - timedelta(minutes=15)
    # 03:15 UTC, as the call said it (German prompts say "spätestens {time}": the phrase carries its "um")
    assert say_due(stripped, DUE, now) == say_due(full, DUE, now) == "um 19:15 Uhr (PST)"
    anonymous = CallState(stage=Stage.DONE, caller_id="anonymous").without_answers()
    assert (anonymous.clock, say_due(anonymous, DUE, now)) == ("UTC", "3:15 a.m. UTC")


def test_a_state_stored_before_the_clock_was_kept_still_reads():
    old = _full().without_answers().to_dict()
    del old["clock"]
    assert CallState.from_dict(old).clock == ""  # spoken in UTC, as before


def test_a_late_webhook_of_an_ended_call_never_promises_a_deadline_already_past():
    from datetime import timedelta

    from ivr_flows import advance
    from ivr_flows.model import NoInput

    state = CallState(stage=Stage.DONE, lang=Lang.EN, incident=IncidentInfo(reference="123456", callback_due_at=DUE))
    before = " ".join(advance(state, NoInput(), DUE - timedelta(minutes=5)).reply.say)
    late = " ".join(advance(state.without_answers(), NoInput(), DUE + timedelta(minutes=80)).reply.say)
    assert "call you back by 3:15 a.m. UTC" in before
    assert "by 3:15" not in late and "haven't called you back yet" in late
