"""The extension a caller gave with their callback number, read from the incident's log.

The intake flow logs ``callback_extension`` each time the confirmed number's extension changes
("" when a new number has none), so the last such line is the one that goes with the number.
The callback dials the number; the rep keys the extension in once connected (DTMF passes
through a bridged call).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session

from app.models import Incident, IncidentEvent

KIND = "callback_extension"


def callback_extension(incident: Incident, session: Session | None = None) -> str:
    """The digits of the callback number's extension, "" for none (or an incident not in a session)."""
    session = session or object_session(incident)
    if session is None or incident.id is None:
        return ""
    return callback_extensions(session, [incident]).get(incident.id, "")


def callback_extensions(session: Session, incidents: Sequence[Incident]) -> dict[int, str]:
    """For each incident id that has one, its callback number's extension (one query for them all)."""
    by_id = {i.id: i.id for i in incidents if i.id is not None}
    by_call = {i.call_sid: i.id for i in incidents if i.id is not None and i.call_sid}
    if not by_id:
        return {}
    conds = [IncidentEvent.incident_id.in_(list(by_id))]
    if by_call:
        conds.append(IncidentEvent.call_sid.in_(list(by_call)))
    rows = session.execute(select(IncidentEvent.incident_id, IncidentEvent.call_sid, IncidentEvent.detail)
                           .where(or_(*conds), IncidentEvent.kind == KIND)
                           .order_by(IncidentEvent.at, IncidentEvent.id))
    found: dict[int, str] = {}
    for incident_id, call_sid, detail in rows:
        owner = by_id.get(incident_id) or by_call.get(call_sid)
        if owner is not None:  # later lines replace earlier ones: a new number without one clears it
            found[owner] = "".join(ch for ch in str((detail or {}).get("extension", "")) if ch.isdigit())[:10]
    return {owner: digits for owner, digits in found.items() if digits}


def phone_with_extension(phone: str, extension: str) -> str:
    """``+12125550100 ext. 204`` for the rep to read; the number alone without an extension."""
    return f"{phone} ext. {extension}" if phone and extension else phone
