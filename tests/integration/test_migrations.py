"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from app.migrate import upgrade
from app.models import Base


def _diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    return diff


def test_migrations_match_models(empty_database_url):
    upgrade(empty_database_url)
    assert _diff(empty_database_url) == []
    upgrade(empty_database_url)  # running it again is a no-op


def test_upgrade_on_a_database_that_is_already_current_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    upgrade(url)
    upgrade(url)
    assert _diff(url) == []


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_migrated_database_refuses_to_change_the_event_log(tmp_path):
    from datetime import UTC, datetime

    from sqlalchemy.exc import DatabaseError

    url = f"sqlite:///{tmp_path / 'guarded.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO incident_events (at, actor, kind, detail) VALUES (:at, 'test', 'x', '{}')"),
                     {"at": datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)})
    for statement in ("UPDATE incident_events SET kind = 'y'", "DELETE FROM incident_events"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind FROM incident_events")).scalars().all() == ["x"]
    engine.dispose()
