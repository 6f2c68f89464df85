"""``/incidents/<ref>/events/<id>``: one line of the append-only log; changing it is refused and logged
(``services.refused_changes``: bounded lines of the incident's log, every attempt in the service log)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.api.auth import require_scope
from app.api.errors import ApiError, json_error
from app.api.formats import iso_utc
from app.api.incident_queries import find_incident
from app.models import Incident, IncidentEvent
from app.services.refused_changes import record_refused_change

bp = Blueprint("events", __name__)

ATTEMPTS = {"PUT": "update", "PATCH": "update", "DELETE": "delete"}
MAX_FIELDS = 20


@bp.get("/incidents/<ref>/events/<event_id>")
@require_scope("incidents:read")
def show(ref: str, event_id: str):
    """One logged event of the incident, with its id."""
    hotline = current_app.extensions["hotline"]
    with hotline.db.transaction() as session:
        incident = _incident(session, ref)
        event = _event(session, incident, event_id)
        if event is None:
            raise ApiError(404, f"incident {incident.reference} has no event {event_id!r}")
        body = {"id": event.id, "at": iso_utc(event.at), "actor": event.actor, "kind": event.kind,
                "detail": event.detail or {}}
    return jsonify(body)


@bp.route("/incidents/<ref>/events/<event_id>", methods=["PUT", "PATCH", "DELETE"])
@require_scope("incidents:read")
def refuse_change(ref: str, event_id: str) -> Response:
    """Never change or delete a logged event: answer 405 and log the attempt (``record_refused_change``)."""
    hotline = current_app.extensions["hotline"]
    attempted = ATTEMPTS[request.method]
    with hotline.db.transaction() as session:
        incident = _incident(session, ref)
        event = _event(session, incident, event_id)
        record_refused_change(session, hotline.clock.now(), g.api_token_name, incident, {
            "event_id": event.id if event else event_id[:64], "event_found": event is not None,
            "event_kind": event.kind if event else "", "method": request.method, "attempted": attempted,
            "fields": _fields(), "remote_addr": request.remote_addr or ""})
        reference = incident.reference
    return json_error(405, f"the event log of {reference} is append-only: events cannot be "
                           f"{'changed' if attempted == 'update' else 'deleted'}; this attempt was logged",
                      code="append_only", headers={"Allow": "GET"})


def _incident(session: Session, ref: str) -> Incident:
    incident = find_incident(session, ref)
    if incident is None:
        raise ApiError(404, f"no incident {ref!r}")
    return incident


def _event(session: Session, incident: Incident, event_id: str) -> IncidentEvent | None:
    """The event with this id if it is on the incident's log (its own lines or its call's)."""
    if not (event_id.isascii() and event_id.isdigit()) or len(event_id) > 18:
        return None
    owner = IncidentEvent.incident_id == incident.id
    if incident.call_sid:
        owner = or_(owner, IncidentEvent.call_sid == incident.call_sid)
    return session.scalar(select(IncidentEvent).where(IncidentEvent.id == int(event_id), owner))


def _fields() -> list[str]:
    """The field names the caller tried to set (never their values)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return []
    return sorted(str(k)[:64] for k in body)[:MAX_FIELDS]
