"""Migration c6e8a0b2d4f7 adds the partial index the watchdog finds old webhook answers through, on both databases.

Every delivery and every answer stored before it is kept unchanged (the watchdog empties old answers afterwards);
a downgrade takes only the index away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table

from app.migrate import alembic_config, upgrade

BEFORE = "a8c0e2f4b6d8"  # the revision before c6e8a0b2d4f7
AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
DELIVERIES = table("webhook_deliveries", column("id"), column("key"), column("path"), column("response"),
                   column("received_at"))
INDEX = "ix_webhook_deliveries_kept"


def _indexes(engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("webhook_deliveries")}


def _rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(DELIVERIES).order_by(DELIVERIES.c.id)).all()


def test_the_upgrade_adds_the_index_and_keeps_every_delivery_and_answer(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(insert(DELIVERIES), [
            {"key": "k1", "path": "/twilio/voice/step", "response": "<Response><Say>Acme Mail</Say></Response>",
             "received_at": AT},
            {"key": "k2", "path": "/twilio/voice/status", "response": "", "received_at": AT}])
    before = _rows(engine)
    assert INDEX not in _indexes(engine)
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    assert INDEX in _indexes(engine)
    assert _rows(engine) == before
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert INDEX not in _indexes(engine)
    assert _rows(engine) == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
