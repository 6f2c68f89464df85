"""Migration b9d1f3a5c7e0 gives outages their resolution's words, on both databases, and keeps every row.

A database at the revision before it holds incidents, a resolved outage that proposed its resolution to an English
and a German customer, one resolved that asked nobody, and one still declared. After the upgrade every row is
unchanged; the first outage has its English and German words back from its proposals, the others none; a
downgrade takes only the two columns away.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table, update

from app.migrate import alembic_config, upgrade
from app.models import Outage
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "f6a8c0e2b4d7"  # the revision before b9d1f3a5c7e0
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
OUTAGES = table("outages", column("id"), column("what_fails"), column("what_fails_de"), column("since"),
                column("next_update_at"), column("declared_by"), column("declared_at"), column("resolved_at"),
                column("resolved_by"))
PROPOSALS = table("resolution_proposals", column("id"), column("incident_id"), column("seq"), column("kind"),
                  column("state"), column("summary"), column("proposed_by"), column("proposed_at"),
                  column("expires_at"), column("outage_id"), column("decided_via"), column("agreed_by"),
                  column("note"))
INCIDENTS = table("incidents", column("id"), column("language"))


def _outage(n: int, resolved: bool) -> dict:
    return {"id": n, "what_fails": "API calls time out", "what_fails_de": "", "since": START, "next_update_at": None,
            "declared_by": "Maria", "declared_at": START, "resolved_at": END if resolved else None,
            "resolved_by": "Maria" if resolved else ""}


def _proposal(n: int, incident_id: int, summary: str) -> dict:
    return {"id": n, "incident_id": incident_id, "seq": 1, "kind": "resolved", "state": "expired", "summary": summary,
            "proposed_by": "Maria", "proposed_at": END, "expires_at": END + timedelta(hours=72), "outage_id": 1,
            "decided_via": "silence", "agreed_by": "", "note": ""}


def test_the_upgrade_gives_resolved_outages_their_words_back_and_keeps_every_row(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(10, START, END, seed=11))
        english, german = conn.execute(select(INCIDENTS.c.id).order_by(INCIDENTS.c.id).limit(2)).scalars().all()
        conn.execute(update(INCIDENTS).where(INCIDENTS.c.id == english).values(language="en-US"))
        conn.execute(update(INCIDENTS).where(INCIDENTS.c.id == german).values(language="de-DE"))
        conn.execute(insert(OUTAGES), [_outage(1, True), _outage(2, True), _outage(3, False)])
        conn.execute(insert(PROPOSALS), [_proposal(1, german, "Load-Balancer ersetzt"),
                                         _proposal(2, english, "load balancer replaced")])
        before = [conn.execute(select(t).order_by(t.c.id)).all() for t in (OUTAGES, PROPOSALS, INCIDENTS)]
    engine.dispose()

    upgrade(empty_database_url)

    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        assert [conn.execute(select(t).order_by(t.c.id)).all() for t in (OUTAGES, PROPOSALS, INCIDENTS)] == before
        words = conn.execute(select(Outage.id, Outage.resolution_summary, Outage.resolution_summary_de)
                             .order_by(Outage.id)).all()
    assert [tuple(w) for w in words] == [(1, "load balancer replaced", "Load-Balancer ersetzt"), (2, "", ""),
                                         (3, "", "")]
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert not {"resolution_summary", "resolution_summary_de"} & {c["name"] for c in inspect(engine).get_columns(
        "outages")}
    with engine.connect() as conn:
        assert [conn.execute(select(t).order_by(t.c.id)).all() for t in (OUTAGES, PROPOSALS, INCIDENTS)] == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
