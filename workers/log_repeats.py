"""One line a minute, not one a second, for a fault the worker keeps retrying (a Redis that stays down).

Each RQ worker of ``hotline worker`` (the main one and the page threads) notices a stop request within a
second, so it also retries a dead Redis every second, and the scheduler thread does too: a Redis down for an
hour wrote about 31,000 log lines (172 in 20 s, measured), drowning the few that say what the hotline does
meanwhile (the watchdog running due work here). ``install`` puts a ``RepeatFilter`` on the loggers that
retry: the first line of each kind goes out at once, the same line again only after ``INTERVAL_SECONDS``,
with how many like it were held back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

INTERVAL_SECONDS = 60.0
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
        self._last: dict[Hashable, tuple[float, int]] = {}  # kind -> (when one last passed, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or record.exc_info:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        kind = (record.name, str(record.msg), tuple(str(arg) for arg in args))
        now = self._now()
        passed, held = self._last.get(kind, (float("-inf"), 0))
        if now - passed < self.interval:
            self._last[kind] = (passed, held + 1)
            return False
        if held:
            record.msg = f"{record.msg} [{held} more like this in the last {now - passed:.0f} s not shown]"
        self._last[kind] = (now, 0)
        if len(self._last) > 1024:  # worker names change with each restart of RQ's loop: forget the oldest
            for stale in sorted(self._last, key=lambda k: self._last[k][0])[:512]:
                del self._last[stale]
        return True


def install(interval: float = INTERVAL_SECONDS) -> Callable[[], None]:
    """Hold back repeated lines of the retrying loggers; returns what takes the filter off again."""
    repeat = RepeatFilter(interval)
    loggers = [logging.getLogger(name) for name in RETRYING_LOGGERS]
    for logger in loggers:
        logger.addFilter(repeat)

    def remove() -> None:
        for logger in loggers:
            logger.removeFilter(repeat)
    return remove
