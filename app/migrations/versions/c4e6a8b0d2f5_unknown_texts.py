"""Texts from unknown senders, kept for the missed-calls page

Revision ID: c4e6a8b0d2f5
Revises: b1d3f5a7c9e2
Create Date: 2026-12-07 13:00:00

A new table only: every existing row is kept. Texts from unknown senders before this release are in the event
log only (``sms_from_unknown_sender``, the number's last four digits), as before.
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = 'c4e6a8b0d2f5'
down_revision = 'b1d3f5a7c9e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unknown_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=False),
    sa.Column('body', sa.String(length=1600), nullable=False),
    sa.Column('received_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unknown_texts'))
    )
    op.create_index(op.f('ix_unknown_texts_from_number'), 'unknown_texts', ['from_number'], unique=False)
    op.create_index(op.f('ix_unknown_texts_received_at'), 'unknown_texts', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_unknown_texts_received_at'), table_name='unknown_texts')
    op.drop_index(op.f('ix_unknown_texts_from_number'), table_name='unknown_texts')
    op.drop_table('unknown_texts')
