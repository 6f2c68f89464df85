"""A real ``hotline worker`` on a host whose clock is 150 s fast (the outside tester's sitecustomize on PYTHONPATH,
adding 150 s to ``app.clock.SystemClock.now``): it runs a breach step no earlier than its time, logs its offset,
and announces it for /healthz."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta

from redis import Redis
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.models import DueStep, Incident, StepKind, StepStatus
from tests.faults.own_processes import RedisServer, hotline_command, hotline_env, wait_for
from tests.faults.test_worker_signals import Worker

SITECUSTOMIZE = """\
from datetime import timedelta

import app.clock

_real = app.clock.SystemClock.now
app.clock.SystemClock.now = lambda self: _real(self) + timedelta(seconds=150)
"""


class FastWorker(Worker):
    """``hotline worker`` whose machine clock is 150 s fast."""

    def __init__(self, tmp_path, database_url: str, redis_url: str) -> None:
        site = tmp_path / "fast-host"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        env = hotline_env(tmp_path, database_url, redis_url) | {"PYTHONPATH": str(site)}
        self.log_path = tmp_path / "worker.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(hotline_command("worker"), env=env, cwd=tmp_path, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.engine = create_engine(database_url)


def test_a_worker_on_a_fast_host_records_the_breach_at_its_time_and_names_its_offset(tmp_path, empty_database_url):
    redis = RedisServer()
    worker = FastWorker(tmp_path, empty_database_url, redis.url)
    try:
        worker.wait_watching()
        due = datetime.now(UTC) + timedelta(seconds=15)  # a watchdog pass (every 10 s) comes before
        with Session(worker.engine) as s, s.begin():
            incident = Incident(reference="777002", received_at=due - timedelta(minutes=15),
                                captured_at=due - timedelta(minutes=15), callback_due_at=due)
            s.add(incident)
            s.flush()
            step = DueStep(incident_id=incident.id, kind=StepKind.BREACH, level=0, due_at=due)
            s.add(step)
            s.flush()
            step_id = step.id

        def done() -> bool:
            with Session(worker.engine) as s:
                return s.get(DueStep, step_id).status == StepStatus.DONE

        seen_pending_at = datetime.now(UTC)
        while not done():  # bounded: due in 15 s, the watchdog takes over 6 s after that
            seen_pending_at = datetime.now(UTC)
            assert seen_pending_at < due + timedelta(seconds=60), worker.log()[-3000:]
            time.sleep(0.05)
        assert seen_pending_at >= due - timedelta(seconds=1), "the breach was recorded before its deadline"
        with Session(worker.engine) as s:
            breached_at = s.scalar(select(Incident.breached_at).where(Incident.reference == "777002"))
        assert breached_at is None or breached_at >= due
        wait_for(lambda: "150." in worker.log() and "ahead of" in worker.log(), "the worker to log its offset", 30)
        offsets = Redis.from_url(redis.url).hgetall("hotline:clock-offsets:hotline")
        assert float(offsets[worker.holder.encode()].split()[0]) < -149
    finally:
        worker.stop()
        redis.kill()
