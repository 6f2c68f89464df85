"""The helpdesk's part of the OpenAPI document: incident status fields, ``updated_since`` and the webhooks."""

from __future__ import annotations

from typing import Any

from app.api.openapi_parts import STR, TIME, P, ref
from app.models import CallbackOutcome
from app.services.helpdesk_webhooks import SIGNATURE_HEADER, WEBHOOK_EVENTS

_REP = {"oneOf": [{"type": "object", "properties": {"rep_id": {"type": "integer"}, "name": STR}}, {"type": "null"}]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

INCIDENT_STATUS_FIELDS: dict[str, Any] = {
    "owner": {**_REP, "description": "The rep who acknowledged, else the rep of the latest callback"},
    "acknowledgement": {"oneOf": [{"type": "object", "properties": {"at": TIME, "by": _REP}}, {"type": "null"}]},
    "callback": {
        "type": "object",
        "properties": {
            "due_at": TIME,
            "outcome": {"type": "string", "enum": ["none", *[o.value for o in CallbackOutcome]],
                        "description": "met/late are decided by Twilio's timestamp of the customer's answer"},
            "started_at": _NULLABLE_TIME,
            "answered_at": _NULLABLE_TIME,
            "attempts": {"type": "integer"},
            "caller_on_line": {"type": "boolean", "description": "The caller who opened the incident is still giving "
                                                                 "their details: due_at is provisional until their "
                                                                 "call ends (it is then set 15 minutes later)"},
        },
    },
    "breach": {"type": "object", "properties": {
        "breached": {"type": "boolean", "description": "The compliance report's rule: the deadline passed without a "
                                                      "met callback (a self-reported call is never met)"},
        "at": {**_NULLABLE_TIME, "description": "When the breach step logged it, else the deadline that passed"}}},
    "updated_at": {**TIME, "description": "When the newest line of the incident's event log was written"},
}

_UPDATED_SINCE = {"name": "updated_since", "in": "query", "schema": TIME,
                  "description": "Only incidents with an event logged at or after this instant (poll with the "
                                 "newest updated_at you have seen)"}

WEBHOOK_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["delivery_id", "event", "incident"],
    "properties": {
        "delivery_id": {"type": "integer", "description": "Also in X-Hotline-Delivery; deduplicate on it"},
        "event": {"type": "string", "enum": list(WEBHOOK_EVENTS)},
        "occurred_at": TIME,
        "detail": {"type": "object", "additionalProperties": True},
        "incident": ref("Incident"),
    },
}


def _webhook(event: str) -> dict[str, Any]:
    return {"post": {
        "summary": f"{event}: posted to HELPDESK_WEBHOOK_URL",
        "description": (
            f"JSON body signed with HMAC-SHA256: {SIGNATURE_HEADER}: sha256=<hex of HMAC(HELPDESK_WEBHOOK_SECRET, "
            "X-Hotline-Timestamp + '.' + body)>. Any 2xx answer counts as delivered; otherwise the delivery is "
            "retried (30 s, 1, 2, 5, 10 min; 6 attempts) and logged. At least once: deduplicate on delivery_id."),
        "parameters": [
            {"name": "X-Hotline-Event", "in": "header", "schema": {"type": "string", "enum": [event]}},
            {"name": "X-Hotline-Delivery", "in": "header", "schema": STR},
            {"name": "X-Hotline-Timestamp", "in": "header", "schema": STR, "description": "Unix seconds"},
            {"name": SIGNATURE_HEADER, "in": "header", "schema": STR},
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("WebhookEvent")}}},
        "responses": {"2XX": {"description": "Delivered"}},
    }}


def with_helpdesk(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the helpdesk fields, the ``updated_since`` parameter and one webhook per event kind."""
    schemas = document["components"]["schemas"]
    schemas["Incident"]["properties"].update(INCIDENT_STATUS_FIELDS)
    schemas["WebhookEvent"] = WEBHOOK_EVENT_SCHEMA
    document["paths"][f"{P}/incidents"]["get"]["parameters"].append(_UPDATED_SINCE)
    document["webhooks"] = {event: _webhook(event) for event in WEBHOOK_EVENTS}
    return document
