"""issue 12: the CSV export's line parts in incident_facts, and its (captured_at, reference) index

Revision ID: c4d8e2a61f37
Revises: c4f1a2b3d5e6
Create Date: 2026-12-01 19:40:00

Each facts row keeps its CSV line in rendered parts (``app.reports.csv_parts``), so a
year's export is one index-ordered scan that only joins strings. Existing rows are
refolded from the event log (``rebuild_facts``, the same code the app uses), which fills
the new columns: a database upgraded with data exports exactly the bytes it did before.
"""

from alembic import op
import sqlalchemy as sa


revision = 'c4d8e2a61f37'
down_revision = 'c4f1a2b3d5e6'
branch_labels = None
depends_on = None

_PARTS = ('csv_lead', 'csv_acked_by', 'csv_tail')


def upgrade() -> None:
    with op.batch_alter_table('incident_facts', schema=None) as batch_op:
        for name in _PARTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        batch_op.drop_index('ix_incident_facts_captured_at')
        batch_op.create_index('ix_incident_facts_captured_at_reference', ['captured_at', 'reference'], unique=False)
    with op.batch_alter_table('incident_facts', schema=None) as batch_op:
        for name in _PARTS:
            batch_op.alter_column(name, server_default=None)  # the app always writes them

    from app.reports.facts_sync import rebuild_facts  # the same fold the app uses, over the log alone
    # said_only: this schema lacks columns the board's rule for the company reads; a9c1e3f5b7d2 applies it
    rebuild_facts(op.get_bind(), said_only=True)


def downgrade() -> None:
    with op.batch_alter_table('incident_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_facts_captured_at_reference')
        batch_op.create_index('ix_incident_facts_captured_at', ['captured_at'], unique=False)
        for name in reversed(_PARTS):
            batch_op.drop_column(name)
