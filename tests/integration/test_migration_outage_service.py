"""Migration c3e5a7b9d1f2 gives outages the service that fails, on both databases, and keeps every row.

A database at the revision before it holds incidents, a resolved outage with its links and one still declared. After
the upgrade every row is unchanged and each outage names no service (""), so it keeps linking every new incident as
it did; a downgrade takes only the column away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table

from app.migrate import alembic_config, upgrade
from app.models import Outage
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "a7c9e1b3d5f8"  # the revision before c3e5a7b9d1f2
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
OUTAGES = table("outages", column("id"), column("what_fails"), column("what_fails_de"), column("since"),
                column("next_update_at"), column("declared_by"), column("declared_at"), column("resolved_at"),
                column("resolved_by"), column("resolution_summary"), column("resolution_summary_de"))
LINKS = table("outage_links", column("id"), column("outage_id"), column("incident_id"), column("linked_at"),
              column("linked_by"))
INCIDENTS = table("incidents", column("id"), column("affected_service"))


def _outage(n: int, resolved: bool) -> dict:
    return {"id": n, "what_fails": "SMTP injection in the EU region", "what_fails_de": "", "since": START,
            "next_update_at": None, "declared_by": "Maria", "declared_at": START,
            "resolved_at": END if resolved else None, "resolved_by": "Maria" if resolved else "",
            "resolution_summary": "relays back" if resolved else "", "resolution_summary_de": ""}


def test_the_upgrade_gives_every_outage_no_service_and_keeps_every_row(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(10, START, END, seed=12))
        first, second = conn.execute(select(INCIDENTS.c.id).order_by(INCIDENTS.c.id).limit(2)).scalars().all()
        conn.execute(insert(OUTAGES), [_outage(1, True), _outage(2, False)])
        conn.execute(insert(LINKS), [{"id": 1, "outage_id": 1, "incident_id": first, "linked_at": START,
                                      "linked_by": "system"},
                                     {"id": 2, "outage_id": 2, "incident_id": second, "linked_at": START,
                                      "linked_by": "Maria"}])
        before = [conn.execute(select(t).order_by(t.c.id)).all() for t in (OUTAGES, LINKS, INCIDENTS)]
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        assert [conn.execute(select(t).order_by(t.c.id)).all() for t in (OUTAGES, LINKS, INCIDENTS)] == before
        services = conn.execute(select(Outage.id, Outage.affected_service).order_by(Outage.id)).all()
    assert [tuple(s) for s in services] == [(1, ""), (2, "")]
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "affected_service" not in {c["name"] for c in inspect(engine).get_columns("outages")}
    with engine.connect() as conn:
        assert [conn.execute(select(t).order_by(t.c.id)).all() for t in (OUTAGES, LINKS, INCIDENTS)] == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
