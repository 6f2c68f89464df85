"""Refold the facts of incidents a rep came to own by a self-reported call or an e-mail contact

Revision ID: d6f8a0c2e4b7
Revises: b5d7f9a1c3e6
Create Date: 2026-12-05 10:00:00

A ``callback_self_reported`` or ``reached_by_email`` line written while nobody had acknowledged
the incident made its rep the owner (the escalation pages stopped; the incident's
``acknowledged_at`` was set, so the board and the API said acknowledged), but the report's fold
read only ``acknowledged`` lines: no acknowledgement in the CSV, none for the rep, and the
breach reason "nobody acknowledged". It now reads the first of those lines as the
acknowledgement (``facts.OWNING_KINDS``). Only the incidents with such a line are refolded from
their logs (``refresh_facts``, the app's own fold); no schema change, every line is kept.
"""

from alembic import op
from sqlalchemy import select

revision = 'd6f8a0c2e4b7'
down_revision = 'b5d7f9a1c3e6'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.incident import IncidentEvent
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    events = IncidentEvent.__table__
    ids = sorted(set(connection.execute(
        select(events.c.incident_id).where(events.c.kind.in_(("callback_self_reported", "reached_by_email")),
                                           events.c.incident_id.is_not(None))).scalars()))
    for start in range(0, len(ids), BATCH):
        # said_only: this schema lacks columns the board's rule for the company reads; a9c1e3f5b7d2 applies it
        refresh_facts(connection, ids[start:start + BATCH], said_only=True)


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
