"""/healthz answers within its bound while another connection holds a lock that keeps callers from being recorded,
and says so.

Outside probe (session 46): ``LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE`` held for 20 s from psql; /healthz
answered after 19.2 s, 200 with every check "ok" and no warning, while a caller's first webhook took 8.2 s and went
to the emergency voicemail. A load balancer's health check (2 to 10 s) times out on every host sharing the database at
once. Each of /healthz's statements now waits at most ``BOUND_SECONDS``: ``"database": "slow"`` and a warning, in a
200 (every host shares the database: not a reason to take them all out).
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

LOAD_BALANCER_TIMEOUT_SECONDS = 5.0  # a typical health-check timeout
SLOW = "the database did not answer"


@contextmanager
def _held(hotline, lock: str):
    """Another connection holds ``lock`` (PostgreSQL: a ``LOCK TABLE`` statement; SQLite: the one write lock, which is
    what stops a caller's record there) until the block ends."""
    if hotline.db.engine.dialect.name == "sqlite":
        holder = sqlite3.connect(make_url(hotline.db.url).database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    with hotline.db.engine.connect() as holder:
        # the old /healthz waited in this very thread until the server ended the holder's idle session
        holder.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = '10s'")
        holder.exec_driver_sql(lock)
        yield
        holder.rollback()


def _timed_health(client) -> tuple[float, int, dict]:
    started = time.monotonic()
    answer = client.get("/healthz")
    return time.monotonic() - started, answer.status_code, answer.get_json()


def _slow_warnings(body: dict) -> list[str]:
    return [w for w in body["warnings"] if w.startswith(SLOW)]


LOCKS = [  # (PostgreSQL's lock held, what /healthz names as not answered in time)
    ("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE", "the lock a caller's incident is written under"),  # the probe's
    ("LOCK TABLE incidents IN SHARE MODE", "the lock a caller's incident is written under"),  # reads pass, inserts wait
    ("LOCK TABLE due_steps IN ACCESS EXCLUSIVE MODE", "/healthz's reads"),  # intake's lock is free, a read waits
]


@pytest.mark.parametrize(("lock", "what"), LOCKS, ids=["incidents", "incidents-share", "due-steps"])
def test_healthz_answers_in_time_and_says_the_database_is_slow_while_a_lock_is_held(hotline, client, lock, what):
    sqlite = hotline.db.engine.dialect.name == "sqlite"
    if sqlite and lock != LOCKS[0][0]:
        pytest.skip("SQLite has one lock for every write: the first case holds it")
    _, status, body = _timed_health(client)
    assert status == 200 and body["checks"]["database"] == "ok" and _slow_warnings(body) == [], body

    with _held(hotline, lock):
        elapsed, status, body = _timed_health(client)
        assert status == 200 and body["status"] == "ok", body  # callers still reach the hotline (and its spool)
        assert body["checks"]["database"] == "slow", body
        [warning] = _slow_warnings(body)
        assert warning.startswith(f"{SLOW} {what} within ") and "Not checked: the watchdog" in warning
        assert body["on_call"] is None and body["watchdog"] is None  # not read: not claimed
        assert elapsed < LOAD_BALANCER_TIMEOUT_SECONDS, elapsed

    _, status, body = _timed_health(client)  # the lock released: all is read again
    assert status == 200 and body["checks"]["database"] == "ok" and _slow_warnings(body) == [], body
    assert body["on_call"] is not None


def test_sqlite_healthz_in_a_process_with_no_connection_yet_says_slow_and_leaves_the_usual_wait(hotline, client):
    """A new SQLite connection's set-up fails at once while another holds the write lock (a web process's first
    request): /healthz says slow, as for a connection it had. The bound is /healthz's alone: the connection it used
    goes back to the pool with the usual 30 s wait."""
    if hotline.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's busy_timeout is the connection's; PostgreSQL's SET LOCAL ends with the transaction")
    from app.db import SQLITE_BUSY_MS

    with _held(hotline, ""):
        elapsed, status, body = _timed_health(client)
    assert status == 200 and body["checks"]["database"] == "slow" and _slow_warnings(body), body
    assert elapsed < LOAD_BALANCER_TIMEOUT_SECONDS, elapsed
    client.get("/healthz")  # a connection in the pool
    with _held(hotline, ""):
        assert client.get("/healthz").get_json()["checks"]["database"] == "slow"
    with hotline.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_MS
