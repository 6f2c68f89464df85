"""Twilio's account rates, kept across every worker: calls per second and SMS per second.

Each send reserves a slot in time from a shared schedule (GCRA: the next slot is the later
of now and the last slot plus 1/rate) in Redis, so two workers on two hosts never send in
the same slot. A slot orders and times the sends; the send itself then claims its instant
(:meth:`SendRate.claim`: 1/rate after the last send of any process), so sends whose jobs ran
late together (a scheduler pass, a watchdog takeover, Twilio back after an outage) still leave
1/rate apart instead of all at once on their past slots. A reservation belongs to an owner (a
page's id and attempt): asking again gives the same slot back, so a page put off until its slot, then run by RQ and by a
watchdog at once, still uses one slot. When Redis does not answer, the slots come from
this process alone (each worker then keeps the rate by itself; with N workers the account
may see N times the rate until Redis is back, and Twilio queues calls beyond its CPS).
Nothing waits forever: a slot is never further away than the sends reserved before it.
Every time here is the hotline's clock (``Pacer.clock``: the reference clock every process follows,
``app.reference_clock``), never a host's own: slots are absolute times shared in Redis, so a host 150 s fast
booked slots 150 s ahead and every other worker's page waited behind them.

Sends that are not pages to reps (the customer's receipt, updates, proposals, reminders,
missed-call notices), and pages of rescued reports without recorded details (``app.services.unproven_reports``:
an outside probe's flood of 40 spoofed hang-ups after triage held a real customer's voice page back 41 s), share the
account's rates but give way to pages (:meth:`Pacer.give_way`):
they take a slot only when one is free at once, so a burst of updates never books the schedule
ahead of the next page; past ``GIVE_WAY_AT_MOST`` they queue for a slot like a page, so they are
not held back for good.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from redis import Redis

from app import redis_refusal
from app.queue import REDIS_PAUSE_SECONDS, RedisPause

log = logging.getLogger(__name__)
CALLS, SMS = "calls", "sms"
OWNER_TTL_SECONDS = 600  # how long a reservation is remembered for its owner
NO_HORIZON = 1e9  # a page takes the next free slot however far off it is
# A send that gives way to pages (``Pacer.give_way``) stops giving way once it has waited this long
# since it was written: then it queues for its slot like a page.
GIVE_WAY_AT_MOST = timedelta(seconds=60)
# KEYS: the schedule's last slot, the owner's reservation. ARGV: now, 1/rate, ttl, the furthest slot to
# take (seconds from now). Floats as strings: a Lua number returned to Redis is cut to an integer. A slot
# further off than ARGV[4] is returned with a "-" in front and not taken.
_RESERVE = """
local held = redis.call('GET', KEYS[2])
if held then return held end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(tonumber(ARGV[1]), last + tonumber(ARGV[2]))
local text = string.format('%.6f', slot)
if slot > tonumber(ARGV[1]) + tonumber(ARGV[4]) then return '-' .. text end
redis.call('SET', KEYS[1], text, 'EX', ARGV[3])
redis.call('SET', KEYS[2], text, 'EX', ARGV[3])
return text
"""

# KEYS: the last send's instant. ARGV: now, 1/rate, slack, ttl. The send's instant is the later of now and the last
# send's plus 1/rate; taken (and kept as the last send) when at most ``slack`` seconds away, else "-" in front.
_CLAIM = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(tonumber(ARGV[1]), last + tonumber(ARGV[2]))
local text = string.format('%.6f', at)
if at > tonumber(ARGV[1]) + tonumber(ARGV[3]) then return '-' .. text end
redis.call('SET', KEYS[1], text, 'EX', ARGV[4])
return text
"""
LOOK = -1.0  # a claim's slack that never takes: when the next send may leave


class SendRate:
    """Reserves send slots at ``per_second[kind]`` across all processes sharing ``redis``."""

    def __init__(self, redis: Redis | None, scope: str, per_second: dict[str, float],
                 pause: RedisPause | None = None) -> None:
        self.redis = redis
        self.scope = scope  # QUEUE_NAME and account: the deployment whose sends share the rate
        self.per_second = dict(per_second)
        self._script = redis.register_script(_RESERVE) if redis is not None else None
        self._claim_script = redis.register_script(_CLAIM) if redis is not None else None
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._sent: dict[str, float] = {}
        self._held: dict[tuple[str, str], float] = {}
        self.pause = pause or RedisPause()  # a send never waits on a Redis that just failed

    def reserve(self, kind: str, owner: str, now: datetime) -> datetime:
        """The time ``owner`` may send a ``kind`` (CALLS or SMS): now, or a later free slot."""
        slot, _taken = self.reserve_within(kind, owner, now, NO_HORIZON)
        return slot

    def reserve_within(self, kind: str, owner: str, now: datetime, seconds: float) -> tuple[datetime, bool]:
        """``owner``'s slot if it held one or the next free slot is at most ``seconds`` away: (slot, True);
        otherwise (the next free slot, False), and nothing is reserved."""
        rate = self.per_second.get(kind, 0)
        if rate <= 0:  # no limit configured for this kind
            return now, True
        at = now.timestamp()
        try:
            if self._script is None or self.pause.active():
                raise ConnectionError("no Redis")
            keys = [f"hotline:rate:{self.scope}:{kind}", f"hotline:rate:{self.scope}:{kind}:{owner}"]
            answer = self._script(keys=keys, args=[f"{at:.6f}", f"{1.0 / rate:.6f}", OWNER_TTL_SECONDS,
                                                   f"{seconds:.6f}"])
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            slot, taken = float(text.lstrip("-")), not text.startswith("-")
        except Exception as exc:  # noqa: BLE001 - Redis down: pace this process alone rather than not at all
            self._redis_failed(exc)
            slot, taken = self._reserve_here(kind, owner, at, 1.0 / rate, seconds)
        return datetime.fromtimestamp(slot, UTC), taken

    def claim(self, kind: str, now: datetime, slack: float) -> tuple[datetime, bool]:
        """The instant of a send about to leave: the later of ``now`` and the last send's plus 1/rate, across every
        process. (instant, True) when it is at most ``slack`` seconds away: it is now the last send; else
        (instant, False), nothing taken (``slack=LOOK`` only looks)."""
        rate = self.per_second.get(kind, 0)
        if rate <= 0:
            return now, True
        at, interval = now.timestamp(), 1.0 / rate
        try:
            if self._claim_script is None or self.pause.active():
                raise ConnectionError("no Redis")
            answer = self._claim_script(keys=[f"hotline:rate:{self.scope}:{kind}:sent"],
                                        args=[f"{at:.6f}", f"{interval:.6f}", f"{slack:.6f}", OWNER_TTL_SECONDS])
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            instant, taken = float(text.lstrip("-")), not text.startswith("-")
        except Exception as exc:  # noqa: BLE001 - Redis down: this process keeps the spacing alone
            self._redis_failed(exc)
            with self._lock:
                instant = max(at, self._sent.get(kind, 0.0) + interval)
                taken = instant <= at + slack
                if taken:
                    self._sent[kind] = instant
        return datetime.fromtimestamp(instant, UTC), taken

    def _redis_failed(self, exc: Exception) -> None:
        """Pause Redis for this process; said once per pause, and a refusal (full, a replica) once for the process."""
        if self.pause.failed() and not redis_refusal.note(exc):
            log.warning("send rate: Redis unavailable (%s); pacing in this process for %gs", type(exc).__name__,
                        REDIS_PAUSE_SECONDS)

    def _reserve_here(self, kind: str, owner: str, at: float, interval: float, seconds: float) -> tuple[float, bool]:
        with self._lock:
            held = self._held.get((kind, owner))
            if held is not None:
                return held, True
            slot = max(at, self._last.get(kind, 0.0) + interval)
            if slot > at + seconds:
                return slot, False
            self._last[kind] = slot
            if len(self._held) > 10_000:
                self._held.clear()
            self._held[(kind, owner)] = slot
            return slot, True


_waiting = threading.local()
# A thread that may not sleep for its slot (the main worker, the watchdog) takes one this close, and sleeps at most
# this long for its send's instant: putting a page off costs at least a scheduler pass (~1 s) and a job.
NO_WAIT_SLACK_SECONDS = 0.25
CLAIM_SLACK_SECONDS = 0.001  # a send's instant is taken this early at most (floats, timers that wake a hair early)


def may_wait(allowed: bool = True) -> None:
    """Let the calling thread sleep for its send slots (the page threads of ``hotline worker``, tests)."""
    _waiting.allowed = allowed


class Pacer:
    """Waits for a reserved slot, up to ``max_wait`` seconds here; a slot further away is the caller's to put off."""

    def __init__(self, rate: SendRate, clock, sleep=None, max_wait: float = 2.0) -> None:
        self.rate, self.clock, self.max_wait = rate, clock, max_wait
        self.sleep = sleep or time.sleep

    def turn(self, kind: str, owner: str) -> datetime | None:
        """Wait for ``owner``'s slot and return the time to send at; None (no wait) when it is over ``max_wait`` away.

        Only a thread marked with :func:`may_wait` (a page thread) sleeps for a slot: the main worker
        also runs the steps and the watchdog must not stall, so they put the page off instead (they sleep
        ``NO_WAIT_SLACK_SECONDS`` at most, for the send's instant).
        """
        now = self.clock.now()
        slot = self.rate.reserve(kind, owner, now)
        allowed = getattr(_waiting, "allowed", False)
        wait = (slot - now).total_seconds()
        if wait > (self.max_wait if allowed else NO_WAIT_SLACK_SECONDS):
            return None
        if allowed and wait > 0:
            self.sleep(wait)
            now = max(self.clock.now(), slot)
        at, taken = self._claim(kind, self.max_wait if allowed else NO_WAIT_SLACK_SECONDS, now)
        return at if taken else None

    def _claim(self, kind: str, budget: float | None, now: datetime) -> tuple[datetime, bool]:
        """Claim the send's instant (:meth:`SendRate.claim`), sleeping for it within ``budget`` seconds (None:
        however long): (the time to send at, True), or (the instant, False) when it is further off.

        After a sleep the time is at least what it slept to, as after :meth:`turn`'s: a clock that did not move
        meanwhile (the demo's movable clock, a test's) must not keep the thread asleep for ever."""
        while True:
            now = max(self.clock.now(), now)
            at, taken = self.rate.claim(kind, now, CLAIM_SLACK_SECONDS)
            if taken:
                return now, True
            wait = (at - now).total_seconds()
            if budget is not None and wait > budget:
                return at, False
            self.sleep(wait)
            now = at
            if budget is not None:
                budget -= wait

    def slot(self, kind: str, owner: str) -> datetime:
        """When ``owner`` may send: its slot (the same one :meth:`turn` gave or will give), or, when that has
        passed, the instant the next send may leave (1/rate after the last)."""
        now = self.clock.now()
        at, _ = self.rate.claim(kind, now, LOOK)
        return max(self.rate.reserve(kind, owner, now), at)

    def give_way(self, kind: str, owner: str, due_since: datetime,
                 at_most: timedelta = GIVE_WAY_AT_MOST) -> datetime | None:
        """For a send that is not a page to a rep (a receipt, an update, a notice), or a page of a report without
        recorded details (``unproven_reports``; it gives way for ``at_most``): None to send now, else the time
        to try again.

        It takes a slot only when one is free within ``NO_WAIT_SLACK_SECONDS`` (sleeping that long at most), so
        pages never find the schedule booked ahead of them by such sends; put off, it is tried again
        when the schedule frees up. Once it has been due for ``at_most`` it reserves its
        slot in line like a page and is put off until that slot (which stays its own), if not now.
        """
        now = self.clock.now()
        if now - due_since >= at_most:
            slot, taken = self.rate.reserve(kind, owner, now), True
        else:
            slot, taken = self.rate.reserve_within(kind, owner, now, NO_WAIT_SLACK_SECONDS)
        if taken and (slot - now).total_seconds() <= NO_WAIT_SLACK_SECONDS:
            at, sent = self._claim(kind, NO_WAIT_SLACK_SECONDS, now)
            return None if sent else at
        return slot

    def wait(self, kind: str, owner: str) -> datetime:
        """Wait for ``owner``'s slot however far (a send that cannot be put off); returns the time to send at."""
        now = self.clock.now()
        slot = self.rate.reserve(kind, owner, now)
        if slot > now:
            self.sleep((slot - now).total_seconds())
            now = max(self.clock.now(), slot)
        return self._claim(kind, None, now)[0]
