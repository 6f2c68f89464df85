"""Migration a5c7e9b1d3f6 refolds the facts of incidents with a callback answered too briefly to count, on both
databases.

A database at the revision before it holds facts rows the earlier fold wrote: a ``callback_withdrawn`` line with
``why: bridge_too_short`` took the answer off its callback and left nothing, so the row said "no callback" and
"acknowledged but called late" (probe, incident 616353), with no attempt for the rep. After the upgrade that row
says "attempted" ("callback too short to count" since migration c1e3a5b7d9f2); a live answer withdrawn because the caller's line dropped (the callback
pending again) is untouched, as is every other row, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "b9d1f3a5c7e0"  # the revision before a5c7e9b1d3f6
F = IncidentFactsRow


def _withdrawn(incident, callback_id: int, why: str) -> list[dict]:
    at = incident.captured_at + timedelta(minutes=2)
    answer = {"callback_id": callback_id, "answered_at": (at + timedelta(seconds=4)).isoformat()}
    return [{"incident_id": incident.incident_id, "at": at, "actor": "Bob", "kind": "callback_requested",
             "detail": {"callback_id": callback_id, "rep_id": 2}},
            {"incident_id": incident.incident_id, "at": at + timedelta(seconds=5), "actor": "twilio",
             "kind": "callback_met", "detail": {**answer, "outcome": "met"}},
            {"incident_id": incident.incident_id, "at": at + timedelta(seconds=9), "actor": "twilio",
             "kind": "callback_withdrawn", "detail": {**answer, "why": why, "outcome": "answer_withdrawn",
                                                      **({"dial_seconds": "3"} if why == "bridge_too_short" else {})}}]


def test_the_upgrade_refolds_callbacks_answered_too_briefly_to_count(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    # acknowledged in time, nothing placed: the outcome comes down to the lines added below
    short, dropped = [row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at
                      and row.acknowledged_at <= row.due_at][:2]
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows it folded from them
        conn.execute(insert(IncidentEvent.__table__),
                     _withdrawn(short, 9001, "bridge_too_short") + _withdrawn(dropped, 9002, "queue_result_hangup"))
        rebuild_facts(conn)  # ``dropped`` is folded the same by both releases
        conn.execute(update(F).where(F.incident_id == short.incident_id)
                     .values(outcome="no_callback", breach_reason="acknowledged but called late"))
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before, changed={short.incident_id})  # nothing else touched
    assert (by_id[short.incident_id].outcome, by_id[short.incident_id].breach_reason) == (
        "attempted", "callback too short to count")  # reached in time: its own reason since c1e3a5b7d9f2
    assert (by_id[dropped.incident_id].outcome, by_id[dropped.incident_id].breach_reason) == (
        "no_callback", "acknowledged but called late")  # pending again: a placed callback, never answered in time
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
