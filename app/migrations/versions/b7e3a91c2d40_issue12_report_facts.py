"""issue 12: incident_facts (the report's derived per-incident facts) and an index on incidents.captured_at

Revision ID: b7e3a91c2d40
Revises: 08ebd360235f
Create Date: 2026-12-01 16:40:00

The facts are filled from the existing event log on upgrade (``rebuild_facts``), so a
database upgraded with data reports exactly what it reported before: by revision
c4d8e2a61f37, which adds the CSV line parts the app's fold now writes too.
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = 'b7e3a91c2d40'
down_revision = '08ebd360235f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_facts',
    sa.Column('incident_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('listed_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('captured_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('captured_slot', sa.Integer(), nullable=False),
    sa.Column('due_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_event_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('acknowledged_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_rep_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_actor', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('answered_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('seconds_to_callback', sa.Float(), nullable=True),
    sa.Column('called_rep_id', sa.Integer(), nullable=True),
    sa.Column('called_actor', sa.String(length=100), nullable=False),
    sa.Column('breach_logged_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('breach_reason', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_facts_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_incident_facts'))
    )
    with op.batch_alter_table('incident_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_facts_captured_at'), ['captured_at'], unique=False)
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_captured_at'), ['captured_at'], unique=False)
    # Filled by c4d8e2a61f37 (issue 12's CSV line parts): the app's fold writes columns added there.


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_captured_at'))
    with op.batch_alter_table('incident_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_facts_captured_at'))
    op.drop_table('incident_facts')
