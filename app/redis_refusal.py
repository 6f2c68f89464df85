"""A Redis that answers but refuses writes: what it said, why, and the fix; the one place for this rule.

PING works on a Redis that is full under ``maxmemory-policy noeviction`` (the README's deployment), on a
read-only replica, and on one that stopped writes after a failed snapshot: every write the hotline and RQ
send is refused (``OOM``, ``READONLY``, ``MISCONF``, ``NOREPLICAS``; a MULTI then ends in ``EXECABORT`` for
the same reason, and a Redis turned into a replica ends RQ's wait for a job with ``UNBLOCKED``). For the
hotline that is Redis being down: SQL keeps the work and the watchdog runs it
(``workers.watchdog``). Any other error Redis answers (``WRONGTYPE``, an unknown command) is a bug and is
not one of these.

``Notice`` logs a refusal once per process, with the fix, and once more when Redis takes writes again,
instead of a traceback each second from each RQ worker of ``hotline worker``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import ExecAbortError, OutOfMemoryError, ReadOnlyError, ResponseError

log = logging.getLogger(__name__)
PROBE_KEY = "hotline:write-probe"  # of the hotline's own namespace; it expires by itself
PROBE_TTL_MS = 10_000

# Redis's error code: (what it means, the fix)
CAUSES = {
    "OOM": ("Redis is full (used memory > maxmemory, and noeviction or nothing it may evict)",
            "give Redis more memory (CONFIG SET maxmemory, or redis.conf), or free what else fills it; "
            "keep maxmemory-policy noeviction"),
    "READONLY": ("REDIS_URL names a read-only replica",
                 "point REDIS_URL at the primary (after a failover, the new one), or make this one a primary "
                 "(REPLICAOF NO ONE)"),
    "MISCONF": ("Redis stopped taking writes after a snapshot (RDB) failed to save (stop-writes-on-bgsave-error)",
                "free the disk or fix the permissions of Redis's dir (Redis's own log says why the save failed)"),
    "NOREPLICAS": ("Redis has fewer replicas in sync than min-replicas-to-write asks",
                   "bring its replicas back, or lower min-replicas-to-write"),
    # a worker's wait for a job (BLPOP) when its Redis is turned into a replica: the READONLY of blocked clients
    "UNBLOCKED": ("Redis was turned into a replica (REPLICAOF) while RQ waited on it for a job",
                  "point REDIS_URL at the primary (after a failover, the new one), or make this one a primary "
                  "(REPLICAOF NO ONE)"),
    "MASTERDOWN": ("REDIS_URL names a replica that lost its primary (replica-serve-stale-data no)",
                   "point REDIS_URL at the primary"),
}


@dataclass(frozen=True)
class Refusal:
    """Why Redis refused a write: its error code and its own words."""

    code: str
    said: str

    @property
    def cause(self) -> str:
        """What the refusal means for the operator."""
        return CAUSES[self.code][0]

    @property
    def fix(self) -> str:
        """What makes Redis take writes again."""
        return CAUSES[self.code][1]

    def describe(self) -> str:
        """One line: the cause and Redis's own words (no key, no value: it may be shown on /healthz)."""
        return f"{self.cause}: {self.code} {self.said}"


def refusal(exc: BaseException | None) -> Refusal | None:
    """The refusal ``exc`` is (or that aborted the transaction it ended), or None for any other error."""
    seen = 0
    while exc is not None and seen < 5:  # an EXECABORT's cause is the error it was raised from, or its context
        code = _code(exc)
        if code in CAUSES:
            return Refusal(code, _said(exc, code))
        if not isinstance(exc, ExecAbortError):
            return None
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def refuses(exc: BaseException) -> bool:
    """Whether ``exc`` is Redis refusing writes (full, a replica, a failed snapshot), not a bug."""
    return refusal(exc) is not None


def _code(exc: BaseException) -> str:
    if isinstance(exc, OutOfMemoryError):
        return "OOM"
    if isinstance(exc, ReadOnlyError):
        return "READONLY"
    if not isinstance(exc, ResponseError):
        return ""
    code = getattr(exc, "status_code", None) or str(exc).split(" ", 1)[0]
    if code == "EXECABORT" or isinstance(exc, ExecAbortError):  # "discarded because of: OOM ..." on some versions
        return next((name for name in CAUSES if f"{name} " in str(exc)), "")
    return code if code in CAUSES else ""


def _said(exc: BaseException, code: str) -> str:
    """Redis's words without a pipeline's annotation (which names the command and its keys) or a script's sha."""
    text = str(exc).split(" caused error: ", 1)[-1].split(" script: ", 1)[0].strip()
    text = text.split(f"{code} ", 1)[-1] if text.startswith(f"{code} ") else text
    return text.rstrip(".")


def write_refused(redis: Redis) -> Refusal | None:
    """Probe with a write (a SET of the hotline's own key, expiring by itself): the refusal, or None when it took.

    Raises whatever else fails (Redis down, a time-out): the caller treats that as Redis not answering.
    """
    try:
        redis.set(PROBE_KEY, "1", px=PROBE_TTL_MS)
    except ResponseError as exc:
        found = refusal(exc)
        if found is None:
            raise
        return found
    return None


class Notice:
    """Logs a refusal once (with the fix) until Redis takes writes again, then says so once."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self.log = logger
        self._lock = threading.Lock()
        self.current: Refusal | None = None

    def refused(self, found: Refusal) -> None:
        """Redis refused a write: the first refusal is logged, the rest are not until Redis takes writes again.

        ``UNBLOCKED`` only says the server changed role; the ``READONLY`` that follows says what it is now."""
        with self._lock:
            if self.current is not None or found.code == "UNBLOCKED":
                return
            self.current = found
        self.log.error("Redis refuses writes: %s. Fix: %s. Meanwhile the watchdog runs due steps and pages from SQL "
                       "as for a Redis that is down, and RQ resumes once Redis takes writes again",
                       found.describe(), found.fix)

    def took_writes(self) -> None:
        """A write succeeded: a refusal logged before has ended."""
        with self._lock:
            ended, self.current = self.current, None
        if ended is not None:
            self.log.warning("Redis takes writes again (it had refused them: %s); RQ resumes", ended.code)


NOTICE = Notice()  # this process's: every RQ worker, the scheduler, the watchdog and the hand-over report to it


def note(exc: BaseException) -> bool:
    """When ``exc`` is a refusal, tell ``NOTICE`` (logged once) and return True; False for any other error."""
    found = refusal(exc)
    if found is not None:
        NOTICE.refused(found)
    return found is not None
