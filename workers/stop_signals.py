"""SIGTERM and SIGINT in ``hotline worker``: one request to stop, kept by the process rather than by an RQ worker.

RQ's worker installs its own handlers when its loop starts, bound to that worker object, and leaves them
installed when its loop ends. The runner starts a new RQ worker each time Redis goes away, and while Redis
is down no new one gets as far as installing its own: a SIGTERM reached a worker whose loop was over, or
raised its ``StopRequested`` into a loop whose teardown then failed on the dead Redis, and that error read
as "Redis went away" to the runner, which went on retrying. Two workers whose Redis had been down for half
an hour outlived SIGTERM (systemd's SIGKILL then left the watchdog lease held until its TTL).

Here the request is a flag of the process: the runner checks it around every attempt, and the RQ worker
whose loop runs now is told to stop after the job in hand; an idle one notices within a second
(``workers.consuming.StoppableWorker``). Nothing is raised into the main thread for a first signal: a
``StopRequested`` raised wherever the signal found it was swallowed where code catches every exception
(the logging module's emit printed "--- Logging error ---" and went on; redis-py's retry of a dead
Redis) and the process outlived the signal. A second signal a second or more after the first stops the
process at once (RQ's "cold shutdown").
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rq.worker import BaseWorker, WorkerStatus

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)
REPEAT_SECONDS = 1.0  # a second signal sooner is the same request (a terminal's Ctrl+C reaches a process group)
POLL_SECONDS = 0.1  # ``StopSignals.wait`` looks at the request this often


class StopSignals:
    """The process's request to stop, set by SIGTERM or SIGINT while ``installed``; read by the runner.

    The handler waits on no lock the main thread may hold when the signal lands (a ``threading.Event``'s
    would deadlock) and raises nothing for a first signal: it sets a flag and flags the RQ worker serving now.
    """

    def __init__(self) -> None:
        self.requested = False
        self._first_at = 0.0
        self._serving: BaseWorker | None = None

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """SIGTERM and SIGINT handled here for the block, the previous handlers back after it.

        Outside the main thread (a test running the worker in a thread) nothing is installed: only the
        main thread receives signals.
        """
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
        for signum in SIGNALS:
            signal.signal(signum, self._handle)
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a stop is requested meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(POLL_SECONDS, left))

    @contextmanager
    def serving(self, worker: BaseWorker) -> Iterator[None]:
        """``worker``'s loop runs in the block: a stop request ends it after its job in hand."""
        self._serving = worker
        try:
            if self.requested:  # asked before this worker existed
                worker._stop_requested = True
            yield
        finally:
            self._serving = None

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if self.requested:
            if time.monotonic() - self._first_at < REPEAT_SECONDS:
                return
            log.warning("%s again: stopping now, without waiting for the job in hand", name)
            raise SystemExit(0)
        self.requested, self._first_at = True, time.monotonic()
        worker = self._serving
        if worker is not None:
            worker._stop_requested = True  # RQ's loop ends after the job in hand, or within a second when idle
            if worker.get_state() == WorkerStatus.BUSY:
                log.warning("%s: stopping after the job in hand (a second %s stops at once)", name, name)
                return
        log.warning("%s: stopping", name)
