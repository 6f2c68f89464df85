"""Refold the facts of incidents with a callback answered too briefly to count

Revision ID: a5c7e9b1d3f6
Revises: b9d1f3a5c7e0
Create Date: 2026-12-06 12:00:00

A ``callback_withdrawn`` line with ``why: bridge_too_short`` (``callbacks.withdraw_short_bridge``: the customer
pressed the key, the bridge lasted under the minimum conversation) took the answer off the callback but left
no attempt: the report said outcome "no callback", breach reason "acknowledged but called late", and no rep was
credited with the attempt, while the callback's row and the API say "attempted". The fold now reads it as the
attempt it is (``facts._short_bridge``): outcome "attempted", credited to the callback's rep, and "customer
unreachable" once a deadline passed after an answer in time. Only the incidents with such a line are refolded
from their logs (``refresh_facts``, the app's own fold); no schema change, every other row and every line is
kept. The lines are read streamed.
"""

from alembic import op
from sqlalchemy import select

revision = 'a5c7e9b1d3f6'
down_revision = 'b9d1f3a5c7e0'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.incident import IncidentEvent
    from app.reports.facts import SHORT_BRIDGE
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    events = IncidentEvent.__table__
    withdrawn = select(events.c.incident_id, events.c.detail).where(
        events.c.kind == "callback_withdrawn", events.c.incident_id.is_not(None))
    rows = connection.execute(withdrawn, execution_options={"stream_results": True})  # not all held at once
    ids = sorted({incident_id for incident_id, detail in rows if (detail or {}).get("why") == SHORT_BRIDGE})
    for start in range(0, len(ids), BATCH):
        refresh_facts(connection, ids[start:start + BATCH])


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
