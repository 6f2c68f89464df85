"""A database outage in the log: one ERROR when it begins, a reminder at most once a minute, one line when it ends.

While PostgreSQL is down every pass of each worker's watchdog, every job that meets it and every caller of each web
host failed with a full chained traceback (the SQL text and its parameters in it): an outside probe's workers wrote
about 1,000 lines a minute each, and a web host two 120-line tracebacks per caller it kept in the spool, so an
operator alerting on ``ERROR`` lines (README, *Logs*) got hundreds of alerts about work that was kept, and a real
loss (``LOST ...``) was buried among them. The work waits and nothing is lost: the callers are in the spool and the
due steps are rows the watchdog runs once the database is back. So a failure that only says the database cannot be
reached (``app.db.unreachable``) is *noted* here (``Outage.note``) instead of logged with its traceback: the first
one of an outage is one ERROR line for the process, the rest are counted and told again at most once a minute
(``REPEAT_SECONDS``), and the first transaction to commit or the first new connection afterwards writes one line
that it is back. Each process has its own (``Database.outage``), as a process has its own log.

``reason`` words the cause for an operator (and /healthz, which anyone can read): a few fixed words, never the
driver's message, which can hold the host, the user or the URL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from app import db_time_limit

log = logging.getLogger(__name__)
REPEAT_SECONDS = 60.0  # an outage that goes on is told again at most this often per process

# a driver message's words (lower case) -> the reason said; the first that matches wins
_WORDS = (
    (("password authentication failed", "authentication failed", "no pg_hba.conf entry", "role \""),
     "authentication failed"),
    (("too many clients", "too many connections", "remaining connection slots are reserved"), "too many connections"),
    (("connection refused",), "connection refused"),
    (("the database system is starting up", "the database system is shutting down",
      "the database system is in recovery mode", "terminating connection due to administrator command"),
     "server starting up or shutting down"),
    (("could not translate host name", "name or service not known", "nodename nor servname"), "host name not found"),
    (("canceling statement due to statement timeout", "canceling statement due to lock timeout"),
     "a statement ran out of time (a lock or an overloaded server)"),
    (("database is locked",), "database locked by another connection"),
    (("server closed the connection unexpectedly", "connection already closed", "ssl syscall error: eof detected",
      "pooled connection is closed", "closed this pooled connection", "could not receive data from server",
      "connection is closed", "connection reset by peer"), "connection lost"),
)


def reason(exc: BaseException, *, spent: bool = False, connect_seconds: float | None = None) -> str:
    """A few safe words for why the database could not be used: connection refused, authentication failed, too many
    connections, no answer within N s, ... or ``other (ClassName)``; never the driver's message (the host, the user,
    a password in a URL). ``spent``: the request's time limit cut its database work off (``db_time_limit.spent``);
    ``connect_seconds``: the connect time-out in force, for libpq's "timeout expired"."""
    if spent:
        return "no answer within this request's time limit"
    chain, seen = [], exc
    while seen is not None and len(chain) < 5:  # SQLAlchemy's wrapper, the driver's error it wraps, their causes
        chain.append(seen)
        seen = getattr(seen, "orig", None) or seen.__cause__
    said = " ".join(str(error) for error in chain).lower()
    if "timeout expired" in said:  # libpq's connect_timeout ran out
        return f"no answer within {connect_seconds:g} s" if connect_seconds else "no answer in time"
    for words, why in _WORDS:
        if any(word in said for word in words):
            return why
    return f"other ({type(chain[-1]).__name__})"


class Outage:
    """This process's view of whether the database can be reached, and the few log lines that tell it."""

    def __init__(self, now: Callable[[], datetime], elapsed: Callable[[], float] = time.monotonic,
                 connect_seconds: float | None = None) -> None:
        self._now = now  # the app's clock: when the outage began
        self._elapsed = elapsed  # a monotonic clock: how often it is told
        self.connect_seconds = connect_seconds
        self.since: datetime | None = None  # None: reachable (as far as this process knows)
        self._started = 0.0
        self._failures = 0
        self._told = False  # a line of this outage was written (so its end is told too)
        self._last_told = float("-inf")
        self._lock = threading.Lock()

    def note(self, exc: BaseException) -> str:
        """A piece of work failed only because the database cannot be reached: the first of an outage is an ERROR
        line, the rest are counted and told at most once every REPEAT_SECONDS. The reason's words, for the
        caller's own line."""
        why = reason(exc, spent=db_time_limit.spent(), connect_seconds=self.connect_seconds)
        with self._lock:
            if self.since is None:
                self.since, self._started, self._failures, self._told = self._now(), self._elapsed(), 0, False
            self._failures += 1
            if self._elapsed() - self._last_told < REPEAT_SECONDS:
                return why
            first, self._told, self._last_told = not self._told, True, self._elapsed()
            since, failures = f"{self.since:%Y-%m-%d %H:%M:%S} UTC", self._failures
        if first:
            log.error("database unreachable since %s (%s): callers go to the emergency spool, due steps wait; "
                      "said again at most once a minute while it lasts, and when it is back", since, why)
        else:
            log.error("database still unreachable since %s (%s; %d failures in this process so far): callers go to "
                      "the emergency spool, due steps wait", since, why, failures)
        return why

    def over(self) -> None:
        """The database answered (a commit, a new connection): if an outage was on, say once that it is back."""
        if self.since is None:  # the common case: no lock, nothing to say
            return
        with self._lock:
            if self.since is None:
                return
            since, told, failures = self.since, self._told, self._failures
            lasted = self._elapsed() - self._started
            self.since = None
        if told:
            log.warning("database reachable again after %.0f s (unreachable since %s UTC, %d failures in this "
                        "process); the spooled records are replayed by the leading watchdog", lasted,
                        f"{since:%Y-%m-%d %H:%M:%S}", failures)


def failed(outage: Outage | None, logger: logging.Logger, exc: BaseException, message: str, *args) -> None:
    """Log ``message`` for a failure ``exc``: with its traceback at ERROR, unless it only says the database cannot be
    reached (``app.db.unreachable``); then the outage notes it and ``message`` goes at DEBUG, the work waiting for
    the database (the one rule for every "X failed" of the web hosts and workers)."""
    from app.db import unreachable  # app.db builds each Database's Outage

    if outage is None or not unreachable(exc):
        logger.error(message, *args, exc_info=exc, stacklevel=2)
        return
    why = outage.note(exc)
    logger.debug(message + " (database unreachable: %s)", *args, why, stacklevel=2)
