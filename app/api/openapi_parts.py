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


def with_body_errors(paths: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``paths`` with the errors every operation taking a JSON body can answer (and ``extra``) added to each."""
    added = {
        "400": error("Malformed JSON (or not UTF-8)"),
        "413": error("Body larger than 1 MiB"),
        "415": error("Body is not application/json"),
        **(extra or {}),
    }
    for operations in paths.values():
        for operation in operations.values():
            if "requestBody" in operation:
                responses = {**added, **operation["responses"]}
                operation["responses"] = dict(sorted(responses.items()))
    return paths
