"""The change feed: each log line keeps the id of the transaction that wrote it

Revision ID: e3b5c7d9f1a4
Revises: d9f1b3c5e7a2
Create Date: 2026-12-05 10:00:00

``GET /api/v1/events`` hands out log lines in the order their transactions committed
(``app.services.event_feed``). On PostgreSQL a line's ``txid`` is set by the database
(``pg_current_xact_id()``); on SQLite, whose writers take turns, it stays 0. Lines written
before this revision keep every column and get 0: they committed before any cursor the feed
hands out, and come first in its order (by id). Adding the column with a constant default
changes no row (no UPDATE: the log stays append-only, its triggers untouched).
"""

from alembic import op
import sqlalchemy as sa


revision = 'e3b5c7d9f1a4'
down_revision = 'd9f1b3c5e7a2'
branch_labels = None
depends_on = None

POSTGRESQL_DEFAULT = "(pg_current_xact_id()::text::bigint)"  # app.models.event_txid as of now


def upgrade() -> None:
    op.add_column('incident_events', sa.Column('txid', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
    if op.get_bind().dialect.name == 'postgresql':  # lines from now on: their writer's transaction
        op.alter_column('incident_events', 'txid', server_default=sa.text(POSTGRESQL_DEFAULT))
    op.create_index('ix_incident_events_txid', 'incident_events', ['txid', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_incident_events_txid', table_name='incident_events')
    op.drop_column('incident_events', 'txid')
