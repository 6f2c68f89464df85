"""Building blocks shared by the OpenAPI documents of the API's parts."""

from __future__ import annotations

from typing import Any

P = "/api/v1"
STR = {"type": "string"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC (Z)"}


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON response with ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> dict[str, Any]:
    """A JSON error response."""
    return json_response(ref("Error"), description)
