"""An index on incidents.related_incident_id: the incidents linked to one are found without reading them all

Revision ID: e5f7a9b1c3d6
Revises: d4e6f8a0b2c5
Create Date: 2026-12-07 23:00:00

A callback that reaches the customer looks up the open incidents linked to its incident as possibly related, either
way (``related_callbacks.linked_incident_ids``), and the board names, on an incident, the newer incident linked to it
(a dropped call's redial). Both read ``related_incident_id == <id>``, which without an index read every incident (a
year holds a million). Only an index is added: no row changes.
"""

from alembic import op


revision = 'e5f7a9b1c3d6'
down_revision = 'd4e6f8a0b2c5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_incidents_related_incident_id', 'incidents', ['related_incident_id'])


def downgrade() -> None:
    op.drop_index('ix_incidents_related_incident_id', table_name='incidents')
