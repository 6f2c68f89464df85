"""``/incidents``: the incident list and one incident with its event log."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from app.api.auth import require_scope
from app.api.errors import ApiError
from app.api.formats import int_param, iso_utc, timestamp_param
from app.api.incident_json import extras_for
from app.api.incident_queries import IncidentFilter, InvalidCursor, decode_cursor, find_incident, list_incidents
from app.models import Incident, IncidentEvent, IncidentStatus
from app.services.events import events_of

bp = Blueprint("incidents", __name__)

MAX_LIMIT = 200


@bp.get("/incidents")
@require_scope("incidents:read")
def index():
    """Incidents, newest first; filters status, since, until; limit and cursor paginate."""
    query = _filter_from(request.args)
    hotline = current_app.extensions["hotline"]
    with hotline.db.transaction() as session:
        page, next_cursor = list_incidents(session, query)
        extras = extras_for(session, page, hotline.clock.now())
        items = [incident_json(i) | extras[i.id] for i in page]
    return jsonify(incidents=items, next_cursor=next_cursor, limit=query.limit)


@bp.get("/incidents/<ref>")
@require_scope("incidents:read")
def show(ref: str):
    """One incident by reference or id, with its event log."""
    hotline = current_app.extensions["hotline"]
    with hotline.db.transaction() as session:
        incident = find_incident(session, ref)
        if incident is None:
            raise ApiError(404, f"no incident {ref!r}")
        body = (incident_json(incident) | extras_for(session, [incident], hotline.clock.now())[incident.id]
                | {"events": [event_json(e) for e in events_of(session, incident)]})
    return jsonify(body)


def incident_json(incident: Incident) -> dict[str, object]:
    """The API form of an incident."""
    return {
        "id": incident.id,
        "reference": incident.reference,
        "status": str(incident.status),
        "source": str(incident.source),
        "company": incident.company,
        "contact_name": incident.contact_name,
        "callback_phone": incident.callback_phone,
        "email": incident.email,
        "affected_service": incident.affected_service,
        "ticket_number": incident.ticket_number,
        "ticket_match": incident.ticket_match,
        "caller_verified": incident.caller_verified or "no",  # issue 9: "pin", "reference" or "no"
        "language": incident.language,
        "received_at": iso_utc(incident.received_at),
        "captured_at": iso_utc(incident.captured_at),
        "callback_due_at": iso_utc(incident.callback_due_at),
        "problem_text": incident.problem_text,
        "recording_url": incident.recording_url,
        "missing_fields": list(incident.missing_fields or []),
    }


def event_json(event: IncidentEvent) -> dict[str, object]:
    """The API form of one logged event."""
    return {"id": event.id, "at": iso_utc(event.at), "actor": event.actor, "kind": event.kind,
            "detail": event.detail or {}}


def _filter_from(args: MultiDict[str, str]) -> IncidentFilter:
    status = args.get("status", "").strip().lower() or None
    if status is not None and status not in {s.value for s in IncidentStatus}:
        allowed = ", ".join(s.value for s in IncidentStatus)
        raise ApiError(400, f"must be one of {allowed}", code="invalid_parameter", field="status")
    since = timestamp_param("since", args.get("since"), bound=True)
    until = timestamp_param("until", args.get("until"), bound=True)
    if since is not None and until is not None and since >= until:
        raise ApiError(400, "must be later than since", code="invalid_parameter", field="until")
    after = None
    if args.get("cursor"):
        try:
            after = decode_cursor(args["cursor"])
        except InvalidCursor as exc:
            raise ApiError(400, str(exc), code="invalid_parameter", field="cursor") from None
    return IncidentFilter(
        status=IncidentStatus(status) if status else None,
        since=since,
        until=until,
        limit=int_param("limit", args.get("limit"), 50, 1, MAX_LIMIT),
        after=after,
        updated_since=timestamp_param("updated_since", args.get("updated_since"), bound=True),
    )
