"""Run the hotline's back office in one process: watchdog, RQ worker and phone network."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from rq.utils import now as rq_now

from app.services import leases
from app.wiring import Hotline
from hotline_sim.network import PhoneNetwork
from workers import watchdog
from workers.consuming import StoppableWorker

WORKER_STAND_IN = "backoffice"  # the lease holder name of the in-process back office


def stand_in_for_worker(hotline: Hotline, ttl: timedelta = timedelta(days=30)) -> None:
    """The in-process back office stands for a running `hotline worker`: its watchdog's lease is held (for ``ttl``
    of the simulated clock), so what tells callers whether a worker runs (``app.watchdog_state``: the IVR's
    live-wait offer) sees one, as in a deployment with workers running."""
    with hotline.db.transaction() as session:
        leases.hold(session, leases.WATCHDOG, WORKER_STAND_IN, hotline.clock.now(), ttl)


def settle(hotline: Hotline, network: PhoneNetwork, rounds: int = 30) -> None:
    """Do everything due now, until nothing moves (the watchdog stands in for RQ's scheduler)."""
    for _ in range(rounds):
        handed, queued = work(hotline)
        before = len(network.webhooks)
        network.run()
        if not handed and not queued and len(network.webhooks) == before:
            return
    raise RuntimeError("the back office did not settle")


def work(hotline: Hotline) -> tuple[int, int]:
    """One round of the watchdog and the worker (no phone network): returns the jobs handed over and queued."""
    with _takeover_expected():
        handed = watchdog.sweep(hotline)
    queued = hotline.jobs.waiting()
    if not queued:  # a worker's burst on empty queues only registers it and its death in Redis (about 8 ms)
        return handed, queued
    worker = StoppableWorker(hotline.jobs.queues, connection=hotline.jobs.redis)
    # RQ cleans its registries when a worker starts, and this one starts on every round (about 8 ms, a tenth of
    # a round's RQ work): a one-process back office with no other worker has nothing there to clean up after
    worker.last_cleaned_at = rq_now()
    worker.work(burst=True, logging_level="WARNING")
    return handed, queued


class _NotLate(logging.Filter):
    """Drops the watchdog's "jobs still not done ... running them here": after the simulated clock jumps ahead,
    what fell due meanwhile is run by this sweep by design (no RQ scheduler runs beside it), not late."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.msg.startswith("%d jobs still not done")


@contextmanager
def _takeover_expected():
    quiet = _NotLate()
    watchdog.log.addFilter(quiet)
    try:
        yield
    finally:
        watchdog.log.removeFilter(quiet)
