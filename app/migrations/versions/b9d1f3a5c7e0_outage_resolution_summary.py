"""An outage keeps what its resolution said, in English and German

Revision ID: b9d1f3a5c7e0
Revises: f6a8c0e2b4d7
Create Date: 2026-12-06 10:00:00

An incident linked to an outage but not yet called back when the outage was resolved was never asked to confirm
its resolution. Now its callback's verification proposes the outage's resolution to it, with the words the manager
gave, which the outage keeps from now on: two text columns with a default. An outage resolved before this revision
gets them back from the proposals it made (an English-speaking customer's for the English words, a German-speaking
one's for the German); one that reached no customer keeps them empty, and its resolution is then not proposed
later (its timeline says why). Every row is kept; the downgrade drops only the two columns.
"""

from alembic import op
import sqlalchemy as sa

revision = 'b9d1f3a5c7e0'
down_revision = 'f6a8c0e2b4d7'
branch_labels = None
depends_on = None

OUTAGES = sa.table("outages", sa.column("id"), sa.column("resolved_at"), sa.column("resolution_summary"),
                   sa.column("resolution_summary_de"))
PROPOSALS = sa.table("resolution_proposals", sa.column("id"), sa.column("incident_id"), sa.column("outage_id"),
                     sa.column("summary"))
INCIDENTS = sa.table("incidents", sa.column("id"), sa.column("language"))


def upgrade() -> None:
    with op.batch_alter_table('outages') as batch:
        batch.add_column(sa.Column('resolution_summary', sa.Text(), server_default='', nullable=False))
        batch.add_column(sa.Column('resolution_summary_de', sa.Text(), server_default='', nullable=False))
    german = INCIDENTS.c.language.like("de%")
    for column, who in (("resolution_summary", sa.not_(german)), ("resolution_summary_de", german)):
        said = (sa.select(PROPOSALS.c.summary)
                .select_from(PROPOSALS.join(INCIDENTS, INCIDENTS.c.id == PROPOSALS.c.incident_id))
                .where(PROPOSALS.c.outage_id == OUTAGES.c.id, who)
                .order_by(PROPOSALS.c.id).limit(1).scalar_subquery())
        op.get_bind().execute(sa.update(OUTAGES).where(OUTAGES.c.resolved_at.is_not(None))
                              .values({column: sa.func.coalesce(said, "")}))


def downgrade() -> None:
    with op.batch_alter_table('outages') as batch:
        batch.drop_column('resolution_summary_de')
        batch.drop_column('resolution_summary')
