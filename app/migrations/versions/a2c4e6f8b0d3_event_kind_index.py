"""The log's lines by kind and time: ``ix_incident_events_kind_at``

Revision ID: a2c4e6f8b0d3
Revises: f8b2d4a6c0e9
Create Date: 2026-12-07 23:30:00

The updates report (``reports.updates``) reads a few kinds of line in a range, a small share of the log, and the
incidents they name: without an index on ``kind`` each of its statements read the whole log of the range (a year
of 2,000,000 lines: five scans). ``(kind, at, incident_id, id)`` finds those lines, and the incidents and ids alone
without reading the table. On PostgreSQL it is built ``CONCURRENTLY`` outside the upgrade's transaction, so the
hotline's writes to the log go on while it is built (a plain build locks them out for its whole time); a build
that failed half-way leaves an invalid index, dropped first. Only an index is added: no row changes.
"""

from alembic import op


revision = 'a2c4e6f8b0d3'
down_revision = 'f8b2d4a6c0e9'
branch_labels = None
depends_on = None

INDEX, TABLE, COLUMNS = 'ix_incident_events_kind_at', 'incident_events', ['kind', 'at', 'incident_id', 'id']


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        op.create_index(INDEX, TABLE, COLUMNS)
        return
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name=TABLE, postgresql_concurrently=True, if_exists=True)
        op.create_index(INDEX, TABLE, COLUMNS, postgresql_concurrently=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        op.drop_index(INDEX, table_name=TABLE)
        return
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name=TABLE, postgresql_concurrently=True)
