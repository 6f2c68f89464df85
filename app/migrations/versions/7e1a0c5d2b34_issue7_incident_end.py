"""issue 7: how an incident without a callback number was reached; levels that paged nobody;
whether a person (not a voicemail) answered a callback

Revision ID: 7e1a0c5d2b34
Revises: b7d2e4f6a8c1
"""

from alembic import op
import sqlalchemy as sa
import app.models.base

revision = '7e1a0c5d2b34'
down_revision = 'b7d2e4f6a8c1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('reached_by_email_at', app.models.base.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('reached_how', sa.String(length=500), server_default='', nullable=False))
        batch.add_column(sa.Column('nobody_to_page_at', app.models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table('callbacks') as batch:
        batch.add_column(sa.Column('person_confirmed_at', app.models.base.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('answered_by', sa.String(length=32), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('callbacks') as batch:
        batch.drop_column('answered_by')
        batch.drop_column('person_confirmed_at')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('nobody_to_page_at')
        batch.drop_column('reached_how')
        batch.drop_column('reached_by_email_at')
