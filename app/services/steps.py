"""Running due steps exactly once: a compare-and-set on the step row, then its handler.

A step never waits for its incident's row lock (``run_step``): one incident held locked from outside (an operator's
psql, a web process frozen inside a transaction) held every other incident's steps up to 30 s behind it.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clock import Clock
from app.event_kind import STEP_EVENT
from app.models import DueStep, Incident, StepKind, StepStatus
from app.queue import PendingJob, schedule
from app.services import acks, outages, resolution, updates
from app.services.escalation_steps import run_due_step
from app.services.events import log_event
from app.services.put_off_steps import note_put_off
from app.services.row_locks import IncidentLocked, lock_incident
from app.settings import Settings

log = logging.getLogger(__name__)
# A step whose incident another transaction holds locked is tried again this much later (its RQ job; the watchdog
# also finds it, pending and overdue, on each pass).
LOCKED_RETRY = timedelta(seconds=3)
# The steps this process found their incident locked (warned once each; told when they ran at last).
_waiting_on_lock: set[int] = set()

# Due steps outside the escalation's plan (issue 11: the customer's updates and the resolution; a connect
# waiting for the caller's call to end). The escalation core decides receipt, page, at-risk, breach and
# repage; these kinds have their own service.
FOLLOW_UP_HANDLERS = {
    StepKind.UPDATE_REMINDER: updates.remind_owner,
    StepKind.UPDATE_DUE: updates.update_overdue,
    StepKind.RESOLUTION_EXPIRY: resolution.expire,
    StepKind.CONNECT_AFTER_CALL: acks.connect_after_call_step,
}


def claim_step(session: Session, step_id: int, now: datetime) -> DueStep | None:
    """Mark a pending, due step done; None when another run got it first or it is not due."""
    result = session.execute(
        update(DueStep)
        .where(DueStep.id == step_id, DueStep.status == StepStatus.PENDING, DueStep.due_at <= now)
        .values(status=StepStatus.DONE, done_at=now, runs=DueStep.runs + 1, put_off_at=None)
    )
    if result.rowcount != 1:
        return None
    return session.get(DueStep, step_id)


def run_step(session: Session, step_id: int, now: datetime, actor: str = "worker",
             incident: Incident | None = None, hotline_number: str = "", clock: Clock | None = None,
             settings: Settings | None = None) -> bool:
    """Carry out one due step if this run claims it (its jobs go on the unit of work); False when it did not.

    ``incident``: the step's incident when this transaction holds its row already (it opened it), so it
    is not locked and read again. ``hotline_number``: the number customers call (settings' TWILIO_NUMBER),
    named in the receipt e-mail. ``clock``: read again once the incident's row is locked, so a step that waited
    (SQLite's write lock, a frozen worker) is stamped, and its lateness told, as of when it ran:
    a probe's step that waited 30 s said "lateness 0.9 s" while its pages left 30 s late. ``settings``: for the
    step that proposes an outage's resolution (its link and silence); a run without them leaves it to a worker.

    The incident's lock is never waited for: when another transaction holds it, the claim is rolled back, the step
    stays pending and is tried again LOCKED_RETRY later (``_put_off``). It waited, and each runner runs one step at a
    time (the RQ worker; the watchdog's take-over, in due order): an outside probe held one incident's row
    ``FOR UPDATE`` from psql for 100 s, and every other incident's breach steps, pages and receipts waited behind
    that incident's step, up to 30 s (the worker's connection time limit) in each wave (D2).
    """
    try:
        with _savepoint(session):  # the claim and the lock, or neither
            step = claim_step(session, step_id, now)
            if step is None:
                return False
            if incident is None or incident.id != step.incident_id:
                incident = lock_incident(session, step.incident_id, nowait=True)
    except IncidentLocked as locked:
        _put_off(session, step_id, locked.incident_id, max(now, clock.now()) if clock else now)
        return False
    if clock is not None:
        now = max(now, clock.now())
        step.done_at = now
    if step_id in _waiting_on_lock:
        _waiting_on_lock.discard(step_id)
        log.info("step %d of incident %d ran: its incident's row lock was released", step_id, incident.id)
    due_at = step.due_at  # a handler may re-arm its step for later (updates.update_overdue)
    handler = FOLLOW_UP_HANDLERS.get(step.kind)
    if step.kind == StepKind.OUTAGE_PROPOSAL:
        if settings is None:
            raise ValueError("the outage proposal step needs the settings: run it from a worker")
        outcome = outages.propose_after_callback(session, incident, step, now, settings)
    else:
        outcome = (handler(session, incident, step, now) if handler
                   else run_due_step(session, incident, step, now, hotline_number))
    step.outcome = outcome[:64]
    log_event(session, at=now, actor=actor, kind=STEP_EVENT[step.kind], incident_id=incident.id,
              detail={"step_id": step.id, "level": step.level, "outcome": outcome, "due_at": due_at.isoformat(),
                      "lateness_seconds": round((now - due_at).total_seconds(), 3)})
    return True


def _savepoint(session: Session) -> AbstractContextManager:
    """A savepoint on PostgreSQL, where a lock refused ``NOWAIT`` spoils the transaction until it is rolled back to
    one; none on SQLite, which takes no row lock (pysqlite's savepoint, the first statement of its transaction,
    would commit the claim on its release)."""
    return session.begin_nested() if session.get_bind().dialect.name == "postgresql" else nullcontext()


def _put_off(session: Session, step_id: int, incident_id: int, now: datetime) -> None:
    """Step ``step_id`` found incident ``incident_id`` locked by another transaction: its claim is rolled back (it is
    still pending, so the watchdog also runs it on its passes); its job runs again LOCKED_RETRY from ``now``. Said
    once per step in this process, with the incident: a lock held for long is an operator's to find
    (``pg_locks``); kept on the step's row too, where ``/healthz`` finds it (``put_off_steps``)."""
    schedule(session, "step", step_id, now + LOCKED_RETRY, tag="locked")
    note_put_off(session, step_id, now)
    if step_id in _waiting_on_lock:
        log.debug("step %d still waits for incident %d's row lock", step_id, incident_id)
        return
    if len(_waiting_on_lock) > 10_000:  # steps whose incident stayed locked until another process ran them
        _waiting_on_lock.clear()
    _waiting_on_lock.add(step_id)
    log.warning("step %d of incident %d put off: another transaction holds the incident's row lock (a psql session, "
                "a web process frozen in a transaction?); tried again every %.0f s, other incidents' steps go on",
                step_id, incident_id, LOCKED_RETRY.total_seconds())


def overdue_steps(session: Session, now: datetime, limit: int = 500) -> list[PendingJob]:
    """Pending steps that are due: what the watchdog hands to RQ again."""
    stmt = (
        select(DueStep.id, DueStep.due_at)
        .where(DueStep.status == StepStatus.PENDING, DueStep.due_at <= now)
        .order_by(DueStep.due_at)
        .limit(limit)
    )
    return [PendingJob("step", step_id, due_at) for step_id, due_at in session.execute(stmt)]
