"""The on-call JSON API: reps, schedules, overrides, who is on call, escalation policies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import EscalationPolicy
from app.oncall.policy import default_levels
from app.services.api_tokens import create_token

ALICE = {"name": "Alice", "phone": "+4930901820", "time_zone": "Europe/Berlin"}
BOB = {"name": "Bob", "phone": "+4930901821", "channels": ["sms"]}
PRIMARY = {
    "name": "primary",
    "time_zone": "Europe/Berlin",
    "layers": [{"rotation": "daily", "handoff_time": "09:00", "starts_on": "2026-11-23", "members": ["Alice", "Bob"]}],
}


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    """Headers carrying a fresh API token."""
    with hotline.db.transaction() as session:
        token = create_token(session, "oncall-admin", clock.now(), scopes=("oncall:admin",))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def team(client, auth) -> dict[str, int]:
    """Alice, Bob and a primary schedule; rep ids by name."""
    ids = {r["name"]: client.post("/api/v1/reps", json=r, headers=auth).get_json()["id"] for r in (ALICE, BOB)}
    assert client.post("/api/v1/schedules", json=PRIMARY, headers=auth).status_code == 201
    return ids


def _error(response) -> tuple[int, str, str | None]:
    body = response.get_json()["error"]
    return response.status_code, body["code"], body.get("field")


def test_routes_need_a_token(client):
    for path in ("/api/v1/reps", "/api/v1/schedules", "/api/v1/oncall", "/api/v1/escalation-policies/default"):
        assert client.get(path).status_code == 401


def test_create_show_and_list_reps(client, auth):
    created = client.post("/api/v1/reps", json=ALICE | {"phone": "+49 30 901820"}, headers=auth)
    assert created.status_code == 201
    rep = created.get_json()
    assert rep == {
        "id": rep["id"],
        "name": "Alice",
        "phone": "+4930901820",
        "phone_alt": None,
        "email": None,
        "channels": ["sms", "voice"],
        "time_zone": "Europe/Berlin",
        "is_manager": False,
        "active": True,
        "sms_opted_out": False,
    }
    assert client.get(f"/api/v1/reps/{rep['id']}", headers=auth).get_json() == rep
    assert client.get("/api/v1/reps", headers=auth).get_json() == {"reps": [rep]}


def test_rep_errors(client, auth):
    client.post("/api/v1/reps", json=ALICE, headers=auth)
    assert _error(client.post("/api/v1/reps", json=ALICE, headers=auth)) == (409, "conflict", "name")
    assert _error(client.post("/api/v1/reps", json=ALICE | {"name": "Al", "phone": "12"}, headers=auth)) == (
        422,
        "invalid",
        "phone",
    )
    assert _error(client.post("/api/v1/reps", json={"name": "X"}, headers=auth)) == (422, "invalid", "phone")
    assert _error(client.post("/api/v1/reps", json=[1], headers=auth))[:2] == (422, "invalid")
    assert _error(client.get("/api/v1/reps/999", headers=auth)) == (404, "not_found", None)
    assert _error(client.get("/api/v1/reps/abc", headers=auth)) == (404, "not_found", None)
    bad_json = client.post("/api/v1/reps", data="{", headers=auth | {"Content-Type": "application/json"})
    assert bad_json.status_code == 400


def test_a_reps_number_with_an_extension_is_refused_by_the_api_as_by_the_import(client, auth, team):
    refused = client.post("/api/v1/reps", json={"name": "Carl", "phone": "+14155550111;ext=12"}, headers=auth)
    assert _error(refused) == (422, "invalid", "phone")
    assert "has an extension (12): a page cannot dial an extension" in refused.get_json()["error"]["message"]
    changed = client.put(f"/api/v1/reps/{team['Bob']}", json={"phone_alt": "+442079460000x"}, headers=auth)
    assert _error(changed) == (422, "invalid", "phone_alt")
    assert client.get(f"/api/v1/reps/{team['Bob']}", headers=auth).get_json()["phone_alt"] is None


def test_update_keeps_fields_not_given_and_delete_deactivates(client, auth, team):
    url = f"/api/v1/reps/{team['Bob']}"
    updated = client.put(url, json={"channels": ["voice", "sms"], "is_manager": True}, headers=auth).get_json()
    assert (updated["name"], updated["phone"], updated["channels"], updated["is_manager"]) == (
        "Bob",
        "+4930901821",
        ["sms", "voice"],
        True,
    )
    assert _error(client.put(url, json={"name": "Alice"}, headers=auth)) == (409, "conflict", "name")
    assert _error(client.put(url, json={"id": 5}, headers=auth)) == (422, "invalid", "id")
    deleted = client.delete(url, headers=auth)
    assert deleted.status_code == 200
    assert deleted.get_json()["active"] is False
    assert client.get(url, headers=auth).get_json()["active"] is False  # kept, not deleted


def test_schedule_with_layers_and_upcoming_shifts(client, auth, team):
    body = client.get("/api/v1/schedules/primary?days=2", headers=auth).get_json()
    assert body["layers"] == [
        {
            "position": 0,
            "rotation": "daily",
            "handoff_time": "09:00",
            "handoff_weekday": None,
            "shift_hours": None,
            "starts_on": "2026-11-23",
            "members": [team["Alice"], team["Bob"]],
            "member_names": ["Alice", "Bob"],
        }
    ]
    # The fake clock is Thursday 2026-11-26 03:00Z (04:00 in Berlin): Wednesday's shift, Alice's.
    assert [(s["rep_name"], s["starts_at"], s["ends_at"]) for s in body["shifts"]] == [
        ("Alice", "2026-11-26T03:00:00Z", "2026-11-26T08:00:00Z"),
        ("Bob", "2026-11-26T08:00:00Z", "2026-11-27T08:00:00Z"),
        ("Alice", "2026-11-27T08:00:00Z", "2026-11-28T03:00:00Z"),
    ]
    assert body["overrides"] == []
    listed = client.get("/api/v1/schedules", headers=auth).get_json()["schedules"]
    assert [s["name"] for s in listed] == ["primary"]


def test_schedule_errors(client, auth, team):
    assert _error(client.post("/api/v1/schedules", json=PRIMARY, headers=auth)) == (409, "conflict", "name")
    bad = PRIMARY | {"name": "b", "layers": [PRIMARY["layers"][0] | {"members": ["Alice", "Zed"]}]}
    response = client.post("/api/v1/schedules", json=bad, headers=auth)
    assert _error(response) == (422, "invalid", "layers[0].members[1]")
    assert response.get_json()["error"]["message"] == "unknown rep 'Zed'"
    assert _error(client.get("/api/v1/schedules/nope", headers=auth)) == (404, "not_found", None)
    assert _error(client.get("/api/v1/schedules/primary?days=400", headers=auth)) == (400, "invalid_parameter", "days")
    renamed = client.put("/api/v1/schedules/primary", json=PRIMARY | {"name": "other"}, headers=auth)
    assert _error(renamed) == (422, "invalid", "name")


def test_put_schedule_replaces_layers_or_creates(client, auth, team):
    weekly = {"rotation": "weekly", "handoff_time": "10:00", "handoff_weekday": 0, "starts_on": "2026-11-23"}
    replaced = client.put(
        "/api/v1/schedules/primary",
        json={"time_zone": "America/New_York", "layers": [weekly | {"members": [team["Bob"]]}]},
        headers=auth,
    )
    assert replaced.status_code == 200
    assert replaced.get_json()["time_zone"] == "America/New_York"
    assert [layer["member_names"] for layer in replaced.get_json()["layers"]] == [["Bob"]]
    created = client.put("/api/v1/schedules/secondary", json={"time_zone": "UTC"}, headers=auth)
    assert created.status_code == 201
    assert created.get_json()["layers"] == []


def test_a_schedule_read_edited_and_put_back_is_replaced(client, auth, team):
    """GET, edit, PUT: what the GET adds (the id, the layers' member names, the overrides and shifts) is the
    server's to write and is ignored on the way back, not refused as unknown fields (a 422 before)."""
    read = client.get("/api/v1/schedules/primary", headers=auth).get_json()
    read["layers"][0]["members"] = [team["Bob"]]
    read["layers"][0]["member_names"] = ["someone else"]  # stale: the members decide
    put = client.put("/api/v1/schedules/primary", json=read, headers=auth)
    assert put.status_code == 200, put.get_json()
    assert [layer["member_names"] for layer in put.get_json()["layers"]] == [["Bob"]]
    assert put.get_json()["id"] == read["id"]


def test_overrides_and_who_is_on_call(client, auth, team):
    override = {"rep": "Bob", "starts_at": "2026-11-26T02:00:00Z", "ends_at": "2026-11-26T05:00:00Z", "reason": "swap"}
    created = client.post("/api/v1/schedules/primary/overrides", json=override, headers=auth)
    assert created.status_code == 201
    assert created.get_json()["rep_name"] == "Bob"
    again = client.post("/api/v1/schedules/primary/overrides", json=override, headers=auth)
    assert (again.status_code, again.get_json()["id"]) == (200, created.get_json()["id"])

    now = client.get("/api/v1/oncall", headers=auth).get_json()
    assert now["at"] == "2026-11-26T03:00:00Z"
    assert [(s["name"], [r["name"] for r in s["on_call"]]) for s in now["schedules"]] == [("primary", ["Bob"])]
    later = client.get("/api/v1/oncall?at=2026-11-26T06:00:00%2B01:00", headers=auth).get_json()
    assert [r["name"] for r in later["schedules"][0]["on_call"]] == ["Alice"]
    assert later["managers"] == []

    override_id = created.get_json()["id"]
    assert client.delete(f"/api/v1/overrides/{override_id}", headers=auth).status_code == 204
    assert _error(client.delete(f"/api/v1/overrides/{override_id}", headers=auth)) == (404, "not_found", None)
    now = client.get("/api/v1/oncall", headers=auth).get_json()
    assert [r["name"] for r in now["schedules"][0]["on_call"]] == ["Alice"]


def test_override_errors(client, auth, team):
    url = "/api/v1/schedules/primary/overrides"
    backwards = {"rep": "Bob", "starts_at": "2026-11-27T00:00:00Z", "ends_at": "2026-11-26T00:00:00Z"}
    assert _error(client.post(url, json=backwards, headers=auth)) == (422, "invalid", "ends_at")
    stranger = backwards | {"rep": "Zed", "ends_at": "2026-11-28T00:00:00Z"}
    assert _error(client.post(url, json=stranger, headers=auth)) == (422, "invalid", "rep")
    assert _error(client.post("/api/v1/schedules/nope/overrides", json=stranger, headers=auth))[0] == 404
    assert _error(client.get("/api/v1/oncall?at=yesterday", headers=auth)) == (400, "invalid_parameter", "at")


def test_escalation_policies(client, auth, team):
    url = "/api/v1/escalation-policies/sev1"
    assert _error(client.get(url, headers=auth)) == (404, "not_found", None)
    levels = [
        {"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary", "channels": ["voice", "sms"]}]},
        {"delay_minutes": 4, "targets": [{"type": "rep", "rep": "Alice"}, {"type": "managers"}]},
    ]
    created = client.put(url, json={"levels": levels, "is_default": True}, headers=auth)
    assert created.status_code == 201
    assert created.get_json()["levels"][0]["targets"][0]["channels"] == ["sms", "voice"]
    assert client.put(url, json={"levels": levels}, headers=auth).status_code == 200
    assert client.get(url, headers=auth).get_json()["is_default"] is False

    unknown = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "tertiary"}]}]
    assert _error(client.put(url, json={"levels": unknown}, headers=auth)) == (
        422,
        "invalid",
        "levels[0].targets[0].schedule",
    )
    assert _error(client.put(url, json={}, headers=auth)) == (422, "invalid", "levels")
    assert _error(client.put(url, json={"levels": levels, "is_default": "yes"}, headers=auth)) == (
        422,
        "invalid",
        "is_default",
    )


def test_the_default_policy_is_shown_before_the_first_incident_stores_it(client, auth, team, hotline):
    response = client.get("/api/v1/escalation-policies/default", headers=auth)
    assert response.status_code == 200  # what the first incident will store and use (``default_policy``)
    assert response.get_json() == {"name": "default", "is_default": True, "levels": default_levels()}
    with hotline.db.session() as session:
        assert session.scalars(select(EscalationPolicy)).all() == []  # a GET writes nothing

    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary", "channels": ["sms"]}]}]
    assert client.put("/api/v1/escalation-policies/sev1", json={"levels": levels, "is_default": True},
                      headers=auth).status_code == 201
    assert client.get("/api/v1/escalation-policies/sev1", headers=auth).get_json()["is_default"] is True
    assert _error(client.get("/api/v1/escalation-policies/default", headers=auth)) == (404, "not_found", None)


def test_an_override_overlapping_another_reps_is_accepted_with_a_warning(client, auth, team):
    url = "/api/v1/schedules/primary/overrides"
    first = {"rep": "Bob", "starts_at": "2026-12-24T08:00:00Z", "ends_at": "2026-12-27T08:00:00Z"}
    assert "warnings" not in client.post(url, json=first, headers=auth).get_json()
    second = client.post(url, json={"rep": "Alice", "starts_at": "2026-12-26T08:00:00Z",
                                    "ends_at": "2026-12-28T08:00:00Z"}, headers=auth)
    assert second.status_code == 201
    assert second.get_json()["warnings"] == [
        "schedule 'primary': overrides for Bob and Alice overlap from 2026-12-26T08:00:00Z to 2026-12-27T08:00:00Z "
        "(both are paged)"]


def test_an_override_already_over_is_stored_with_a_warning_that_it_pages_nobody(client, auth, team):
    """An outside probe's override typed with the wrong month was stored without a word (the import says "skipped
    as over"): the operator believed Bob covered."""
    past = {"rep": "Bob", "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-11-02T00:00:00Z"}
    answer = client.post("/api/v1/schedules/primary/overrides", json=past, headers=auth)
    assert answer.status_code == 201
    assert answer.get_json()["warnings"] == [
        "this override ended at 2026-11-02T00:00:00Z, before now: it pages nobody (check its dates)"]


def _message(response) -> str:
    return response.get_json()["error"]["message"]


def test_dates_and_instants_outside_the_years_are_refused_and_oncall_keeps_working(client, auth, team):
    # audit F1/F2: a year-1 custom layer in Tokyo was stored, then every on-call lookup crashed (500)
    year1 = {"time_zone": "Asia/Tokyo", "layers": [
        {"rotation": "custom", "shift_hours": 24, "handoff_time": "00:00", "starts_on": "0001-01-01", "members": ["Alice"]}]}
    refused = client.put("/api/v1/schedules/year1", json=year1, headers=auth)
    assert _error(refused) == (422, "invalid", "layers[0].starts_on")
    assert _message(refused) == "must lie in the years 2000 to 2099"
    year1["layers"][0]["starts_on"] = "2100-01-01"
    assert _error(client.put("/api/v1/schedules/year1", json=year1, headers=auth)) == (422, "invalid", "layers[0].starts_on")
    url = "/api/v1/schedules/primary/overrides"
    early = {"rep": "Bob", "starts_at": "0001-01-01T00:00:00+01:00", "ends_at": "0001-01-02T00:00:00Z"}
    assert _error(client.post(url, json=early, headers=auth)) == (422, "invalid", "starts_at")
    late = {"rep": "Bob", "starts_at": "9999-12-31T00:00:00+01:00", "ends_at": "9999-12-31T23:59:59-01:00"}
    assert _error(client.post(url, json=late, headers=auth)) == (422, "invalid", "starts_at")
    assert _error(client.post(url, json=late | {"starts_at": "2099-12-31T00:00:00Z"}, headers=auth)) == (
        422, "invalid", "ends_at")
    for at in ("0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-01:00"):
        assert _error(client.get(f"/api/v1/oncall?at={at}", headers=auth)) == (400, "invalid_parameter", "at")
    assert client.get("/api/v1/oncall", headers=auth).status_code == 200
    assert client.get("/api/v1/schedules/primary", headers=auth).status_code == 200


@pytest.mark.parametrize("time_zone", ["Europe", "America", "a" * 300, "localtime", "posixrules", "../etc/passwd"])
def test_a_time_zone_that_is_not_a_zone_is_refused(client, auth, time_zone):
    # audit F3: a tzdata directory or an over-long name raised OSError (500); "localtime" followed the host
    rep = client.post("/api/v1/reps", json=ALICE | {"time_zone": time_zone}, headers=auth)
    assert _error(rep) == (422, "invalid", "time_zone")
    assert _message(rep).startswith("unknown time zone")
    schedule = client.put("/api/v1/schedules/tz", json={"time_zone": time_zone}, headers=auth)
    assert _error(schedule) == (422, "invalid", "time_zone")


def test_a_list_where_a_string_belongs_is_refused(client, auth, team):
    # audit F4: unhashable values in a membership test raised TypeError (500)
    layer = {"rotation": [], "handoff_time": "09:00", "starts_on": "2026-01-01"}
    response = client.put("/api/v1/schedules/rot2", json={"time_zone": "UTC", "layers": [layer]}, headers=auth)
    assert _error(response) == (422, "invalid", "layers[0].rotation")
    levels = [{"delay_minutes": 0, "targets": [{"type": []}]}]
    response = client.put("/api/v1/escalation-policies/p1", json={"levels": levels}, headers=auth)
    assert _error(response) == (422, "invalid", "levels[0].targets[0].type")


@pytest.mark.parametrize("rep_id", [10**20, 2**63, 2**31, -1, 0])
def test_a_rep_id_beyond_the_column_is_no_such_rep(client, auth, team, rep_id):
    # audit F5: ids over 64 bits overflowed the database driver (500); 2**31 overflows PostgreSQL's integer
    override = {"rep": rep_id, "starts_at": "2026-11-26T02:00:00Z", "ends_at": "2026-11-26T05:00:00Z"}
    response = client.post("/api/v1/schedules/primary/overrides", json=override, headers=auth)
    assert _error(response) == (422, "invalid", "rep")
    assert _message(response) == f"unknown rep {rep_id!r}"
    layer = PRIMARY["layers"][0] | {"members": ["Alice", rep_id]}
    response = client.put("/api/v1/schedules/primary", json=PRIMARY | {"layers": [layer]}, headers=auth)
    assert _error(response) == (422, "invalid", "layers[0].members[1]")
    levels = [{"delay_minutes": 0, "targets": [{"type": "rep", "rep": rep_id}]}]
    response = client.put("/api/v1/escalation-policies/p2", json={"levels": levels}, headers=auth)
    assert _error(response) == (422, "invalid", "levels[0].targets[0].rep")


@pytest.mark.parametrize("name", ["evil%1B%5B31m%E2%80%AE%0A", "%20", "P" * 101, "a%E2%80%8Bb"])
def test_a_policy_name_follows_the_name_rule(client, auth, team, name):
    # audit F6: the path segment was stored as given (control and bidi characters, blanks, > 100 characters)
    levels = [{"delay_minutes": 0, "targets": [{"type": "managers"}]}]
    response = client.put(f"/api/v1/escalation-policies/{name}", json={"levels": levels}, headers=auth)
    assert _error(response) == (422, "invalid", "name")
    fine = client.put("/api/v1/escalation-policies/sev%20one", json={"levels": levels}, headers=auth)
    assert (fine.status_code, fine.get_json()["name"]) == (201, "sev one")


@pytest.mark.parametrize("reason", ["a\u0000b", "clear\u001b[2J", "\u202eevil", "zero\u200bwidth", "bell\u0007"])
def test_an_override_reason_is_printable_text(client, auth, team, reason):
    # audit F7: NUL (refused by PostgreSQL), escape sequences and bidi overrides were stored as given
    override = {"rep": "Bob", "starts_at": "2026-11-26T02:00:00Z", "ends_at": "2026-11-26T05:00:00Z", "reason": reason}
    response = client.post("/api/v1/schedules/primary/overrides", json=override, headers=auth)
    assert _error(response) == (422, "invalid", "reason")
    fine = client.post("/api/v1/schedules/primary/overrides", json=override | {"reason": "swap\nwith Bob"}, headers=auth)
    assert (fine.status_code, fine.get_json()["reason"]) == (201, "swap\nwith Bob")


def test_a_nul_in_a_path_is_refused_before_the_view_and_a_reps_e_mail_is_plain_text(client, auth, team):
    # NUL, which PostgreSQL cannot store, in a path is refused before any view (app/input_guard.py); a rep's e-mail
    # holding one (or a control or bidi character) was stored on SQLite and a 500 on PostgreSQL
    levels = [{"delay_minutes": 0, "targets": [{"type": "managers"}]}]
    response = client.put("/api/v1/escalation-policies/x%00y", json={"levels": levels}, headers=auth)
    assert _error(response) == (400, "bad_request", None) and "NUL" in _message(response)
    for email in ("e\u0000@x.de", "e\u202e@x.de", "e\u0007@x.de"):
        response = client.post("/api/v1/reps", json={"name": "Eve", "phone": "+4930901822", "email": email},
                               headers=auth)
        assert _error(response) == (422, "invalid", "email")


def test_the_document_lists_what_on_call_writes_answer(client, auth, team):
    # audit F9: 400 (malformed JSON), 415 (not JSON) and 409 (a concurrent change) were answered but not documented
    doc = client.get("/api/v1/openapi.json").get_json()
    writes = [("post", "/reps"), ("put", "/reps/{rep_id}"), ("post", "/schedules"), ("put", "/schedules/{name}"),
              ("post", "/schedules/{name}/overrides"), ("put", "/escalation-policies/{name}")]
    for method, path in writes:
        responses = doc["paths"][f"/api/v1{path}"][method]["responses"]
        assert {"400", "409", "413", "415"} <= responses.keys(), (method, path)
    not_json = client.put(f"/api/v1/reps/{team['Bob']}", data="x", headers=auth | {"Content-Type": "text/plain"})
    assert not_json.status_code == 415
    assert not_json.get_json()["error"]["code"]


@pytest.mark.parametrize("path, body", [
    ("/api/v1/schedules/{}", {"time_zone": "UTC"}),
    ("/api/v1/escalation-policies/{}", {"levels": [{"delay_minutes": 0, "targets": [{"type": "schedule",
                                                                                     "schedule": "primary"}]}]}),
])
@pytest.mark.parametrize("name", [" night", "night ", "night  shift"])
def test_a_put_path_whose_name_is_stored_otherwise_is_refused_not_saved_under_another_url(
        client, auth, team, path, body, name):
    # the name is stored trimmed and with single spaces: a PUT that answered 201 left GET of its own URL a 404
    url = path.format(name.replace(" ", "%20"))
    response = client.put(url, json=body, headers=auth)
    assert _error(response) == (422, "invalid", "name")
    assert " ".join(name.split()) in response.get_json()["error"]["message"]
    assert client.get(url, headers=auth).status_code == 404
    assert client.get(path.format(" ".join(name.split()).replace(" ", "%20")), headers=auth).status_code == 404
