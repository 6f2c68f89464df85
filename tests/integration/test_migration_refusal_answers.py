"""Migration d7f9b1c3e5a8 adds the table of answers to reps' refused SMS, on both databases, keeping every row.

A database at the revision before it holds incidents and their log; after the upgrade they are unchanged and the
new table is empty (the first refusal of each after it is answered); a downgrade takes only that table away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, insert, inspect, select

from app.migrate import alembic_config, upgrade
from app.models import RefusalAnswer
from bench.eventlog import Plan, generate, seed_reps
from tests.integration.test_migration_sms_opt_outs import _snapshot

BEFORE = "c4e6a8b0d2f5"  # the revision before d7f9b1c3e5a8
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def test_the_upgrade_adds_the_refusal_answers_table_and_keeps_every_row(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(30, START, END, seed=11))
    before, columns = _snapshot(engine)
    assert "refusal_answers" not in inspect(engine).get_table_names()

    upgrade(empty_database_url)

    assert _snapshot(engine, columns)[0] == before and len(before[0]) == 30
    table = RefusalAnswer.__table__
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        conn.execute(insert(table), {"rep_id": 1, "incident_id": None, "refusal": "sms_not_understood",
                                     "words": "0123456789abcdef", "answered_at": END})
        assert conn.execute(select(table.c.refusal, table.c.incident_id)).one() == ("sms_not_understood", None)
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "refusal_answers" not in inspect(engine).get_table_names()
    assert _snapshot(engine, columns)[0] == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
