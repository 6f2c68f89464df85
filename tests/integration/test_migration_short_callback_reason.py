"""Migration c1e3a5b7d9f2 gives a callback answered in time but too short to count its own breach reason, on both
databases.

A database at the revision before it holds facts rows the earlier fold wrote: a ``callback_withdrawn`` line with
``why: bridge_too_short`` whose answer came by the deadline read "customer unreachable", though the customer
answered (a probe's 4-second call). After the upgrade that row says "callback too short to count"; a callback that
rang unanswered by the deadline keeps "customer unreachable", every other row is untouched, and the table equals a
full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "a5c7e9b1d3f6"  # the revision before c1e3a5b7d9f2
F = IncidentFactsRow


def _short(incident, callback_id: int) -> list[dict]:
    at = incident.due_at - timedelta(minutes=3)
    answer = {"callback_id": callback_id, "answered_at": (at + timedelta(seconds=20)).isoformat()}
    return [{"incident_id": incident.incident_id, "at": at, "actor": "Bob", "kind": "callback_requested",
             "detail": {"callback_id": callback_id, "rep_id": 2}},
            {"incident_id": incident.incident_id, "at": at + timedelta(seconds=21), "actor": "twilio",
             "kind": "callback_met", "detail": {**answer, "outcome": "met"}},
            {"incident_id": incident.incident_id, "at": at + timedelta(seconds=25), "actor": "twilio",
             "kind": "callback_withdrawn", "detail": {**answer, "why": "bridge_too_short", "dial_seconds": "4",
                                                      "outcome": "answer_withdrawn"}}]


def _unanswered(incident, callback_id: int) -> list[dict]:
    asked = incident.due_at - timedelta(minutes=3)
    return [{"incident_id": incident.incident_id, "at": asked, "actor": "Bob", "kind": "callback_requested",
             "detail": {"callback_id": callback_id, "rep_id": 2}},
            {"incident_id": incident.incident_id, "at": asked + timedelta(seconds=40), "actor": "twilio",
             "kind": "callback_attempted", "detail": {"callback_id": callback_id, "status": "no-answer",
                                                      "voicemail": False}}]


def test_the_upgrade_names_callbacks_answered_in_time_but_too_short(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    # acknowledged in time, nothing placed: the reason comes down to the lines added below
    short, unanswered = [row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at
                         and row.acknowledged_at <= row.due_at - timedelta(minutes=3)][:2]
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows that release folded
        conn.execute(insert(IncidentEvent.__table__), _short(short, 9201) + _unanswered(unanswered, 9202))
        rebuild_facts(conn)  # this release's fold: ``short`` too short, ``unanswered`` unreachable
        assert conn.execute(update(F).where(F.incident_id == short.incident_id).where(
            F.breach_reason == "callback too short to count").values(breach_reason="customer unreachable")).rowcount == 1
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before, changed={short.incident_id})  # nothing else touched
    assert (by_id[short.incident_id].outcome, by_id[short.incident_id].breach_reason) == (
        "attempted", "callback too short to count")
    assert (by_id[unanswered.incident_id].outcome, by_id[unanswered.incident_id].breach_reason) == (
        "attempted", "customer unreachable")
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
