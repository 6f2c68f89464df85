"""Migration d2a7c5e9f1b3 adds the board's partial index on owner lines, keeping every row, on both databases.

A database at the revision before it holds open incidents with realistic logs (acknowledgements,
take-overs and everything else). After the upgrade the log is unchanged, the board names the same
owners, and on PostgreSQL the board's owner query can use the new index (its condition is repeated
verbatim, which a partial index needs).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, Table, create_engine, func, inspect, select, text
from sqlalchemy.orm import Session

from app.dashboard import queries
from app.dashboard.queries import board
from app.migrate import upgrade
from app.models import Incident, IncidentEvent
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "c4d8e2a61f37"  # the revision before d2a7c5e9f1b3
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _owners(engine) -> dict[str, str]:
    """The owners the board names (the app's board: at the head revision only, since it reads later columns)."""
    with Session(engine) as session:
        return {item.incident.reference: item.acknowledged_by or "" for item in board(session, NOW)}


def _owners_in_the_log(engine) -> dict[str, str]:
    """The same through the board's own owner lookup (``queries._owners``, which the index serves) and only the
    columns every revision has: what the board names before the upgrade."""
    with engine.connect() as conn:
        incidents = conn.execute(select(Incident.id, Incident.reference, Incident.acknowledged_at,
                                        Incident.acknowledged_by).where(Incident.status == "open")).all()
        names = queries._owners(conn, select(IncidentEvent.incident_id, IncidentEvent.actor)
                                .where(IncidentEvent.incident_id.in_([i.id for i in incidents])), incidents)
    return {i.reference: names.get(i.id) or "" for i in incidents}


def _migrate_and_compare(url: str) -> None:
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(80, NOW - timedelta(hours=1), NOW, realistic=True, open_last=80, seed=5, fold=False))
    with engine.connect() as conn:  # the log's columns as this revision has them (later ones add columns)
        stored = Table("incident_events", MetaData(), autoload_with=conn)
        events_before = conn.execute(select(stored)).all()
    owners_before = _owners_in_the_log(engine)
    assert "ix_incident_events_owner" not in {i["name"] for i in inspect(engine).get_indexes("incident_events")}

    upgrade(url)

    with engine.connect() as conn:
        assert conn.execute(select(stored)).all() == events_before
        assert conn.scalar(select(func.count()).select_from(IncidentEvent)) == len(events_before)
    assert "ix_incident_events_owner" in {i["name"] for i in inspect(engine).get_indexes("incident_events")}
    owners = _owners(engine)
    assert owners == _owners_in_the_log(engine) == owners_before
    assert sum(1 for name in owners.values() if name) >= 40  # most open incidents have an owner to name
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            conn.execute(text("SET LOCAL enable_bitmapscan = off"))
            plan = "\n".join(conn.execute(text(
                "EXPLAIN SELECT incident_id, actor FROM incident_events "
                "WHERE kind IN ('acknowledged', 'taken_over') ORDER BY at, id")).scalars())
        assert "ix_incident_events_owner" in plan, plan
    engine.dispose()


def test_the_upgrade_adds_the_owner_index_and_keeps_the_log(empty_database_url):
    _migrate_and_compare(empty_database_url)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
