"""``GET /openapi.json``: the API's own description (no token needed)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.api.openapi_doc import openapi_document

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def document():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi_document())
