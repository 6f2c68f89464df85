"""Migration e3b5c7d9f1a4 keeps every log line, gives the old ones txid 0, and the feed reads them first, on both databases.

A database at the revision before it holds incidents and their log; after the upgrade every row is
unchanged, the lines written before it carry 0, a line written after it carries its transaction's id on
PostgreSQL (0 on SQLite), the log still refuses changes, and a downgrade takes only the column away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.migrate import alembic_config, upgrade
from app.models import Incident, IncidentEvent
from app.services import event_feed
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "d9f1b3c5e7a2"  # the revision before e3b5c7d9f1a4
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
_OLD_COLUMNS = [c for c in IncidentEvent.__table__.c if c.name not in ("txid", "written_at")]  # written_at: later
_OLD_INCIDENT = [c for c in Incident.__table__.c if c.name not in ("pin_account_id", "reached_on_callback_id")]  # added later


def _snapshot(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        return (conn.execute(select(*_OLD_INCIDENT).order_by(Incident.id)).all(),
                conn.execute(select(*_OLD_COLUMNS).order_by(IncidentEvent.id)).all())


def test_the_upgrade_keeps_every_line_and_the_feed_reads_the_old_ones_first(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(30, START, END, seed=11))
    before = _snapshot(engine)
    assert "txid" not in {c["name"] for c in inspect(engine).get_columns("incident_events")}

    upgrade(empty_database_url)

    assert _snapshot(engine) == before
    assert len(before[0]) == 30 and before[1]
    events = IncidentEvent.__table__
    with engine.connect() as conn:
        assert set(conn.execute(select(events.c.txid)).scalars()) == {0}
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        new_id = conn.execute(insert(events).values(incident_id=before[0][0].id, at=END, actor="Alice",
                                                    kind="acknowledged", detail={}).returning(events.c.id)).scalar_one()
        mine = conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one() if postgresql else 0
    with engine.connect() as conn:
        assert conn.execute(select(events.c.txid).where(events.c.id == new_id)).scalar_one() == mine
    with pytest.raises(DBAPIError), engine.begin() as conn:  # still append-only
        conn.execute(update(events).where(events.c.id == new_id).values(actor="Mallory"))

    with Session(engine) as session:  # the feed from the start: the old lines by id, then the new one
        handed, position, more = [], None, True
        while more:
            rows, position, more = event_feed.read(session, position, 50)
            handed += [row.event.id for row in rows]
    incident_lines = sorted(row.id for row in before[1] if row.incident_id is not None)
    assert handed == incident_lines + [new_id]
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "txid" not in {c["name"] for c in inspect(engine).get_columns("incident_events")}
    with engine.connect() as conn:
        assert conn.execute(select(*_OLD_COLUMNS).where(IncidentEvent.id != new_id)
                            .order_by(IncidentEvent.id)).all() == before[1]
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
