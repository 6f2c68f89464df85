"""Which `hotline worker` processes are alive now, for /healthz and `hotline check`.

Each worker announces itself beside its queues every ``EVERY`` seconds from a thread of its own, not from the
watchdog's pass (a hanging Twilio or a Redis outage can make a pass long), so a worker killed or frozen is seen
within ``FRESH`` seconds. The watchdog's lease lapses only 30 s after its last pass, and RQ keeps a SIGKILLed
worker's registration for minutes: an outside probe's /healthz said "ok" for 45 s, and `hotline check` "3 RQ
worker(s) listen" for as long as it looked, with no worker process alive, while due steps waited.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from redis import Redis

log = logging.getLogger(__name__)

# QUEUE_NAME -> a hash: each worker (its lease holder name, host:pid) -> the unix time it last said it is alive
PRESENCE_KEY = "hotline:workers-alive:{}"
EVERY = 2.0  # seconds between a worker's announcements
FRESH = 10.0  # a worker not heard of for longer is dead or frozen (five announcements missed)
FORGET = 3600.0  # entries older than this are deleted (a worker's name is host:pid: restarts add new ones)
PRUNE_EVERY = 60  # announcements between two prunings


def announce(redis: Redis, queue_name: str, holder: str, at: float, prune: bool = False) -> None:
    """Worker ``holder`` is alive at unix time ``at``; with ``prune``, entries older than ``FORGET`` go."""
    key = PRESENCE_KEY.format(queue_name)
    with redis.pipeline(transaction=False) as pipe:
        pipe.hset(key, holder, f"{at:.1f}")
        pipe.expire(key, int(FORGET))
        pipe.execute()
    if prune:
        old = [name for name, seen in redis.hgetall(key).items() if float(seen) < at - FORGET]
        if old:
            redis.hdel(key, *old)


def withdraw(redis: Redis, queue_name: str, holder: str) -> None:
    """Worker ``holder`` stops: it is no longer alive (a clean stop is not a worker gone silent)."""
    redis.hdel(PRESENCE_KEY.format(queue_name), holder)


def seen(redis: Redis, queue_name: str) -> dict[str, float] | None:
    """Each worker that announced itself and when (unix time); None when none ever did on these queues (workers of
    a version before this one, or none started yet): the callers fall back to the lease alone then."""
    found = redis.hgetall(PRESENCE_KEY.format(queue_name))
    if not found:
        return None
    return {name.decode(): float(at) for name, at in found.items()}


def alive(announced: dict[str, float], now: float) -> set[str]:
    """The workers of ``announced`` (``seen``) heard of within ``FRESH`` seconds of ``now``."""
    return {name for name, at in announced.items() if at >= now - FRESH}


def last_heard(announced: dict[str, float], now: float) -> float | None:
    """Seconds since any worker of ``announced`` was last heard of (None for none)."""
    return round(now - max(announced.values()), 1) if announced else None


def watchdog_running(lease: dict, alive_now: set[str] | None, listening: bool, handover: float) -> bool:
    """Whether a watchdog runs, from its lease (``leases.status``) and the workers alive now (``alive``; None when
    unknown: Redis down, or workers that do not announce themselves): its holder alive, or the lease changing hands
    (held, or lapsed at most ``handover`` seconds ago) while another worker lives to take it. Unknown, the lease
    alone says it (changing hands while RQ lists a worker on the queues, ``listening``), as before."""
    lapsed = lease.get("lapsed_seconds")
    handing_over = lease["alive"] or (lapsed is not None and lapsed <= handover)
    if alive_now is None:
        return lease["alive"] or (handing_over and listening)
    return (lease["alive"] and lease["holder"] in alive_now) or (handing_over and bool(alive_now))


def keep_announcing(redis: Redis, queue_name: str, holder: str, clock: Callable[[], float],
                    stop: threading.Event) -> threading.Thread:
    """Start the thread that announces ``holder`` every ``EVERY`` seconds (``clock``: the reference clock's unix
    time) until ``stop`` is set; a Redis that fails is tried again at the next one."""

    def run() -> None:
        count = 0
        while not stop.is_set():
            try:
                announce(redis, queue_name, holder, clock(), prune=count % PRUNE_EVERY == 0)
            except Exception:  # noqa: BLE001 - Redis away: /healthz says so itself; the next one tries again
                log.debug("could not announce this worker in Redis", exc_info=True)
            count += 1
            stop.wait(EVERY)

    thread = threading.Thread(target=run, name="presence", daemon=True)
    thread.start()
    return thread
