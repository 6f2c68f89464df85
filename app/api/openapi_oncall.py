"""The OpenAPI description of the on-call routes (merged into ``openapi_doc``)."""

from __future__ import annotations

from typing import Any

from app.api.openapi_parts import STR as _STR
from app.api.openapi_parts import TIME as _TIME
from app.api.openapi_parts import P, with_body_errors
from app.api.openapi_parts import error as _error
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import ref as _ref
from app.oncall.fields import ALL_CHANNELS
from app.oncall.policy import TargetType
from app.oncall.rotation import Rotation

_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_CHANNELS = {"type": "array", "items": {"type": "string", "enum": list(ALL_CHANNELS)}, "minItems": 1}
_NULL_STR = {"type": ["string", "null"]}




def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


_401 = _error("Missing, unknown or revoked token")
_422 = _error("A field is invalid; error.field names it, e.g. layers[0].members[2]")
_REP_ID = {"name": "rep_id", "in": "path", "required": True, "schema": _INT}
_SCHEDULE_NAME = {"name": "name", "in": "path", "required": True, "schema": _STR, "description": "e.g. primary"}
_POLICY_NAME = {"name": "name", "in": "path", "required": True, "schema": _STR, "description": "e.g. default"}

ONCALL_SCHEMAS: dict[str, Any] = {
    "RepInput": {
        "type": "object",
        "required": ["name", "phone"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "phone": {"type": "string", "description": "E.164, e.g. +4930901820"},
            "phone_alt": {"type": ["string", "null"], "description": "E.164"},
            "email": {"type": ["string", "null"], "format": "email"},
            "channels": _CHANNELS | {"default": list(ALL_CHANNELS)},
            "time_zone": {"type": "string", "default": "UTC", "description": "IANA name"},
            "is_manager": _BOOL,
            "active": _BOOL,
        },
        "description": "On PUT, fields not given keep their value.",
    },
    "Rep": {
        "type": "object",
        "properties": {
            "id": _INT,
            "name": _STR,
            "phone": _STR,
            "phone_alt": _NULL_STR,
            "email": _NULL_STR,
            "channels": _CHANNELS,
            "time_zone": _STR,
            "is_manager": _BOOL,
            "active": _BOOL,
            "sms_opted_out": _BOOL | {"readOnly": True, "description": (
                "The rep's phone texted STOP: their pages are calls only until they text START to the hotline "
                "number (not settable)")},
            "warnings": {"type": "array", "items": _STR, "description": (
                "Only in the answer to PUT or DELETE, when the change moved who is on call now: one line per "
                "schedule naming who is on call instead (or nobody)")},
        },
    },
    "Layer": {
        "type": "object",
        "required": ["rotation", "handoff_time", "starts_on"],
        "properties": {
            "position": {"type": "integer", "description": "Higher wins; default: index in the list"},
            "rotation": {"type": "string", "enum": [r.value for r in Rotation]},
            "handoff_time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "description": "Local HH:MM"},
            "handoff_weekday": {"type": ["integer", "null"], "minimum": 0, "maximum": 6, "description": "weekly"},
            "shift_hours": {"type": ["integer", "null"], "minimum": 1, "description": (
                "custom: hours of the wall clock between hand-offs (across a daylight-saving change, a shift "
                "is an hour shorter or longer)")},
            "starts_on": {"type": "string", "format": "date", "description": "Local date of the first hand-off"},
            "members": {"type": "array", "items": {"type": ["integer", "string"]}, "description": (
                "Rep ids or names, in rotation order. A replaced layer (same position) keeps the rep on call now "
                "until its next hand-off: the list is stored turned (same cyclic order) to do so")},
            "member_names": {"type": "array", "items": _NULL_STR, "readOnly": True},
        },
    },
    "ScheduleInput": {
        "type": "object",
        "required": ["name", "time_zone"],
        "properties": {
            "name": _STR,
            "time_zone": {"type": "string", "description": "IANA name"},
            "layers": {"type": "array", "items": _ref("Layer"), "maxItems": 10},
        },
        "description": ("On PUT the name comes from the path; layers are replaced. A schedule as GET returns it may be "
                        "sent back: its id, the layers' member_names, overrides and shifts are ignored (overrides have "
                        "their own endpoints)."),
    },
    "Schedule": {
        "type": "object",
        "properties": {
            "id": _INT,
            "name": _STR,
            "time_zone": _STR,
            "layers": {"type": "array", "items": _ref("Layer")},
        },
    },
    "Shift": {
        "type": "object",
        "properties": {
            "rep_id": _INT,
            "rep_name": _STR,
            "starts_at": _TIME,
            "ends_at": _TIME,
            "layer": {"type": ["integer", "null"], "description": "Layer position, null for an override"},
            "override_id": {"type": ["integer", "null"]},
        },
    },
    "ScheduleDetail": {
        "allOf": [
            _ref("Schedule"),
            {
                "type": "object",
                "properties": {
                    "overrides": {"type": "array", "items": _ref("Override")},
                    "shifts": {"type": "array", "items": _ref("Shift")},
                },
            },
        ]
    },
    "OverrideInput": {
        "type": "object",
        "required": ["rep", "starts_at", "ends_at"],
        "additionalProperties": False,
        "properties": {
            "rep": {"type": ["integer", "string"], "description": "Rep id or name"},
            "starts_at": {"type": "string", "format": "date-time", "description": "With offset"},
            "ends_at": {"type": "string", "format": "date-time", "description": "With offset; exclusive"},
            "reason": {"type": "string", "maxLength": 500},
        },
    },
    "Override": {
        "type": "object",
        "properties": {
            "id": _INT,
            "schedule": _STR,
            "rep_id": _INT,
            "rep_name": _STR,
            "starts_at": _TIME,
            "ends_at": _TIME,
            "reason": _STR,
            "warnings": {"type": "array", "items": _STR, "description": (
                "Only in the answer to POST, when there is something worth a look: the rep is deactivated (the "
                "override pages nobody while they stay so; who is on call instead is named), or it overlaps another "
                "active rep's override (both are paged)")},
        },
    },
    "OnCall": {
        "type": "object",
        "properties": {
            "at": _TIME,
            "schedules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": _STR,
                        "time_zone": _STR,
                        "on_call": {"type": "array", "items": _ref("Rep")},
                    },
                },
            },
            "managers": {"type": "array", "items": _ref("Rep")},
        },
    },
    "EscalationTarget": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": [t.value for t in TargetType]},
            "schedule": {"type": "string", "description": "type schedule: its name"},
            "rep": {"type": ["integer", "string"], "description": "type rep: id or name"},
            "channels": _CHANNELS | {"description": "Default: the rep's own channels (sms+voice for a TAM)"},
        },
    },
    "EscalationPolicy": {
        "type": "object",
        "required": ["levels"],
        "properties": {
            "name": _STR,
            "is_default": _BOOL,
            "warnings": {"type": "array", "items": _STR, "readOnly": True, "description": (
                "Only in the answer to PUT, when there is something worth a look: a rep target naming a "
                "deactivated rep (it pages nobody)")},
            "levels": {
                "type": "array",
                "minItems": 1,
                "maxItems": 10,
                "items": {
                    "type": "object",
                    "required": ["delay_minutes", "targets"],
                    "properties": {
                        "delay_minutes": {"type": "integer", "minimum": 0, "description": "Not below the last level's"},
                        "targets": {"type": "array", "minItems": 1, "items": _ref("EscalationTarget")},
                    },
                },
            },
        },
    },
}

ONCALL_PATHS: dict[str, Any] = with_body_errors({
    f"{P}/reps": {
        "get": {
            "operationId": "listReps",
            "summary": "Every rep, by name",
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"reps": {"type": "array", "items": _ref("Rep")}}}, "Reps"
                ),
                "401": _401,
            },
        },
        "post": {
            "operationId": "createRep",
            "summary": "Create a rep",
            "requestBody": _body("RepInput"),
            "responses": {"201": _json(_ref("Rep"), "Created"), "401": _401, "409": _error("Name taken"), "422": _422},
        },
    },
    f"{P}/reps/{{rep_id}}": {
        "get": {
            "operationId": "getRep",
            "summary": "One rep",
            "parameters": [_REP_ID],
            "responses": {"200": _json(_ref("Rep"), "The rep"), "401": _401, "404": _error("No such rep")},
        },
        "put": {
            "operationId": "updateRep",
            "summary": "Update a rep (fields not given are kept)",
            "parameters": [_REP_ID],
            "requestBody": _body("RepInput"),
            "responses": {
                "200": _json(_ref("Rep"), "Updated"),
                "401": _401,
                "404": _error("No such rep"),
                "409": _error("Name taken"),
                "422": _422,
            },
        },
        "delete": {
            "operationId": "deactivateRep",
            "summary": "Deactivate a rep (never paged again; kept in history)",
            "parameters": [_REP_ID],
            "responses": {"200": _json(_ref("Rep"), "Deactivated"), "401": _401, "404": _error("No such rep")},
        },
    },
    f"{P}/schedules": {
        "get": {
            "operationId": "listSchedules",
            "summary": "Every schedule with its layers",
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"schedules": {"type": "array", "items": _ref("Schedule")}}},
                    "Schedules",
                ),
                "401": _401,
            },
        },
        "post": {
            "operationId": "createSchedule",
            "summary": "Create a schedule with its layers",
            "requestBody": _body("ScheduleInput"),
            "responses": {
                "201": _json(_ref("Schedule"), "Created"),
                "401": _401,
                "409": _error("Name taken"),
                "422": _422,
            },
        },
    },
    f"{P}/schedules/{{name}}": {
        "get": {
            "operationId": "getSchedule",
            "summary": "A schedule, its overrides not yet over, and its shifts for the next days",
            "parameters": [
                _SCHEDULE_NAME,
                {
                    "name": "days",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 90, "default": 14},
                },
            ],
            "responses": {
                "200": _json(_ref("ScheduleDetail"), "The schedule"),
                "400": _error("A query parameter is malformed"),
                "401": _401,
                "404": _error("No such schedule"),
            },
        },
        "put": {
            "operationId": "putSchedule",
            "summary": "Set the time zone and replace the layers (creates the schedule if new)",
            "parameters": [_SCHEDULE_NAME],
            "requestBody": _body("ScheduleInput"),
            "responses": {
                "200": _json(_ref("Schedule"), "Replaced"),
                "201": _json(_ref("Schedule"), "Created"),
                "401": _401,
                "422": _422,
            },
        },
    },
    f"{P}/schedules/{{name}}/overrides": {
        "post": {
            "operationId": "addOverride",
            "summary": "Put a rep on call over every layer for a while",
            "parameters": [_SCHEDULE_NAME],
            "requestBody": _body("OverrideInput"),
            "responses": {
                "200": _json(_ref("Override"), "An identical override exists"),
                "201": _json(_ref("Override"), "Added"),
                "401": _401,
                "404": _error("No such schedule"),
                "422": _422,
            },
        },
    },
    f"{P}/overrides/{{override_id}}": {
        "delete": {
            "operationId": "deleteOverride",
            "summary": "Delete an override",
            "parameters": [{"name": "override_id", "in": "path", "required": True, "schema": _INT}],
            "responses": {"204": {"description": "Deleted"}, "401": _401, "404": _error("No such override")},
        },
    },
    f"{P}/oncall": {
        "get": {
            "operationId": "whoIsOnCall",
            "summary": "Who is on call per schedule, and the managers",
            "parameters": [{"name": "at", "in": "query", "schema": _TIME, "description": "Default: now"}],
            "responses": {"200": _json(_ref("OnCall"), "On call"), "400": _error("Bad at"), "401": _401},
        },
    },
    f"{P}/escalation-policies/{{name}}": {
        "get": {
            "operationId": "getEscalationPolicy",
            "summary": "One escalation policy",
            "description": "The default policy is shown as the next incident will use it, with is_default true: "
                           "the built-in one (name default) while none is stored.",
            "parameters": [_POLICY_NAME],
            "responses": {
                "200": _json(_ref("EscalationPolicy"), "The policy"),
                "401": _401,
                "404": _error("No such policy"),
            },
        },
        "put": {
            "operationId": "putEscalationPolicy",
            "summary": "Create or replace a policy; is_default makes it the default",
            "parameters": [_POLICY_NAME],
            "requestBody": _body("EscalationPolicy"),
            "responses": {
                "200": _json(_ref("EscalationPolicy"), "Replaced"),
                "201": _json(_ref("EscalationPolicy"), "Created"),
                "401": _401,
                "422": _422,
            },
        },
    },
}, {"409": _error("Name taken, or a change made at the same time conflicts; retry")})
