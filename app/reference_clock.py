"""The reference clock all processes of a deployment share, and keeping each process's ``SharedClock`` on it.

The reference is PostgreSQL's ``clock_timestamp()`` (the database every host shares); on SQLite, which has no
clock of its own, the Redis server's ``TIME``; neither answering, the process keeps the last reading it had (or
its own clock, never having read one). A reading takes the best of ``SAMPLES`` round trips on one connection:
the reference's time is taken as the middle of the round trip, so it is right within half of that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import text

from app.clock import SKEW_BOUND_SECONDS, Clock, Reading, SharedClock
from app.queue import RedisPause

if TYPE_CHECKING:
    from redis import Redis

    from app.db import Database

log = logging.getLogger(__name__)
SAMPLES = 3
MAX_ROUND_TRIP_SECONDS = 0.5  # a reading less sure than ±0.25 s is not taken (the last one stays)
REFRESH_SECONDS = 30.0  # a web process reads the reference again at most this often (a worker at each watchdog pass)
FIRST_WAIT_SECONDS = 0.25  # a request waits at most this long for its process's first reading, later ones never
_EPOCH = text("SELECT extract(epoch FROM clock_timestamp())")


class ReferenceClock:
    """Reads the reference clock of a deployment: ``name`` and a way to open a connection that reads it."""

    def __init__(self, name: str, opener: Callable[[], AbstractContextManager[Callable[[], float]]]) -> None:
        self.name, self._opener = name, opener

    @classmethod
    def of(cls, db: Database, redis: Redis | None, pause: RedisPause | None = None) -> ReferenceClock | None:
        """PostgreSQL's clock on PostgreSQL, the Redis server's on SQLite (not asked while ``pause``, the process's
        view of a Redis that just failed, lasts), None without either."""
        if db.engine.dialect.name == "postgresql":
            return cls("PostgreSQL", lambda: _postgres(db))
        if redis is not None:
            return cls("Redis", lambda: _redis(redis, pause or RedisPause()))
        return None

    def read(self, own: Clock, samples: int = SAMPLES) -> Reading | None:
        """This machine's clock ``own`` against the reference: the sample with the shortest round trip, or None
        when even that one took longer than ``MAX_ROUND_TRIP_SECONDS``. Raises when the reference does not answer."""
        best: Reading | None = None
        with self._opener() as read:
            for _ in range(samples):
                started, mine = time.monotonic(), own.now().timestamp()
                reference = read()
                trip = time.monotonic() - started
                if best is None or trip < best.round_trip:
                    best = Reading(self.name, reference, started + trip / 2, reference - (mine + trip / 2), trip)
        return best if best is not None and best.round_trip <= MAX_ROUND_TRIP_SECONDS else None


@contextmanager
def _postgres(db: Database) -> Iterator[Callable[[], float]]:
    with db.engine.connect() as conn:
        yield lambda: float(conn.execute(_EPOCH).scalar_one())


@contextmanager
def _redis(redis: Redis, pause: RedisPause) -> Iterator[Callable[[], float]]:
    def read() -> float:
        if pause.active():  # a frozen Redis must not hold a watchdog pass a time-out long each time
            raise ConnectionError("Redis failed moments ago")
        try:
            seconds, micros = redis.time()
        except Exception:
            pause.failed()
            raise
        return seconds + micros / 1e6

    yield read


class ClockSync:
    """Keeps ``clock`` on ``reference``: :meth:`sync` at a worker's start and each watchdog pass, :meth:`lazily`
    from a web request. A reading that fails keeps the last one (nothing waits on it); an offset over
    ``SKEW_BOUND_SECONDS`` is logged, and again whenever it moves by more than that."""

    def __init__(self, clock: SharedClock, reference: ReferenceClock, every: float = REFRESH_SECONDS) -> None:
        self.clock, self.reference, self.every = clock, reference, every
        self._read_at: float | None = None  # time.monotonic() of the last attempt
        self._logged: float | None = None  # the offset last logged as over the bound
        self._failing = False  # the last reading failed (logged once until one succeeds)
        self._running: threading.Thread | None = None
        self._lock = threading.Lock()

    def sync(self) -> Reading | None:
        """Read the reference now and follow it; the reading taken, or None (the last one, if any, stays)."""
        self._read_at = time.monotonic()
        try:
            reading = self.reference.read(self.clock.own)
        except Exception as exc:  # noqa: BLE001 - the reference is down: keep the last offset, never block on it
            reading, why = None, type(exc).__name__
        else:
            why = f"its answers took over {MAX_ROUND_TRIP_SECONDS:g} s"
        if reading is None:
            if not self._failing:
                log.warning("could not read %s's clock (%s); keeping %s", self.reference.name, why,
                            f"the offset read before ({self.clock.reading.offset:+.3f} s)" if self.clock.reading
                            else "this host's clock")
            self._failing = True
            return None
        first, self._failing = self.clock.reading is None, False
        moved = self.clock.follow(reading)
        self._tell(reading, moved, first)
        return reading

    def lazily(self) -> None:
        """Read the reference in a thread of its own when the last reading is older than ``every`` seconds; wait
        for it only the first time, and ``FIRST_WAIT_SECONDS`` at most."""
        with self._lock:
            due = self._read_at is None or time.monotonic() - self._read_at >= self.every
            if not due or (self._running is not None and self._running.is_alive()):
                return
            first = self._read_at is None
            self._read_at = time.monotonic()
            self._running = threading.Thread(target=self.sync, name="clock-sync", daemon=True)
            self._running.start()
        if first:
            self._running.join(FIRST_WAIT_SECONDS)

    def state(self) -> dict:
        """This process's offset to the reference, for /healthz."""
        reading = self.clock.reading
        return {"reference": self.reference.name,
                "offset_seconds": round(reading.offset, 3) if reading else None,
                "round_trip_ms": round(reading.round_trip * 1000, 1) if reading else None}

    def _tell(self, reading: Reading, moved: float, first: bool) -> None:
        if first:
            log.info("this host's clock is %s (round trip %.1f ms); this process keeps %s's time", reading.describe(),
                     reading.round_trip * 1000, reading.source)
        if abs(reading.offset) > SKEW_BOUND_SECONDS:
            if self._logged is None or abs(reading.offset - self._logged) > SKEW_BOUND_SECONDS:
                self._logged = reading.offset
                log.error("this host's clock is %s (over %g s): this process keeps %s's time instead, %s s "
                          "moved; fix NTP on this host", reading.describe(), SKEW_BOUND_SECONDS,
                          reading.source, f"{moved:+.3f}")
        elif self._logged is not None:
            self._logged = None
            log.warning("this host's clock is back within %g s of %s's (%s)", SKEW_BOUND_SECONDS, reading.source,
                        reading.describe())


def skew_warning(offset: float | None, who: str, reference: str) -> str | None:
    """The warning for an offset over the bound (``who``: "this web process", "worker host:123"), else None."""
    if offset is None or abs(offset) <= SKEW_BOUND_SECONDS:
        return None
    direction = "ahead of" if offset < 0 else "behind"
    return (f"the clock of {who} is {abs(offset):.1f} s {direction} {reference}'s clock (the bound is "
            f"{SKEW_BOUND_SECONDS:g} s): it keeps the reference's time, so steps and pages stay on time, but fix NTP "
            "on that host")


# QUEUE_NAME -> a hash: each worker's offset to the reference at its last watchdog pass ("<offset> <unix time>"),
# which /healthz reads: a worker's own clock is not the web process's
OFFSETS_KEY = "hotline:clock-offsets:{}"
OFFSETS_TTL_SECONDS = 3600
OFFSETS_FRESH_SECONDS = 60  # a worker passes at least every 15 s: an older offset is a worker that stopped


def announce_offset(redis: Redis, queue_name: str, holder: str, offset: float, at: float) -> None:
    """Worker ``holder``'s clock is ``offset`` seconds off the reference (reference minus its own), as of ``at``."""
    key = OFFSETS_KEY.format(queue_name)
    with redis.pipeline(transaction=False) as pipe:
        pipe.hset(key, holder, f"{offset:.3f} {at:.0f}")
        pipe.expire(key, OFFSETS_TTL_SECONDS)
        pipe.execute()


def offsets_announced(redis: Redis, queue_name: str, since: float) -> dict[str, float]:
    """Each worker's offset announced at ``since`` or later, by holder."""
    found: dict[str, float] = {}
    for holder, value in redis.hgetall(OFFSETS_KEY.format(queue_name)).items():
        offset, _, at = value.decode().partition(" ")
        if float(at) >= since:
            found[holder.decode()] = float(offset)
    return found
