"""A due step keeps when it was first put off on its locked incident (/healthz warns of it)

Revision ID: f3b5d7a9c1e4
Revises: c3e5a7b9d1f2
Create Date: 2026-12-08 10:00:00

A step whose incident's row another transaction holds locked is put off and tried again every few seconds
(``steps._put_off``); only the worker's log said so, and /healthz said "ok" however long the promise waited. One
nullable column: every existing step was never put off (NULL). Every row is kept; the downgrade drops only the column.
"""

from alembic import op
import sqlalchemy as sa

revision = 'f3b5d7a9c1e4'
down_revision = 'c3e5a7b9d1f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('due_steps') as batch:
        batch.add_column(sa.Column('put_off_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('due_steps') as batch:
        batch.drop_column('put_off_at')
