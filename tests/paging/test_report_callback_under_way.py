"""A callback is "met" only once the customer has talked for the minimum conversation (facts.MIN_CONVERSATION_SECONDS)
after pressing the key, or their leg's end is logged: until then the compliance report counts it as a callback under
way ("pending"), neither met nor breached, while the escalation core still counts it at the key press (no false
BREACHED goes out).

Outside probe V (V1): a report pinned 2 s after the key press of a call that lasted 4 s and was then withdrawn said, for
good, "met, 76.9 s", and credited the rep with it. Alice replies CALL; the customer's leg is answered, the key pressed;
Twilio's requests are played signed; the exports are read as a manager reads them, pinned with ``as_of``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.models.user import Role
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.test_at_risk_unproven_callback import _at, _callback_by_sms
from tests.paging.test_callback_proof import _dial_done, _facts, _leg_status, _step_outcome
from tests.paging.test_short_bridge import _keyed

START = timedelta(minutes=2, seconds=30)  # the customer's leg answered then; the key pressed 4 s later


def _query(desk, as_of: datetime) -> dict[str, str]:
    return {"start": desk.t0.date().isoformat(), "end": (desk.t0.date() + timedelta(days=1)).isoformat(),
            "tz": "UTC", "as_of": as_of.isoformat()}


def _pinned(desk, reference: str, as_of: datetime) -> tuple[dict, str, dict]:
    """The JSON row, the CSV line and the JSON summary of the day's compliance report pinned to ``as_of``."""
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    document = desk.client.get("/reports/compliance.json", query_string=_query(desk, as_of)).get_json()
    [row] = [r for r in document["rows"] if r["reference"] == reference]
    body = desk.client.get("/reports/compliance.csv", query_string=_query(desk, as_of)).get_data(as_text=True)
    [line] = [li for li in body.splitlines() if li.startswith(reference)]
    return row, line, document["summary"]


def _alice(summary: dict) -> dict:
    [alice] = [rep for rep in summary["per_rep"] if rep["name"].startswith("Alice")]
    return alice


def _under_way(row: dict, line: str, summary: dict) -> None:
    """The row and summary of a report in which the incident's callback is under way."""
    assert (row["outcome"], row["breached"], row["callback_answered_at"], row["seconds_to_callback"]) == (
        "pending", None, None, None)
    assert ",,pending,,pending," in line  # no answer, no seconds, the promise not decided yet (neither kept nor broken)
    outcomes = {key: value["count"] for key, value in summary["outcomes"].items()}
    assert (outcomes["met"], outcomes["pending"], summary["breached"]["count"], summary["open"]["count"]) == (0, 1, 0, 1)
    assert summary["seconds_to_callback"]["count"] == 0 and _alice(summary)["met"] == 0


def test_a_report_pinned_two_seconds_after_the_key_of_a_four_second_call_says_under_way_not_met(desk, network):
    callback = _callback_by_sms(desk, network)
    reference = desk.incident(callback.incident_id).reference
    _keyed(desk, callback, START, 4)
    key = desk.clock.now()
    desk.clock.set(key + timedelta(seconds=2))
    early = _pinned(desk, reference, key + timedelta(seconds=2))
    _under_way(*early)
    # the page as of now says why the figures are not final
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    page = parse(desk.client.get("/reports/compliance", query_string=_query(desk, key + timedelta(seconds=2))))
    assert "a callback was under way" in page.find("p", id="report-under-way").text()

    # the customer hangs up 4 s after the key: too short to count, withdrawn
    desk.clock.set(key + timedelta(seconds=4))
    _leg_status(desk, callback, "completed", (START + timedelta(seconds=8)).total_seconds(), CallDuration="4")
    _dial_done(desk, callback, "completed", seconds="4")
    desk.clock.set(key + timedelta(minutes=1))
    assert _pinned(desk, reference, key + timedelta(seconds=2)) == early  # the pinned report never turns "met"
    row, line, summary = _pinned(desk, reference, key + timedelta(seconds=5))
    assert (row["outcome"], row["callback_answered_at"], row["breached"]) == ("attempted", None, None)
    assert summary["outcomes"]["met"]["count"] == 0 and _alice(summary)["met"] == 0
    _at(desk, 16)  # the deadline passed: breached, the customer reached by a call too short to count
    row, _, _ = _pinned(desk, reference, desk.clock.now())
    assert (row["outcome"], row["breached"], row["breach_reason"]) == (
        "attempted", True, "callback too short to count")


def test_a_conversation_under_way_is_met_once_the_minimum_has_passed(desk, network):
    callback = _callback_by_sms(desk, network)
    incident = desk.incident(callback.incident_id)
    _keyed(desk, callback, START, 4)
    key = desk.clock.now()
    desk.clock.set(key + timedelta(seconds=10))
    _under_way(*_pinned(desk, incident.reference, key + timedelta(seconds=9)))
    # 10 s after the key, the call still going on (no line since): met, at Twilio's answer
    row, line, summary = _pinned(desk, incident.reference, key + timedelta(seconds=10))
    answered = desk.t0 + START + timedelta(seconds=1)  # Twilio's whole second, read as its latest instant
    assert (row["outcome"], row["breached"]) == ("met", False)
    assert row["callback_answered_at"] == answered.isoformat().replace("+00:00", "Z")
    assert row["seconds_to_callback"] == (answered - incident.captured_at).total_seconds()
    assert ",met," in line and summary["seconds_to_callback"]["count"] == 1 and _alice(summary)["met"] == 1
    # the call ends a minute later: the report pinned inside the first 10 s still says under way
    desk.clock.set(key + timedelta(minutes=1))
    _leg_status(desk, callback, "completed", (START + timedelta(seconds=64)).total_seconds(), CallDuration="64")
    _dial_done(desk, callback, "completed", seconds="64")
    _under_way(*_pinned(desk, incident.reference, key + timedelta(seconds=9)))
    assert _pinned(desk, incident.reference, key + timedelta(seconds=10))[0]["outcome"] == "met"
    assert _facts(desk, callback.incident_id).outcome == "met"  # the log's fold, as of its end


def test_a_key_pressed_just_before_the_deadline_is_neither_met_nor_breached_seconds_after_it(desk, network):
    """The key press holds the breach back (the escalation core, unchanged: no BREACHED goes out); a report pinned
    2 s after the deadline, 5 s after the key, counts the callback as under way, not breached, and one pinned once the
    minimum conversation has passed counts it met."""
    callback = _callback_by_sms(desk, network)
    incident = desk.incident(callback.incident_id)
    due = incident.callback_due_at
    _keyed(desk, callback, due - desk.t0 - timedelta(seconds=8), 5)  # answered 8 s before the deadline, key 3 s before
    key = desk.clock.now()
    assert key == due - timedelta(seconds=3)
    desk.clock.set(due + timedelta(seconds=2))
    _under_way(*_pinned(desk, incident.reference, due + timedelta(seconds=2)))
    _at(desk, 15.5)
    assert _step_outcome(desk, callback.incident_id, "breach") == "met"  # the core counted the key press
    assert desk.incident(callback.incident_id).breached_at is None
    row, _, summary = _pinned(desk, incident.reference, key + timedelta(seconds=10))
    assert (row["outcome"], row["breached"]) == ("met", False) and summary["breached"]["count"] == 0
