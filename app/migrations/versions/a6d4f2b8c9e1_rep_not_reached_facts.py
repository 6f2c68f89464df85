"""Refold the facts of incidents whose meaning the log now reads more exactly

Revision ID: a6d4f2b8c9e1
Revises: e5b8d1f3a7c2
Create Date: 2026-12-03 12:40:00

Two readings of existing log lines changed (the lines themselves never change):
- a final ``callback_rep_call_failed`` (Twilio refused the hotline's call to the rep) is no
  longer an attempt on the customer: that callback is "rep not reached", and the breach
  reason "hotline could not reach the rep" instead of "customer unreachable";
- an incident with a ``reached_by_email`` line (no callback number) has the breach reason
  "no callback number, worked by e-mail".
Only those incidents' ``incident_facts`` rows are refolded from their logs (``refresh_facts``,
the same fold the app uses); no schema changes, every row and line is kept.
"""

from alembic import op
from sqlalchemy import select

revision = 'a6d4f2b8c9e1'
down_revision = 'e5b8d1f3a7c2'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.incident import IncidentEvent
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    events = IncidentEvent.__table__
    ids = sorted(set(connection.execute(
        select(events.c.incident_id).where(events.c.kind.in_(("callback_rep_call_failed", "reached_by_email")),
                                           events.c.incident_id.is_not(None))).scalars()))
    for start in range(0, len(ids), BATCH):
        # said_only: this schema lacks columns the board's rule for the company reads; a9c1e3f5b7d2 applies it
        refresh_facts(connection, ids[start:start + BATCH], said_only=True)


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
