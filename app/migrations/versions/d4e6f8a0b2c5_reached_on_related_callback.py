"""A callback on a related incident that reached the customer counts for the incident too

Revision ID: d4e6f8a0b2c5
Revises: c1e3a5b7d9f2
Create Date: 2026-12-07 10:00:00

A customer whose call dropped redials, and the two incidents (the same callback number) are linked as possibly
related. The rep's callback on one of them that reached the customer now counts for the other too
(``app.services.related_callbacks``): ``incidents.reached_on_callback_id`` names that callback. A new nullable
column; every existing row reads NULL (nothing was counted so before), and no facts row changes: the log lines that
count it (``callback_reached_on_related``) are new.
"""

from alembic import op
import sqlalchemy as sa


revision = 'd4e6f8a0b2c5'
down_revision = 'c1e3a5b7d9f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('reached_on_callback_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('reached_on_callback_id')
