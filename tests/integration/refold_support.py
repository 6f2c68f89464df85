"""The test of a migration that refolds ``incident_facts``, on both databases: a generated log at the revision
before it, the rows an earlier release folded for the lines the test adds, and the upgrade's result, which
must change only the rows it is for and equal a full refold of the log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import Engine

from app.migrate import upgrade
from app.models import IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from bench.eventlog import Plan, generate, seed_reps

START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def facts(engine: Engine, names: tuple[str, ...] | None = None) -> list:
    """Every facts row, by incident: the columns the table has at its revision (``names``: those of them only)."""
    with engine.connect() as conn:
        have = {c["name"] for c in inspect(conn).get_columns(IncidentFactsRow.__tablename__)}
        columns = [c for c in IncidentFactsRow.__table__.columns
                   if c.name in have and (names is None or c.name in names)]
        return conn.execute(select(*columns).order_by(IncidentFactsRow.incident_id)).all()


def generated_before(url: str, revision: str, incidents: int = 200, seed: int = 11) -> Engine:
    """A database at ``revision`` holding a month (START to END) of generated incidents and their facts rows."""
    upgrade(url, revision)
    engine = create_engine(url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(incidents, START, END, seed=seed))
        rebuild_facts(conn, said_only=True)  # as an earlier release folded them (the company as said)
    return engine


def upgraded(url: str, engine: Engine, before: list, changed: set[int]) -> dict:
    """Upgrade to the head: only the ``changed`` incidents' rows differ from ``before``, and the table is exactly
    the app's own fold of the log. The rows after, by incident id."""
    upgrade(url)
    after = facts(engine)
    # compared on the columns the rows had before (a later migration may add some: ``f8b2d4a6c0e9``)
    kept = facts(engine, before[0]._fields if before else None)
    assert {row.incident_id for row, old in zip(kept, before, strict=True) if row != old} == changed
    with engine.begin() as conn:
        rebuild_facts(conn)
    assert facts(engine) == after
    return {row.incident_id: row for row in after}
