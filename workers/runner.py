"""``hotline worker``: an RQ worker on every queue, page threads, the scheduler and the watchdog, in one process."""

from __future__ import annotations

import logging
import threading

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app import db_outage, db_time_limit, redis_refusal, worker_presence
from app.malloc_arenas import share_one_arena
from app.services import leases
from app.wiring import Hotline
from workers import context, log_repeats, page_threads, watchdog
from workers.consuming import ReportingWorker
from workers.scheduler import start_scheduler
from workers.stop_signals import StopSignals

log = logging.getLogger(__name__)
RELEASE_WAIT_SECONDS = 10.0  # at most this long for the watchdog to finish its pass and let go
REDIS_RETRY_SECONDS = 1.0  # between RQ loops while Redis is down: after a Redis restart we want jobs at once


class MainWorker(ReportingWorker):
    """The process's main RQ worker, on every queue; SIGTERM and SIGINT are the runner's (``StopSignals``)."""

    def _install_signal_handlers(self) -> None:
        """RQ's handlers would stay bound to this worker after its loop ends (see ``workers.stop_signals``)."""


def run_worker(hotline: Hotline, burst: bool = False) -> None:
    """Run jobs from the hotline's queues until stopped (or until they are empty with ``burst``)."""
    signals = StopSignals()
    with signals.installed():  # from the start: a signal while the threads start is kept, not lost
        _run(hotline, burst, signals)


def _run(hotline: Hotline, burst: bool, signals: StopSignals) -> None:
    share_one_arena()  # before the page threads, the scheduler and the watchdog start
    if not burst:  # a bad setting fails here, at start, before anything below changes this process
        interval = watchdog.interval_seconds()  # HOTLINE_WATCHDOG_SECONDS
        count = page_threads.thread_count()  # HOTLINE_PAGE_THREADS
    db_time_limit.limit_background()  # no thread of the worker waits for ever on a server that stopped answering
    hotline.keep_reference_time()  # before any thread acts on time
    context.use(hotline)
    stop = threading.Event()
    guard: threading.Thread | None = None
    senders: page_threads.PageThreads | None = None
    scheduler: threading.Thread | None = None
    presence: threading.Thread | None = None
    repeats = log_repeats.install()  # a Redis down for an hour: a line a minute per worker, not one a second
    if not burst:
        presence = worker_presence.keep_announcing(hotline.jobs.redis, hotline.jobs.name, watchdog.instance_name(),
                                                   lambda: hotline.clock.now().timestamp(), stop)
        guard = threading.Thread(target=_watch, args=(hotline, stop, interval, repeats), name="watchdog", daemon=True)
        guard.start()
        scheduler = start_scheduler(hotline, stop)
        senders = page_threads.PageThreads(hotline, count).start()
    try:
        if burst:
            watchdog.sweep(hotline)
        _work(hotline, burst, signals)
    finally:
        stop.set()
        if senders is not None:
            senders.stop(RELEASE_WAIT_SECONDS)  # let the sends in flight record their outcome
        for thread in (guard, scheduler, presence):
            if thread is not None:
                # a daemon thread dies with the interpreter: wait, so the lease and locks are released at once
                thread.join(timeout=RELEASE_WAIT_SECONDS)
        if presence is not None:
            _withdraw(hotline)
        db_time_limit.limit_background(None)  # for a caller that goes on in this process (tests, burst runs)
        repeats.remove()


def _withdraw(hotline: Hotline) -> None:
    """This worker stops: /healthz and `hotline check` no longer count it alive."""
    try:
        worker_presence.withdraw(hotline.jobs.redis, hotline.jobs.name, watchdog.instance_name())
    except Exception:  # noqa: BLE001 - Redis away: its entry goes stale within worker_presence.FRESH
        log.debug("could not withdraw this worker's presence", exc_info=True)


def _work(hotline: Hotline, burst: bool, signals: StopSignals) -> None:
    """RQ's work loop, started again when Redis goes away (the watchdog runs due work meanwhile), until a signal."""
    connection = hotline.jobs.worker_connection()  # RQ's long BLPOP time-out stays on this pool
    while not signals.requested:
        if _attempt(hotline, burst, signals, connection):
            return
        signals.wait(REDIS_RETRY_SECONDS)


def _attempt(hotline: Hotline, burst: bool, signals: StopSignals, connection) -> bool:
    """One RQ worker's loop; True when it ended for good (a stop, or the end of a burst)."""
    # SimpleWorker runs jobs in this process: no fork under the watchdog thread and the
    # pooled database connections; every job is short and bounded by telephony time-outs.
    # Queues in order: pages first, then steps, then slow work (helpdesk webhooks, e-mail).
    # RQ's scheduler runs in a thread (workers/scheduler.py), not in a forked child.
    try:
        worker = MainWorker(hotline.jobs.queues, connection=connection)  # talks to Redis already
        with signals.serving(worker):
            worker.work(with_scheduler=burst, burst=burst)
    except (RedisConnectionError, RedisTimeoutError, ResponseError) as exc:
        refused = isinstance(exc, ResponseError)
        if burst or (refused and not redis_refusal.note(exc)):  # WRONGTYPE, an unknown command: a bug, not Redis
            raise
        if signals.requested:  # the stopped loop's sign-off failed on the dead Redis: not a reason to go on
            return True
        if not refused:  # a refusal (full, a replica) was told once, with its fix
            log.warning("Redis went away (%s); the watchdog runs due work until it is back", type(exc).__name__)
        return False
    if burst or signals.requested or worker._stop_requested or worker._shutdown_requested_date is not None:
        return True
    # RQ quits its loop on a Redis error outside its dequeue ("unhandled exception, quitting"):
    # no signal asked this one to stop, so work on
    log.warning("the RQ worker loop ended by itself; starting it again")
    return False


def _watch(hotline: Hotline, stop: threading.Event, interval: float, repeats: log_repeats.Repeats) -> None:
    holder = watchdog.instance_name()
    ttl = watchdog.lease_ttl(interval)
    failures = 0
    while True:
        try:
            watchdog.tick(hotline, holder, ttl)
            wait = watchdog.next_wake(hotline, interval, redis_ok=watchdog.redis_up(hotline))
            failures = 0
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a bad pass; it is logged
            db_outage.failed(hotline.db.outage, log, exc, "watchdog pass failed")  # the database down: one line
            failures += 1
            wait = watchdog.wait_after_failures(failures, interval)
        repeats.tell()  # how long a fault that ended lasted, in the lines held back of it
        if stop.wait(wait):
            break
    try:
        with hotline.db.transaction() as session:
            leases.release(session, leases.WATCHDOG, holder, hotline.clock.now())
            leases.release(session, watchdog.telephony_lease(hotline.settings), holder, hotline.clock.now())
    except Exception as exc:  # noqa: BLE001 - the database may be the thing that is down; the lease then expires
        db_outage.failed(hotline.db.outage, log, exc, "could not release the watchdog lease")
