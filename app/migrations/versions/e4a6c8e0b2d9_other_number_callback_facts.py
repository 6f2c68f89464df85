"""Refold the facts of incidents whose call to the rep moved to the rep's other number

Revision ID: e4a6c8e0b2d9
Revises: a2c4e6f8b0d3
Create Date: 2026-12-08 03:30:00

A bridged callback whose call to the rep Twilio refused for good logs a final ``callback_rep_call_failed`` line,
then ``callback_rep_other_number`` when the call moves to the rep's ``phone_alt``. The fold read the final failure
as the callback's end ("rep not reached") whatever the call to the other number came to: a callback it bridged
after the deadline read "hotline could not reach the rep", not "acknowledged but called late" (probe QB). The move
now supersedes the failure before it (``facts._callbacks``). Only incidents with a ``callback_rep_other_number`` line
can change, so only those are refolded from their logs (``refresh_facts``, the app's own fold); no schema change,
every other row and every line is kept.
"""

from alembic import op
from sqlalchemy import select

revision = 'e4a6c8e0b2d9'
down_revision = 'a2c4e6f8b0d3'
branch_labels = None
depends_on = None

BATCH = 2000
MOVED = "callback_rep_other_number"


def upgrade() -> None:
    from app.models.incident import IncidentEvent
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    events = IncidentEvent.__table__
    ids = list(connection.execute(select(events.c.incident_id).where(
        events.c.kind == MOVED, events.c.incident_id.is_not(None)).distinct().order_by(events.c.incident_id))
        .scalars())
    for start in range(0, len(ids), BATCH):
        refresh_facts(connection, ids[start:start + BATCH])


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
