"""An incident linked to an outage that was resolved before the incident's callback was verified.

The manager's resolve proposes the outage's resolution only to customers reached already (``resolution.propose``
needs a verified contact); such an incident is asked once its contact is verified. Here that is owed as a due step
(level: the outage's id), written in the transaction that verified it, so a lost job or a crash never loses it; the
step proposes (``outages.propose_after_callback``) where the settings the proposal needs are at hand.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import DueStep, Incident, Outage, OutageLink, StepKind, StepStatus
from app.queue import schedule


def owe_outage_proposal(session: Session, incident: Incident, now: datetime) -> int:
    """The incident's contact was just verified: a proposal step for each resolved outage it is linked to (a step
    run before, for an earlier answer, runs again: the proposal checks what was proposed already); how many."""
    outage_ids = session.scalars(select(Outage.id).join(OutageLink, OutageLink.outage_id == Outage.id).where(
        OutageLink.incident_id == incident.id, Outage.resolved_at.is_not(None)).order_by(Outage.id)).all()
    for outage_id in outage_ids:
        owe_step(session, incident, outage_id, now)
    return len(outage_ids)


def owe_step(session: Session, incident: Incident, outage_id: int, due_at: datetime) -> DueStep:
    """The incident's proposal step for outage ``outage_id``, pending and due at ``due_at`` (written once per
    incident and outage; one run before is armed again), its job on the unit of work."""
    step = session.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                                 DueStep.kind == StepKind.OUTAGE_PROPOSAL,
                                                 DueStep.level == outage_id)).first()
    if step is None:
        step = DueStep(incident_id=incident.id, kind=StepKind.OUTAGE_PROPOSAL, level=outage_id, due_at=due_at)
        session.add(step)
    else:
        step.status, step.done_at, step.due_at = StepStatus.PENDING, None, due_at
    session.flush()
    schedule(session, "step", step.id, due_at)
    return step
