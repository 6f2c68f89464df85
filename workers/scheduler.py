"""RQ's scheduler in a thread of ``hotline worker``, not in a forked child process.

RQ's ``work(with_scheduler=True)`` forks a scheduler process, a full copy of the worker's
libraries (82 MB resident on PostgreSQL) that does nothing but move due jobs from the
scheduled registries to their queues once a second. The same loop runs here in a thread:
the same locks (one scheduler per queue at a time across all workers), the same heartbeat.
Due is on the hotline's clock (the reference clock, ``app.reference_clock``), not on this host's: RQ's own
reading of a host clock 150 s fast queued every step 150 s early.
"""

from __future__ import annotations

import logging
import threading
import time

from rq import Queue
from rq.job import Job
from rq.scheduler import RQScheduler

from app import redis_refusal
from app.clock import Clock
from app.wiring import Hotline

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 1  # RQ's own default: due jobs are queued within about a second
RETAKE_SECONDS = 5.0  # a standby tries for the locks this often (RQ's own fallback waits 10 minutes)


class ClockScheduler(RQScheduler):
    """RQ's scheduler, which queues a job once the hotline's clock reaches its time."""

    def __init__(self, *args, clock: Clock, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def enqueue_scheduled_jobs(self) -> None:
        """Queue the jobs whose time has come (RQ 2's loop, on ``self.clock`` instead of the host's clock)."""
        self._status = self.Status.WORKING
        if not self._scheduled_job_registries and self._acquired_locks:
            self.prepare_registries()
        for registry in self._scheduled_job_registries:
            job_ids = registry.get_jobs_to_schedule(int(self.clock.now().timestamp()))
            if not job_ids:
                continue
            queue = Queue(registry.name, connection=self.connection, serializer=self.serializer)
            with self.connection.pipeline() as pipeline:
                for job in Job.fetch_many(job_ids, connection=self.connection, serializer=self.serializer):
                    if job is not None:
                        queue._enqueue_job(job, pipeline=pipeline, at_front=job.should_enqueue_at_front())
                for job_id in job_ids:
                    registry.remove(job_id, pipeline=pipeline)
                pipeline.execute()
        self._status = self.Status.STARTED


def run_scheduler(hotline: Hotline, stop: threading.Event, interval: float = INTERVAL_SECONDS) -> None:
    """Move due scheduled jobs to their queues until ``stop`` is set; Redis errors are logged and retried."""
    scheduler = ClockScheduler(hotline.jobs.queues, connection=hotline.jobs.redis, interval=int(interval),
                               clock=hotline.clock)
    registered, tried = False, -RETAKE_SECONDS
    while not stop.is_set():
        try:
            if not registered:
                scheduler.register_birth()
                registered = True
            if scheduler.acquired_locks != set(scheduler._queue_names) and time.monotonic() - tried >= RETAKE_SECONDS:
                tried = time.monotonic()
                scheduler.acquire_locks()  # the holder's locks expire 61 s after it died
            scheduler.heartbeat()
            scheduler.enqueue_scheduled_jobs()
        except Exception as exc:  # noqa: BLE001 - Redis down or restarting: the watchdog covers due work meanwhile
            if not redis_refusal.note(exc):  # a refusal (full, a replica) is told once for the process
                log.warning("scheduler pass failed (%s); retrying", type(exc).__name__)
            scheduler._acquired_locks = set()
        stop.wait(interval)
    try:
        scheduler.stop()
    except Exception:  # noqa: BLE001 - the locks expire by themselves
        log.warning("could not release the scheduler locks")


def start_scheduler(hotline: Hotline, stop: threading.Event) -> threading.Thread:
    """The scheduler loop in a daemon thread."""
    thread = threading.Thread(target=run_scheduler, args=(hotline, stop), name="scheduler", daemon=True)
    thread.start()
    return thread
