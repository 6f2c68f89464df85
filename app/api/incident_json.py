"""What a helpdesk needs beyond the captured fields: owner, acknowledgement, callback outcome, breach, last change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api.formats import iso_utc
from app.models import Callback, CallbackOutcome, Incident, IncidentEvent, IncidentFactsRow, Rep
from app.reports.confirming import confirming
from app.reports.facts import is_breached
from app.services.callback_extensions import callback_extensions
from app.services.escalation import callers_on_hotline

# when an incident has several callbacks, the one that tells most about the promise wins (the report's order)
_OUTCOME_RANK = {CallbackOutcome.MET: 6, CallbackOutcome.LATE: 5, CallbackOutcome.SELF_REPORTED: 4,
                 CallbackOutcome.ATTEMPTED: 3, CallbackOutcome.VOICEMAIL: 3, CallbackOutcome.PENDING: 2,
                 CallbackOutcome.REP_NOT_REACHED: 1}


def extras_for(session: Session, incidents: Sequence[Incident], now: datetime) -> dict[int, dict[str, object]]:
    """For each incident id: owner, acknowledgement, callback, breach, updated_at and the callback number's
    extension (six queries in all; a seventh when an incident was reached on a related one)."""
    ids = [i.id for i in incidents]
    if not ids:
        return {}
    callbacks: dict[int, list[Callback]] = {}
    for cb in session.scalars(select(Callback).where(Callback.incident_id.in_(ids)).order_by(Callback.id)):
        callbacks.setdefault(cb.incident_id, []).append(cb)
    # who acknowledged, as the report's fold of the log names them: the owner may have taken it over since
    # (``acknowledged_by`` is the owner, ``acknowledged_at`` the first acknowledgement's time)
    acknowledgers = dict(session.execute(select(IncidentFactsRow.incident_id, IncidentFactsRow.acknowledged_rep_id)
                                         .where(IncidentFactsRow.incident_id.in_(ids))).all())
    rep_ids = {i.acknowledged_by for i in incidents if i.acknowledged_by} | set(acknowledgers.values()) - {None}
    rep_ids |= {cb.rep_id for cbs in callbacks.values() for cb in cbs if cb.rep_id}
    names = {row[0]: row[1] for row in session.execute(select(Rep.id, Rep.name).where(Rep.id.in_(rep_ids)))}
    updated = {row[0]: row[1] for row in session.execute(
        select(IncidentEvent.incident_id, func.max(IncidentEvent.at))
        .where(IncidentEvent.incident_id.in_(ids)).group_by(IncidentEvent.incident_id))}
    extensions = callback_extensions(session, incidents)  # the rep keys it in once connected
    on_line = callers_on_hotline(session)
    via = {i.reached_on_callback_id for i in incidents if i.reached_on_callback_id}
    related = dict(session.execute(select(Callback.id, Incident.reference).join(
        Incident, Incident.id == Callback.incident_id).where(Callback.id.in_(via))).all()) if via else {}
    # answers counted at the key press and not proven yet (the compliance report's rule): "pending" until then
    answered = [i.id for i in incidents if i.callback_answered_at is not None]
    unproven = confirming(session, now, (Incident.id.in_(answered),)) if answered else {}
    return {i.id: _extras(i, callbacks.get(i.id, []), names, updated.get(i.id), now, i.id in on_line,
                          acknowledgers.get(i.id) or i.acknowledged_by, related.get(i.reached_on_callback_id),
                          unproven.get(i.id))
            | {"callback_extension": extensions.get(i.id, "")} for i in incidents}


def incident_document(session: Session, incident: Incident, now: datetime) -> dict[str, object]:
    """The incident as ``GET /api/v1/incidents`` lists it (used by the helpdesk webhooks too)."""
    from app.api.incidents import incident_json

    return incident_json(incident) | extras_for(session, [incident], now)[incident.id]


def _rep(rep_id: int | None, names: dict[int, str]) -> dict[str, object] | None:
    return {"rep_id": rep_id, "name": names.get(rep_id, "")} if rep_id else None


def _breach(incident: Incident, now: datetime, on_line: bool) -> dict[str, object]:
    """Breached by the report's rule; ``at``: when the breach step logged it, else the deadline that passed (not a
    provisional deadline while the caller who opened the incident is still giving details, ``on_line``)."""
    answered, due = incident.callback_answered_at, incident.callback_due_at
    breached = is_breached(answered is not None and answered <= due, due, incident.breached_at, now, on_line)
    return {"breached": breached, "at": iso_utc(incident.breached_at or due) if breached else None}


def _outcome(incident: Incident, best: Callback | None, reached_on: str | None) -> str:
    """The callback's outcome: its best callback's, or met/late on the incident's own deadline when the answer that
    stands is a callback on a related incident (``related_callbacks``), as the compliance report counts it."""
    own = CallbackOutcome(best.outcome) if best else None
    answered = incident.callback_answered_at
    if reached_on and answered is not None and own not in (CallbackOutcome.MET, CallbackOutcome.LATE):
        return CallbackOutcome.MET.value if answered <= incident.callback_due_at else CallbackOutcome.LATE.value
    return own.value if own else "none"


def _extras(incident: Incident, callbacks: list[Callback], names: dict[int, str], updated_at,
            now: datetime, on_line: bool, acknowledged_by: int | None, reached_on: str | None,
            confirming_until: datetime | None = None) -> dict[str, object]:
    """``acknowledged_by``: the rep whose acknowledgement ``incident.acknowledged_at`` is (not the owner after a
    take-over); the owner when the log names no rep for it (a line without ``rep_id``); ``reached_on``: the
    reference of the related incident whose callback reached the customer for this one, if any;
    ``confirming_until``: its answer is not proven yet (``reports.confirming``): pending, no answer, until then."""
    best = max(callbacks, key=lambda cb: (_OUTCOME_RANK.get(CallbackOutcome(cb.outcome), 0), cb.id), default=None)
    owner_id = incident.acknowledged_by or next((cb.rep_id for cb in reversed(callbacks) if cb.rep_id), None)
    outcome = CallbackOutcome.PENDING.value if confirming_until else _outcome(incident, best, reached_on)
    return {
        "owner": _rep(owner_id, names),
        "acknowledgement": None if incident.acknowledged_at is None else {
            "at": iso_utc(incident.acknowledged_at), "by": _rep(acknowledged_by, names)},
        "callback": {
            "due_at": iso_utc(incident.callback_due_at),
            "outcome": outcome,
            "reached_on_related": reached_on,
            "started_at": iso_utc(incident.callback_started_at),
            "answered_at": None if confirming_until else iso_utc(incident.callback_answered_at),
            "confirming": None if confirming_until is None else {
                "answered_at": iso_utc(incident.callback_answered_at), "until": iso_utc(confirming_until)},
            "attempts": sum(1 for cb in callbacks if cb.is_attempt),
            "caller_on_line": on_line,
        },
        "breach": _breach(incident, now, on_line),
        "updated_at": iso_utc(max(updated_at, incident.received_at) if updated_at else incident.received_at),
    }
