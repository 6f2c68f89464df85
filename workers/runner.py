"""``hotline worker``: an RQ worker with its scheduler, plus the watchdog loop."""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker

from app.services import leases
from app.wiring import Hotline
from workers import context, watchdog

log = logging.getLogger(__name__)


def run_worker(hotline: Hotline, burst: bool = False) -> None:
    """Run jobs from the hotline queue until stopped (or until empty with ``burst``)."""
    context.use(hotline)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_watch, args=(hotline, stop), name="watchdog", daemon=True).start()
    else:
        watchdog.sweep(hotline)
    try:
        # SimpleWorker runs jobs in this process: no fork under the watchdog thread and the
        # pooled database connections; every job is short and bounded by telephony time-outs.
        SimpleWorker([hotline.jobs.queue], connection=hotline.jobs.redis).work(with_scheduler=True, burst=burst)
    finally:
        stop.set()


def _watch(hotline: Hotline, stop: threading.Event) -> None:
    holder = watchdog.instance_name()
    while True:
        try:
            if watchdog.tick(hotline, holder) is None:
                log.debug("watchdog standby: another instance holds the lease")
        except Exception:  # noqa: BLE001 - the loop must outlive a bad pass; it is logged
            log.exception("watchdog pass failed")
        if stop.wait(watchdog.INTERVAL_SECONDS):
            break
    with hotline.db.transaction() as session:
        leases.release(session, leases.WATCHDOG, holder, hotline.clock.now())
