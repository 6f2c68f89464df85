"""Refold the facts of incidents whose breach reason is "customer unreachable"

Revision ID: e3a5c7e9b1d4
Revises: d2f4a6c8e0b3
Create Date: 2026-12-05 17:50:00

"Customer unreachable" counted a callback asked for by the deadline whose customer leg rang unanswered, even when
it rang only after the deadline: the customer's leg is dialled once the rep has answered the hotline's call, so a
CALL seconds before the deadline rang the customer after it, and the report blamed the customer for a late call.
The reason now needs proof that the phone rang by the deadline (``facts._unanswered_in_time``); without it the
reason is "acknowledged but called late". Only incidents whose facts row says "customer unreachable" can change,
so only those are refolded from their logs (``refresh_facts``, the app's own fold); no schema change, every other
row and every log line is kept.
"""

from alembic import op
from sqlalchemy import select

revision = 'e3a5c7e9b1d4'
down_revision = 'd2f4a6c8e0b3'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.report_facts import IncidentFactsRow
    from app.reports.facts import BreachReason
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    facts = IncidentFactsRow.__table__
    ids = list(connection.execute(select(facts.c.incident_id).where(
        facts.c.breach_reason == BreachReason.UNREACHABLE.value).order_by(facts.c.incident_id)).scalars())
    for start in range(0, len(ids), BATCH):
        refresh_facts(connection, ids[start:start + BATCH])


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
