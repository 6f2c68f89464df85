"""``hotline worker``: an RQ worker with its scheduler, plus the watchdog loop."""

from __future__ import annotations

import logging
import threading

from rq import Worker

from app.wiring import Hotline
from workers import context, watchdog

log = logging.getLogger(__name__)
WATCHDOG_SECONDS = 15.0


def run_worker(hotline: Hotline, burst: bool = False) -> None:
    """Run jobs from the hotline queue until stopped (or until empty with ``burst``)."""
    context.use(hotline)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_watch, args=(hotline, stop), name="watchdog", daemon=True).start()
    else:
        watchdog.sweep(hotline)
    try:
        Worker([hotline.jobs.queue], connection=hotline.jobs.redis).work(with_scheduler=True, burst=burst)
    finally:
        stop.set()


def _watch(hotline: Hotline, stop: threading.Event) -> None:
    while not stop.wait(WATCHDOG_SECONDS):
        try:
            watchdog.sweep(hotline)
        except Exception:  # noqa: BLE001 - the loop must outlive a bad pass; it is logged
            log.exception("watchdog pass failed")
