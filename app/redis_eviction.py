"""Whether Redis evicts keys once it is full: the one rule ``hotline check``, the start of ``serve`` and ``worker``,
and ``/healthz`` warn by (README, *Deployment* 3: ``maxmemory-policy noeviction``).

Read from ``INFO memory``, one round trip (managed Redis services often refuse ``CONFIG GET``). ``noeviction``, or no
``maxmemory`` (0: Redis grows until the host's memory ends and never evicts), keeps every key. The policy can change
under a running deployment (a managed Redis's parameter group, a ``CONFIG SET``): an outside probe set
``allkeys-lru`` at run time, Redis evicted 58,133 keys (RQ's scheduler lock among them), and ``/healthz`` said "ok"
with no warning; only a ``hotline check`` run by hand told.
"""

from __future__ import annotations

from dataclasses import dataclass

FIX = ("set maxmemory-policy noeviction on that Redis (redis.conf, CONFIG SET, or your provider's parameter group); "
       "SQL keeps the work, so a full Redis refuses new jobs instead of losing them")


@dataclass(frozen=True)
class Eviction:
    """Redis's eviction policy and its memory limit in bytes, when it evicts keys once full."""

    policy: str
    limit: int

    def lost(self) -> str:
        """What the hotline keeps in Redis that this policy may drop."""
        if self.policy.startswith("volatile"):  # only keys with an expiry
            return ("the account's shared send rate (pages then leave faster than the account's rate), the workers' "
                    "registration and the scheduler's locks")
        return ("queued pages and escalation steps (sent then only at the watchdog's takeover, late), the account's "
                "shared send rate and the workers' registration")

    def describe(self) -> str:
        """The warning's words."""
        return (f"Redis evicts keys when it is full (maxmemory-policy {self.policy}, maxmemory "
                f"{self.limit / 2 ** 20:g} MB): it would drop {self.lost()}.")


def eviction(redis) -> Eviction | None:
    """How the Redis ``redis`` (a client) evicts keys once full, or None when it keeps every key. Raises what the
    client raises (Redis gone, ``INFO`` refused): the caller says what that means for it."""
    memory = redis.info("memory")
    policy, limit = str(memory.get("maxmemory_policy", "noeviction")), int(memory.get("maxmemory", 0) or 0)
    return Eviction(policy, limit) if policy != "noeviction" and limit > 0 else None
