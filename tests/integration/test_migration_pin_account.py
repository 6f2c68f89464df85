"""Migration d2f4a6c8e0b3 keeps on each incident the account its caller proved their keyed ticket with, on both
databases: every incident is kept unchanged, the ones proven by PIN for a keyed ticket get that ticket's account,
no other gets one, and a downgrade takes only the column away."""

from __future__ import annotations

import pytest
from sqlalchemy import column, create_engine, inspect, select, table, update

from app.migrate import alembic_config
from app.models import Account, Incident, Ticket
from tests.integration.refold_support import START, generated_before

BEFORE = "c6e8a0b2d4f7"  # the revision before d2f4a6c8e0b3
INCIDENTS = table("incidents", column("id"), column("ticket_id"), column("ticket_number"), column("ticket_match"),
                  column("caller_verified"))
# (ticket, how it was linked, how the caller proved who they are) for the first incidents; None: no ticket
LINKS = [(1, "keypad", "pin"), (2, "keypad", "pin"), (1, "keypad", "reference"), (1, "caller_id", "pin"),
         (None, "none", "pin"), (2, "keypad", "")]


def test_the_upgrade_keeps_the_proven_account_and_every_incident(empty_database_url):
    from alembic import command

    engine = generated_before(empty_database_url, BEFORE, incidents=20)
    with engine.begin() as conn:
        conn.execute(Account.__table__.insert(), [{"id": 1, "name": "BigCorp"}, {"id": 2, "name": "Evil Corp"}])
        conn.execute(Ticket.__table__.insert(), [{"id": n, "number": number, "account_id": n, "opened_at": START,
                                                  "updated_at": START} for n, number in ((1, "777001"), (2, "888001"))])
        ids = conn.execute(select(INCIDENTS.c.id).order_by(INCIDENTS.c.id)).scalars().all()
        for incident_id, (ticket, match, verified) in zip(ids, LINKS, strict=False):
            conn.execute(update(INCIDENTS).where(INCIDENTS.c.id == incident_id).values(
                ticket_id=ticket, ticket_number={1: "777001", 2: "888001"}.get(ticket, ""), ticket_match=match,
                caller_verified=verified))
        before = conn.execute(select(INCIDENTS).order_by(INCIDENTS.c.id)).all()
        every_column = conn.execute(select(table("incidents", *(column(c["name"]) for c in inspect(conn)
                                                                  .get_columns("incidents")))).order_by("id")).all()

    command.upgrade(alembic_config(empty_database_url), "d2f4a6c8e0b3")

    with engine.begin() as conn:
        assert conn.execute(select(INCIDENTS).order_by(INCIDENTS.c.id)).all() == before
        names = [c["name"] for c in inspect(conn).get_columns("incidents") if c["name"] != "pin_account_id"]
        assert conn.execute(select(table("incidents", *map(column, names))).order_by("id")).all() == every_column
        proven = dict(conn.execute(select(Incident.id, Incident.pin_account_id).order_by(Incident.id)).all())
    assert [proven[i] for i in ids[:len(LINKS)]] == [1, 2, None, None, None, None]
    assert all(proven[i] is None for i in ids[len(LINKS):])
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "pin_account_id" not in {c["name"] for c in inspect(engine).get_columns("incidents")}
    with engine.connect() as conn:
        assert conn.execute(select(INCIDENTS).order_by(INCIDENTS.c.id)).all() == before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
