"""Running due steps exactly once: a compare-and-set on the step row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import DueStep, Incident, StepKind, StepStatus
from app.services.events import log_event
from app.services.incidents import PendingJob


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


def run_step(session: Session, step_id: int, now: datetime) -> bool:
    """Carry out one due step if this run claims it; True when it ran."""
    step = claim_step(session, step_id, now)
    if step is None:
        return False
    incident = session.get(Incident, step.incident_id)
    if step.kind == StepKind.ANNOUNCE:
        log_event(session, at=now, actor="worker", kind="incident_announced", incident_id=incident.id,
                  detail={"reference": incident.reference, "step_id": step.id,
                          "lateness_seconds": round((now - step.due_at).total_seconds(), 3)})
    return True


def overdue_steps(session: Session, now: datetime, limit: int = 500) -> list[PendingJob]:
    """Pending steps that are due: what the watchdog hands to RQ again."""
    stmt = (
        select(DueStep.id, DueStep.due_at)
        .where(DueStep.status == StepStatus.PENDING, DueStep.due_at <= now)
        .order_by(DueStep.due_at)
        .limit(limit)
    )
    return [PendingJob(step_id, due_at) for step_id, due_at in session.execute(stmt)]
