"""One line a minute, not one a second, for a fault the worker keeps retrying (a Redis that stays down).

Each RQ worker of ``hotline worker`` (the main one and the page threads) notices a stop request within a
second, so it also retries a dead Redis every second, and the scheduler thread does too: a Redis down for an
hour wrote about 31,000 log lines (172 in 20 s, measured), drowning the few that say what the hotline does
meanwhile (the watchdog running due work here). ``install`` puts a ``RepeatFilter`` on the loggers that
retry: the first line of each kind goes out at once, the same line again only after ``INTERVAL_SECONDS``,
with how many like it were held back. A fault that ends within the minute would leave its count untold, and
the log would not say how long it lasted: the watchdog's pass (``held_back``) writes what was held back of
each kind once ``QUIET_SECONDS`` went by without another like it, and the stop writes the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

INTERVAL_SECONDS = 60.0
QUIET_SECONDS = 5.0  # this long without another line of its kind: the retries of it have ended
RETRYING_LOGGERS = ("rq.worker", "workers.scheduler", "workers.page_threads")


class RepeatFilter(logging.Filter):
    """Passes a record unless one of the same kind passed less than ``interval`` seconds ago.

    A kind is the logger, the message's format string and its arguments (RQ's worker name, the error, an
    exception's type): each worker's retries count apart, a line naming a job is never held back for
    another job's, and a new kind of fault always goes out. Only warnings and errors are held back (RQ's
    line for each job it starts is INFO), and never one with a traceback: each is a failure of its own.
    """

    def __init__(self, interval: float = INTERVAL_SECONDS, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self._now = now
        # kind -> (when one last passed, held back since, when the last one was held back, the last one held back)
        self._last: dict[Hashable, tuple[float, int, float, logging.LogRecord | None]] = {}
        self._lock = threading.Lock()  # the page threads, the scheduler and the main worker log; the watchdog tells

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or record.exc_info:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        kind = (record.name, str(record.msg), tuple(str(arg) for arg in args))
        with self._lock:
            return self._count(kind, record)

    def _count(self, kind: Hashable, record: logging.LogRecord) -> bool:
        now = self._now()
        passed, held, _, _ = self._last.get(kind, (float("-inf"), 0, 0.0, None))
        if now - passed < self.interval:
            self._last[kind] = (passed, held + 1, now, record)
            return False
        if held:
            record.msg = f"{record.msg} [{held} more like this in the last {now - passed:.0f} s not shown]"
        self._last[kind] = (now, 0, 0.0, None)
        if len(self._last) > 1024:  # worker names change with each restart of RQ's loop: forget the oldest
            for stale in sorted(self._last, key=lambda k: self._last[k][0])[:512]:
                del self._last[stale]
        return True


    def held_back(self, quiet: float | None = QUIET_SECONDS) -> list[tuple[str, str]]:
        """(logger name, line) for each kind with lines held back and none for ``quiet`` seconds (None: every
        kind with lines held back), saying how many and over how long; those counts start again from zero."""
        now, out = self._now(), []
        with self._lock:
            for kind, (passed, held, last_held, record) in list(self._last.items()):
                if held and record is not None and (quiet is None or now - last_held >= quiet):
                    out.append((record.name, f"{record.getMessage()} [{held} more like this in the "
                                             f"{last_held - passed:.0f} s after it not shown; the last "
                                             f"{now - last_held:.0f} s ago]"))
                    self._last[kind] = (passed, 0, 0.0, None)
        return out


class Repeats:
    """The filter on the retrying loggers (``install``): ``tell`` writes what it held back of faults that ended."""

    def __init__(self, interval: float = INTERVAL_SECONDS) -> None:
        self.filter = RepeatFilter(interval)
        self.loggers = [logging.getLogger(name) for name in RETRYING_LOGGERS]

    def tell(self, quiet: float | None = QUIET_SECONDS) -> None:
        """Write, past the filter, the counts held back of each kind quiet for ``quiet`` seconds (None: all)."""
        for name, line in self.filter.held_back(quiet):
            logger = logging.getLogger(name)
            if logger.isEnabledFor(logging.WARNING):  # a line of its own kind: the filter lets it pass
                logger.handle(logging.LogRecord(name, logging.WARNING, __file__, 0, line, (), None))

    def remove(self) -> None:
        """Write every count still held back, then take the filter off."""
        self.tell(None)
        for logger in self.loggers:
            logger.removeFilter(self.filter)


def install(interval: float = INTERVAL_SECONDS) -> Repeats:
    """Hold back repeated lines of the retrying loggers; ``Repeats.remove`` takes the filter off again."""
    repeats = Repeats(interval)
    for logger in repeats.loggers:
        logger.addFilter(repeats.filter)
    return repeats
