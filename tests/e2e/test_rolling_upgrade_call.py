"""A call whose webhooks alternate between web hosts of two releases, as a rolling upgrade behind a load balancer
without stickiness makes them (Twilio has none either): after every webhook its stored flow state is rewritten as the
other release would have written it, and the intake goes on to the end (probe zb, ZB1: an older release refused every
state a newer one wrote and saved each caller as a rescued voicemail at their second webhook).

"newer": every object of the state carries keys this release does not know; "older": the keys added since the first
release are missing. Signed webhooks through the simulated Twilio, on SQLite and PostgreSQL. A state this release
cannot continue from (a stage it does not know) is still rescued: ``test_unreadable_call_state``.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from app.models import CallSession, Incident, IncidentEvent, IncidentSource

CALLER = "+14155550100"
# what the first release's state held (``git show 4f42f05:ivr_flows/model.py``): every key since is an older
# release's missing key
FIRST = {
    None: {"stage", "caller_id", "lang", "policy", "captured", "tries", "ticket", "incident", "pending", "correcting",
           "ticket_entries"},
    "policy": {"sla_minutes", "default_region", "allowed_regions", "max_tries", "recording_max_seconds",
               "max_field_chars", "max_problem_chars"},
    "captured": {"affected_service", "ticket_number", "ticket_match", "company", "contact_name", "callback_phone",
                 "email", "problem_text", "recording_url", "recording_seconds", "missing"},
    "ticket": {"number", "company", "contact_name", "email", "phone"},
    "incident": {"reference", "callback_due_at"},
}


def _newer(state: dict) -> dict:
    out = {**state, "handover": {"host": "webA", "release": 49}}
    for key in ("policy", "captured", "ticket", "incident"):
        if isinstance(state.get(key), dict):
            out[key] = {**state[key], "added_later": [1, "two"], "flag_later": True}
    return out


def _older(state: dict) -> dict:
    out = {k: v for k, v in state.items() if k in FIRST[None]}
    for key in ("policy", "captured", "ticket", "incident"):
        if isinstance(state.get(key), dict):
            out[key] = {k: v for k, v in state[key].items() if k in FIRST[key]}
    return out


REWRITES = {"newer": _newer, "older": _older}


def _rewrite(hotline, call_sid: str, how: str) -> None:
    """The call's stored state as the other release's host would have left it after this webhook."""
    with hotline.db.session() as session:
        state = session.get(CallSession, call_sid).state
    assert state, "the call has a stored state"
    with hotline.db.transaction() as session:
        session.get(CallSession, call_sid).state = REWRITES[how](state)
    with hotline.db.engine.connect() as conn:  # what is stored is what the other release wrote, not this one's
        stored = conn.execute(select(CallSession.state).where(CallSession.call_sid == call_sid)).scalar_one()
    assert ("handover" in stored) == (how == "newer") and ("clock" in stored) == (how != "older")


def _said(prompt) -> str:
    return " ".join(prompt.said)


@pytest.mark.parametrize("how", list(REWRITES))
def test_an_intake_whose_state_the_other_release_wrote_at_every_step_goes_on_to_its_incident(
        phone, hotline, caplog, how):
    call = phone(CALLER)

    def step(act, *expected: str, kind: str = "gather"):
        prompt = act()
        assert prompt.kind == kind, (prompt.kind, prompt.said)
        for words in expected:
            assert words in _said(prompt), (words, prompt.said)
        if not call.ended:
            _rewrite(hotline, call.call_sid, how)
        return prompt

    with caplog.at_level(logging.WARNING):
        step(call.dial, "Severity-1 hotline")
        step(lambda: call.press("1"), "Is your e-mail sending down?")  # the 2nd webhook: where ZB1's callers fell
        step(lambda: call.press("1"), "ticket")
        step(lambda: call.press("#"), "company")
        step(lambda: call.say("Acme Mail"), "name")
        step(lambda: call.say("Dana Smith"), "call you back")
        step(lambda: call.press("1"), "e-mail")
        step(lambda: call.say("dana at acme dot example"), "dana at acme dot example")
        step(lambda: call.press("1"), "describe the problem")
        step(lambda: call.say("Every API call returns 500."), kind="record")
        readback = step(lambda: call.record(seconds=5), "Every API call returns 500.")
        assert "Acme Mail" in _said(readback) or how == "newer"  # newer: only what was not confirmed is read back
        closing = call.press("1")
        if closing.kind == "gather":  # the live-connect offer, when the deployment makes it: not taken
            closing = call.silence()
        assert closing.kind == "hangup" and call.ended and "call you back" in _said(closing)
        assert call.hang_up() == 200

    assert [r for r in caplog.records if "cannot be read" in r.getMessage()] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    with hotline.db.session() as session:
        [incident] = session.scalars(select(Incident)).all()
        kinds = set(session.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)))
    assert incident.source == IncidentSource.IVR and incident.missing_fields == []
    assert (incident.company, incident.contact_name, incident.callback_phone, incident.email) == (
        "Acme Mail", "Dana Smith", CALLER, "dana@acme.example")
    assert incident.problem_text == "Every API call returns 500." and incident.recording_seconds == 5
    assert incident.captured_at is not None and incident.callback_due_at is not None
    assert "incident_rescued" not in kinds
    with hotline.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents WHERE source = 'rescued'")).scalar() == 0
