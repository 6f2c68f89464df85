"""Refold the facts of self-reported incidents whose breach reason said no call was made: it has its own reason now

Revision ID: b1d3f5a7c9e2
Revises: a9c1e3f5b7d2
Create Date: 2026-12-08 12:00:00

An incident whose only call was a rep's ``CALLED`` (their word that they called from their own phone) is breached,
and its report row read "acknowledged, no callback attempted" (or, when the hotline's calls ended before the
customer's phone rang, "hotline could not reach the rep" / "call to the customer failed") beside its self_reported
outcome. The reason is now "self-reported call only (unverified)" (``facts.BreachReason.SELF_REPORTED_ONLY``). Only
rows with the self_reported outcome and one of those reasons can change, so only those are refolded from their logs
(``refresh_facts``, the app's own fold); no schema change, every other row and every log line is kept.
"""

from alembic import op
from sqlalchemy import select

revision = 'b1d3f5a7c9e2'
down_revision = 'a9c1e3f5b7d2'
branch_labels = None
depends_on = None

BATCH = 2000
EARLIER = ("acknowledged, no callback attempted", "hotline could not reach the rep", "call to the customer failed")


def upgrade() -> None:
    from app.models.report_facts import IncidentFactsRow
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    facts = IncidentFactsRow.__table__
    ids = list(connection.execute(select(facts.c.incident_id).where(
        facts.c.outcome == "self_reported", facts.c.breach_reason.in_(EARLIER)).order_by(facts.c.incident_id))
        .scalars())
    for start in range(0, len(ids), BATCH):
        refresh_facts(connection, ids[start:start + BATCH])


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the newer reading until their next log line
