"""The service objects one running hotline shares, built once per app or worker."""

from __future__ import annotations

from dataclasses import dataclass

from app.clock import Clock, Reading, SharedClock
from app.db import Database
from app.queue import JobQueue, connect_redis
from app.reference_clock import ClockSync, ReferenceClock
from app.settings import Settings
from app.telephony import Telephony, telephony_for
from app.telephony.rate import CALLS, SMS, Pacer, SendRate


@dataclass
class Hotline:
    """Settings, database, clock, queue and phone network of one running hotline."""

    settings: Settings
    db: Database
    clock: Clock
    jobs: JobQueue
    telephony: Telephony
    pacer: Pacer | None = None  # the account's call and SMS rates (None with simulated telephony)
    clock_sync: ClockSync | None = None  # keeps a SharedClock on the reference clock (None: a test's own clock)

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
        clock = clock or SharedClock()
        reference = ReferenceClock.of(db, jobs.redis, jobs.pause) if isinstance(clock, SharedClock) else None
        sync = ClockSync(clock, reference) if reference is not None else None
        db.clock = clock  # when log lines are written (incident_events.written_at)
        db.settings = settings  # what a service with only a session must know of them (deliveries.email_can_leave)
        db.jobs = jobs  # whether a worker runs, for a service with only a session (watchdog_state.worker_runs)
        queue = jobs
        db.dispatch = lambda pending: queue.dispatch(pending, clock.now())  # the unit of work's after-commit
        pacer = None
        if not settings.simulated_telephony:
            rate = SendRate(jobs.redis, f"{settings.queue_name}:{settings.twilio_account_sid}",
                            {CALLS: settings.twilio_calls_per_second, SMS: settings.twilio_sms_per_second},
                            pause=jobs.pause)  # one view per process of whether Redis just failed
            pacer = Pacer(rate, clock)
        return cls(settings=settings, db=db, clock=clock, jobs=jobs,
                   telephony=telephony or telephony_for(settings), pacer=pacer, clock_sync=sync)

    def keep_reference_time(self) -> Reading | None:
        """Read the deployment's reference clock now and keep its time from here on (``app.reference_clock``): a
        worker at its start, every other command before it reads now (a web process reads it at its first
        request). An offset over the bound is logged as an error naming it. The reading, or None: no reference
        (a test's own clock), or it did not answer (the host's clock then, as logged)."""
        return self.clock_sync.sync() if self.clock_sync is not None else None
