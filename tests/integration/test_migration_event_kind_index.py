"""Migration a2c4e6f8b0d3 adds ``ix_incident_events_kind_at`` (the updates report's lines by kind and time), on both
databases: built CONCURRENTLY on PostgreSQL (outside the upgrade's transaction), plainly on SQLite.

Every log line is kept unchanged; a downgrade takes only the index away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table, text

from app.migrate import alembic_config, upgrade

BEFORE = "f8b2d4a6c0e9"  # the revision before a2c4e6f8b0d3
AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
EVENTS = table("incident_events", column("id"), column("incident_id"), column("call_sid"), column("at"),
               column("actor"), column("kind"), column("detail"))
INDEX = "ix_incident_events_kind_at"


def _indexes(engine) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("incident_events")}


def _rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(EVENTS).order_by(EVENTS.c.id)).all()


def test_the_upgrade_adds_the_index_and_keeps_every_line(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(insert(EVENTS), [
            {"call_sid": "CA1", "at": AT, "actor": "twilio", "kind": "call_received", "detail": "{}"},
            {"call_sid": "CA1", "at": AT, "actor": "system", "kind": "customer_update_sent",
             "detail": '{"round": 1, "late_seconds": 0}'}])
    before = _rows(engine)
    others = _indexes(engine)
    assert INDEX not in others
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    assert _indexes(engine) == others | {INDEX: ["kind", "at", "incident_id", "id"]}
    assert _rows(engine) == before
    if engine.dialect.name == "postgresql":  # a concurrent build that completed: valid and ready
        with engine.connect() as conn:
            assert conn.execute(text("SELECT indisvalid AND indisready FROM pg_index WHERE indexrelid = "
                                     "'ix_incident_events_kind_at'::regclass")).scalar() is True
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert _indexes(engine) == others
    assert _rows(engine) == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
