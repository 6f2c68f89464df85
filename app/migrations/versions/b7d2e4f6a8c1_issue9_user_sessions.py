"""issue 9: dashboard sessions kept on the server, so logout and password changes revoke them

Until now a session lived only in the signed cookie: a copied cookie still worked after
logout, for up to 12 hours. Each login now has a ``user_sessions`` row; the cookie holds a
random id whose SHA-256 is stored; every request checks the row. Cookies made before this
migration carry no such id, so everyone logs in once more after the upgrade (no data lost).

Revision ID: b7d2e4f6a8c1
Revises: 9a1c3e5f7b20
Create Date: 2026-12-01 17:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "b7d2e4f6a8c1"
down_revision = "9a1c3e5f7b20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", app.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_sessions_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
