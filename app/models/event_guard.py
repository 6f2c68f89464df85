"""Database triggers that keep ``incident_events`` append-only, below the ORM.

The ORM already refuses changes (``AppendOnlyViolation``); these triggers also stop raw
SQL, other tools and other code paths. ``install`` runs after ``create_all`` creates the
table (see ``app.models.incident``) and must be called by the Alembic migration too:

    from app.models.event_guard import install, uninstall
    def upgrade():   ...create incident_events...; install(op.get_bind())
    def downgrade(): uninstall(op.get_bind()); ...drop incident_events...

Both are idempotent. ``TRUNCATE`` (used by the PostgreSQL test fixtures) fires no row trigger.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

TABLE = "incident_events"
MESSAGE = "incident_events is append-only"

_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
_POSTGRESQL = [
    f"CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$",
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()",
]
_UNINSTALL = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {TABLE}_no_update", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"],
    "postgresql": [f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
                   f"DROP FUNCTION IF EXISTS {TABLE}_append_only()"],
}


class UnsupportedDatabase(RuntimeError):
    """The append-only triggers exist for SQLite and PostgreSQL only."""


def install(connection: Connection) -> None:
    """Create the triggers refusing UPDATE and DELETE on ``incident_events`` (idempotent)."""
    for statement in _statements(connection, {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}):
        connection.execute(text(statement))


def uninstall(connection: Connection) -> None:
    """Drop the triggers (for a migration's downgrade)."""
    for statement in _statements(connection, _UNINSTALL):
        connection.execute(text(statement))


def _statements(connection: Connection, by_dialect: dict[str, list[str]]) -> list[str]:
    name = connection.dialect.name
    if name not in by_dialect:
        raise UnsupportedDatabase(f"no append-only triggers for {name}")
    return by_dialect[name]


def after_create(_table, connection: Connection, **_kw) -> None:
    """``after_create`` hook of the ``incident_events`` table."""
    install(connection)
