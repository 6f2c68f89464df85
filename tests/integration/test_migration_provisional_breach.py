"""Migration d9f1b3c5e7a2 refolds the facts that kept a provisional deadline's breach line, on both databases.

A database at the revision before it holds an incident opened mid-call whose intake went on past the
opening's provisional deadline: its breach line was logged before the deadline set when the details
were in, and the earlier fold kept it as the breach. After the upgrade that row has no breach line
(the deadline that counts is later), every other row is untouched, and the table equals a full refold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, select, update

from app.migrate import upgrade
from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "c7e9a1b3d5f8"  # the revision before d9f1b3c5e7a2
F = IncidentFactsRow
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def _facts(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(F.__table__).order_by(F.incident_id)).all()


def test_the_upgrade_drops_a_breach_line_logged_before_the_deadline_that_counts(empty_database_url):
    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(200, START, END, seed=11))
        rebuild_facts(conn)
    long = next(row for row in _facts(engine) if row.outcome == "no_callback" and row.acknowledged_at is None
                and row.breach_logged_at is not None)
    provisional_breach = long.breach_logged_at
    details_in = provisional_breach + timedelta(minutes=2)
    with engine.begin() as conn:  # the details came in after the provisional deadline's breach step ran
        conn.execute(insert(IncidentEvent.__table__), [
            {"incident_id": long.incident_id, "at": details_in, "actor": "ivr", "kind": "deadline_set",
             "detail": {"reason": "details complete", "captured_at": details_in.isoformat(),
                        "callback_due_at": (details_in + timedelta(minutes=15)).isoformat()}}])
        rebuild_facts(conn)
        # the earlier fold kept the provisional deadline's breach line
        conn.execute(update(F).where(F.incident_id == long.incident_id).values(breach_logged_at=provisional_breach))
    before = _facts(engine)

    upgrade(empty_database_url)

    after = _facts(engine)
    by_id = {row.incident_id: row for row in after}
    assert by_id[long.incident_id].breach_logged_at is None
    assert by_id[long.incident_id].due_at == details_in + timedelta(minutes=15)
    changed = {row.incident_id for row, old in zip(after, before, strict=True) if row != old}
    assert changed == {long.incident_id}  # nothing else was touched
    with engine.begin() as conn:
        rebuild_facts(conn)
    assert _facts(engine) == after  # exactly the app's own fold of the log
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
