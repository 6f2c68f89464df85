"""A `hotline worker` killed (SIGKILL) is seen dead within seconds by `hotline check`, not after its watchdog lease
lapses (30 s) nor never (RQ keeps a killed worker's registration for minutes).

Outside probe (session 43): both workers were killed; /healthz said "ok" with "watchdog": "ok" for 45 s and `hotline
check` "3 RQ worker(s) listen" for as long as it looked, while due steps waited. A real worker here, against a
redis-server and a database of the test's own; every wait is bounded and on a condition. That a worker stopped by a
signal withdraws its presence is checked where the stop itself is (test_worker_signals.py), on the same worker.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app import worker_presence
from app.config_check import liveness_problems
from app.config_report import CheckReport
from app.settings import Settings
from tests.faults.own_processes import wait_for
from tests.faults.test_worker_signals import QUEUE, Worker, _main_worker_name, worker_db  # noqa: F401 - a fixture


def _check(database_url: str, redis_url: str) -> CheckReport:
    report = CheckReport()
    liveness_problems(Settings(database_url=database_url, redis_url=redis_url), report, datetime.now(UTC), strict=True)
    return report


def test_a_killed_worker_is_seen_dead_within_seconds(tmp_path, worker_db, redis_server_of_its_own):  # noqa: F811
    redis = redis_server_of_its_own
    worker = Worker(tmp_path, worker_db, redis.url)
    try:
        worker.wait_watching()
        wait_for(lambda: _main_worker_name(redis.client) is not None, "the main RQ worker to listen")
        wait_for(lambda: worker.holder in (worker_presence.seen(redis.client, QUEUE) or {}), "its presence")
        alive = _check(worker_db, redis.url)
        assert alive.errors == [], [p.message for p in alive.errors]
        assert any("RQ worker(s) listen on queue 'hotline', 1 alive now" in line for line in alive.passed)

        worker.proc.kill()  # SIGKILL: no sign-off, its lease and its RQ registration stay
        worker.proc.wait(timeout=10)
        wait_for(lambda: not worker_presence.alive(worker_presence.seen(redis.client, QUEUE) or {},
                                                   datetime.now(UTC).timestamp()),
                 "the killed worker to be no longer alive", seconds=3 * worker_presence.FRESH)
        assert _main_worker_name(redis.client) is not None  # RQ still lists it
        dead = _check(worker_db, redis.url)
        messages = {p.where: p.message for p in dead.errors}
        assert f"the watchdog's lease is held by {worker.holder}" in messages["watchdog"]
        assert "no other `hotline worker` is alive" in messages["watchdog"]
        assert "no `hotline worker` on queue 'hotline' has been alive for" in messages["QUEUE_NAME"]
    finally:
        worker.stop()

