"""The service objects one running hotline shares, built once per app or worker."""

from __future__ import annotations

from dataclasses import dataclass

from app.clock import Clock, SystemClock
from app.db import Database
from app.queue import JobQueue, connect_redis
from app.settings import Settings
from app.telephony import Telephony, telephony_for


@dataclass
class Hotline:
    """Settings, database, clock, queue and phone network of one running hotline."""

    settings: Settings
    db: Database
    clock: Clock
    jobs: JobQueue
    telephony: Telephony

    @classmethod
    def build(
        cls,
        settings: Settings | None = None,
        clock: Clock | None = None,
        jobs: JobQueue | None = None,
        telephony: Telephony | None = None,
    ) -> Hotline:
        """Wire the pieces from settings; tests pass their own clock, queue or telephony."""
        settings = settings or Settings.from_env()
        settings.prepare_data_dir()
        db = Database(settings.resolved_database_url)
        if jobs is None:
            jobs = JobQueue(connect_redis(settings), settings.queue_name)
        clock = clock or SystemClock()
        queue = jobs
        db.dispatch = lambda pending: queue.dispatch(pending, clock.now())  # the unit of work's after-commit
        return cls(settings=settings, db=db, clock=clock, jobs=jobs,
                   telephony=telephony or telephony_for(settings))
