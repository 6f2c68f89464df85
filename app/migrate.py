"""Alembic, driven from code: ``hotline db upgrade`` and the test fixtures use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at this package's migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration from the models (developer tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


MIGRATION_LOCK_KEY = 727_001_015  # pg_advisory_lock key: one migrating process per database


LOCK_POLL_SECONDS = 0.2  # how often a process waiting for another's migration tries the lock again


def _take_migration_lock(conn) -> None:
    """Take MIGRATION_LOCK_KEY (a session advisory lock) on ``conn``, trying every LOCK_POLL_SECONDS, each try a
    statement of its own whose transaction ends at once.

    Not ``pg_advisory_lock``, which waits inside its statement: a process waiting there holds a transaction and
    a snapshot, and a migration that builds an index ``CONCURRENTLY`` (it waits for every transaction older than
    its build) in the process holding the lock waited for it while it waited for the lock: PostgreSQL ended one
    of the two as a deadlock, and a second host starting during an upgrade failed to start ("deadlock detected")."""
    import time

    from sqlalchemy import text

    while True:
        taken = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}).scalar()
        conn.commit()
        if taken:
            return
        time.sleep(LOCK_POLL_SECONDS)


def upgrade_locked(url: str, lock_dir: Path, revision: str = "head") -> None:
    """``upgrade`` while holding a lock, so web and worker (or several hosts) starting at once do not race.

    PostgreSQL: a session advisory lock, held on the connection the migration runs on.
    SQLite: an exclusive file lock beside the data (SQLite serves one host).
    A database a newer version migrated raises ``SchemaAheadError`` (one line naming the fix), not Alembic's traceback.
    """
    from app.probes import probe_engine, refuse_newer_schema

    if url.startswith("postgresql"):
        from sqlalchemy import text

        engine = probe_engine(url)  # a server that accepts and never answers ends the command, not hangs it
        try:
            with engine.connect() as conn:
                _take_migration_lock(conn)
                try:
                    refuse_newer_schema(conn)
                    conn.commit()  # handed to Alembic outside a transaction: each migration commits on its own
                    cfg = alembic_config(url)
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                    conn.commit()
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    conn.commit()
        finally:
            engine.dispose()
        return
    from app.file_lock import exclusive

    with exclusive(lock_dir / "migrate.lock"):
        engine = probe_engine(url)
        try:
            with engine.connect() as conn:
                refuse_newer_schema(conn)
        finally:
            engine.dispose()
        upgrade(url, revision)


def main(argv: list[str]) -> int:
    """``python -m app.migrate DATA_DIR``: ``upgrade_locked`` for the URL in HOTLINE_MIGRATE_URL (app.startup runs it)."""
    import os

    from app.startup import MIGRATE_URL_VARIABLE

    upgrade_locked(os.environ[MIGRATE_URL_VARIABLE], Path(argv[0]))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
