"""The JSON API under ``/api/v1``: one parent blueprint, one child per resource."""

from __future__ import annotations

from flask import Blueprint, Response

from app.api import events, feed, incidents, oncall, openapi, tickets
from app.api.errors import register_error_handlers

API_PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
bp.register_blueprint(incidents.bp)
bp.register_blueprint(events.bp)
bp.register_blueprint(feed.bp)
bp.register_blueprint(tickets.bp)
bp.register_blueprint(oncall.bp)
bp.register_blueprint(openapi.bp)
register_error_handlers(bp, API_PREFIX)


@bp.after_request
def _no_store(response: Response) -> Response:
    # Incidents carry names and phone numbers: keep them out of shared caches.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
