"""The compliance report names each incident's company as the board does: refold the rows that named it otherwise

Revision ID: a9c1e3f5b7d2
Revises: f3b5d7a9c1e4
Create Date: 2026-12-08 11:00:00

The report (page, CSV, JSON) read only what the caller said: an incident whose company is known from its ticket alone
(a caller who keyed a valid ticket number and hung up before saying it) had an empty company there, while the board
named it "Acme Mail (from the ticket)". It now reads the board's rule (``company_label.row_company``), which also shows
a said name's brackets as square ones and leaves out the hotline's own marker words (``said_company``). The CSV line
each ``incident_facts`` row keeps (``csv_lead``) names the company: only the rows of incidents whose company now reads
otherwise are refolded from their logs (``refresh_facts``, the same fold the app uses): those with no company said
and a ticket, and those whose said name ``said_company`` changes. No schema change; every row and line is kept.
"""

from alembic import op
from sqlalchemy import select

revision = 'a9c1e3f5b7d2'
down_revision = 'f3b5d7a9c1e4'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.incident import Incident
    from app.reports.facts_sync import refresh_facts
    from app.services.company_label import said_company

    connection = op.get_bind()
    incidents = Incident.__table__
    names = connection.execute(select(incidents.c.company).where(incidents.c.company != "").distinct()).scalars()
    renamed = sorted(name for name in names if said_company(name) != name)
    ids = set(connection.execute(select(incidents.c.id).where(incidents.c.company == "",
                                                              incidents.c.ticket_id.is_not(None))).scalars())
    for start in range(0, len(renamed), BATCH):
        ids |= set(connection.execute(select(incidents.c.id).where(
            incidents.c.company.in_(renamed[start:start + BATCH]))).scalars())
    ids_in_order = sorted(ids)
    for start in range(0, len(ids_in_order), BATCH):
        refresh_facts(connection, ids_in_order[start:start + BATCH])


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the board's name until the next refold
