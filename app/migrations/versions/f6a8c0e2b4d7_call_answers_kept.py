"""Which calls' flow states still hold the caller's answers

Revision ID: f6a8c0e2b4d7
Revises: e3a5c7e9b1d4
Create Date: 2026-12-06 10:00:00

An ended call's flow state (``call_sessions.state``) kept every answer the caller gave (company, name, numbers,
e-mail, description, recording URL, ticket digits) for ever, beside the incident or missed call that holds them.
The watchdog now keeps of it only what is no answer once no webhook of the call can need them
(``app.services.call_answers``), and marks it ``answers_kept = false``; the partial index is its look at the
calls not forgotten yet. Every existing row is kept and marked as still holding its answers: the watchdog forgets
those of the calls already ended in its next passes, oldest first, a bounded number a pass (a migration cannot tell
which states a webhook under way still reads, and the rewrite needs the flow's own code).
"""

from alembic import op
import sqlalchemy as sa


revision = 'f6a8c0e2b4d7'
down_revision = 'e3a5c7e9b1d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_sessions') as batch:
        batch.add_column(sa.Column('answers_kept', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_index('ix_call_sessions_answers_kept', 'call_sessions', ['updated_at'], unique=False,
                    postgresql_where=sa.text('answers_kept'), sqlite_where=sa.text('answers_kept'))


def downgrade() -> None:
    op.drop_index('ix_call_sessions_answers_kept', table_name='call_sessions')
    with op.batch_alter_table('call_sessions') as batch:
        batch.drop_column('answers_kept')
