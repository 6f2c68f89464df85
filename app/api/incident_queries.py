"""Read-only incident queries of the API: filtered, newest first, keyset-paginated."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from app.instants import parse_instant
from app.models import Incident, IncidentEvent, IncidentStatus
from app.models.base import ID_MAX


class InvalidCursor(ValueError):
    """A pagination cursor this API did not hand out."""


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents to list, and where the page starts."""

    status: IncidentStatus | None = None
    since: datetime | None = None  # inclusive, on received_at
    until: datetime | None = None  # exclusive, on received_at
    limit: int = 50
    after: tuple[datetime, int] | None = None  # (received_at, id) of the last row already seen
    updated_since: datetime | None = None  # inclusive: incidents with an event logged at or after it


def list_incidents(session: Session, query: IncidentFilter) -> tuple[list[Incident], str | None]:
    """One page of incidents, newest first, and the cursor of the next page (None at the end)."""
    conditions = []
    if query.status is not None:
        conditions.append(Incident.status == query.status)
    if query.since is not None:
        conditions.append(Incident.received_at >= query.since)
    if query.until is not None:
        conditions.append(Incident.received_at < query.until)
    if query.updated_since is not None:
        # every change to an incident logs an event, so the log says what changed when
        conditions.append(exists().where(IncidentEvent.incident_id == Incident.id, IncidentEvent.at >= query.updated_since))
    if query.after is not None:
        at, last_id = query.after
        conditions.append(or_(Incident.received_at < at, and_(Incident.received_at == at, Incident.id < last_id)))
    stmt = (
        select(Incident)
        .where(*conditions)
        .order_by(Incident.received_at.desc(), Incident.id.desc())
        .limit(query.limit + 1)
    )
    rows = list(session.scalars(stmt))
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return page, encode_cursor(page[-1]) if more else None


def find_incident(session: Session, ref: str) -> Incident | None:
    """The incident with this reference (any case) or numeric id, else None."""
    ref = ref.strip()
    found = session.scalar(select(Incident).where(Incident.reference.in_(list(dict.fromkeys((ref, ref.upper()))))))
    if found is None and ref.isascii() and ref.isdigit() and len(ref) <= 9:
        found = session.get(Incident, int(ref))
    return found


def encode_cursor(incident: Incident) -> str:
    """An opaque cursor pointing just after ``incident``."""
    raw = f"{incident.received_at.astimezone(UTC).isoformat()}|{incident.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (received_at, id) a cursor points after; InvalidCursor if it was not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, id_text = raw.split("|")
        at = parse_instant(at_text)
        last_id = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("not a cursor from this API") from exc
    if not 0 < last_id <= ID_MAX:
        raise InvalidCursor("not a cursor from this API")
    return at, last_id
