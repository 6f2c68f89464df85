"""SIGTERM and SIGINT in ``hotline worker``: one request to stop, kept by the process rather than by an RQ worker.

RQ's worker installs its own handlers when its loop starts, bound to that worker object, and leaves them
installed when its loop ends. The runner starts a new RQ worker each time Redis goes away, and while Redis
is down no new one gets as far as installing its own: a SIGTERM reached a worker whose loop was over, or
raised its ``StopRequested`` into a loop whose teardown then failed on the dead Redis, and that error read
as "Redis went away" to the runner, which went on retrying. Two workers whose Redis had been down for half
an hour outlived SIGTERM (systemd's SIGKILL then left the watchdog lease held until its TTL).

Here the request is a flag of the process: the runner checks it around every attempt, and the RQ worker
whose loop runs now is told to stop after the job in hand (or at once when it has none, as RQ does).
A second signal a second or more after the first stops the process at once (RQ's "cold shutdown").
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rq.exceptions import StopRequested
from rq.worker import BaseWorker, WorkerStatus

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGINT)
REPEAT_SECONDS = 1.0  # a second signal sooner is the same request (a terminal's Ctrl+C reaches a process group)


class StopSignals:
    """The process's request to stop, set by SIGTERM or SIGINT while ``installed``; read by the runner.

    The handler waits on no lock the main thread may hold when the signal lands (a ``threading.Event``'s
    would deadlock): it sets a flag, flags the RQ worker serving now, and, while ``armed``, raises
    ``StopRequested`` unless a job runs.
    """

    def __init__(self) -> None:
        self.requested = False
        self._first_at = 0.0
        self._armed = False  # StopRequested may be raised in the main thread: the runner's loop catches it
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

    @contextmanager
    def armed(self) -> Iterator[None]:
        """In the block a first signal raises ``StopRequested`` where no job runs; the caller catches it."""
        self._armed = True
        try:
            yield
        finally:
            self._armed = False

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
            worker._stop_requested = True  # RQ's loop ends after the job in hand
            if worker.get_state() == WorkerStatus.BUSY:
                log.warning("%s: stopping after the job in hand (a second %s stops at once)", name, name)
                return
        log.warning("%s: stopping", name)
        if self._armed:
            raise StopRequested  # out of RQ's wait for a job (or the runner's wait to retry) at once
