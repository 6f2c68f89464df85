"""Run the hotline's back office in one process: watchdog, RQ worker and phone network."""

from __future__ import annotations

from rq import SimpleWorker

from app.wiring import Hotline
from hotline_sim.network import PhoneNetwork
from workers import watchdog


def settle(hotline: Hotline, network: PhoneNetwork, rounds: int = 30) -> None:
    """Do everything due now, until nothing moves (the watchdog stands in for RQ's scheduler)."""
    for _ in range(rounds):
        handed = watchdog.sweep(hotline)
        queued = hotline.jobs.waiting()
        SimpleWorker(hotline.jobs.queues, connection=hotline.jobs.redis).work(burst=True, logging_level="WARNING")
        before = len(network.webhooks)
        network.run()
        if not handed and not queued and len(network.webhooks) == before:
            return
    raise RuntimeError("the back office did not settle")
