"""The hand-written OpenAPI 3.1 description of ``/api/v1``."""

from __future__ import annotations

import copy
from typing import Any

from app.api.openapi_oncall import ONCALL_PATHS, ONCALL_SCHEMAS
from app.api.openapi_parts import STR as _STR
from app.api.openapi_parts import TIME as _TIME
from app.api.openapi_parts import P, with_body_errors
from app.api.openapi_parts import error as _error
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import ref as _ref
from app.api.tickets import ACCOUNT_SCOPE
from app.api.tickets import SCOPE as TICKETS_SCOPE
from app.models import IncidentSource, IncidentStatus, TicketStatus
from app.services.ticket_input import ACCOUNT_FIELDS

_INCIDENT_REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "description": "The incident's reference, or its numeric id",
    "schema": _STR,
}
_EVENT_ID = {"name": "event_id", "in": "path", "required": True, "description": "The event's id",
             "schema": {"type": "integer"}}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "examples": ["unauthorized", "invalid", "not_found", "unsupported_media_type", "append_only"],
                    },
                    "message": _STR,
                    "field": {"type": "string", "description": "The offending field or parameter"},
                },
            }
        },
    },
    "Incident": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "reference": _STR,
            "status": {"type": "string", "enum": [s.value for s in IncidentStatus]},
            "source": {"type": "string", "enum": [s.value for s in IncidentSource]},
            "company": _STR,
            "contact_name": _STR,
            "callback_phone": {"type": "string", "description": "E.164, or empty"},
            "callback_extension": {"type": "string", "description": "digits to key in once connected, or empty"},
            "email": _STR,
            "affected_service": _STR,
            "ticket_number": _STR,
            "ticket_match": _STR,
            "caller_verified": {"type": "string", "enum": ["pin", "reference", "no"],
                                "description": "How the caller proved who they are (issue 9)"},
            "language": {"type": "string", "examples": ["en-US", "de-DE"]},
            "received_at": _TIME,
            "captured_at": _TIME,
            "callback_due_at": _TIME,
            "problem_text": _STR,
            "recording_url": _STR,
            "missing_fields": {"type": "array", "items": _STR},
        },
    },
    "IncidentEvent": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "at": _TIME,
            "actor": _STR,
            "kind": _STR,
            "detail": {"type": "object", "additionalProperties": True},
        },
    },
    "LoggedEvent": {
        "allOf": [_ref("IncidentEvent"), {"type": "object", "properties": {"id": {"type": "integer"}}}],
    },
    "IncidentDetail": {
        "allOf": [
            _ref("Incident"),
            {"type": "object", "properties": {"events": {"type": "array", "items": _ref("IncidentEvent")}}},
        ]
    },
    "IncidentPage": {
        "type": "object",
        "properties": {
            "incidents": {"type": "array", "items": _ref("Incident")},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as cursor for the next page"},
            "limit": {"type": "integer"},
        },
    },
    "TicketInput": {
        "type": "object",
        "required": ["number", "company"],
        "additionalProperties": False,
        "properties": {
            "number": {"type": ["string", "integer"], "pattern": "^[0-9]{1,20}$", "description": "Digits only"},
            "company": {"type": "string", "maxLength": 200},
            "status": {"type": "string", "enum": [s.value for s in TicketStatus], "default": "open"},
            "subject": {"type": "string", "maxLength": 500},
            "opened_at": {"type": "string", "format": "date-time", "description": "With offset; default now"},
            "contact_name": {"type": "string", "maxLength": 200},
            "contact_email": {"type": "string", "format": "email"},
            "contact_phone": {"type": "string", "description": "E.164, or national format of DEFAULT_REGION"},
            "contact_phone_alt": {"type": "string", "description": "A second phone of the contact"},
            "tam_name": {"type": "string", "maxLength": 200, "description": "The account's TAM"},
            "tam_email": {"type": "string", "format": "email",
                          "description": "The TAM is e-mailed here about the account's Sev-1s outside their business "
                                         "hours, or always without a tam_phone"},
            "tam_phone": {"type": "string",
                          "description": "The TAM is paged here about the account's Sev-1s in their business hours"},
            "tam_time_zone": {"type": "string", "maxLength": 64,
                              "description": "The TAM's IANA time zone (e.g. America/Los_Angeles), in which "
                                             "tam_business_hours are read; default UTC"},
            "tam_business_hours": {"type": "string", "maxLength": 100,
                                   "description": "When the TAM is paged by phone rather than e-mailed, as "
                                                  "'mon-fri 09:00-17:00, sat 10:00-14:00' (no overnight windows); "
                                                  "default mon-fri 09:00-17:00"},
            "support_pin": {"type": "string", "pattern": "^([0-9]{4,8}|-)$",
                            "description": "The account's support PIN for callers (stored hashed; '-' removes it)"},
        },
        "description": ("Absent or empty optional fields keep their stored value on update. The account's TAM and "
                        f"support PIN ({', '.join(ACCOUNT_FIELDS)}: x-required-scope) need a token with "
                        f"{ACCOUNT_SCOPE} as well as {TICKETS_SCOPE}; without it a request that sets one is refused "
                        "(403 insufficient_scope, error.field names it) and nothing is stored."),
    },
    "TicketBatch": {
        "type": "object",
        "required": ["tickets"],
        "properties": {"tickets": {"type": "array", "minItems": 1, "maxItems": 500, "items": _ref("TicketInput")}},
    },
    "Contact": {
        "type": "object",
        "properties": {"name": _STR, "email": _STR, "phone": _STR, "phone_alt": _STR},
    },
    "Ticket": {
        "type": "object",
        # required fields tell a ticket from a TicketBatchResult: each answer of POST /tickets matches one
        "required": ["number", "status", "company", "subject", "contact", "opened_at", "updated_at"],
        "properties": {
            "number": _STR,
            "status": {"type": "string", "enum": [s.value for s in TicketStatus]},
            "company": _STR,
            "subject": _STR,
            "contact": {"oneOf": [_ref("Contact"), {"type": "null"}]},
            "opened_at": _TIME,
            "updated_at": _TIME,
        },
    },
    "TicketBatchResult": {
        "type": "object",
        "required": ["created", "updated", "tickets"],
        "properties": {
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "tickets": {
                "type": "array",
                "items": {
                    "allOf": [_ref("Ticket"), {"type": "object", "properties": {"created": {"type": "boolean"}}}]
                },
            },
        },
    },
}

for _name in ACCOUNT_FIELDS:
    _SCHEMAS["TicketInput"]["properties"][_name]["x-required-scope"] = ACCOUNT_SCOPE

_PATHS: dict[str, Any] = with_body_errors({
    f"{P}/incidents": {
        "get": {
            "operationId": "listIncidents",
            "summary": "List incidents, newest first",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "resolved"]}},
                {"name": "since", "in": "query", "schema": _TIME, "description": "received_at >= since"},
                {"name": "until", "in": "query", "schema": _TIME, "description": "received_at < until"},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
                {"name": "cursor", "in": "query", "schema": _STR, "description": "next_cursor of the last page"},
            ],
            "responses": {
                "200": _json(_ref("IncidentPage"), "A page of incidents"),
                "400": _error("A query parameter is malformed"),
                "401": _error("Missing, unknown or revoked token"),
            },
        }
    },
    f"{P}/incidents/{{ref}}": {
        "get": {
            "operationId": "getIncident",
            "summary": "One incident with its event log",
            "parameters": [_INCIDENT_REF],
            "responses": {
                "200": _json(_ref("IncidentDetail"), "The incident"),
                "401": _error("Missing, unknown or revoked token"),
                "404": _error("No such incident"),
            },
        }
    },
    f"{P}/incidents/{{ref}}/events/{{event_id}}": {
        "parameters": [_INCIDENT_REF, _EVENT_ID],
        "get": {
            "operationId": "getIncidentEvent",
            "summary": "One line of the incident's append-only event log",
            "responses": {
                "200": _json(_ref("LoggedEvent"), "The event"),
                "401": _error("Missing, unknown or revoked token"),
                "404": _error("No such incident, or no such event on its log"),
            },
        },
        **{
            method: {
                "operationId": f"{method}IncidentEvent",
                "summary": "Refused: the event log is append-only; the attempt is itself logged",
                "description": (
                    "Always answers 405 (error.code append_only) for an existing incident, and logs the attempt: "
                    "every one in the app.security log, and an event_change_refused line (token, event id, method, "
                    "field names) on the incident's log for a token's first attempt on it in an hour (at most 10 "
                    "incidents a token an hour), so a token cannot grow the kept-forever log at its request rate."
                ),
                "responses": {
                    "401": _error("Missing, unknown or revoked token"),
                    "404": _error("No such incident"),
                    "405": _error("Events cannot be changed or deleted; the attempt was logged"),
                },
            }
            for method in ("put", "patch", "delete")
        },
    },
    f"{P}/tickets": {
        "post": {
            "operationId": "upsertTickets",
            "summary": "Create or update one ticket, or a batch of up to 500 (all or nothing)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"oneOf": [_ref("TicketInput"), _ref("TicketBatch")]}}},
            },
            "responses": {
                "200": {
                    "description": "Ticket updated, or batch stored",
                    "content": {"application/json": {"schema": {"oneOf": [_ref("Ticket"), _ref("TicketBatchResult")]}}},
                },
                "201": _json(_ref("Ticket"), "Ticket created"),
                "401": _error("Missing, unknown or revoked token"),
                "403": _error(f"The token lacks {TICKETS_SCOPE}, or {ACCOUNT_SCOPE} for a TAM or support PIN field "
                              "(error.field names it, tickets[i].field in a batch); nothing is stored"),
                "422": _error("A field is invalid; error.field names it (tickets[i].field in a batch)"),
            },
        }
    },
    f"{P}/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {}}}},
        }
    },
})


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict each call)."""
    from app.api.openapi_helpdesk import with_helpdesk

    return with_helpdesk(copy.deepcopy({
        "openapi": "3.1.0",
        "info": {
            "title": "Sev-1 Hotline API",
            "version": "1.0.0",
            "description": (
                "Incidents recorded by the Sev-1 hotline, the helpdesk tickets it matches callers to, "
                "and who is on call to be paged."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": _PATHS | ONCALL_PATHS,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Create one with the CLI"}
            },
            "schemas": _SCHEMAS | ONCALL_SCHEMAS,
        },
    }))
