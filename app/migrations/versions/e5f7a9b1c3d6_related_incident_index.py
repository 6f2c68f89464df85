"""Two indexes: incidents.related_incident_id, and the log's reopen lines

Revision ID: e5f7a9b1c3d6
Revises: d4e6f8a0b2c5
Create Date: 2026-12-07 23:00:00

A callback that reaches the customer looks up the open incidents linked to its incident as possibly related, either
way (``row_locks.linked_incident_ids``), and the board names, on an incident, the newer incident linked to it
(a dropped call's redial). Both read ``related_incident_id == <id>``, which without an index read every incident (a
year holds a million). The updates report leaves out the closes a later reopen undid (``reports.updates``): it
joins each reopened incident's last ``incident_reopened`` line, found in a partial index of those lines alone
(``ix_incident_events_reopens``), not by reading the log's millions of lines. Only indexes are added: no row changes.
"""

import sqlalchemy as sa
from alembic import op


revision = 'e5f7a9b1c3d6'
down_revision = 'd4e6f8a0b2c5'
branch_labels = None
depends_on = None


_REOPEN_LINES = sa.text("kind = 'incident_reopened'")  # app.models.incident.REOPEN_LINES as of now


def upgrade() -> None:
    op.create_index('ix_incidents_related_incident_id', 'incidents', ['related_incident_id'])
    op.create_index('ix_incident_events_reopens', 'incident_events', ['incident_id', 'id'],
                    postgresql_where=_REOPEN_LINES, sqlite_where=_REOPEN_LINES)


def downgrade() -> None:
    op.drop_index('ix_incident_events_reopens', table_name='incident_events')
    op.drop_index('ix_incidents_related_incident_id', table_name='incidents')
