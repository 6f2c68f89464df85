"""Migration f3b5d7a9c1e4 gives due steps the time they were first put off on a locked incident, on both databases.

A database at the revision before it holds incidents and their steps, pending and done. After the upgrade every row
is unchanged and no step was ever put off (NULL), so /healthz warns of none; a downgrade takes only the column away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, create_engine, inspect, select, table

from app.migrate import alembic_config, upgrade
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "c3e5a7b9d1f2"  # the revision before f3b5d7a9c1e4
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
STEPS = table("due_steps", column("id"), column("incident_id"), column("kind"), column("level"), column("due_at"),
              column("status"), column("runs"), column("done_at"), column("outcome"))


def test_the_upgrade_keeps_every_step_and_puts_none_off(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(20, START, END, seed=13))
        first = conn.execute(select(column("id")).select_from(table("incidents")).limit(1)).scalar_one()
        conn.execute(STEPS.insert(), [
            {"id": 1, "incident_id": first, "kind": "page", "level": 1, "due_at": START, "status": "pending",
             "runs": 0, "done_at": None, "outcome": ""},
            {"id": 2, "incident_id": first, "kind": "receipt", "level": 0, "due_at": START, "status": "done",
             "runs": 1, "done_at": START, "outcome": "sms"}])
        before = conn.execute(select(STEPS).order_by(STEPS.c.id)).all()
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    put_off = table("due_steps", column("id"), column("put_off_at"))
    with engine.connect() as conn:
        assert conn.execute(select(STEPS).order_by(STEPS.c.id)).all() == before
        assert conn.execute(select(put_off.c.put_off_at).order_by(put_off.c.id)).scalars().all() == [None, None]
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "put_off_at" not in {c["name"] for c in inspect(engine).get_columns("due_steps")}
    with engine.connect() as conn:
        assert conn.execute(select(STEPS).order_by(STEPS.c.id)).all() == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
