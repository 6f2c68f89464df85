"""Migration a9c1e3f5b7d2 refolds the facts rows whose stored CSV line names the company otherwise than the board, on
both databases.

An earlier release's rows named what the caller said: empty for an incident whose company only its ticket names,
"Acme (EU)" for a caller who said so (the board: "Acme [EU]"). After the upgrade exactly those rows changed, the
table is the app's own fold of the log, and the CSV names each company as the board does.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update

from app.models import Account, Contact, Incident, Ticket
from app.reports.facts_sync import refresh_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "f3b5d7a9c1e4"  # the revision before a9c1e3f5b7d2
OPENED = datetime(2026, 10, 1, tzinfo=UTC)


def test_the_upgrade_names_each_company_as_the_board_does(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    with engine.begin() as conn:  # a ticket of Soylent Corp, its contact's number, and three callers
        conn.execute(insert(Account.__table__), [{"id": 1, "name": "Soylent Corp"}])
        conn.execute(insert(Contact.__table__), [{"id": 1, "account_id": 1, "name": "Ops", "phone": "+14155550199"}])
        conn.execute(insert(Ticket.__table__), [{"id": 1, "number": "7001", "account_id": 1, "contact_id": 1,
                                                 "status": "open", "opened_at": OPENED, "updated_at": OPENED}])
        incidents = Incident.__table__
        for incident_id, phone in ((5, "+14155550199"), (6, "+14155550142")):  # hung up at the company question
            conn.execute(update(incidents).where(incidents.c.id == incident_id).values(
                company="", ticket_id=1, ticket_match="caller_id", caller_verified="no", callback_phone=phone))
        conn.execute(update(incidents).where(incidents.c.id == 7).values(company="Acme (EU)"))
        refresh_facts(conn, [5, 6, 7], said_only=True)  # the rows as the earlier release folded them
    before = facts(engine)
    assert [row.csv_lead.split(",")[1] for row in before if row.incident_id in (5, 6, 7)] == ["", "", "Acme (EU)"]

    after = upgraded(empty_database_url, engine, before, changed={5, 6, 7})

    assert [after[i].csv_lead.split(",", 1)[1].rsplit(",", 4)[0] for i in (5, 6, 7)] == [
        "Soylent Corp (from the ticket)", '"Soylent Corp (from the ticket), UNVERIFIED caller, number not the '
        "ticket's\"", "Acme [EU]"]
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
