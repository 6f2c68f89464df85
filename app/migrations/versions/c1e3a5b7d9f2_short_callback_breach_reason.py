"""Refold the facts of incidents whose breach reason is "customer unreachable": a short callback has its own reason

Revision ID: c1e3a5b7d9f2
Revises: a5c7e9b1d3f6
Create Date: 2026-12-06 15:00:00

A callback the customer answered by the deadline (they pressed the key) whose bridge lasted under the minimum
conversation is an attempt, and once the deadline passed its breach reason read "customer unreachable", while the
customer was reached (a probe's 4-second call). The reason is now "callback too short to count"
(``facts._too_short_in_time``). Only incidents whose facts row says "customer unreachable" can change, so only
those are refolded from their logs (``refresh_facts``, the app's own fold); no schema change, every other row and
every log line is kept.
"""

from alembic import op
from sqlalchemy import select

revision = 'c1e3a5b7d9f2'
down_revision = 'a5c7e9b1d3f6'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.report_facts import IncidentFactsRow
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    facts = IncidentFactsRow.__table__
    ids = list(connection.execute(select(facts.c.incident_id).where(
        facts.c.breach_reason == "customer unreachable").order_by(facts.c.incident_id)).scalars())
    for start in range(0, len(ids), BATCH):
        refresh_facts(connection, ids[start:start + BATCH])


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
