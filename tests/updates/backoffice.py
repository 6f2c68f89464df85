"""Running the back office to rest on the in-memory phone network (no scripted phones to play)."""

from __future__ import annotations

from workers import watchdog
from workers.consuming import StoppableWorker


def settle(hotline) -> None:
    """Sweep and work the queue until nothing is handed over or queued (at most 20 rounds)."""
    for _ in range(20):
        handed = watchdog.sweep(hotline)
        queued = hotline.jobs.waiting()
        StoppableWorker(hotline.jobs.queues, connection=hotline.jobs.redis).work(burst=True, logging_level="WARNING")
        if not handed and not queued:
            return
    raise AssertionError("did not settle")
