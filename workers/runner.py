"""``hotline worker``: an RQ worker with its scheduler, plus the watchdog loop."""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker

from app.services import leases
from app.wiring import Hotline
from workers import context, watchdog

log = logging.getLogger(__name__)
RELEASE_WAIT_SECONDS = 10.0  # at most this long for the watchdog to finish its pass and let go


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
        # SimpleWorker runs jobs in this process: no fork under the watchdog thread and the
        # pooled database connections; every job is short and bounded by telephony time-outs.
        SimpleWorker([hotline.jobs.queue], connection=hotline.jobs.redis).work(with_scheduler=True, burst=burst)
    finally:
        stop.set()
        if guard is not None:
            # a daemon thread dies with the interpreter: wait, so the lease is released and a
            # standby takes over at once instead of after LEASE_TTL
            guard.join(timeout=RELEASE_WAIT_SECONDS)


def _watch(hotline: Hotline, stop: threading.Event, interval: float) -> None:
    holder = watchdog.instance_name()
    ttl = watchdog.lease_ttl(interval)
    while True:
        try:
            if watchdog.tick(hotline, holder, ttl) is None:
                log.debug("watchdog standby: another instance holds the lease")
        except Exception:  # noqa: BLE001 - the loop must outlive a bad pass; it is logged
            log.exception("watchdog pass failed")
        if stop.wait(interval):
            break
    with hotline.db.transaction() as session:
        leases.release(session, leases.WATCHDOG, holder, hotline.clock.now())
