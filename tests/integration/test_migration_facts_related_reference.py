"""Migration f8b2d4a6c0e9 adds ``incident_facts.related_reference`` and fills it from the log, on both databases.

A database at the revision before it holds facts rows without the column, among them an incident reached through a
related incident's callback (a ``callback_reached_on_related`` line, as an earlier release wrote it: no
``talking_since``). After the upgrade that row names the related incident, every other row names none, no value the
rows held before changes (an answer line without ``talking_since`` is read as before), and the table equals a full
refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from app.models import IncidentEvent
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "d7f9b1c3e5a8"  # the revision before f8b2d4a6c0e9


def test_the_upgrade_names_the_related_incident_whose_call_reached_the_customer(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    rows = facts(engine)
    assert "related_reference" not in rows[0]._fields
    reached = next(row for row in rows if row.outcome == "no_callback" and row.acknowledged_at is None)
    answered = reached.captured_at + timedelta(minutes=4)
    with engine.begin() as conn:  # the line an earlier release wrote, and the row it folded from it
        conn.execute(insert(IncidentEvent.__table__), [{
            "incident_id": reached.incident_id, "at": answered + timedelta(seconds=2), "actor": "twilio",
            "kind": "callback_reached_on_related",
            "detail": {"callback_id": 9401, "rep_id": 2, "answered_at": answered.isoformat(), "outcome": "met",
                       "related_incident_id": 1, "related_reference": "B0000001", "seconds_after_capture": 240.0}}])
        rebuild_facts(conn, said_only=True)
    before = facts(engine)
    assert next(r for r in before if r.incident_id == reached.incident_id).outcome == "met"

    by_id = upgraded(empty_database_url, engine, before, changed=set())  # no value held before changes
    assert {i: row.related_reference for i, row in by_id.items() if row.related_reference} == {
        reached.incident_id: "B0000001"}
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
