"""Migration e5b8d1f3a7c2 indexes incident_facts.last_event_at, keeping every row, on both databases.

A database at the revision before it holds incidents, their logs and facts rows. After the upgrade
the facts rows are unchanged, a report pinned before some rows' latest lines still refolds exactly
those rows, and on PostgreSQL the report's stale-row query can use the new index.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from app.migrate import upgrade
from app.models import IncidentFactsRow
from app.reports.figures import listed_in
from tests.integration.refold_support import END, START, facts, generated_before

BEFORE = "d2a7c5e9f1b3"  # the revision before e5b8d1f3a7c2
F = IncidentFactsRow


def _stale(engine, as_of: datetime) -> set[int]:
    """The report's stale-row query (``FactsRange._refolded``): lines logged after ``as_of``."""
    with Session(engine) as session:
        return set(session.scalars(select(F.incident_id).where(*listed_in(F, START, END, as_of),
                                                               F.last_event_at > as_of)))


def test_the_upgrade_indexes_last_event_at_and_keeps_the_facts(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE, incidents=120, seed=7)
    facts_before = facts(engine)
    middle = facts_before[len(facts_before) // 2]
    as_of = middle.listed_at + (middle.last_event_at - middle.listed_at) / 2  # that incident's later lines come after
    stale_before = _stale(engine, as_of)
    assert "ix_incident_facts_last_event_at" not in {i["name"] for i in inspect(engine).get_indexes("incident_facts")}

    upgrade(empty_database_url)

    assert facts(engine, facts_before[0]._fields) == facts_before  # a later migration adds a column
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
