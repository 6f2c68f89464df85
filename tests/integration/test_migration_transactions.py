"""An upgrade's migrations commit one by one on PostgreSQL (outside probe ZB, ZB2).

Until session 48 ``upgrade_locked`` handed Alembic a connection already inside a transaction, so every migration of an
upgrade ran in one: what the first locked (the pages table, the rows a refold rewrites) stayed locked until the last
committed, and the old hosts still serving waited on it (1.5 s on a year of data, 8 migrations). Each migration now
commits on its own; another connection sees each one's version stamp before the next begins.
"""

from __future__ import annotations

import threading
import uuid

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


def test_a_host_waiting_for_the_migration_lock_never_deadlocks_an_index_built_concurrently(pg_scratch, tmp_path):
    """A host migrating holds the lock and builds an index CONCURRENTLY (which waits for every older transaction)
    while a second host starting waits for the lock: until session 48 that one waited inside its statement, holding
    a transaction, so each waited for the other and PostgreSQL ended one ("deadlock detected": the second host did
    not start). It now tries the lock in short statements of their own: the build ends, then the second migrates."""
    tag = f"hotline_lockwait_{uuid.uuid4().hex[:8]}"
    waiter_url = f"{pg_scratch}&application_name={tag}"
    outcome: list[BaseException | None] = []

    def second_host() -> None:
        try:
            migrate.upgrade_locked(waiter_url, tmp_path)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    holder = create_engine(pg_scratch, isolation_level="AUTOCOMMIT")
    waiter = threading.Thread(target=second_host, daemon=True)
    try:
        with holder.connect() as first_host:
            first_host.execute(text("SET statement_timeout = '30s'"))
            first_host.execute(text("SELECT pg_advisory_lock(:key)"), {"key": migrate.MIGRATION_LOCK_KEY})
            first_host.execute(text("CREATE TABLE waiting_room (n int)"))
            waiter.start()
            # the second host has asked for the lock (it cannot have it): its last statement is the ask, or the
            # COMMIT that ends a try (nothing before the ask commits: the driver's set-up ends in a ROLLBACK)
            asked = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag "
                         "AND (query LIKE '%advisory_lock(%' OR query = 'COMMIT')")
            for _ in range(600):
                if first_host.execute(asked, {"tag": tag}).scalar():
                    break
                waiter.join(0.05)
            else:
                pytest.fail("the second host never asked for the migration lock")
            first_host.execute(text("CREATE INDEX CONCURRENTLY ix_waiting_room ON waiting_room (n)"))  # no deadlock
            first_host.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": migrate.MIGRATION_LOCK_KEY})
        waiter.join(120)
    finally:
        holder.dispose()
    assert outcome == [None]
    check = create_engine(pg_scratch)
    try:
        with check.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert inspect(conn).has_table("incidents")
    finally:
        check.dispose()
