"""When a rep's refused SMS was last answered

Revision ID: d7f9b1c3e5a8
Revises: c4e6a8b0d2f5
Create Date: 2026-12-07 18:00:00

A new table only: every existing row is kept. Refused SMS answered before this release are not counted: the
first refusal of each after the upgrade is answered, as before.
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = 'd7f9b1c3e5a8'
down_revision = 'c4e6a8b0d2f5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('refusal_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('refusal', sa.String(length=40), nullable=False),
    sa.Column('words', sa.String(length=16), nullable=False),
    sa.Column('answered_at', app.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refusal_answers'))
    )
    op.create_index('ix_refusal_answers_rep_id_answered_at', 'refusal_answers', ['rep_id', 'answered_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_refusal_answers_rep_id_answered_at', table_name='refusal_answers')
    op.drop_table('refusal_answers')
