"""issue13 live connect: callers waiting on the line

Revision ID: c4f1a2b3d5e6
Revises: 58f4276a2da1
Create Date: 2026-12-01 19:40:00
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = 'c4f1a2b3d5e6'
down_revision = '58f4276a2da1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a new table only: existing rows are untouched
    op.create_table('live_waits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('queue_name', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('engineer_ready', sa.Boolean(), nullable=False),
    sa.Column('enqueued_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('dequeued_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('dequeuing_call_sid', sa.String(length=64), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=True),
    sa.Column('left_at', app.models.base.UTCDateTime(), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=False),
    sa.Column('queue_seconds', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], name=op.f('fk_live_waits_callback_id_callbacks')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_live_waits_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_waits')),
    sa.UniqueConstraint('call_sid', name=op.f('uq_live_waits_call_sid'))
    )
    with op.batch_alter_table('live_waits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_waits_incident_id'), ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('live_waits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_waits_incident_id'))
    op.drop_table('live_waits')
