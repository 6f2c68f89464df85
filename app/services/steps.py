"""Running due steps exactly once: a compare-and-set on the step row, then its handler."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clock import Clock
from app.event_kind import STEP_EVENT
from app.models import DueStep, Incident, StepKind, StepStatus
from app.queue import PendingJob
from app.services import acks, outages, resolution, updates
from app.services.escalation_steps import run_due_step
from app.services.events import log_event
from app.services.row_locks import lock_incident
from app.settings import Settings

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
        .values(status=StepStatus.DONE, done_at=now, runs=DueStep.runs + 1)
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
    named in the receipt e-mail. ``clock``: read again once the incident's row is locked, so a step that waited on
    that lock (another transaction holding it, a frozen worker) is stamped, and its lateness told, as of when it ran:
    a probe's step that waited 30 s said "lateness 0.9 s" while its pages left 30 s late. ``settings``: for the
    step that proposes an outage's resolution (its link and silence); a run without them leaves it to a worker."""
    step = claim_step(session, step_id, now)
    if step is None:
        return False
    if incident is None or incident.id != step.incident_id:
        incident = lock_incident(session, step.incident_id)
        if clock is not None:
            now = max(now, clock.now())
            step.done_at = now
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


def overdue_steps(session: Session, now: datetime, limit: int = 500) -> list[PendingJob]:
    """Pending steps that are due: what the watchdog hands to RQ again."""
    stmt = (
        select(DueStep.id, DueStep.due_at)
        .where(DueStep.status == StepStatus.PENDING, DueStep.due_at <= now)
        .order_by(DueStep.due_at)
        .limit(limit)
    )
    return [PendingJob("step", step_id, due_at) for step_id, due_at in session.execute(stmt)]
