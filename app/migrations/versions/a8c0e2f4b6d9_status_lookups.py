"""Where each lookup of a final status stands: asks made and the next one's time, by resource

Revision ID: a8c0e2f4b6d9
Revises: d6f8a0c2e4b7
Create Date: 2026-12-05 12:00:00

The watchdog read the newest 100 waiting pages a pass and decided in Python which were due (from their
``status_asked`` lines), so with more waiting the oldest, most overdue ones were never asked. Each
resource's asks and next ask are now kept here, so the pass selects in SQL only what is due, the
longest overdue first (``app.services.status_lookups``). A new table only: every row is kept, and the
``status_asked`` lines stay as they were. A resource waiting at the upgrade starts its schedule's count
again: it may be asked up to that many times more (an idempotent GET; what it finds is applied once).
"""

from alembic import op
import sqlalchemy as sa
import app.models.base


revision = 'a8c0e2f4b6d9'
down_revision = 'd6f8a0c2e4b7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('status_lookups',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('asks', sa.Integer(), nullable=False),
    sa.Column('next_at', app.models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'target_id', name=op.f('pk_status_lookups')),
    )


def downgrade() -> None:
    op.drop_table('status_lookups')
