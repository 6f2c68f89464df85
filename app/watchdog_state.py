"""Whether a watchdog runs now: the one rule /healthz reports and the IVR's live-wait offer follows.

Every page, escalation and callback call leaves from a `hotline worker` (its RQ jobs, or its watchdog from SQL). With
none running, /healthz warns that nothing leaves; an outside probe's caller heard "please hold while we page an
engineer" at that moment, and waited on hold music while no page left. Both now read the state from here, and so does
a rep's connect (``worker_runs``: the "no hotline worker is running" hint after "Calling you now").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app import worker_presence
from app.db import database_of
from app.services import leases


@dataclass(frozen=True)
class WatchdogState:
    """The watchdog's lease (``leases.status``), the workers alive now (None: unknown) and whether one runs."""

    lease: dict
    announced: dict[str, float] | None
    alive_now: set[str] | None
    running: bool


def watchdog_state(session: Session, jobs, now: datetime, redis_ok: bool = True) -> WatchdogState:
    """The watchdog's state now: its lease in SQL, and the workers that announce themselves in Redis (``jobs``'s);
    ``redis_ok`` False (Redis down or refusing writes), or Redis failing here: the lease alone says it."""
    lease = leases.status(session, leases.WATCHDOG, now)
    announced, failed = _announced(jobs) if redis_ok else (None, False)
    alive_now = worker_presence.alive(announced, now.timestamp()) if announced is not None else None
    listening = redis_ok and not failed and _listening(jobs)
    running = worker_presence.watchdog_running(lease, alive_now, listening, leases.HANDOVER)
    if failed and hasattr(jobs, "pause"):
        jobs.pause.failed()  # a webhook never waits on a Redis that just failed (``queue.RedisPause``)
    return WatchdogState(lease, announced, alive_now, running)


def watchdog_runs(session: Session, jobs, now: datetime) -> bool:
    """Whether a watchdog runs now (``watchdog_state``), for a webhook: a Redis that failed moments ago
    (``queue.RedisPause``) is not asked, as if down (the lease alone says it)."""
    paused = hasattr(jobs, "pause") and jobs.pause.active()
    return watchdog_state(session, jobs, now, redis_ok=not paused).running


def worker_runs(session: Session, now: datetime) -> bool:
    """Whether a watchdog runs now (``watchdog_runs``), for a service that has only a session: the queue of the
    hotline whose database made it (``Database.jobs``); a bare database (no queue wired) knows no Redis, so the lease
    alone says it."""
    db = database_of(session)
    jobs = db.jobs if db is not None else None
    if jobs is None:
        return watchdog_state(session, None, now, redis_ok=False).running
    return watchdog_runs(session, jobs, now)


def _announced(jobs) -> tuple[dict[str, float] | None, bool]:
    """The workers that announced themselves (``worker_presence.seen``; None when none ever did), and whether
    Redis failed (then None too)."""
    try:
        return worker_presence.seen(jobs.redis, jobs.name), False
    except Exception:  # noqa: BLE001 - Redis failed: as if unknown
        return None, True


def _listening(jobs) -> bool:
    """Whether an RQ worker listens on the first pages' queue (each runs a watchdog)."""
    try:
        return jobs.first_page_listeners() > 0
    except Exception:  # noqa: BLE001 - Redis failed: as if none
        return False
