"""A pinned report reads the log as it had been written: each log line keeps when it was written

Revision ID: a8c0e2f4b6d8
Revises: a8c0e2f4b6d9
Create Date: 2026-12-05 12:00:00

A report pinned to ``as_of`` cut the log at ``at <= as_of``; a line stamped before ``as_of`` but
written after it (a spooled status callback applied when the database is back, with the time it
came; a late job; a long transaction) changed the pinned figures and CSV bytes. Lines now keep
``written_at`` (the app's clock at insert, ``IncidentEvent.written_at``) and a report reads those
stamped and written by ``as_of``. Lines written before this revision keep every column and get
NULL, which the report reads as their ``at`` (the cut they were judged by until now): no UPDATE,
the log stays append-only, its triggers untouched. No server default: the database's clock is not
the app's (a test's fake clock, a host's skew), and a writer that does not set it (the release
before, during a rolling upgrade) leaves NULL, read as ``at`` as before. The facts rows need no
change: a report refolds from the log the rows of incidents with a line written after its
``as_of`` (``queries.written_after``, through the new index on ``written_at``); none had one before.
"""

from alembic import op
import sqlalchemy as sa


revision = 'a8c0e2f4b6d8'
down_revision = 'a8c0e2f4b6d9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('incident_events', sa.Column('written_at', sa.DateTime(), nullable=True))
    op.create_index('ix_incident_events_written_at', 'incident_events', ['written_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_incident_events_written_at', table_name='incident_events')
    op.drop_column('incident_events', 'written_at')
