"""Writing to and reading the append-only incident event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Incident, IncidentEvent


def log_event(
    session: Session,
    *,
    at: datetime,
    actor: str,
    kind: EventKind | str,
    detail: dict[str, Any] | None = None,
    incident_id: int | None = None,
    call_sid: str | None = None,
    flow: bool = False,
) -> IncidentEvent:
    """Append one line to the log (in the caller's transaction).

    ``kind`` must be an ``EventKind`` (a typo raises ValueError); only the intake flow's own
    lines (``flow=True``) keep the kinds ``ivr_flows`` names them with.
    """
    row = IncidentEvent(**event_row(at=at, actor=actor, kind=kind, detail=detail, incident_id=incident_id,
                                    call_sid=call_sid, flow=flow))
    session.add(row)
    return row


def event_row(*, at: datetime, actor: str, kind: EventKind | str, detail: dict[str, Any] | None = None,
              incident_id: int | None = None, call_sid: str | None = None, flow: bool = False) -> dict[str, Any]:
    """The column values of one log line (``log_event`` adds it to a session; the lean IVR step inserts it)."""
    if not flow:
        kind = EventKind(kind)
    return {"incident_id": incident_id, "call_sid": call_sid, "at": at, "actor": actor, "kind": kind,
            "detail": detail or {}}


def events_of(session: Session, incident: Incident) -> list[IncidentEvent]:
    """The incident's log in order: its own lines and those of the call that opened it."""
    cond = IncidentEvent.incident_id == incident.id
    if incident.call_sid:
        cond = or_(cond, IncidentEvent.call_sid == incident.call_sid)
    stmt = select(IncidentEvent).where(cond).order_by(IncidentEvent.at, IncidentEvent.id)
    return list(session.scalars(stmt))
