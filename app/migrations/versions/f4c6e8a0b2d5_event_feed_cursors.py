"""Where the helpdesk webhooks' collector stands in the event log (in commit order)

Revision ID: f4c6e8a0b2d5
Revises: e3b5c7d9f1a4
Create Date: 2026-12-05 11:00:00

The collector took the events with ids above the highest one it had collected; on PostgreSQL a
transaction can commit a lower id after a higher one was collected, and that event was never
sent. It now reads the log in commit order (``app.services.event_feed``) from a position kept
here. A new table only: the first pass after the upgrade collects, as before, the events after
the last one collected, and starts the position where the log is then.
"""

from alembic import op
import sqlalchemy as sa

from app.models.base import UTCDateTime


revision = 'f4c6e8a0b2d5'
down_revision = 'e3b5c7d9f1a4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'event_feed_cursors',
        sa.Column('reader', sa.String(length=40), nullable=False),
        sa.Column('cursor', sa.Text(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('reader', name=op.f('pk_event_feed_cursors')),
    )


def downgrade() -> None:
    op.drop_table('event_feed_cursors')
