"""Migration c4e6a8b0d2f5 adds the table of texts from unknown senders, on both databases, keeping every row.

A database at the revision before it holds incidents and their log; after the upgrade they are unchanged and the
new table is empty (earlier texts are in the log only); a downgrade takes only that table away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, insert, inspect, select

from app.migrate import alembic_config, upgrade
from app.models import UnknownText
from bench.eventlog import Plan, generate, seed_reps
from tests.integration.test_migration_sms_opt_outs import _snapshot

BEFORE = "b1d3f5a7c9e2"  # the revision before c4e6a8b0d2f5
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def test_the_upgrade_adds_the_unknown_texts_table_and_keeps_every_row(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(30, START, END, seed=11))
    before, columns = _snapshot(engine)
    assert "unknown_texts" not in inspect(engine).get_table_names()

    upgrade(empty_database_url)

    assert _snapshot(engine, columns)[0] == before and len(before[0]) == 30
    table = UnknownText.__table__
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        conn.execute(insert(table), {"from_number": "+13475559999", "body": "our SMTP is down", "received_at": END,
                                     "answered": False})
        assert conn.execute(select(table.c.body)).scalar_one() == "our SMTP is down"
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "unknown_texts" not in inspect(engine).get_table_names()
    assert _snapshot(engine, columns)[0] == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
