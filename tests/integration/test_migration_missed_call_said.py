"""Migration a3c5e7f9b1d4 adds what the caller said to missed calls, on both databases, and keeps every row.

A database at the revision before it holds missed calls (all of them before triage); after the upgrade
each is unchanged and reads as having said nothing, a new one keeps what was said, and a downgrade
takes only the column away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table

from app.migrate import alembic_config, upgrade
from app.models import MissedCall

BEFORE = "f4c6e8a0b2d5"  # the revision before a3c5e7f9b1d4
AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
OLD = table("missed_calls", column("id"), column("call_sid"), column("caller_id"), column("language"),
            column("stage"), column("received_at"), column("ended_at"))


def test_the_upgrade_adds_what_was_said_and_keeps_every_missed_call(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    rows = [{"id": n, "call_sid": f"CA{n}", "caller_id": "+14155550100", "language": "en-US" if n % 2 else "",
             "stage": "triage" if n % 2 else "language", "received_at": AT, "ended_at": AT} for n in (1, 2, 3)]
    with engine.begin() as conn:
        conn.execute(insert(OLD), rows)
        before = conn.execute(select(OLD).order_by(OLD.c.id)).all()
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        assert conn.execute(select(OLD).order_by(OLD.c.id)).all() == before
        assert conn.execute(select(MissedCall.said).order_by(MissedCall.id)).scalars().all() == [{}, {}, {}]
        conn.execute(insert(MissedCall.__table__), {"id": 4, "call_sid": "CA4", "caller_id": "anonymous", "language": "en-US",
                                                   "stage": "callback_entry", "received_at": AT, "ended_at": AT,
                                                   "said": {"company": "Acme Mail Inc"}})
        assert conn.execute(select(MissedCall.said).where(MissedCall.call_sid == "CA4")).scalar_one() == {
            "company": "Acme Mail Inc"}
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "said" not in {c["name"] for c in inspect(engine).get_columns("missed_calls")}
    with engine.connect() as conn:
        assert conn.execute(select(OLD).where(OLD.c.id <= 3).order_by(OLD.c.id)).all() == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
