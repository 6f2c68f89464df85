"""Two indexes: pages.created_at and deliveries.created_at, for the outbound-volume count

Revision ID: a7c9e1b3d5f8
Revises: e5f7a9b1c3d6
Create Date: 2026-12-07 01:35:00

The outbound-volume watch (``app.services.outbound_volume``) counts the SMS and calls queued in the last hour after
every intake and missed call: pages, notices and now the customers' and readers' SMS deliveries (an outside probe's
133 outbound messages in ten minutes alerted nobody: its 11 delivery SMS were not counted). ``pages.created_at`` had
no index, so each count read every page ever written (a year holds millions), on the intake's last webhook; the
deliveries' would have done the same. Only indexes are added: no row changes.
"""

from alembic import op


revision = 'a7c9e1b3d5f8'
down_revision = 'e5f7a9b1c3d6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_pages_created_at', 'pages', ['created_at'])
    op.create_index('ix_deliveries_created_at', 'deliveries', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_deliveries_created_at', table_name='deliveries')
    op.drop_index('ix_pages_created_at', table_name='pages')
