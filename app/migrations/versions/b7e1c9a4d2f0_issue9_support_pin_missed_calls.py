"""issue 9: support PIN per account, caller verification and related incident, missed calls, notices

Revision ID: b7e1c9a4d2f0
Revises: 7e1a0c5d2b34
Create Date: 2026-12-01 16:30:00

Only adds: existing accounts get no PIN (""), existing incidents count as unverified
callers with no related incident. Nothing is rewritten.
"""

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "b7e1c9a4d2f0"
down_revision = '7e1a0c5d2b34'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("support_pin_hash", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("support_pin_failures", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("support_pin_failed_at", app.models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("caller_verified", sa.String(length=16), server_default="", nullable=False))
        batch.add_column(sa.Column("related_incident_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_incidents_related_incident_id_incidents"), "incidents",
                                 ["related_incident_id"], ["id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("body", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("twilio_sid", sa.String(length=64), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", app.models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index(op.f("ix_notices_to_number"), "notices", ["to_number"], unique=False)
    op.create_index(op.f("ix_notices_created_at"), "notices", ["created_at"], unique=False)
    op.create_table(
        "missed_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("received_at", app.models.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", app.models.base.UTCDateTime(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_missed_calls_incident_id_incidents")),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_missed_calls_notice_id_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missed_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_missed_calls_call_sid")),
    )
    op.create_index(op.f("ix_missed_calls_caller_id"), "missed_calls", ["caller_id"], unique=False)
    op.create_index(op.f("ix_missed_calls_ended_at"), "missed_calls", ["ended_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_missed_calls_ended_at"), table_name="missed_calls")
    op.drop_index(op.f("ix_missed_calls_caller_id"), table_name="missed_calls")
    op.drop_table("missed_calls")
    op.drop_index(op.f("ix_notices_created_at"), table_name="notices")
    op.drop_index(op.f("ix_notices_to_number"), table_name="notices")
    op.drop_table("notices")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint(op.f("fk_incidents_related_incident_id_incidents"), type_="foreignkey")
        batch.drop_column("related_incident_id")
        batch.drop_column("caller_verified")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("support_pin_failed_at")
        batch.drop_column("support_pin_failures")
        batch.drop_column("support_pin_hash")
