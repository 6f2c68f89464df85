"""Migration b5d7f9a1c3e6 adds the index the watchdog reads unreported calls through, on both databases.

Calls stored before it are kept unchanged; a downgrade takes only the index away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table

from app.migrate import alembic_config, upgrade

BEFORE = "a3c5e7f9b1d4"  # the revision before b5d7f9a1c3e6
AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
CALLS = table("call_sessions", column("call_sid"), column("from_number"), column("to_number"), column("state"),
              column("status"), column("seq"), column("started_at"), column("updated_at"))
INDEX = "ix_call_sessions_status_updated_at"


def _indexes(engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("call_sessions")}


def test_the_upgrade_adds_the_index_and_keeps_every_call(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(insert(CALLS), [{"call_sid": f"CA{n}", "from_number": "+14155550100", "to_number": "+1415555",
                                      "state": "{}", "status": status, "seq": n, "started_at": AT, "updated_at": AT}
                                     for n, status in enumerate(("in-progress", "completed"))])
        before = conn.execute(select(CALLS).order_by(CALLS.c.call_sid)).all()
    assert INDEX not in _indexes(engine)
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    assert INDEX in _indexes(engine)
    with engine.connect() as conn:
        assert conn.execute(select(CALLS).order_by(CALLS.c.call_sid)).all() == before
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert INDEX not in _indexes(engine)
    with engine.connect() as conn:
        assert conn.execute(select(CALLS).order_by(CALLS.c.call_sid)).all() == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
