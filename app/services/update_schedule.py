"""The update schedule's rows: the follow-up of an incident and the due steps of the round it owes next.

Kept apart from ``updates`` (which sends to the customer) so that the delivery side (``unreached``) can resume a
schedule a resolution proposal paused, the moment that proposal is known to have reached nobody, without an import
cycle through ``deliveries``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import DueStep, FollowUp, FollowUpState, Incident, StepKind, StepStatus
from app.queue import schedule

REMIND_BEFORE = timedelta(minutes=10)  # the owner hears about an update this long before it is due
UPDATE_STEP_KINDS = (StepKind.UPDATE_REMINDER, StepKind.UPDATE_DUE)
ANSWER_WITHDRAWN = "answer_withdrawn"  # the outcome of update steps a withdrawn answer stopped


def follow_up_of(session: Session, incident: Incident, lock: bool = False) -> FollowUp | None:
    """The incident's update schedule, if it has one."""
    stmt = select(FollowUp).where(FollowUp.incident_id == incident.id)
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def schedule_round(session: Session, follow_up: FollowUp) -> int:
    """Write (or move) the reminder and due steps of the round owed next; returns how many were scheduled."""
    if follow_up.state != FollowUpState.UPDATING or follow_up.next_due_at is None:
        return 0
    due = follow_up.next_due_at
    lead = min(REMIND_BEFORE, timedelta(minutes=follow_up.interval_minutes) / 3)
    scheduled = 0
    for kind, at in ((StepKind.UPDATE_REMINDER, due - lead), (StepKind.UPDATE_DUE, due)):
        step = session.scalars(select(DueStep).where(DueStep.incident_id == follow_up.incident_id,
                                                     DueStep.kind == kind, DueStep.level == follow_up.round)).first()
        if step is None:
            step = DueStep(incident_id=follow_up.incident_id, kind=kind, level=follow_up.round, due_at=at)
            session.add(step)
        elif step.status == StepStatus.PENDING:
            step.due_at = at  # a new interval moves the round's steps (an early run is refused by its CAS)
        elif step.outcome == ANSWER_WITHDRAWN:  # stopped with the answer that started it: owed again
            step.status, step.done_at, step.outcome, step.due_at = StepStatus.PENDING, None, "", at
        elif kind == StepKind.UPDATE_REMINDER and step.outcome == "reminded" and at > step.due_at:
            # the owner was reminded of an earlier due time: the round's new one is reminded of too
            step.status, step.done_at, step.due_at = StepStatus.PENDING, None, at
        else:
            continue
        session.flush()
        schedule(session, "step", step.id, step.due_at)
        scheduled += 1
    return scheduled


def close_round_steps(session: Session, incident_id: int, round_: int, outcome: str, now: datetime) -> None:
    """Mark the round's pending reminder and due steps done: nothing is owed for it any more."""
    session.execute(update(DueStep).where(
        DueStep.incident_id == incident_id, DueStep.kind.in_(UPDATE_STEP_KINDS), DueStep.level == round_,
        DueStep.status == StepStatus.PENDING).values(status=StepStatus.DONE, done_at=now, outcome=outcome))


def resume_after_proposal(session: Session, incident: Incident, due: datetime) -> FollowUp | None:
    """The proposal that paused the schedule was answered NO, or proved nothing (never reached the customer, or
    answered with words that are no YES or NO): updates are owed again, the next by ``due``, in a round of its own
    (the paused round was closed when the proposal was made). None when nothing was paused."""
    follow_up = follow_up_of(session, incident, lock=True)
    if follow_up is None or follow_up.state != FollowUpState.AWAITING_CONFIRMATION:
        return None
    follow_up.state = FollowUpState.UPDATING
    follow_up.round += 1
    follow_up.next_due_at = due
    schedule_round(session, follow_up)
    return follow_up
