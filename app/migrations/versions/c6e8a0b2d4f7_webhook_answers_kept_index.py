"""A partial index on the webhook answers still kept

Revision ID: c6e8a0b2d4f7
Revises: a8c0e2f4b6d8
Create Date: 2026-12-05 12:30:00

An answered webhook's answer (TwiML that may read back the caller's company, name, callback number and
e-mail) is given again only to Twilio's retry, within an hour; the watchdog now empties the answers older than
that (``app.services.stored_answers``), oldest first, through this index of the rows whose answer is not empty
yet. An index only: every row and every answer is kept by the migration itself (the watchdog empties the old
answers afterwards, a thousand a pass), and the rows stay for ever, each still refusing its replay.
"""

from alembic import op
import sqlalchemy as sa


revision = 'c6e8a0b2d4f7'
down_revision = 'a8c0e2f4b6d8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_webhook_deliveries_kept', 'webhook_deliveries', ['received_at'], unique=False,
                    postgresql_where=sa.text("response <> ''"), sqlite_where=sa.text("response <> ''"))


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_kept', table_name='webhook_deliveries')
