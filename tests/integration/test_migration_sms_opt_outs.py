"""Migration f1a7c3e9b5d2 adds the SMS opt-out table, on both databases, and keeps every existing row.

A database at the revision before it holds incidents and their log; after the upgrade they are
unchanged, the new table is empty (no STOP was ever recorded before), holds one row per number,
and a downgrade takes only that table away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from app.migrate import alembic_config, upgrade
from app.models import Incident, IncidentEvent, SmsOptOut
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "a6d4f2b8c9e1"  # the revision before f1a7c3e9b5d2
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def _snapshot(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        return (conn.execute(select(Incident.__table__).order_by(Incident.id)).all(),
                conn.execute(select(IncidentEvent.__table__).order_by(IncidentEvent.id)).all())


def test_the_upgrade_adds_the_opt_out_table_and_keeps_every_row(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(50, START, END, seed=7))
    before = _snapshot(engine)
    assert "sms_opt_outs" not in inspect(engine).get_table_names()

    upgrade(empty_database_url)

    assert _snapshot(engine) == before
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
    assert _snapshot(engine) == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
