"""Worker processes of a deployment, driven by a fake clock the way ``workers.runner`` drives them.

Each live watchdog passes at the same instants the real loop would (``watchdog.next_wake``);
after each pass the RQ workers (when alive and Redis answers) work the queue in burst mode,
without a scheduler, and the phone network plays whatever Twilio accepted. Nothing sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workers import watchdog
from workers.consuming import StoppableWorker


@dataclass
class Backoffice:
    """The workers' watchdogs and RQ loops, and the phone network, on one fake clock."""

    hotline: object
    network: object
    clock: object
    holders: list[str] = field(default_factory=lambda: ["worker-1", "worker-2"])
    rq_alive: bool = True  # False: no RQ worker takes jobs (dead scheduler and workers backing off)
    interval: float = watchdog.INTERVAL_SECONDS
    passes: list[datetime] = field(default_factory=list)

    def step(self) -> None:
        """One pass of every live watchdog at the current instant, then RQ, then the phones."""
        for holder in self.holders:
            watchdog.tick(self.hotline, holder)
        if self.rq_alive and watchdog.redis_up(self.hotline):
            StoppableWorker(self.hotline.jobs.queues, connection=self.hotline.jobs.redis).work(
                burst=True, logging_level="WARNING")
        self.network.run()
        self.passes.append(self.clock.now())

    def run_until(self, until: datetime, max_passes: int = 2000) -> None:
        """Pass, sleep as long as the watchdog would, pass again ... until the clock reaches ``until``."""
        for _ in range(max_passes):
            self.step()
            now = self.clock.now()
            if now >= until:
                return
            wait = watchdog.next_wake(self.hotline, self.interval, redis_ok=watchdog.redis_up(self.hotline))
            self.clock.set(min(until, now + timedelta(seconds=wait)))
        raise AssertionError("the back office did not reach the end time")
