"""Migration b3c5d7e9f1a4 refolds the facts rows whose time to callback was rounded down, on both databases.

A database at the revision before it holds facts rows the earlier fold wrote: a callback answered
900.04 s after capture stored as 900.0 (a kept promise's figure, its CSV cell too). After the upgrade
that row says 900.1, every other row is untouched, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, select, update

from app.migrate import upgrade
from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "f1a7c3e9b5d2"  # the revision before b3c5d7e9f1a4
F = IncidentFactsRow
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def _facts(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(F.__table__).order_by(F.incident_id)).all()


def test_the_upgrade_rounds_up_the_time_of_a_callback_answered_just_after_the_deadline(empty_database_url):
    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(200, START, END, seed=11))
        rebuild_facts(conn)
    late = next(row for row in _facts(engine) if row.outcome == "no_callback")
    answered = late.captured_at + timedelta(seconds=900, microseconds=40_000)  # 40 ms past the deadline
    with engine.begin() as conn:  # a line an earlier release wrote, and the facts row it folded from it
        conn.execute(insert(IncidentEvent.__table__), [
            {"incident_id": late.incident_id, "at": answered + timedelta(seconds=2), "actor": "twilio",
             "kind": "callback_late", "detail": {"callback_id": 9001, "answered_at": answered.isoformat()}}])
        rebuild_facts(conn)
        conn.execute(update(F).where(F.incident_id == late.incident_id).values(
            seconds_to_callback=900.0, csv_tail=f",{answered.isoformat().replace('+00:00', 'Z')},late,900.0,"))
    before = _facts(engine)

    upgrade(empty_database_url)

    after = _facts(engine)
    by_id = {row.incident_id: row for row in after}
    assert (by_id[late.incident_id].outcome, by_id[late.incident_id].seconds_to_callback) == ("late", 900.1)
    assert by_id[late.incident_id].csv_tail.endswith(",late,900.1,")
    changed = {row.incident_id for row, old in zip(after, before, strict=True) if row != old}
    assert changed == {late.incident_id}  # nothing else was touched
    with engine.begin() as conn:
        rebuild_facts(conn)
    assert _facts(engine) == after  # exactly the app's own fold of the log
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
