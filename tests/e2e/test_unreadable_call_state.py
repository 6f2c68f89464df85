"""A call whose stored flow state cannot be read (its ``call_sessions`` row edited by hand: not JSON, a key missing,
not an object; or a newer release's stage this one does not know) never sends a webhook into the generic rescue of an
internal error, nor a 500: it is logged once with its call SID, and the caller hears what is true. An ended call that opened an incident is told that the incident
stands, and the incident and its callback promise are untouched; a call without one is saved as the emergency paths
save a caller and asked for a voicemail.

Signed webhooks through the simulated Twilio, on SQLite and PostgreSQL (whose json type refuses text that is not
JSON: that corruption exists on SQLite alone).
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select, text

from app.models import CallSession, DueStep, Incident, IncidentEvent
from tests.replay_support import intake_to_readback

CORRUPTIONS = {
    "not JSON": lambda state: '{"stage": "done", "lang": ',
    "a key missing": lambda state: json.dumps({k: v for k, v in state.items() if k != "policy"}),
    "not an object": lambda state: json.dumps(["done"]),
    # a newer release's keys are read past (``test_rolling_upgrade_call``), but not a stage this release cannot
    # continue from, nor a known key holding no object
    "an unknown stage": lambda state: json.dumps({**state, "stage": "survey", "survey": {"asked": 1}}),
    "a known key of the wrong type": lambda state: json.dumps({**state, "captured": "Acme"}),
}
UNREADABLE = "stored flow state cannot be read"


def _corrupt(hotline, call_sid: str, how: str) -> None:
    if how == "not JSON" and hotline.db.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL's json type refuses text that is not JSON: only SQLite can hold it")
    with hotline.db.session() as session:
        state = session.get(CallSession, call_sid).state
    cast = "CAST(:state AS JSON)" if hotline.db.engine.dialect.name == "postgresql" else ":state"
    with hotline.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE call_sessions SET state = {cast} WHERE call_sid = :sid"),
                     {"state": CORRUPTIONS[how](state), "sid": call_sid})


def _seq(hotline, call_sid: str) -> int:
    with hotline.db.engine.connect() as conn:
        return conn.execute(text("SELECT seq FROM call_sessions WHERE call_sid = :sid"), {"sid": call_sid}).scalar()


def _verbs(body: str) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return [verb.tag for verb in root]


def _incident_rows(hotline) -> tuple[list, list]:
    """Every incident (all its columns) and every due step: what the promise runs on."""
    with hotline.db.engine.connect() as conn:
        return (conn.execute(select(Incident.__table__).order_by(Incident.id)).all(),
                conn.execute(select(DueStep.__table__).order_by(DueStep.id)).all())


def _warnings(caplog, call_sid: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if UNREADABLE in r.getMessage() and call_sid in r.getMessage()]


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_a_late_webhook_of_an_ended_call_with_unreadable_state_leaves_its_incident_as_it_was(
        phone, hotline, caplog, how):
    call, _sent = intake_to_readback(phone)
    call.press("1")  # the read-back is right: the incident is complete, its callback promise running
    if call.prompt.kind == "gather":
        call.silence()  # the live-connect offer, if any: not taken
    assert call.ended
    assert call.hang_up() == 200
    before = _incident_rows(hotline)
    [incident] = before[0]
    _corrupt(hotline, call.call_sid, how)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        code, body = call._post(f"/twilio/voice/step?seq={_seq(hotline, call.call_sid)}",
                                {"Digits": "1", "FinishedOnKey": ""})  # a late <Gather> answer of the ended call
        assert (code, _verbs(body)) == (200, ["Say", "Say", "Hangup"])
        assert "We have your incident" in body and "Ihr Vorfall" in body
        assert call.resend() == (200, body)  # Twilio's retry: the same answer, nothing logged or done again
        again = call._post("/twilio/voice", {"CallerCountry": "US"})  # the call's start again (not a retry): as safe
        assert (again[0], _verbs(again[1])) == (200, ["Say", "Say", "Hangup"])
        assert call.hang_up() == 200  # and its status callback

    assert len(_warnings(caplog, call.call_sid)) == 2  # once per request (the start's own), never per retry
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []  # no internal error, no rescue
    assert _incident_rows(hotline) == before  # the incident and its promise are untouched
    with hotline.db.session() as session:
        kinds = list(session.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)))
    assert "incident_rescued" not in kinds


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_a_call_without_an_incident_whose_state_cannot_be_read_is_saved_and_asked_for_a_voicemail(
        phone, hotline, caplog, how):
    call = phone("+14155550100")
    call.dial()
    call.press("1")  # English: no incident yet
    assert _incident_rows(hotline)[0] == []
    _corrupt(hotline, call.call_sid, how)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        code, body = call._post(f"/twilio/voice/step?seq={_seq(hotline, call.call_sid)}",
                                {"Digits": "1", "FinishedOnKey": ""})
    assert code == 200 and "Record" in _verbs(body)  # the emergency voicemail, as an internal error's rescue gives
    assert len(_warnings(caplog, call.call_sid)) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    [incident] = _incident_rows(hotline)[0]
    assert incident.source == "rescued" and incident.callback_phone == "+14155550100"
    with hotline.db.session() as session:
        [rescued] = session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "incident_rescued")).all()
    assert rescued.detail["reason"] == "state_unreadable" and rescued.call_sid == call.call_sid
