"""An override naming a deactivated rep is accepted (they may come back before it starts) but never in silence:
while they stay deactivated it pages nobody, and the layers' rep is on call instead. Through the JSON API, the
dashboard's override form, the YAML import (CLI and dashboard) and the on-call page's list of overrides."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Override, Role
from app.services.api_tokens import create_token
from app.services.oncall import who_is_on_call
from app.services.oncall_yaml import import_yaml
from tests.integration import oncall_support
from tests.integration.board_support import CSRF, login_as, parse

# Dave (oncall_support.REPS) is deactivated; on Friday 27 November Bob's layer shift runs until 08:00Z.
DAVE_FRIDAY = {"rep": "Dave", "starts_at": "2026-11-27T00:00:00Z", "ends_at": "2026-11-27T06:00:00Z",
               "reason": "swap"}
WARNING = ("schedule 'primary': the override for Dave from 2026-11-27T00:00:00Z to 2026-11-27T06:00:00Z pages "
           "nobody while Dave is deactivated (Bob is on call instead)")


@pytest.fixture
def ids(hotline) -> dict[str, int]:
    with hotline.db.transaction() as session:
        return oncall_support.seed(session)


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    with hotline.db.transaction() as session:
        token = create_token(session, "oncall-admin", clock.now(), scopes=("oncall:admin",))
    return {"Authorization": f"Bearer {token}"}


def _count(hotline) -> int:
    with hotline.db.session() as session:
        return session.scalar(select(func.count()).select_from(Override))


def test_the_api_accepts_it_with_a_warning(client, hotline, ids, auth):
    created = client.post("/api/v1/schedules/primary/overrides", json=DAVE_FRIDAY, headers=auth)

    assert created.status_code == 201
    assert created.get_json()["warnings"] == [WARNING]
    assert _count(hotline) == 1


def test_an_active_reps_override_has_no_warning(client, hotline, ids, auth):
    created = client.post("/api/v1/schedules/primary/overrides", json=DAVE_FRIDAY | {"rep": "Erin"}, headers=auth)

    assert created.status_code == 201
    assert "warnings" not in created.get_json()


def test_the_dashboard_form_says_so_and_the_list_marks_it(client, hotline, ids):
    login_as(client, hotline, role=Role.ADMIN)

    response = client.post("/oncall/overrides", data={
        "csrf_token": CSRF, "schedule": "primary", "rep": str(ids["Dave"]),
        "starts_at": "2026-11-27T01:00", "ends_at": "2026-11-27T07:00", "reason": "swap"}, follow_redirects=True)

    doc = parse(response)
    assert f"Note: {WARNING}." in [p.text() for p in doc.find_all("p", cls="flash")]
    listed = doc.find("section", id="schedule-primary").find(cls="overrides").find("li").text()
    assert "Dave is deactivated: not paged" in listed


def test_the_yaml_import_warns(hotline, clock, ids):
    text = ("schedules:\n  - name: primary\n    time_zone: Europe/Berlin\n    layers:\n"
            "      - {rotation: daily, handoff_time: '09:00', starts_on: 2026-11-23, members: [Alice, Bob]}\n"
            "    overrides:\n"
            "      - {rep: Dave, starts_at: '2026-11-27T00:00:00Z', ends_at: '2026-11-27T06:00:00Z', reason: swap}\n")
    with hotline.db.transaction() as session:
        summary = import_yaml(session, text, clock.now())
        assert [r.name for r in who_is_on_call(session, "primary", clock.now().replace(day=27))] == ["Bob"]

    assert WARNING in summary.warnings


def test_an_import_of_reps_alone_that_deactivates_an_overrides_rep_warns(client, hotline, clock, ids, auth):
    # the override was added while Dave was active; a later import of the reps alone deactivates him
    with hotline.db.transaction() as session:
        import_yaml(session, "reps:\n  - {name: Dave, phone: '+4930901824', active: true}\n", clock.now())
    assert client.post("/api/v1/schedules/primary/overrides", json=DAVE_FRIDAY, headers=auth).status_code == 201
    with hotline.db.transaction() as session:
        summary = import_yaml(session, "reps:\n  - {name: Dave, phone: '+4930901824', active: false}\n",
                              clock.now())

    assert WARNING in summary.warnings


def test_a_deactivated_reps_override_is_not_said_to_page_both(client, hotline, ids, auth):
    url = "/api/v1/schedules/primary/overrides"
    assert client.post(url, json=DAVE_FRIDAY | {"rep": "Erin"}, headers=auth).status_code == 201

    created = client.post(url, json=DAVE_FRIDAY, headers=auth)

    assert created.get_json()["warnings"] == [WARNING.replace("(Bob is", "(Erin is")]


# --- deactivating a rep who is on call now ----------------------------------------------------------------


def test_deactivating_the_rep_on_call_now_says_who_is_on_call_instead(client, hotline, ids, auth):
    # now (Thursday 03:00Z) Alice has primary and Erin, its only member, secondary
    deleted = client.delete(f"/api/v1/reps/{ids['Alice']}", headers=auth)
    assert deleted.status_code == 200
    assert deleted.get_json()["warnings"] == ["schedule 'primary': Bob is on call now instead of Alice"]

    put = client.put(f"/api/v1/reps/{ids['Erin']}", json={"active": False}, headers=auth)
    assert put.status_code == 200
    assert put.get_json()["warnings"] == ["schedule 'secondary': nobody is on call now instead of Erin"]


def test_renaming_the_rep_on_call_now_hands_nothing_over(client, hotline, ids, auth):
    """An outside probe renamed Bob to Robert while Bob was primary on call and was warned "Robert is on call now
    instead of Bob": the same person. Hand-overs are compared by rep id; the names only word the message."""
    # now (Thursday 03:00Z) Alice has primary and Erin, its only member, secondary
    renamed = client.put(f"/api/v1/reps/{ids['Alice']}", json={"name": "Alicia"}, headers=auth)
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "Alicia" and "warnings" not in renamed.get_json()
    renamed = client.put(f"/api/v1/reps/{ids['Erin']}", json={"name": "Erin Lee", "channels": ["sms"]}, headers=auth)
    assert renamed.status_code == 200 and "warnings" not in renamed.get_json()
    with hotline.db.session() as session:  # still the same people on call, under their new names
        assert [r.name for r in who_is_on_call(session, "primary", hotline.clock.now())] == ["Alicia"]

    # a real hand-over after the rename still says so, naming each side as they are called
    deleted = client.delete(f"/api/v1/reps/{ids['Alice']}", headers=auth)
    assert deleted.get_json()["warnings"] == ["schedule 'primary': Bob is on call now instead of Alicia"]


def test_deactivating_a_rep_off_call_or_changing_one_has_no_warning(client, hotline, ids, auth):
    assert "warnings" not in client.delete(f"/api/v1/reps/{ids['Bob']}", headers=auth).get_json()
    assert "warnings" not in client.put(f"/api/v1/reps/{ids['Alice']}", json={"channels": ["sms"]},
                                        headers=auth).get_json()


# --- an escalation policy paging a deactivated rep --------------------------------------------------------

DAVE_LEVELS = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary"}]},
               {"delay_minutes": 5, "targets": [{"type": "rep", "rep": "Dave"}]}]
DAVE_TARGET = "levels[1].targets[0].rep: Dave is deactivated: this target pages nobody"


def test_a_policy_paging_a_deactivated_rep_is_saved_with_a_warning(client, hotline, ids, auth):
    put = client.put("/api/v1/escalation-policies/sev1", json={"levels": DAVE_LEVELS}, headers=auth)

    assert put.status_code == 201
    assert put.get_json()["warnings"] == [DAVE_TARGET]
    active = DAVE_LEVELS[:1] + [{"delay_minutes": 5, "targets": [{"type": "rep", "rep": "Carol"}]}]
    assert "warnings" not in client.put("/api/v1/escalation-policies/sev1", json={"levels": active},
                                        headers=auth).get_json()


def test_the_dashboard_policy_form_says_so(client, hotline, ids):
    import json

    login_as(client, hotline, role=Role.ADMIN)

    response = client.post("/oncall/policy", data={"csrf_token": CSRF, "levels": json.dumps(DAVE_LEVELS)},
                           follow_redirects=True)

    assert f"Note: {DAVE_TARGET}." in [p.text() for p in parse(response).find_all("p", cls="flash")]
