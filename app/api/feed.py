"""``/events``: every incident's log lines in commit order, from a cursor that skips no late commit."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from app.api.auth import require_scope
from app.api.errors import ApiError
from app.api.formats import int_param
from app.api.incidents import event_json
from app.models import Incident
from app.services import event_feed

bp = Blueprint("feed", __name__)

DEFAULT_LIMIT, MAX_LIMIT = 100, 500


@bp.get("/events")
@require_scope("incidents:read")
def index():
    """Lines logged to any incident after ``cursor`` (from the start without one), in the order they committed;
    the lines a call logged before its incident opened come with the incident's opening line."""
    limit = int_param("limit", request.args.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    position = None
    if request.args.get("cursor"):
        try:
            position = event_feed.decode(request.args["cursor"])
        except event_feed.InvalidPosition as exc:
            raise ApiError(400, str(exc), code="invalid_parameter", field="cursor") from None
    with current_app.extensions["hotline"].db.transaction() as session:
        try:
            rows, after, more = event_feed.read(session, position, limit)
        except event_feed.InvalidPosition as exc:
            raise ApiError(400, str(exc), code="invalid_parameter", field="cursor") from None
        ids = {row.incident_id for row in rows}
        references = dict(session.execute(select(Incident.id, Incident.reference).where(Incident.id.in_(ids))).all())
        events = [event_json(row.event) | {"incident_id": row.incident_id,
                                           "incident_reference": references[row.incident_id]} for row in rows]
    return jsonify(events=events, next_cursor=event_feed.encode(after), has_more=more)
