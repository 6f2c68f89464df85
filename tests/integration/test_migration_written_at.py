"""Migration a8c0e2f4b6d8 gives each log line the time it was written (``written_at``), on both databases.

Lines written before it keep every column and no ``written_at`` (NULL, read as their ``at``: no UPDATE of the
append-only log); a report pinned to any instant reads the same lines as before the upgrade; lines from then on
are stamped by the app's clock; the downgrade drops the column and keeps every line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.db import Database
from app.migrate import alembic_config, upgrade
from app.models import IncidentEvent
from app.reports.compliance import range_bounds
from app.reports.figures import FactsRange
from app.reports.queries import load_range
from app.services.events import log_event
from bench.eventlog import Plan, generate, seed_reps
from hotline_sim.clock import FakeClock

BEFORE = "a8c0e2f4b6d9"  # the revision before a8c0e2f4b6d8
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
_OLD_COLUMNS = [c for c in IncidentEvent.__table__.c if c.name != "written_at"]


def _lines(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(*_OLD_COLUMNS).order_by(IncidentEvent.id)).all()


def test_the_upgrade_keeps_every_line_and_new_ones_are_stamped_by_the_apps_clock(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(40, START, END, seed=5))
    before = _lines(engine)
    assert "written_at" not in {c["name"] for c in inspect(engine).get_columns("incident_events")}

    upgrade(empty_database_url)

    assert _lines(engine) == before and len(before) > 40
    events = IncidentEvent.__table__
    with engine.connect() as conn:
        assert set(conn.execute(select(events.c.written_at)).scalars()) == {None}  # read as their at
    assert "ix_incident_events_written_at" in {i["name"] for i in inspect(engine).get_indexes("incident_events")}
    as_of = datetime(2026, 10, 20, tzinfo=UTC)
    with Session(engine) as session:  # every line stamped by as_of counts, as before the column existed
        loaded = load_range(session, *range_bounds(date(2026, 10, 1), date(2026, 11, 1), "UTC"), as_of)
        fast, _ = FactsRange(date(2026, 10, 1), date(2026, 11, 1), "UTC", as_of).report(session)
        stamped = session.scalars(select(events.c.incident_id).where(events.c.kind == "incident_opened",
                                                                      events.c.at <= as_of)).all()
    assert len(loaded.facts) == fast.total == len(stamped) > 0

    db = Database(empty_database_url)
    db.clock = clock = FakeClock(datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC))  # the app's clock, not the database's
    try:
        with db.transaction() as session:
            line = log_event(session, at=clock.now() - timedelta(hours=1), actor="Alice", kind="acknowledged",
                             incident_id=before[0].incident_id or 1, detail={})
            session.flush()
            new_id = line.id
        with db.session() as session:
            assert session.get(IncidentEvent, new_id).written_at == clock.now()
    finally:
        db.dispose()
    with pytest.raises(DBAPIError), engine.begin() as conn:  # still append-only
        conn.execute(update(events).where(events.c.id == new_id).values(written_at=None))
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "written_at" not in {c["name"] for c in inspect(engine).get_columns("incident_events")}
    with engine.connect() as conn:
        assert conn.execute(select(*_OLD_COLUMNS).where(IncidentEvent.id != new_id)
                            .order_by(IncidentEvent.id)).all() == before
    engine.dispose()
