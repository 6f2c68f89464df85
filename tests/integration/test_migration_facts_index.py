"""Migration e5b8d1f3a7c2 indexes incident_facts.last_event_at, keeping every row, on both databases.

A database at the revision before it holds incidents, their logs and facts rows. After the upgrade
the facts rows are unchanged, a report pinned before some rows' latest lines still refolds exactly
those rows, and on PostgreSQL the report's stale-row query can use the new index.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from app.migrate import upgrade
from app.models import IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from app.reports.figures import listed_in
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "d2a7c5e9f1b3"  # the revision before e5b8d1f3a7c2
F = IncidentFactsRow
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def _stale(engine, as_of: datetime) -> set[int]:
    """The report's stale-row query (``FactsRange._refolded``): lines logged after ``as_of``."""
    with Session(engine) as session:
        return set(session.scalars(select(F.incident_id).where(*listed_in(F, START, END, as_of),
                                                               F.last_event_at > as_of)))


def test_the_upgrade_indexes_last_event_at_and_keeps_the_facts(empty_database_url):
    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(120, START, END, seed=7))
        rebuild_facts(conn)
    with engine.connect() as conn:
        facts_before = conn.execute(select(F.__table__).order_by(F.incident_id)).all()
    middle = facts_before[len(facts_before) // 2]
    as_of = middle.listed_at + (middle.last_event_at - middle.listed_at) / 2  # that incident's later lines come after
    stale_before = _stale(engine, as_of)
    assert "ix_incident_facts_last_event_at" not in {i["name"] for i in inspect(engine).get_indexes("incident_facts")}

    upgrade(empty_database_url)

    with engine.connect() as conn:
        assert conn.execute(select(F.__table__).order_by(F.incident_id)).all() == facts_before
    assert "ix_incident_facts_last_event_at" in {i["name"] for i in inspect(engine).get_indexes("incident_facts")}
    assert _stale(engine, as_of) == stale_before and 0 < len(stale_before) < len(facts_before)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            conn.execute(text("SET LOCAL enable_bitmapscan = off"))
            plan = "\n".join(conn.execute(text(
                "EXPLAIN SELECT incident_id FROM incident_facts WHERE last_event_at > now()")).scalars())
        assert "ix_incident_facts_last_event_at" in plan, plan
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
