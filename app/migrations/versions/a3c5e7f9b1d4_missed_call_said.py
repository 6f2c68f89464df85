"""What a caller said before hanging up, kept on their missed call

Revision ID: a3c5e7f9b1d4
Revises: f4c6e8a0b2d5
Create Date: 2026-12-04 19:00:00

A caller we cannot reach back (no usable caller ID, no number or e-mail given) who hangs up
mid-intake is now a missed call that carries what they said (company, name, problem...). One new
column with a default: every existing missed call is kept and reads as having said nothing
(they all ended before triage).
"""

from alembic import op
import sqlalchemy as sa


revision = 'a3c5e7f9b1d4'
down_revision = 'f4c6e8a0b2d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('missed_calls') as batch:
        batch.add_column(sa.Column('said', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('missed_calls') as batch:
        batch.drop_column('said')
