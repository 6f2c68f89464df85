"""Migration f1a7c3e9b5d2 adds the SMS opt-out table, on both databases, and keeps every existing row.

A database at the revision before it holds incidents and their log; after the upgrade they are
unchanged, the new table is empty (no STOP was ever recorded before), holds one row per number,
and a downgrade takes only that table away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, Table, create_engine, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from app.migrate import alembic_config, upgrade
from app.models import SmsOptOut
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "a6d4f2b8c9e1"  # the revision before f1a7c3e9b5d2
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def _snapshot(engine, names: dict[str, list[str]] | None = None) -> tuple[tuple, dict[str, list[str]]]:
    """The incidents and the log in the columns ``names`` (default: those stored now; later revisions add columns)."""
    with engine.connect() as conn:
        tables = {name: Table(name, MetaData(), autoload_with=conn) for name in ("incidents", "incident_events")}
        names = names or {name: [c.name for c in t.columns] for name, t in tables.items()}
        return tuple(conn.execute(select(*(t.c[c] for c in names[name])).order_by(t.c.id)).all()
                     for name, t in tables.items()), names


def test_the_upgrade_adds_the_opt_out_table_and_keeps_every_row(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(50, START, END, seed=7))
    before, columns = _snapshot(engine)
    assert "sms_opt_outs" not in inspect(engine).get_table_names()

    upgrade(empty_database_url)

    assert _snapshot(engine, columns)[0] == before
    assert len(before[0]) == 50 and before[1]
    table = SmsOptOut.__table__
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        conn.execute(insert(table), {"phone": "+14155550100", "opted_out_at": END, "source": "keyword",
                                     "keyword": "STOP"})
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one row per number
        conn.execute(insert(table), {"phone": "+14155550100", "opted_out_at": END, "source": "twilio_21610",
                                     "keyword": ""})
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "sms_opt_outs" not in inspect(engine).get_table_names()
    assert _snapshot(engine, columns)[0] == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
