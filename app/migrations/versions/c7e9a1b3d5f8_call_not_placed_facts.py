"""Refold the facts of incidents whose callback to the customer never rang

Revision ID: c7e9a1b3d5f8
Revises: b3c5d7e9f1a4
Create Date: 2026-12-04 04:50:00

A ``callback_attempted`` line whose status says the call to the customer failed or was canceled
(Twilio could not place it: an invalid number, a carrier refusal) was read as an attempt the
customer did not answer: outcome "attempted", breach reason "customer unreachable". It is now
read as a call that never rang (``facts.CallbackFacts.not_placed_at``): the breach reason "call
to the customer failed" when every callback ended that way or at the rep's leg. Only the
incidents with such a line are refolded from their logs (``refresh_facts``, the app's own fold);
no schema change, every other row and every line is kept. The lines are read streamed.
"""

from alembic import op
from sqlalchemy import select

revision = 'c7e9a1b3d5f8'
down_revision = 'b3c5d7e9f1a4'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.incident import IncidentEvent
    from app.reports.facts import rang
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    events = IncidentEvent.__table__
    attempts = select(events.c.incident_id, events.c.detail).where(
        events.c.kind == "callback_attempted", events.c.incident_id.is_not(None))
    rows = connection.execute(attempts, execution_options={"stream_results": True})  # not all held at once
    ids = sorted({incident_id for incident_id, detail in rows if not rang(detail or {})})
    for start in range(0, len(ids), BATCH):
        # said_only: this schema lacks columns the board's rule for the company reads; a9c1e3f5b7d2 applies it
        refresh_facts(connection, ids[start:start + BATCH], said_only=True)


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
