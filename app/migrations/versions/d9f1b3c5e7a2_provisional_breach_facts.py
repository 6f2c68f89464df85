"""Refold the facts that took a breach line of a provisional deadline for a breach

Revision ID: d9f1b3c5e7a2
Revises: c7e9a1b3d5f8
Create Date: 2026-12-04 05:05:00

An incident opened mid-call (issue 13) runs its steps on a provisional deadline until the caller's
details are in (``deadline_set``). An intake that went on past it had its breach step logged
before the deadline that counts, and the fold kept that line as the breach, so a report pinned
before the real deadline (or run before it) counted the incident breached. The fold now keeps
only a breach line logged at or after the deadline. Only the facts rows whose breach line is
earlier than their deadline are refolded from their logs (``refresh_facts``); no schema change.
"""

from alembic import op
from sqlalchemy import select

revision = 'd9f1b3c5e7a2'
down_revision = 'c7e9a1b3d5f8'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.report_facts import IncidentFactsRow
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    facts = IncidentFactsRow.__table__
    ids = list(connection.execute(select(facts.c.incident_id).where(
        facts.c.breach_logged_at < facts.c.due_at).order_by(facts.c.incident_id)).scalars())
    for start in range(0, len(ids), BATCH):
        # said_only: this schema lacks columns the board's rule for the company reads; a9c1e3f5b7d2 applies it
        refresh_facts(connection, ids[start:start + BATCH], said_only=True)


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
