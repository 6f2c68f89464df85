"""issue 9: API tokens carry scopes

Every API endpoint now checks a scope (``tickets:write``, ``incidents:read``,
``oncall:read``, ``oncall:admin``). Tokens that exist when this migration runs were
made before scopes existed, almost always for the helpdesk's ticket sync or a read-only
report. They keep what such a token needs: ``tickets:write incidents:read oncall:read``.
They do NOT get ``oncall:admin``: the security review showed a ticket-sync token
adding a rep with an attacker's phone, who was then bridged to a customer. A script
that edits reps, schedules, overrides or escalation policies through the API needs a
new token: ``hotline api-token create NAME --scope oncall:admin`` (see README, JSON API).

Revision ID: 9a1c3e5f7b20
Revises: 4c2effe9f953
Create Date: 2026-12-01 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9a1c3e5f7b20"
down_revision = "4c2effe9f953"
branch_labels = None
depends_on = None

EXISTING_TOKEN_SCOPES = "tickets:write incidents:read oncall:read"


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=200), server_default="", nullable=False))
    op.execute(sa.text("UPDATE api_tokens SET scopes = :scopes").bindparams(scopes=EXISTING_TOKEN_SCOPES))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("scopes", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")
