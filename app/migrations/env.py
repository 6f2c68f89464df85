"""Alembic environment: runs against the connection or URL handed in by ``app.migrate``."""

from __future__ import annotations

from alembic import context

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations on the connection in config.attributes, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    if engine.dialect.name == "postgresql":
        # outside a transaction, as ``app.migrate.upgrade_locked`` hands one in: each migration commits on its own,
        # and one that builds an index CONCURRENTLY can step out of its transaction (``autocommit_block``)
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    else:
        with engine.begin() as conn:
            _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Each migration commits on its own (on a connection handed in outside a transaction: ``app.migrate``'s
        # PostgreSQL path), so what one locks (a table it alters, the rows a refold rewrites) is released when it
        # ends, not held by the rest of the upgrade: an outside probe's old hosts waited on the pages table until
        # the last of 8 migrations committed. A failed migration leaves the earlier ones applied (and stamped); the
        # next start goes on from there. ``engine.begin()`` above (SQLite's path) keeps one transaction.
        transaction_per_migration=True,
        on_version_apply=config.attributes.get("on_version_apply", ()),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
