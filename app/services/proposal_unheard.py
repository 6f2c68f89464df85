"""A resolution proposal that proved nothing: it reached the customer by no channel, or they wrote back without a
YES or NO. The incident stays open and the schedule the proposal paused owes updates again.

Two moments reach it: the last of the proposal's deliveries ending unreached (``unreached``: known at once, not when
its silence runs out 72 hours later, as until this change) and the silence running out (``resolution.expire``).
README: a proposal excuses only the round not yet due when it was made, and only when it reached the customer; so
one that reached nobody resumes the round it paused, due at its old time, or now if that has passed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import (
    Delivery,
    DueStep,
    FollowUpState,
    Incident,
    IncidentEvent,
    IncidentStatus,
    ProposalState,
    ResolutionProposal,
    StepKind,
    StepStatus,
    UpdateDeliveryStatus,
)
from app.services.events import log_event
from app.services.update_schedule import resume_after_proposal

PAUSED_DUE = "paused_due_at"  # the ``resolution_proposed`` line's word for the due time of the round it paused


def paused_due(follow_up_state: str, next_due_at: datetime | None) -> dict[str, str]:
    """What the ``resolution_proposed`` line records of the round the proposal pauses: its due time, if one was owed."""
    owed = follow_up_state == FollowUpState.UPDATING and next_due_at is not None
    return {PAUSED_DUE: next_due_at.isoformat()} if owed else {}


def undelivered_due(session: Session, proposal: ResolutionProposal, now: datetime) -> datetime:
    """When the round a proposal that reached nobody paused is due again: its old due time, or now if that passed
    (or is unknown: a proposal logged before this change, or one made while no round was owed)."""
    detail = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == proposal.incident_id, IncidentEvent.kind == EventKind.RESOLUTION_PROPOSED)
        .order_by(IncidentEvent.id.desc())).all()
    mine = next((d for d in detail if (d or {}).get("proposal_id") == proposal.id), None) or {}
    try:
        due = datetime.fromisoformat(str(mine[PAUSED_DUE]))
    except (KeyError, ValueError):
        return now
    return max(due, now)


def set_aside(session: Session, incident: Incident, proposal: ResolutionProposal, now: datetime, *,
              state: ProposalState, kind: str, due: datetime, via: str) -> None:
    """The proposal is no answer (``state``: undelivered or unclear; ``via``: what showed it): the incident stays open,
    its queued messages are dropped, its silence step ends, and the schedule owes the next update by ``due`` (the
    owner is reminded, the managers told when it is late, as for any round)."""
    proposal.state, proposal.decided_at, proposal.decided_via = state, now, via
    session.execute(update(Delivery).where(Delivery.proposal_id == proposal.id,
                                           Delivery.status == UpdateDeliveryStatus.QUEUED)
                    .values(status=UpdateDeliveryStatus.SKIPPED, last_error=f"the proposal was {state.value}"))
    session.execute(update(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind == StepKind.RESOLUTION_EXPIRY, DueStep.level == proposal.seq,
        DueStep.status == StepStatus.PENDING).values(status=StepStatus.DONE, done_at=now, outcome=f"proposal_{state}"))
    resumed = resume_after_proposal(session, incident, due)
    log_event(session, at=now, actor="system", kind=kind, incident_id=incident.id,
              detail={"proposal_id": proposal.id, "proposed_at": proposal.proposed_at.isoformat(), "via": via,
                      "next_update_due_at": resumed.next_due_at.isoformat() if resumed is not None else None})


def reached_nobody(session: Session, incident: Incident, proposal: ResolutionProposal, now: datetime) -> None:
    """Every delivery of the proposal ended and none reached the customer: it is undelivered now, not when its 72
    hours of silence run out (until this change the customer, who never saw it, got no update for 72 hours and
    nobody was reminded or alerted)."""
    if proposal.state != ProposalState.PROPOSED or incident.status != IncidentStatus.OPEN:
        return
    set_aside(session, incident, proposal, now, state=ProposalState.UNDELIVERED,
              kind=EventKind.RESOLUTION_UNDELIVERED, due=undelivered_due(session, proposal, now), via="unreached")
