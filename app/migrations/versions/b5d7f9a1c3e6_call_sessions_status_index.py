"""An index on call_sessions (status, updated_at)

Revision ID: b5d7f9a1c3e6
Revises: a3c5e7f9b1d4
Create Date: 2026-12-04 19:30:00

The watchdog now settles intake calls whose end Twilio never reported (no status callback for
INTAKE_IDLE_AFTER since the last webhook); each pass reads only the calls still in progress through
this index instead of scanning every call. An index only: every row is kept.
"""

from alembic import op


revision = 'b5d7f9a1c3e6'
down_revision = 'a3c5e7f9b1d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_call_sessions_status_updated_at', 'call_sessions', ['status', 'updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_sessions_status_updated_at', table_name='call_sessions')
