"""RQ's scheduler in a thread of ``hotline worker``, not in a forked child process.

RQ's ``work(with_scheduler=True)`` forks a scheduler process, a full copy of the worker's
libraries (82 MB resident on PostgreSQL) that does nothing but move due jobs from the
scheduled registries to their queues once a second. The same loop runs here in a thread:
the same locks (one scheduler per queue at a time across all workers), the same heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time

from rq.scheduler import RQScheduler

from app import redis_refusal
from app.wiring import Hotline

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 1  # RQ's own default: due jobs are queued within about a second
RETAKE_SECONDS = 5.0  # a standby tries for the locks this often (RQ's own fallback waits 10 minutes)


def run_scheduler(hotline: Hotline, stop: threading.Event, interval: float = INTERVAL_SECONDS) -> None:
    """Move due scheduled jobs to their queues until ``stop`` is set; Redis errors are logged and retried."""
    scheduler = RQScheduler(hotline.jobs.queues, connection=hotline.jobs.redis, interval=int(interval))
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
