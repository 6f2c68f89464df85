"""/healthz answers in time, and plainly, when PostgreSQL stops answering entirely (frozen, not down, not locked).

Each of /healthz's statements waits at most ``BOUND_SECONDS`` (2 s, ``statement_timeout``), but that needs a server
that answers: a frozen one (SIGSTOP, a network path that drops packets: the socket stays open and nothing comes)
held /healthz for the web request's limit, REQUEST_SECONDS (30 s), and a server that froze between two of its
statements ended in a 500. A load balancer polling with a 2 to 5 s timeout saw time-outs, and each poll held a
thread for 30 s. /healthz's database work as a whole now ends at ``db_time_limit.HEALTH_SECONDS``: the connection's
socket is shut (the request limit's own mechanism) and the answer is a 503 saying the database does not answer, as
for a database that refuses connections.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text

from app import create_app, db_time_limit
from app.db_wait_bound import BOUND_SECONDS
from app.queue import JobQueue
from app.wiring import Hotline
from tests.faults.test_database_hang import ON_POSTGRES
from tests.integration.test_healthz_locked_database import LOAD_BALANCER_TIMEOUT_SECONDS, _held

NOT_ANSWERING = "error: no answer within"  # /healthz's "database" check for a server that does not answer
WARNING = "the database did not answer at all within"
INTAKE_LOCK = "LOCK TABLE incidents IN ROW EXCLUSIVE MODE"  # /healthz's third statement (``take_intake_lock``)


def _timed_health(client) -> tuple[float, int, dict]:
    started = time.monotonic()
    answer = client.get("/healthz")
    return time.monotonic() - started, answer.status_code, answer.get_json()


def _backend_pids(engine, count: int) -> set[int]:
    """The server processes behind ``count`` connections checked out of ``engine``'s pool at once."""
    conns = [engine.connect() for _ in range(count)]
    try:
        return {conn.execute(text("SELECT pg_backend_pid()")).scalar() for conn in conns}
    finally:
        for conn in conns:
            conn.close()


@ON_POSTGRES
@pytest.mark.parametrize("frozen", ["pooled", "new-connection", "mid-way"])
def test_healthz_says_in_time_that_a_database_which_stops_answering_does_not_answer(
        proxied, settings, clock, redis_conn, hotline, frozen):
    """``pooled``: frozen with the pool's connection open; ``new-connection``: frozen with none in the pool (the
    connect itself waits); ``mid-way``: frozen after SELECT 1 and the schema answered, as the intake's lock is
    asked for."""
    proxy, url = proxied
    through = Hotline.build(settings.with_overrides(database_url=url), clock=clock,
                            jobs=JobQueue(redis_conn, settings.queue_name))
    client = create_app(through).test_client()
    try:
        _, status, body = _timed_health(client)
        assert status == 200 and body["checks"]["database"] == "ok", body
        before = _backend_pids(through.db.engine, through.db.engine.pool.checkedin())  # every one the pool holds
        if frozen == "new-connection":
            through.db.engine.dispose()
        if frozen == "mid-way":
            def _freeze_at_intake_lock(_conn, _cursor, statement, *_args) -> None:
                if statement == INTAKE_LOCK:
                    proxy.freeze()
            event.listen(through.db.engine, "before_cursor_execute", _freeze_at_intake_lock)
        else:
            proxy.freeze()

        elapsed, status, body = _timed_health(client)
        assert elapsed < LOAD_BALANCER_TIMEOUT_SECONDS, elapsed  # was 30 s (REQUEST_SECONDS), "mid-way" then a 500
        assert status == 503 and body["status"] == "degraded", body  # this node records no caller in SQL
        assert body["checks"]["database"].startswith(NOT_ANSWERING), body
        assert body["checks"].get("schema") == ("ok" if frozen == "mid-way" else None)  # read before, or not at all
        [warning] = [w for w in body["warnings"] if w.startswith(WARNING)]
        assert "emergency voicemail" in warning
        assert body["on_call"] is None and body["watchdog"] is None  # not read: not claimed
        assert db_time_limit.WATCHER.watching() == 0  # no connection left checked out

        if frozen == "mid-way":
            event.remove(through.db.engine, "before_cursor_execute", _freeze_at_intake_lock)
        proxy.thaw()
        # a lock held just after the freeze is still "slow", a 200: /healthz's limit is not cut to SUSPECT_SECONDS
        with _held(hotline, "LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE"):
            elapsed, status, body = _timed_health(client)
        assert status == 200 and body["checks"]["database"] == "slow", body
        assert elapsed < LOAD_BALANCER_TIMEOUT_SECONDS, elapsed
        _, status, body = _timed_health(client)
        assert status == 200 and body["checks"] == {**body["checks"], "database": "ok", "schema": "ok"}, body
        # the frozen connection /healthz used was dropped, not handed back to the pool (shut, it would fail there)
        after = _backend_pids(through.db.engine, through.db.engine.pool.checkedin())
        assert after and not before & after, (before, after)
    finally:
        proxy.thaw()
        through.db.dispose()


def test_healthz_limit_leaves_a_lock_the_time_to_say_slow():
    """A lock's wait ends at BOUND_SECONDS ("slow", a 200) well before the socket is shut ("not answering", a 503)."""
    assert db_time_limit.HEALTH_SECONDS >= BOUND_SECONDS + 4 * db_time_limit.TICK_SECONDS
    assert db_time_limit.HEALTH_SECONDS < LOAD_BALANCER_TIMEOUT_SECONDS
