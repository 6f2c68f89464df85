"""An upgrade's migrations commit one by one on PostgreSQL (outside probe ZB, ZB2).

Until session 48 ``upgrade_locked`` handed Alembic a connection already inside a transaction, so every migration of an
upgrade ran in one: what the first locked (the pages table, the rows a refold rewrites) stayed locked until the last
committed, and the old hosts still serving waited on it (1.5 s on a year of data, 8 migrations). Each migration now
commits on its own; another connection sees each one's version stamp before the next begins.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from app import migrate
from tests.conftest import scratch_schema


@pytest.fixture
def pg_scratch(postgres_url):
    with scratch_schema("hotline_mtx") as url:
        yield url


def test_each_migration_is_committed_before_the_next_begins(pg_scratch, tmp_path, monkeypatch):
    onlooker = create_engine(pg_scratch)
    seen: list[tuple[str, list[str]]] = []

    def stamped_elsewhere(*, step, **_kw) -> None:
        # another connection, while this step's own transaction is still open: the versions committed so far
        with onlooker.connect() as conn:
            present = inspect(conn).has_table("alembic_version")
            seen.append((step.up_revision_id,
                         conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
                         if present else []))

    config = migrate.alembic_config

    def with_onlooker(url: str):
        cfg = config(url)
        cfg.attributes["on_version_apply"] = (stamped_elsewhere,)
        return cfg

    monkeypatch.setattr(migrate, "alembic_config", with_onlooker)
    try:
        migrate.upgrade_locked(pg_scratch, tmp_path)
    finally:
        onlooker.dispose()

    assert len(seen) > 5  # the whole chain ran, from an empty schema
    assert seen[0][1] == []  # the first one's stamp is not committed while it runs
    for (previous, _), (current, visible) in zip(seen, seen[1:], strict=False):
        assert visible == [previous], f"while {current} ran, another connection saw {visible}, not {previous}"
