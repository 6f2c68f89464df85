"""The helpdesk's part of the OpenAPI document: incident status fields, the change feed, ``updated_since`` and the
webhooks."""

from __future__ import annotations

from typing import Any

from app.api.feed import DEFAULT_LIMIT, MAX_LIMIT
from app.api.openapi_parts import STR, TIME, P, error, json_response, ref
from app.models import CallbackOutcome
from app.services.helpdesk_webhooks import SIGNATURE_HEADER, WEBHOOK_EVENTS

_REP = {"oneOf": [{"type": "object", "properties": {"rep_id": {"type": "integer"}, "name": STR}}, {"type": "null"}]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

INCIDENT_STATUS_FIELDS: dict[str, Any] = {
    "owner": {**_REP, "description": "The rep who owns it (who acknowledged it or took it over last), else the rep "
                                     "of the latest callback"},
    "acknowledgement": {"oneOf": [{"type": "object", "properties": {"at": TIME, "by": _REP}}, {"type": "null"}],
                        "description": "The first acknowledgement: when, and by whom (as the compliance report "
                                       "names them; after a take-over the owner is another rep)"},
    "callback": {
        "type": "object",
        "properties": {
            "due_at": TIME,
            "outcome": {"type": "string", "enum": ["none", *[o.value for o in CallbackOutcome]],
                        "description": "met/late are decided by Twilio's timestamp of the customer's answer "
                                       "(on this incident's deadline, also when the call that reached them was on a "
                                       "related incident: reached_on_related), once the conversation is proven: "
                                       "until the customer has talked 10 s after pressing the key (or the call "
                                       "ended having lasted that), the callback is pending, as the compliance "
                                       "report counts it, and confirming says so"},
            "reached_on_related": {"type": ["string", "null"],
                                   "description": "The reference of the incident linked to this one as possibly "
                                                  "related (a dropped call's redial, the same callback number) whose "
                                                  "callback reached the customer for this one; null otherwise"},
            "started_at": {**_NULLABLE_TIME, "description": "When Twilio first showed a customer's leg of a "
                                                            "callback dialled (null before: the hotline ringing the "
                                                            "rep's phone is not a started callback). Incidents "
                                                            "before this rule kept the first callback's request time"},
            "answered_at": {**_NULLABLE_TIME, "description": "The answer that counts (null while confirming)"},
            "confirming": {"oneOf": [{"type": "object", "properties": {"answered_at": TIME, "until": TIME}},
                                     {"type": "null"}],
                           "description": "The customer answered and pressed the key, and has not talked 10 s yet: "
                                          "not met (nor late) until then; a shorter call is withdrawn (the callback "
                                          "attempted). answered_at: the answer; until: when it counts, unless "
                                          "withdrawn before. Null otherwise"},
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
    "updated_at": {**TIME, "description": "The time stamped on the newest line of the incident's event log"},
}

_UPDATED_SINCE = {"name": "updated_since", "in": "query", "schema": TIME,
                  "description": "Only incidents with an event stamped at or after this instant. The stamp is the "
                                 "hotline's clock when the line was made, and its transaction may commit later (a "
                                 "few seconds; a caller spooled while the database was down is written when the "
                                 "spool is replayed, stamped with the call's time): a poller that passes the time "
                                 "of its last poll can miss such a line for good. To miss nothing, follow "
                                 "GET /api/v1/events with its cursor."}

_FEED = {"get": {
    "operationId": "listEventsInCommitOrder",
    "summary": "Every incident's event log lines, in the order they were committed",
    "description": (
        "Poll with the next_cursor of the previous answer (none: from the start of the log). Each answer "
        "hands out the lines committed since that cursor was handed out, each line once, including lines "
        "stamped (at) before the last poll whose transaction committed after it; a line whose transaction "
        "is still open is handed out by a later poll. has_more: more lines were already committed, poll "
        "again at once. next_cursor is always given, also when no line is: keep it. Lines written during "
        "a call before its incident opened (the intake so far) are part of the incident's log "
        "(GET /incidents/{ref}) and are handed out with its incident_opened line, as that incident's."),
    "parameters": [
        {"name": "cursor", "in": "query", "schema": STR, "description": "next_cursor of the previous answer"},
        {"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
    ],
    "responses": {
        "200": json_response(ref("EventFeedPage"), "Lines committed since the cursor"),
        "400": error("A malformed cursor or limit (a cursor of another hotline database too)"),
        "401": error("Missing, unknown or revoked token"),
    },
}}

FEED_SCHEMAS: dict[str, Any] = {
    "FeedEvent": {"allOf": [ref("IncidentEvent"), {"type": "object", "properties": {
        "incident_id": {"type": "integer"}, "incident_reference": STR}}]},
    "EventFeedPage": {"type": "object", "required": ["events", "next_cursor", "has_more"], "properties": {
        "events": {"type": "array", "items": ref("FeedEvent")},
        "next_cursor": {"type": "string", "description": "Opaque; pass as cursor next time"},
        "has_more": {"type": "boolean", "description": "More lines are committed already: poll again now"}}},
}

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


# what an event means, where its name does not say it all
_MEANINGS = {
    "callback.met": (
        "The incident's callback reached the customer by its deadline: its own (a person answered and talked), or "
        "one on an incident linked to it as possibly related (the same customer's redial), which counts here too "
        "(incident.callback.reached_on_related names that incident). Posted once the answer is proven, as the "
        "compliance report counts it: the customer has talked 10 s since pressing the key (or the call ended having "
        "lasted that); until then incident.callback.confirming says so. A conversation that ends sooner is withdrawn "
        "before: neither this event nor its callback.withdrawn is posted then. detail.answered_at is the answer. "),
    "callback.missed": "As callback.met, after the incident's deadline (the breach stays on record). ",
    "callback.self_reported": (
        "A rep says they called the customer back outside the hotline (their CALLED by SMS, or the dashboard): their "
        "word, never counted as met; the incident's owner and acknowledgement follow from it. "),
    "callback.withdrawn": (
        "A callback.met or callback.missed sent earlier no longer counts: a live connection (the caller waiting on "
        "the line) was counted at the moment Twilio was bridging it, and Twilio's end reports then said the two "
        "were never connected (detail.answered_at: the answer withdrawn; detail.callback_id). The incident's "
        "callback is the earliest answer still standing, or none; the hotline dials the customer back. Also sent "
        "when a bridged callback's or a live connection's conversation lasted under 10 seconds (detail.why: "
        "bridge_too_short; detail.live for a live one): the rep is asked to call the customer again. Not posted "
        "for an answer whose callback.met or callback.missed had not been posted yet (held until proven). "),
    "incident.breach_withdrawn": (
        "An incident.breached sent earlier no longer counts: it was logged on the provisional deadline of an "
        "incident opened while its caller was still giving details, and the deadline that counts, set once they "
        "were in, is later (detail.breached_at: the withdrawn breach; detail.callback_due_at: the deadline that "
        "counts). incident.breach.breached is false again until that deadline passes without a met callback; "
        "should it pass, a new incident.breached follows. "),
}


def _webhook(event: str) -> dict[str, Any]:
    return {"post": {
        "summary": f"{event}: posted to HELPDESK_WEBHOOK_URL",
        "description": _MEANINGS.get(event, "") + (
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
    """``document`` with the helpdesk fields, the change feed, the ``updated_since`` parameter and one webhook per
    event kind."""
    schemas = document["components"]["schemas"]
    schemas["Incident"]["properties"].update(INCIDENT_STATUS_FIELDS)
    schemas["WebhookEvent"] = WEBHOOK_EVENT_SCHEMA
    schemas.update(FEED_SCHEMAS)
    document["paths"][f"{P}/events"] = _FEED
    document["paths"][f"{P}/incidents"]["get"]["parameters"].append(_UPDATED_SINCE)
    document["webhooks"] = {event: _webhook(event) for event in WEBHOOK_EVENTS}
    return document
