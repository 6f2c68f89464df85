"""Page sends in parallel: RQ workers on the first and telephony queues, each in a thread of ``hotline worker``.

A page send is a short transaction, one HTTP request to Twilio and another short transaction:
it waits on the network, not on the CPU. So one process runs several of them at once instead
of forking a worker per send. Each thread is an RQ ``SimpleWorker`` of its own (registered,
with heartbeats, so RQ's registries and the watchdog's "already queued" check are unchanged);
the process's main worker serves every queue, first pages first, so it helps when the threads are busy.
Half the threads serve only the first pages (``PageThreads.first_only``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.timeouts import BaseDeathPenalty

from app import redis_refusal
from app.settings import SettingsError
from app.telephony.rate import may_wait
from app.wiring import Hotline
from workers.consuming import ReportingWorker

log = logging.getLogger(__name__)
THREADS = 4  # sends in flight per worker process, besides its main worker
THREADS_ENV = "HOTLINE_PAGE_THREADS"
MAX_THREADS = 32
RETRY_SECONDS = 1.0


def thread_count(env: Mapping[str, str] | None = None) -> int:
    """HOTLINE_PAGE_THREADS when set (0 turns the threads off), else THREADS; SettingsError if unusable."""
    raw = (os.environ if env is None else env).get(THREADS_ENV, "").strip()
    if not raw:
        return THREADS
    if not raw.isdecimal() or int(raw) > MAX_THREADS:
        raise SettingsError(THREADS_ENV, f"must be a whole number from 0 to {MAX_THREADS}, not {raw!r}.",
                            f"leave it empty ({THREADS}), or write the number alone, e.g. {THREADS_ENV}={THREADS}")
    return int(raw)


class _Unbounded(BaseDeathPenalty):
    """No job time-out: SIGALRM works in the main thread only, and a send is bounded by the Twilio client's."""

    def setup_death_penalty(self) -> None:
        """Nothing to arm."""

    def cancel_death_penalty(self) -> None:
        """Nothing to disarm."""


class ThreadWorker(ReportingWorker):
    """An RQ SimpleWorker that can run in a thread other than the main one."""

    death_penalty_class = _Unbounded

    def _install_signal_handlers(self) -> None:
        """Signals reach the main thread only; the runner handles them (``workers.stop_signals``)."""

    def procline(self, message: str) -> None:
        """Leave the process title to the main worker."""


class PageThreads:
    """``count`` threads, each an RQ worker on the first and page queues; stopped (after their sends) with the process."""

    def __init__(self, hotline: Hotline, count: int) -> None:
        self.hotline = hotline
        self.workers: list[ThreadWorker | None] = [None] * count  # each thread's RQ worker now
        # Half of them (rounded down) serve the FIRST queue alone: in an outage's burst the other threads
        # sleep for the voice pages' call slots (up to the pacer's max_wait each), and a first page must
        # not wait for one of them to wake.
        self.first_only = count // 2
        self.threads = [threading.Thread(target=self._serve, args=(i,), name=f"pages-{i}", daemon=True)
                        for i in range(count)]
        self._stop = threading.Event()

    def start(self) -> PageThreads:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, wait_seconds: float = 10.0) -> None:
        """Stop taking pages and wait (bounded) for the threads: the sends in flight record their outcome,
        and every thread has signed off from Redis before the process stops its embedded server."""
        self.request_stop()
        deadline = time.monotonic() + wait_seconds
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def request_stop(self) -> None:
        """Every thread's RQ worker ends its loop after the send in hand, and no thread starts another."""
        self._stop.set()
        for worker in list(self.workers):
            if worker is not None:
                worker._stop_requested = True  # RQ's request_stop raises in the caller when the worker is idle

    def _serve(self, index: int) -> None:
        may_wait()  # a page thread sleeps for its slot in the account's rate; the main worker puts pages off
        # RQ's work loop also ends by itself (a Redis error outside its dequeue is "unhandled, quitting"):
        # until the process stops, a thread starts a new worker rather than leave the page queue short.
        jobs = self.hotline.jobs
        connection = jobs.worker_connection()  # RQ's long BLPOP time-out stays on this thread's pool
        while not self._stop.is_set():
            try:
                queues = [jobs.first_queue] if index < self.first_only else jobs.sending_queues
                worker = ThreadWorker(queues, connection=connection)
                self.workers[index] = worker  # one per thread: an outage's retries start a new one each second
                if self._stop.is_set():  # set after this loop's look at it: request_stop may not have seen it
                    worker._stop_requested = True
                worker.work(logging_level="WARNING")
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if not self._stop.is_set():  # a stopped thread's sign-off fails the same way on a dead Redis
                    log.warning("page thread: Redis went away (%s); retrying", type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - a thread that dies quietly would halve the sends in flight
                if redis_refusal.note(exc):  # full, or a replica: told once for the process, with the fix
                    self._stop.wait(RETRY_SECONDS)
                    continue
                log.exception("page thread failed; starting it again")
            self._stop.wait(RETRY_SECONDS)
