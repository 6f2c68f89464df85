"""``hotline worker`` stops at once on SIGTERM or SIGINT, with Redis up or down, and lets its watchdog lease go.

Seen by an operator: two workers whose Redis had been stopped for ~30 minutes were still alive more than
15 s after SIGTERM, the main thread in the runner's "Redis went away" retry loop. Under systemd that is a
SIGKILL after TimeoutStopSec, and a watchdog lease left held: the other worker waits out its TTL before
it takes the watchdog over. These tests start the real command against a redis-server of their own.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, select

from app import worker_presence
from app.models import Lease
from app.services import leases
from tests.faults.own_processes import (
    STOP_SECONDS,
    RedisServer,
    alive,
    free_port,
    hotline_command,
    hotline_env,
    stopped_within,
    wait_for,
)
from tests.faults.test_embedded_redis import _embedded_servers

QUEUE = "hotline"  # QUEUE_NAME's default: the main worker is the only one listening on it (page threads are not)


class Worker:
    """``hotline worker`` as a child process, its log in a file the test reads."""

    def __init__(self, tmp_path: Path, database_url: str | None, redis_url: str | None,
                 read_url: str | None = None) -> None:
        self.log_path = tmp_path / "worker.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(hotline_command("worker"), env=hotline_env(tmp_path, database_url, redis_url),
                                     cwd=tmp_path, stdout=self._log, stderr=subprocess.STDOUT)
        self.engine = create_engine(_read_only(read_url or database_url))

    @property
    def holder(self) -> str:
        return f"{socket.gethostname()}:{self.proc.pid}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def held_leases(self) -> list[str]:
        """The leases this worker holds now (live rows in its name)."""
        try:
            with self.engine.connect() as conn:
                return sorted(conn.scalars(select(Lease.name).where(
                    Lease.holder == self.holder, Lease.expires_at > datetime.now(UTC))))
        except Exception:  # noqa: BLE001 - the table is made by the worker's own start-up migration
            return []

    def wait_watching(self) -> None:
        """Until its watchdog holds the lease (the process is up: checks passed, schema migrated, threads started)."""
        wait_for(lambda: leases.WATCHDOG in self.held_leases() or self.proc.poll() is not None,
                 "the worker's watchdog to hold its lease")
        assert self.proc.poll() is None, self.log()[-3000:]

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def stop(self) -> None:
        """After a failure too: nothing the test started outlives it."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)
        self._log.close()
        self.engine.dispose()


@pytest.fixture
def worker_db(empty_database_url) -> str:
    """An empty database of each kind: ``hotline worker`` migrates it at its start, as in production."""
    return empty_database_url


def _read_only(database_url: str) -> str:
    """SQLite opened read-only: the test must not make the worker's database file before the worker does."""
    if database_url.startswith("sqlite:///"):
        return f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return database_url


# In-process tests of RQ's waits that read the hotline's queue names and nothing of SQL: one database is enough.
ONE_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _main_worker_name(redis: Redis) -> str | None:
    names = [key.decode().removeprefix("rq:worker:") for key in redis.smembers(f"rq:workers:{QUEUE}")]
    return names[0] if names else None


def _pairwise(*runs: tuple[str, str, signal.Signals]) -> list:
    """(database, Redis's state, signal) runs with readable ids, the database fixture's kind given indirectly."""
    return [pytest.param(db, state, signum, id=f"{db}-{state}-{signum.name}") for db, state, signum in runs]


@pytest.mark.parametrize("empty_database_url,redis_state,signum", _pairwise(
    ("sqlite", "redis_down", signal.SIGTERM),
    ("sqlite", "redis_up_idle", signal.SIGINT),
    ("postgresql", "redis_down", signal.SIGINT),
    ("postgresql", "redis_up_idle", signal.SIGTERM),
), indirect=["empty_database_url"])
def test_a_worker_stops_at_once_on_a_signal_and_lets_its_watchdog_lease_go(tmp_path, worker_db,
                                                                           redis_server_of_its_own, signum,
                                                                           redis_state):
    """Pairwise runs (4, not the 8 of database x Redis's state x signal): every two of them meet in a run. Each
    bears on its own part of the stop (the signal on the handler that asks the loops to stop, Redis's state on
    which wait each loop is in, the database on where the lease is released), so no three-way case is left.
    With Redis up the worker's presence (``app.worker_presence``) is withdrawn too: a clean stop is not a
    worker gone silent (it had a test of its own, a worker started for it alone)."""
    redis = redis_server_of_its_own
    worker = Worker(tmp_path, worker_db, redis.url)
    try:
        worker.wait_watching()
        wait_for(lambda: _main_worker_name(redis.client) is not None, "the main RQ worker to listen")
        name = _main_worker_name(redis.client)
        assert set(worker.held_leases()) >= {leases.WATCHDOG, "telephony:simulated"}
        wait_for(lambda: worker.holder in (worker_presence.seen(redis.client, QUEUE) or {}), "its presence")
        if redis_state == "redis_down":
            redis.kill()
            # the main worker's own loop has met the dead Redis (it retries every second)
            wait_for(lambda: f"Worker {name}: could not connect to Redis" in worker.log(),
                     "the main worker to notice Redis is down")
        children = worker.children()
        before = len(worker.log())  # RQ may log a traceback of its own when Redis dies under it: not the stop's

        worker.proc.send_signal(signum)

        assert stopped_within(worker.proc, STOP_SECONDS), (
            f"still running {STOP_SECONDS}s after {signum.name}:\n{worker.log()[-3000:]}")
        assert worker.proc.returncode == 0, worker.log()[-3000:]
        assert "Traceback" not in worker.log()[before:], worker.log()[before:][-3000:]  # the stop raised nothing
        assert worker.held_leases() == []  # released on the way out: another worker takes the watchdog at once
        assert [child for child in children if alive(child)] == []
        if redis_state == "redis_up_idle":
            assert worker.holder not in (worker_presence.seen(redis.client, QUEUE) or {})
    finally:
        worker.stop()


def test_a_worker_starts_while_redis_is_down_and_its_watchdog_runs(tmp_path, worker_db):
    """An outside probe restarted its workers during a Redis outage, as systemd would: each refused to start ("Redis
    ... does not answer"), and an incident taken meanwhile was paged only once Redis was back. A worker starts with
    a warning and its watchdog runs due work from SQL, as the running ones do."""
    worker = Worker(tmp_path, worker_db, f"redis://127.0.0.1:{free_port()}/0")
    try:
        worker.wait_watching()  # the watchdog holds its lease: due steps and pages leave from SQL
        assert set(worker.held_leases()) >= {leases.WATCHDOG, "telephony:simulated"}
        assert "does not answer" in worker.log() and "starting all the same" in worker.log()
        worker.proc.send_signal(signal.SIGTERM)
        assert stopped_within(worker.proc, STOP_SECONDS), worker.log()[-3000:]
        assert worker.proc.returncode == 0, worker.log()[-3000:]
    finally:
        worker.stop()


def test_a_worker_on_its_embedded_redis_stopped_with_sigint_leaves_no_redis_server_and_no_lease(tmp_path):
    """The embedded defaults (no REDIS_URL): the redis-server the worker started goes with it on Ctrl+C too."""
    worker = Worker(tmp_path, None, redis_url=None, read_url=f"sqlite:///{tmp_path / 'data' / 'hotline.db'}")
    try:
        worker.wait_watching()
        assert _embedded_servers(tmp_path / "data")

        worker.proc.send_signal(signal.SIGINT)

        assert stopped_within(worker.proc, STOP_SECONDS), worker.log()[-3000:]
        assert worker.proc.returncode == 0, worker.log()[-3000:]
        assert worker.held_leases() == []
        wait_for(lambda: _embedded_servers(tmp_path / "data") == [], "the embedded redis-server to stop")
    finally:
        worker.stop()


@ONE_DATABASE
@pytest.mark.parametrize("kind", ["main", "page thread"])
def test_a_worker_asked_to_stop_while_it_waits_out_a_dead_redis_stops_within_seconds(hotline, redis_server_of_its_own,
                                                                                     kind, caplog):
    """Seen in CI: ``hotline worker`` still running 5 s after SIGTERM with Redis down, its main worker in RQ's
    wait for a job, which retries a dead Redis every second for as long as it stays down and never looks
    at the stop request (the page threads had their own way out, the main worker had none).

    On one database (``ONE_DATABASE``): it reads the hotline's queue names and nothing of SQL."""
    from rq.exceptions import StopRequested

    from workers.page_threads import ThreadWorker
    from workers.runner import MainWorker

    redis = redis_server_of_its_own
    worker = (MainWorker if kind == "main" else ThreadWorker)(hotline.jobs.queues, connection=Redis(port=redis.port))
    worker.register_birth()  # as RQ's loop does before it waits for a job
    outcome: list[BaseException | None] = []

    def wait_for_a_job() -> None:
        try:
            worker.dequeue_job_and_maintain_ttl(405)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the test reads what ended the wait
            outcome.append(exc)

    waiting = threading.Thread(target=wait_for_a_job, daemon=True)
    waiting.start()
    wait_for(lambda: redis.client.hget(worker.key, "state") == b"idle", "the worker to wait for a job")
    redis.kill()  # in its wait: RQ retries there
    wait_for(lambda: "could not connect to Redis" in caplog.text, "the worker to retry the dead Redis")
    worker._stop_requested = True  # what a SIGTERM's handler does to the worker serving now

    waiting.join(timeout=10)
    assert not waiting.is_alive(), "still waiting for Redis 10 s after the stop request"
    assert len(outcome) == 1 and isinstance(outcome[0], StopRequested)


@ONE_DATABASE
def test_a_worker_loop_that_meets_a_dead_redis_outside_its_wait_for_a_job_waits_for_it_quietly(
        hotline, redis_server_of_its_own, caplog):
    """RQ's loop looks for a suspension and cleans its registries between waits for a job (every poll of a
    second here); a Redis gone there was "an unhandled exception, quitting", a traceback in the log of every
    worker of the process. The wait for a job that follows retries the dead Redis and logs that in a line."""
    from workers.runner import MainWorker

    redis = redis_server_of_its_own
    connection = Redis(port=redis.port)
    worker = MainWorker([Queue(q.name, connection=connection) for q in hotline.jobs.queues], connection=connection)
    worker.register_birth()
    redis.kill()

    worker.check_for_suspension(burst=False)
    worker.last_cleaned_at = None  # the registries' clean-up is due
    worker.run_maintenance_tasks()

    assert worker.should_run_maintenance_tasks  # put off, not marked done: the next pass tries again
    assert [r for r in caplog.records if r.exc_info] == []


@ONE_DATABASE
def test_a_redis_gone_between_two_polls_for_a_job_is_waited_for_and_the_next_job_taken(hotline,
                                                                                       redis_server_of_its_own,
                                                                                       caplog):
    """Seen in CI: each poll of a second begins with RQ setting the worker's state, outside RQ's retry of a
    dead Redis. A Redis killed between two polls was "an unhandled exception, quitting", a traceback in the
    log, and the main worker's loop started again (a page thread's too). It is retried like any wait."""
    from workers.runner import MainWorker

    redis = redis_server_of_its_own
    connection = Redis(port=redis.port)
    queues = [Queue(q.name, connection=connection) for q in hotline.jobs.queues]
    worker = MainWorker(queues, connection=connection)
    worker.register_birth()
    redis.kill()  # before the poll: its first command is the state's
    outcome: list[object] = []

    def wait_for_a_job() -> None:
        try:
            outcome.append(worker.dequeue_job_and_maintain_ttl(405))
        except BaseException as exc:  # noqa: BLE001 - the test reads what ended the wait
            outcome.append(exc)

    waiting = threading.Thread(target=wait_for_a_job, daemon=True)
    waiting.start()
    wait_for(lambda: "could not connect to Redis" in caplog.text or outcome, "the worker to retry the dead Redis")
    assert outcome == [], f"the wait ended on the dead Redis: {outcome}"
    again = RedisServer(port=redis.port)
    try:
        job = queues[-1].enqueue("os.getcwd")
        waiting.join(timeout=10)
        assert not waiting.is_alive(), "still waiting 10 s after Redis came back with a job queued"
        assert len(outcome) == 1 and isinstance(outcome[0], tuple), outcome
        taken, queue = outcome[0]
        assert (taken.id, queue.name) == (job.id, queues[-1].name)
        assert [r for r in caplog.records if r.exc_info] == []
    finally:
        again.kill()
