"""The escalation plan of an incident: every step owed to it is a row, written with the incident."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import DueStep, Incident, StepKind
from app.queue import PendingJob
from app.services.oncall import default_policy

AT_RISK_BEFORE_DUE = timedelta(minutes=5)  # T+10 on a 15-minute promise
REPAGE_EVERY = timedelta(minutes=5)  # after a breach, page again until a callback happens


def plan_escalation(session: Session, incident: Incident, now: datetime) -> list[PendingJob]:
    """Copy the policy onto the incident and write its receipt, page, at-risk and breach steps."""
    incident.escalation = copy.deepcopy(default_policy(session))
    start = incident.captured_at
    steps = [DueStep(incident_id=incident.id, kind=StepKind.RECEIPT, level=0, due_at=now)]
    for level, spec in enumerate(incident.escalation.get("levels", [])):
        due = start + timedelta(minutes=int(spec.get("delay_minutes", 0)))
        steps.append(DueStep(incident_id=incident.id, kind=StepKind.PAGE, level=level, due_at=max(due, now)))
    steps.append(DueStep(incident_id=incident.id, kind=StepKind.AT_RISK, level=0,
                         due_at=incident.callback_due_at - AT_RISK_BEFORE_DUE))
    steps.append(DueStep(incident_id=incident.id, kind=StepKind.BREACH, level=0, due_at=incident.callback_due_at))
    session.add_all(steps)
    session.flush()
    return [step_job(step) for step in steps]


def add_repage(session: Session, incident: Incident, after: DueStep) -> PendingJob:
    """Write the next repage round, REPAGE_EVERY after ``after``."""
    level = after.level + 1 if after.kind == StepKind.REPAGE else 0
    existing = session.scalars(select(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind == StepKind.REPAGE, DueStep.level == level)).first()
    step = existing or DueStep(incident_id=incident.id, kind=StepKind.REPAGE, level=level,
                               due_at=after.due_at + REPAGE_EVERY)
    session.add(step)
    session.flush()
    return step_job(step)


def step_job(step: DueStep) -> PendingJob:
    """The RQ job that runs ``step`` when it is due."""
    return PendingJob("step", step.id, step.due_at)
