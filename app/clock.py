"""The one clock seam: everything that needs 'now' asks a Clock.

``SystemClock`` is this machine's clock. ``SharedClock``, the clock every ``hotline`` command runs on, starts on it;
once it has read the deployment's reference clock (``app.reference_clock``: PostgreSQL's, shared by every process)
it follows that instead, so a host whose clock is off neither runs a step before its time nor books the account's
send slots ahead of the others.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

# A process clock further than this from the reference is reported: the worker's log, /healthz, `hotline check`.
SKEW_BOUND_SECONDS = 2.0
# A new reading that would move now back by less than this holds now still until time catches up (now never goes
# back within a process); one further back is a clock that ran fast, and now steps back to the reference at once:
# holding it would keep the process ahead, running steps early.
HOLD_AT_MOST_SECONDS = 1.0


class Clock(Protocol):
    """Returns the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Reading:
    """One measurement of this process's clock against the reference clock."""

    source: str  # "PostgreSQL" or "Redis"
    reference: float  # the reference's time (Unix seconds), taken as the middle of the round trip
    monotonic: float  # time.monotonic() at that middle
    offset: float  # the reference minus this process's own clock, in seconds (negative: this clock is ahead)
    round_trip: float  # seconds; the reading is right within half of it

    def describe(self) -> str:
        """``150.012 s ahead of PostgreSQL's clock`` (or behind)."""
        return f"{abs(self.offset):.3f} s {'ahead of' if self.offset < 0 else 'behind'} {self.source}'s clock"


class SystemClock:
    """This machine's clock."""

    def now(self) -> datetime:
        """Current aware UTC time."""
        return datetime.now(UTC)


class SharedClock:
    """The time every process of a deployment shares: this machine's clock (``own``) until it follows a reading
    of the reference clock, then the reference's time, counted on the monotonic clock from that reading."""

    def __init__(self, own: Clock | None = None) -> None:
        self.own: Clock = own or SystemClock()
        self.reading: Reading | None = None
        self._last = float("-inf")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Current aware UTC time (the reference's once read); never earlier than an earlier answer of this clock."""
        with self._lock:
            self._last = max(self._last, self._unheld())
            return datetime.fromtimestamp(self._last, UTC)

    def follow(self, reading: Reading) -> float:
        """Keep the reference's time from ``reading`` on (a later step of the machine's clock does not move it);
        returns how far this moved now, in seconds (negative: back)."""
        with self._lock:
            before = max(self._last, self._unheld())
            self.reading = reading
            after = self._unheld()
            if after < before - HOLD_AT_MOST_SECONDS:
                self._last = after  # a fast clock: back to the reference at once
            return after - before

    def _unheld(self) -> float:
        if self.reading is None:
            return self.own.now().timestamp()
        return self.reading.reference + (time.monotonic() - self.reading.monotonic)
