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
CONFIRMED = "callback_phone_confirmed"  # the lines below, for callback_phone
CONFIRMED_KINDS = ("field_captured", "field_unconfirmed")


def callback_extension(incident: Incident, session: Session | None = None) -> str:
    """The digits of the callback number's extension, "" for none (or an incident not in a session)."""
    session = session or object_session(incident)
    if session is None or incident.id is None:
        return ""
    return callback_extensions(session, [incident]).get(incident.id, "")


def calls_back(incident: Incident, number: str, session: Session | None = None) -> bool:
    """Whether the incident's callback rings ``number`` itself: its number, with no extension. One with an extension
    rings one person behind a switchboard, and a caller from that number may be any of its people (an outside
    probe's two colleagues from one switchboard shared a callback, and a third was taken for the first)."""
    return bool(number) and incident.callback_phone == number and not callback_extension(incident, session)


def callback_extensions(session: Session, incidents: Sequence[Incident]) -> dict[int, str]:
    """For each incident id that has one, its callback number's extension (one query for them all)."""
    by_id = {i.id: i.id for i in incidents if i.id is not None}
    by_call = {i.call_sid: i.id for i in incidents if i.id is not None and i.call_sid}
    if not by_id:
        return {}
    conds = [IncidentEvent.incident_id.in_(list(by_id))]
    if by_call:
        conds.append(IncidentEvent.call_sid.in_(list(by_call)))
    lines: dict[int, list[tuple]] = {}
    for incident_id, call_sid, kind, at, event_id, detail in session.execute(
            select(IncidentEvent.incident_id, IncidentEvent.call_sid, IncidentEvent.kind, IncidentEvent.at,
                   IncidentEvent.id, IncidentEvent.detail)
            .where(or_(*conds), IncidentEvent.kind == KIND).order_by(IncidentEvent.at, IncidentEvent.id)):
        owner = by_id.get(incident_id) or by_call.get(call_sid)
        if owner is not None:
            lines.setdefault(owner, []).append((at, event_id, kind, _digits(detail)))
    if not lines:
        return {}
    # The callback number's confirmations, read only for the few incidents with an extension line.
    with_lines = [i for i in incidents if i.id in lines]
    conds = [IncidentEvent.incident_id.in_([i.id for i in with_lines])]
    calls = [i.call_sid for i in with_lines if i.call_sid]
    if calls:
        conds.append(IncidentEvent.call_sid.in_(calls))
    for incident_id, call_sid, at, event_id, detail in session.execute(
            select(IncidentEvent.incident_id, IncidentEvent.call_sid, IncidentEvent.at, IncidentEvent.id,
                   IncidentEvent.detail)
            .where(or_(*conds), IncidentEvent.kind.in_(CONFIRMED_KINDS))):
        owner = by_id.get(incident_id) or by_call.get(call_sid)
        if owner in lines and (detail or {}).get("field") == "callback_phone":
            lines[owner].append((at, event_id, CONFIRMED, ""))
    found = {owner: _extension_of(sorted(owner_lines)) for owner, owner_lines in lines.items()}
    return {owner: digits for owner, digits in found.items() if digits}


def _digits(detail: dict | None) -> str:
    return "".join(ch for ch in str((detail or {}).get("extension", "")) if ch.isdigit())[:10]


def _extension_of(lines: list[tuple]) -> str:
    """The extension of the number confirmed last, from (at, id, kind, digits) lines in log order.

    Since the extension commit a line is written with the number's confirmation (same step, just after it) and
    only when the extension changes: the last line wins. Before it, a line was written when a number with an
    extension was heard, before the caller confirmed it, and none for a number without one: such a line goes
    with the confirmation that follows it, and a confirmation with no line before it is a number without one.
    """
    logged_late = all(k > 0 and lines[k - 1][2] == CONFIRMED and lines[k - 1][0] == line[0]
                      for k, line in enumerate(lines) if line[2] == KIND)
    extension, heard = "", None
    for _at, _id, kind, digits in lines:
        if kind == KIND and logged_late:
            extension = digits
        elif kind == KIND:
            heard = digits  # an older call's: waits for its number's confirmation
        elif not logged_late:
            extension, heard = heard or "", None
    return extension


def phone_with_extension(phone: str, extension: str) -> str:
    """``+12125550100 ext. 204`` for the rep to read; the number alone without an extension."""
    return f"{phone} ext. {extension}" if phone and extension else phone
