"""An outage names the service that fails (API, SMTP or both)

Revision ID: c3e5a7b9d1f2
Revises: a7c9e1b3d5f8
Create Date: 2026-12-07 12:00:00

Every incident opened while an outage was declared was linked to it, whatever its caller said was down: an outside
probe's SMTP outage took in callers of API failures, and its resolution was proposed to them. An outage now names the
service that fails; new incidents are linked only when their caller named that service (or both). One column with a
default: the outages declared before it name none ("") and keep linking every new incident, as they did. Every row is
kept; the downgrade drops only the column.
"""

from alembic import op
import sqlalchemy as sa

revision = 'c3e5a7b9d1f2'
down_revision = 'a7c9e1b3d5f8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outages') as batch:
        batch.add_column(sa.Column('affected_service', sa.String(length=16), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outages') as batch:
        batch.drop_column('affected_service')
