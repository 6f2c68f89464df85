"""Re-derives RQ jobs from SQL: any due step not done is handed to RQ again."""

from __future__ import annotations

import logging

from app.services.intake import policy_from
from app.services.spool import replay
from app.services.steps import overdue_steps
from app.wiring import Hotline

log = logging.getLogger(__name__)


def sweep(hotline: Hotline) -> int:
    """One pass: replay the emergency spool, re-enqueue overdue steps; returns steps handed over."""
    replayed, jobs = replay(hotline.db, hotline.settings.data_dir, policy_from(hotline.settings))
    if replayed:
        log.warning("replayed %d spooled emergency records", replayed)
    with hotline.db.session() as session:
        jobs += overdue_steps(session, hotline.clock.now())
    hotline.jobs.dispatch(jobs, hotline.clock.now())
    return len(jobs)
