"""Re-derives RQ jobs from SQL: any due step or page not done is handed to RQ again.

Several worker hosts may run a watchdog; a lease row lets one act at a time.
A standby keeps trying and takes over when the leader's lease expires.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from app.services import leases
from app.services.intake import policy_from
from app.services.pages import due_pages
from app.services.spool import replay
from app.services.steps import overdue_steps
from app.wiring import Hotline

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 10.0  # the promise: a lost step fires within 15 s
LEASE_TTL = timedelta(seconds=30)


def instance_name() -> str:
    """This process, as a lease holder name."""
    return f"{socket.gethostname()}:{os.getpid()}"


def tick(hotline: Hotline, holder: str) -> int | None:
    """Renew the lease and sweep if we hold it; None when another instance is the leader."""
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        leader = leases.hold(session, leases.WATCHDOG, holder, now, LEASE_TTL)
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
    hotline.jobs.dispatch(jobs, now)
    return len(jobs)
