"""GET /api/v1/incidents and /incidents/<ref>: filters, pagination, the event log."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from app.models import Incident, IncidentEvent, IncidentSource, IncidentStatus
from app.services.api_tokens import create_token

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    """Headers carrying a fresh API token."""
    with hotline.db.transaction() as session:
        token = create_token(session, "dashboard", clock.now(), scopes=("incidents:read",))
    return {"Authorization": f"Bearer {token}"}


def _incident(hotline, reference: str, received_at: datetime, **fields) -> int:
    values = {
        "reference": reference,
        "received_at": received_at,
        "captured_at": received_at + timedelta(minutes=2),
        "callback_due_at": received_at + timedelta(minutes=15),
    } | fields
    with hotline.db.transaction() as session:
        incident = Incident(**values)
        session.add(incident)
        session.flush()
        return incident.id


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _get(client, auth, path: str, **params):
    return client.get(path, headers=auth, query_string=params)


def test_list_is_newest_first_with_every_field(client, auth, hotline):
    _incident(hotline, "OLD1", T0)
    _incident(
        hotline,
        "NEW1",
        T0 + timedelta(minutes=30),
        company="Acme Mail GmbH",
        contact_name="Dana",
        callback_phone="+14155552671",
        email="dana@acme.example",
        affected_service="smtp",
        ticket_number="40211",
        ticket_match="number",
        language="de-DE",
        problem_text="Bounces <everything>",
        recording_url="https://api.twilio.com/rec/RE1",
        missing_fields=["email"],
        source=IncidentSource.FALLBACK,
    )
    response = _get(client, auth, "/api/v1/incidents")
    assert response.status_code == 200
    body = response.get_json()
    assert [i["reference"] for i in body["incidents"]] == ["NEW1", "OLD1"]
    assert body["next_cursor"] is None
    first = body["incidents"][0]
    assert first == {
        "id": first["id"],
        "reference": "NEW1",
        "status": "open",
        "source": "fallback",
        "company": "Acme Mail GmbH",
        "contact_name": "Dana",
        "callback_phone": "+14155552671",
        "callback_extension": "",  # none given
        "email": "dana@acme.example",
        "affected_service": "smtp",
        "ticket_number": "40211",
        "ticket_match": "number",
        "caller_verified": "no",
        "language": "de-DE",
        "received_at": "2026-11-26T01:30:00Z",
        "captured_at": "2026-11-26T01:32:00Z",
        "callback_due_at": "2026-11-26T01:45:00Z",
        "problem_text": "Bounces <everything>",
        "recording_url": "https://api.twilio.com/rec/RE1",
        "missing_fields": ["email"],
        "owner": None,
        "acknowledgement": None,
        "callback": {"due_at": "2026-11-26T01:45:00Z", "outcome": "none", "reached_on_related": None, "started_at": None, "answered_at": None, "confirming": None,
                     "attempts": 0, "caller_on_line": False},
        # the deadline (01:45) has passed with no met callback: breached by the report's rule, before any step logged it
        "breach": {"breached": True, "at": "2026-11-26T01:45:00Z"},
        "updated_at": "2026-11-26T01:30:00Z",  # no event logged: when it was received
    }


def test_filters_by_status_and_time(client, auth, hotline):
    _incident(hotline, "A", T0)
    _incident(hotline, "B", T0 + timedelta(hours=1), status=IncidentStatus.RESOLVED)
    _incident(hotline, "C", T0 + timedelta(hours=2))

    def refs(**params):
        response = _get(client, auth, "/api/v1/incidents", **params)
        assert response.status_code == 200, response.get_json()
        return [i["reference"] for i in response.get_json()["incidents"]]

    assert refs(status="open") == ["C", "A"]
    assert refs(status="resolved") == ["B"]
    assert refs(since="2026-11-26T02:00:00Z") == ["C", "B"]
    assert refs(until="2026-11-26T02:00:00Z") == ["A"]
    assert refs(since="2026-11-26T03:00:00+01:00", until="2026-11-26T03:00:00+00:00") == ["B"]
    # An unencoded "+" arrives as a space; it still means the offset.
    assert refs(since="2026-11-26T04:00:00 02:00") == ["C", "B"]


def test_cursor_pages_through_everything_once(client, auth, hotline):
    # Ties on received_at must neither repeat nor skip rows.
    for n in range(7):
        _incident(hotline, f"R{n}", T0 + timedelta(minutes=n // 2))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = _get(client, auth, "/api/v1/incidents", **params).get_json()
        seen += [i["reference"] for i in body["incidents"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == ["R6", "R5", "R4", "R3", "R2", "R1", "R0"]


def test_default_limit_is_50(client, auth, hotline):
    for n in range(51):
        _incident(hotline, f"N{n}", T0 + timedelta(seconds=n))
    body = _get(client, auth, "/api/v1/incidents").get_json()
    assert len(body["incidents"]) == 50
    assert body["next_cursor"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "closed"}, "status"),
        ({"since": "last tuesday"}, "since"),
        ({"since": "2026-11-26T02:00:00"}, "since"),  # naive
        ({"since": "2026-11-26T02:00:00Z", "until": "2026-11-26T01:00:00Z"}, "until"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        # audit F5: ids beyond the column, and a cursor near year 1 (its conversion to UTC overflowed: 500)
        ({"cursor": _cursor("0001-01-01T00:00:00+05:00|1")}, "cursor"),
        ({"cursor": _cursor("2026-12-03T12:00:00+00:00|99999999999999999999999")}, "cursor"),
        ({"cursor": _cursor("2026-12-03T12:00:00+00:00|0")}, "cursor"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, auth, params, field):
    response = _get(client, auth, "/api/v1/incidents", **params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_parameter", field)
    assert error["message"]


@pytest.mark.parametrize("params", [
    {"since": "0001-01-01T00:00:00+01:00"}, {"until": "9999-12-31T23:59:59-01:00"},
    {"updated_since": "0001-01-01T00:30:00+01:00"}, {"since": "1970-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"},
])
def test_a_range_bound_beyond_the_hotlines_years_means_everything_on_that_side(client, auth, hotline, params):
    # near year 1 or 9999 the conversion to UTC overflowed (500); "since the epoch" is a common "everything"
    _incident(hotline, "OLD1", T0)
    response = _get(client, auth, "/api/v1/incidents", **params)
    assert response.status_code == 200, response.get_json()
    edge = {name: "2000-01-01T00:00:00Z" if value.startswith(("0", "1")) else "2100-01-01T00:00:00Z"
            for name, value in params.items()}
    assert response.get_json() == _get(client, auth, "/api/v1/incidents", **edge).get_json()
    if "updated_since" not in params:  # (updated_since lists incidents with a logged line; OLD1 has none)
        assert [i["reference"] for i in response.get_json()["incidents"]] == ["OLD1"]


def test_detail_by_reference_or_id_with_events(client, auth, hotline):
    incident_id = _incident(hotline, "K7Q2M9", T0, call_sid="CA" + "1" * 32)
    with hotline.db.transaction() as session:
        session.add_all(
            [
                IncidentEvent(call_sid="CA" + "1" * 32, at=T0, actor="ivr", kind="call.started", detail={"from": "x"}),
                IncidentEvent(
                    incident_id=incident_id, at=T0 + timedelta(minutes=2), actor="ivr", kind="incident.created"
                ),
                IncidentEvent(call_sid="CA" + "2" * 32, at=T0, actor="ivr", kind="other.call"),
            ]
        )
    by_ref = _get(client, auth, "/api/v1/incidents/K7Q2M9")
    assert by_ref.status_code == 200
    body = by_ref.get_json()
    assert body["reference"] == "K7Q2M9"
    assert all(isinstance(e["id"], int) for e in body["events"])  # ids address single events
    assert [{k: v for k, v in e.items() if k != "id"} for e in body["events"]] == [
        {"at": "2026-11-26T01:00:00Z", "actor": "ivr", "kind": "call.started", "detail": {"from": "x"}},
        {"at": "2026-11-26T01:02:00Z", "actor": "ivr", "kind": "incident.created", "detail": {}},
    ]
    assert _get(client, auth, f"/api/v1/incidents/{incident_id}").get_json() == body
    assert _get(client, auth, "/api/v1/incidents/k7q2m9").get_json()["id"] == incident_id


@pytest.mark.parametrize("ref", ["NOPE", "999999", "99999999999999999999999"])
def test_unknown_incident_is_404_json(client, auth, ref):
    response = _get(client, auth, f"/api/v1/incidents/{ref}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_responses_are_not_cached(client, auth):
    response = _get(client, auth, "/api/v1/incidents")
    assert response.headers["Cache-Control"] == "no-store"


def test_openapi_covers_every_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert len(routes) >= 4
    for rule in routes:
        path = rule.rule.replace("<", "{").replace(">", "}")
        assert path in doc["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (path, method)


def test_openapi_refs_all_resolve(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = set(refs(doc))
    assert found
    for ref in found:
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
