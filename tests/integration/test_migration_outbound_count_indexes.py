"""Migration a7c9e1b3d5f8 indexes pages.created_at and deliveries.created_at, keeping every row, on both databases.

The outbound-volume count after every intake read every page ever written (no index on the time it filters by). A
database at the revision before it holds pages and deliveries; after the upgrade they are unchanged, and on
PostgreSQL the count's range scans can use the new indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, Table, create_engine, inspect, select, text
from sqlalchemy.orm import Session

from app.migrate import upgrade
from app.models import Delivery, Page
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "e5f7a9b1c3d6"  # the revision before a7c9e1b3d5f8
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _rows(engine, name: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(Table(name, MetaData(), autoload_with=conn))).all()


def test_the_upgrade_indexes_the_outbound_counts_and_keeps_every_row(empty_database_url):
    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(3, NOW - timedelta(hours=1), NOW, realistic=True, seed=7, fold=False))
        incident_id = conn.scalar(text("SELECT min(id) FROM incidents"))
    with Session(engine) as session:  # the models' columns are the revision before's (it adds only indexes)
        for minutes in range(5):
            at = NOW - timedelta(minutes=minutes)
            session.add(Page(incident_id=incident_id, to_number="+14155550111", channel="sms", purpose="page",
                             status="sent", created_at=at, next_attempt_at=at, updated_at=at))
            session.add(Delivery(incident_id=incident_id, channel="sms", to_address="+14155550100",
                                 recipient="customer", purpose="update", body="Update", created_at=at,
                                 next_attempt_at=at))
        session.commit()
    before = {name: _rows(engine, name) for name in ("pages", "deliveries")}
    assert "ix_pages_created_at" not in {i["name"] for i in inspect(engine).get_indexes("pages")}

    upgrade(empty_database_url)

    assert {name: _rows(engine, name) for name in ("pages", "deliveries")} == before
    assert "ix_pages_created_at" in {i["name"] for i in inspect(engine).get_indexes("pages")}
    assert "ix_deliveries_created_at" in {i["name"] for i in inspect(engine).get_indexes("deliveries")}
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(conn.execute(text(
                "EXPLAIN SELECT count(*) FROM pages WHERE created_at >= now() - interval '1 hour'")).scalars())
        assert "ix_pages_created_at" in plan, plan
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
