"""``GET /openapi.json``: the API's own description (no token needed)."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify

from app.api.openapi_doc import openapi_document
from app.services.api_tokens import SCOPES

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def document():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(with_scopes(openapi_document()))


def with_scopes(doc: dict) -> dict:
    """``doc`` with each operation's required scope (read from the views themselves) and its 403."""
    forbidden = {"description": "The token lacks the scope this operation needs",
                 "content": {"application/json": {"schema": {"type": "object"}}}}
    for rule in current_app.url_map.iter_rules():
        scope = getattr(current_app.view_functions[rule.endpoint], "required_scope", None)
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        if scope is None or path not in doc["paths"]:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"][path].get(method.lower())
            if operation is not None:
                operation["security"] = [{"bearerAuth": [scope]}]
                operation["x-required-scope"] = scope
                operation.setdefault("responses", {}).setdefault("403", forbidden)
    scheme = doc.get("components", {}).get("securitySchemes", {}).get("bearerAuth")
    if scheme is not None:
        scheme["description"] = ("Create one with `hotline api-token create NAME --scope SCOPE` (default "
                                 f"tickets:write); scopes: {', '.join(SCOPES)}")
    return doc
