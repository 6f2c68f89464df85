"""Refold the facts whose time to callback was rounded down onto a kept promise

Revision ID: b3c5d7e9f1a4
Revises: f1a7c3e9b5d2
Create Date: 2026-12-03 23:00:00

``seconds_to_callback`` was rounded to the nearest tenth, so a callback answered 900.04 s after
capture (late: a live connect's dequeue time, or a capture with a fraction of a second against
Twilio's whole-second timestamp) was stored as 900.0 and read 15:00 in the chart's 14-15 minute
bin. It is now rounded up (``facts.seconds_between``). Only the rows whose stored value differs
from that are refolded from their logs (``refresh_facts``, the app's own fold: the seconds and the
CSV line part holding them); no schema change, every other row is untouched.
"""

from alembic import op
from sqlalchemy import select

revision = 'b3c5d7e9f1a4'
down_revision = 'f1a7c3e9b5d2'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from app.models.report_facts import IncidentFactsRow
    from app.reports.facts import seconds_between
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    facts = IncidentFactsRow.__table__
    answered = select(facts.c.incident_id, facts.c.captured_at, facts.c.answered_at,
                      facts.c.seconds_to_callback).where(facts.c.answered_at.is_not(None))
    rows = connection.execute(answered, execution_options={"stream_results": True})  # not all held at once
    ids = [incident_id for incident_id, captured, answered, seconds in rows
           if seconds != seconds_between(captured, answered)]
    for start in range(0, len(ids), BATCH):
        # said_only: this schema lacks columns the board's rule for the company reads; a9c1e3f5b7d2 applies it
        refresh_facts(connection, ids[start:start + BATCH], said_only=True)


def downgrade() -> None:
    pass  # nothing to undo in the schema; the refolded rows keep the exact reading until their next log line
