"""The related incident's reference on each facts row

Revision ID: f8b2d4a6c0e9
Revises: d7f9b1c3e5a8
Create Date: 2026-12-09 10:00:00

``incident_facts.related_reference`` names the related incident whose callback is an incident's answer (a dropped
call and its redial: one conversation keeps both promises): the compliance CSV and JSON rows carry it, and the
per-rep and time-to-callback figures count that call once, on the incident it was made on. Only the incidents with
a ``callback_reached_on_related`` line can have one, so only those are refolded from their logs (``refresh_facts``,
the app's own fold); every other row gets "" and keeps its values, and every log line is kept. (An answer counted at
the key press is now proven only once ``facts.MIN_CONVERSATION_SECONDS`` have passed, read from the key press its
line names, ``talking_since``: lines written before this release name none and are read as before, so nothing else
is refolded.)
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy import select

revision = 'f8b2d4a6c0e9'
down_revision = 'd7f9b1c3e5a8'
branch_labels = None
depends_on = None

BATCH = 2000
RELATED = "callback_reached_on_related"


def upgrade() -> None:
    with op.batch_alter_table('incident_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('related_reference', sa.String(length=12), nullable=False, server_default=''))

    from app.models.incident import IncidentEvent
    from app.reports.facts_sync import refresh_facts

    connection = op.get_bind()
    events = IncidentEvent.__table__
    ids = list(connection.execute(select(events.c.incident_id).where(
        events.c.kind == RELATED, events.c.incident_id.is_not(None)).distinct().order_by(events.c.incident_id))
        .scalars())
    for start in range(0, len(ids), BATCH):
        refresh_facts(connection, ids[start:start + BATCH])


def downgrade() -> None:
    with op.batch_alter_table('incident_facts', schema=None) as batch_op:
        batch_op.drop_column('related_reference')
