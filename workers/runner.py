"""``hotline worker``: an RQ worker with its scheduler, plus the watchdog loop."""

from __future__ import annotations

import logging
import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker

from app.services import leases
from app.wiring import Hotline
from workers import context, watchdog

log = logging.getLogger(__name__)
RELEASE_WAIT_SECONDS = 10.0  # at most this long for the watchdog to finish its pass and let go
REDIS_RETRY_SECONDS = 1.0  # RQ's own back-off grows to 60 s; after a Redis restart we want jobs at once


def run_worker(hotline: Hotline, burst: bool = False) -> None:
    """Run jobs from the hotline queue until stopped (or until empty with ``burst``)."""
    context.use(hotline)
    stop = threading.Event()
    guard: threading.Thread | None = None
    if not burst:
        interval = watchdog.interval_seconds()  # a bad HOTLINE_WATCHDOG_SECONDS fails here, at start
        guard = threading.Thread(target=_watch, args=(hotline, stop, interval), name="watchdog", daemon=True)
        guard.start()
    else:
        watchdog.sweep(hotline)
    try:
        _work(hotline, burst)
    finally:
        stop.set()
        if guard is not None:
            # a daemon thread dies with the interpreter: wait, so the lease is released at once
            guard.join(timeout=RELEASE_WAIT_SECONDS)


def _work(hotline: Hotline, burst: bool) -> None:
    """RQ's work loop, started again when Redis goes away (the watchdog runs due work meanwhile)."""
    while True:
        # SimpleWorker runs jobs in this process: no fork under the watchdog thread and the
        # pooled database connections; every job is short and bounded by telephony time-outs.
        try:
            worker = SimpleWorker([hotline.jobs.queue], connection=hotline.jobs.redis)  # talks to Redis already
            worker.max_connection_wait_time = REDIS_RETRY_SECONDS
            worker.work(with_scheduler=True, burst=burst)
            return
        except (RedisConnectionError, RedisTimeoutError) as exc:
            if burst:
                raise
            log.warning("Redis went away (%s); the watchdog runs due work until it is back", type(exc).__name__)
            time.sleep(REDIS_RETRY_SECONDS)


def _watch(hotline: Hotline, stop: threading.Event, interval: float) -> None:
    holder = watchdog.instance_name()
    ttl = watchdog.lease_ttl(interval)
    while True:
        wait = interval
        try:
            watchdog.tick(hotline, holder, ttl)
            wait = watchdog.next_wake(hotline, interval, redis_ok=watchdog.redis_up(hotline))
        except Exception:  # noqa: BLE001 - the loop must outlive a bad pass; it is logged
            log.exception("watchdog pass failed")
        if stop.wait(wait):
            break
    try:
        with hotline.db.transaction() as session:
            leases.release(session, leases.WATCHDOG, holder, hotline.clock.now())
    except Exception:  # noqa: BLE001 - the database may be the thing that is down; the lease then expires
        log.exception("could not release the watchdog lease")
