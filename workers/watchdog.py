"""Re-derives RQ jobs from SQL: any due step or page not done is handed to RQ again.

Several worker hosts may run a watchdog; a lease row lets one act at a time.
A standby keeps trying and takes over when the leader's lease expires.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta

from app.services import leases
from app.services.callback_calls import due_callbacks
from app.services.deliveries import due_deliveries
from app.services.intake import policy_from
from app.services.pages import due_pages
from app.services.spool import replay
from app.services.steps import overdue_steps
from app.wiring import Hotline

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 10.0  # the promise: a lost step fires within 15 s
INTERVAL_ENV = "HOTLINE_WATCHDOG_SECONDS"  # overrides INTERVAL_SECONDS (benchmarks, tight deployments)
MAX_INTERVAL_SECONDS = 15.0  # a slower watchdog could not keep the 15 s promise
LEASE_TTL = timedelta(seconds=30)


def interval_seconds(env: Mapping[str, str] | None = None) -> float:
    """Seconds between passes: HOTLINE_WATCHDOG_SECONDS when set, else INTERVAL_SECONDS."""
    raw = (os.environ if env is None else env).get(INTERVAL_ENV, "").strip()
    if not raw:
        return INTERVAL_SECONDS
    seconds = float(raw)
    if not 0 < seconds <= MAX_INTERVAL_SECONDS:
        raise ValueError(f"{INTERVAL_ENV} must be more than 0 and at most {MAX_INTERVAL_SECONDS:g}, not {raw!r}")
    return seconds


def lease_ttl(interval: float) -> timedelta:
    """How long a lease outlives its last renewal: at least three passes, so a live leader never lapses."""
    return max(LEASE_TTL, timedelta(seconds=3 * interval))


def instance_name() -> str:
    """This process, as a lease holder name."""
    return f"{socket.gethostname()}:{os.getpid()}"


def tick(hotline: Hotline, holder: str, ttl: timedelta = LEASE_TTL) -> int | None:
    """Renew the lease and sweep if we hold it; None when another instance is the leader."""
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        leader = leases.hold(session, leases.WATCHDOG, holder, now, ttl)
    if not leader:
        return None
    return sweep(hotline)


def sweep(hotline: Hotline) -> int:
    """One pass: replay the emergency spool, re-enqueue overdue steps and due pages."""
    replayed, jobs = replay(hotline.db, hotline.settings.data_dir, policy_from(hotline.settings))
    if replayed:
        log.warning("replayed %d spooled emergency records", replayed)
    now = hotline.clock.now()
    with hotline.db.session() as session:
        jobs += overdue_steps(session, now)
        jobs += due_pages(session, now)
        jobs += due_callbacks(session, now)
        jobs += due_deliveries(session, now)  # issue 11
    hotline.jobs.dispatch(jobs, now)
    return len(jobs)
