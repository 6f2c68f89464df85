"""Callbacks connected and not proven yet: the one rule the board, the API and the helpdesk webhooks read.

The escalation core counts an answer at the key press (no false BREACHED goes out), and the incident's
``callback_answered_at`` says so at once; the compliance report's fold (``facts.IncidentFacts``) proves it only once
the conversation has lasted ``facts.MIN_CONVERSATION_SECONDS`` or its leg's end is logged, and a shorter one is
withdrawn. Until then the callback is *confirming*: connected, neither met nor late. Its incident's facts row keeps
that instant as ``last_event_at`` (``facts_sync.row_of``), so only rows later than now are refolded from the log, as
the report refolds a row later than its ``as_of``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent, IncidentFactsRow
from app.reports.facts import IncidentFacts, LoggedEvent, Outcome, shapes_facts

F = IncidentFactsRow
_COUNTED = (Outcome.MET.value, Outcome.LATE.value)  # what a facts row folded with no as_of says of such an answer


def confirming(session: Session, now: datetime, where: Iterable = ()) -> dict[int, datetime]:
    """The incidents (of those ``where`` selects, conditions on ``Incident``) whose callback is connected and not
    proven at ``now`` (the report's fold as of ``now`` says ``Outcome.PENDING``), each with the instant it will be
    (the key press plus the minimum conversation): its outcome is decided then, or by its withdrawal before."""
    ids = list(session.scalars(select(F.incident_id).join(Incident, Incident.id == F.incident_id).where(
        *where, F.outcome.in_(_COUNTED), F.last_event_at > now)))
    if not ids:
        return {}
    lines: dict[int, list[LoggedEvent]] = defaultdict(list)
    for incident_id, kind, at, actor, detail in session.execute(
            select(IncidentEvent.incident_id, IncidentEvent.kind, IncidentEvent.at, IncidentEvent.actor,
                   IncidentEvent.detail).where(IncidentEvent.incident_id.in_(ids)).order_by(IncidentEvent.id)):
        if shapes_facts(kind):
            lines[incident_id].append(LoggedEvent(kind, at, actor, detail or {}))
    found = {}
    for incident_id, events in lines.items():
        facts = IncidentFacts.from_events(events, as_of=now)
        under_way = facts.under_way
        if facts.outcome == Outcome.PENDING and under_way is not None and under_way.unproven_until is not None:
            found[incident_id] = under_way.unproven_until
    return found
