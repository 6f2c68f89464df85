"""Numbers that opted out of SMS (STOP, or Twilio error 21610)

Revision ID: f1a7c3e9b5d2
Revises: a6d4f2b8c9e1
Create Date: 2026-12-03 15:00:00

A new table only: every existing row is kept. Numbers that sent STOP before this release were
not recorded anywhere; their next SMS is refused by Twilio with 21610, which records them.
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = 'f1a7c3e9b5d2'
down_revision = 'a6d4f2b8c9e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('opted_out_at', app.models.base.UTCDateTime(), nullable=False),
    sa.Column('source', sa.String(length=24), nullable=False),
    sa.Column('keyword', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_opt_outs')),
    sa.UniqueConstraint('phone', name=op.f('uq_sms_opt_outs_phone'))
    )


def downgrade() -> None:
    op.drop_table('sms_opt_outs')
