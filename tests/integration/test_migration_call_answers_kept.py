"""Migration f6a8c0e2b4d7 marks which calls' flow states still hold the caller's answers, on both databases.

Every call stored before it is kept as it was and marked as still holding them (the watchdog forgets those of ended
calls afterwards: app/services/call_answers.py); a downgrade takes the column and its index away, and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table

from app.migrate import alembic_config, upgrade

BEFORE = "e3a5c7e9b1d4"  # the revision before f6a8c0e2b4d7
AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
COLUMNS = ("call_sid", "from_number", "to_number", "state", "status", "seq", "started_at", "updated_at")
CALLS = table("call_sessions", *(column(name) for name in COLUMNS))
INDEX = "ix_call_sessions_answers_kept"


def _indexes(engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("call_sessions")}


def _rows(engine, *extra: str) -> list[tuple]:
    with engine.connect() as conn:
        columns = table("call_sessions", *(column(name) for name in (*COLUMNS, *extra))).c
        return [tuple(row) for row in conn.execute(select(*columns).order_by(columns.call_sid)).all()]


def test_the_upgrade_marks_every_call_as_keeping_its_answers_and_keeps_every_row(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(insert(CALLS), [{"call_sid": f"CA{n}", "from_number": "+14155550100", "to_number": "+1415555",
                                      "state": '{"stage": "done", "captured": {"company": "Acme Mail"}}',
                                      "status": status, "seq": n, "started_at": AT, "updated_at": AT}
                                     for n, status in enumerate(("in-progress", "completed", "unreported"))])
    before = _rows(engine)
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    assert {INDEX, "ix_call_sessions_status_updated_at"} <= _indexes(engine)
    assert _rows(engine, "answers_kept") == [(*row, True) for row in before]
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert INDEX not in _indexes(engine) and "ix_call_sessions_status_updated_at" in _indexes(engine)
    assert "answers_kept" not in {c["name"] for c in inspect(engine).get_columns("call_sessions")}
    assert _rows(engine) == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
