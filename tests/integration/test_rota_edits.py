"""Editing a rota never changes who is on call right now without saying so.

A manager who adds a rep to a layer, removes one, or re-imports the same file keeps the rep on call now on
call until the next hand-off (as PagerDuty and GoAlert do); through the JSON API, the YAML import and the
dashboard's YAML form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Role
from app.services.api_tokens import create_token
from app.services.oncall import who_is_on_call
from app.services.oncall_yaml import import_yaml
from tests.integration import oncall_support
from tests.integration.board_support import CSRF, login_as, parse

# The fake clock: Thursday 2026-11-26 03:00Z, 04:00 in Berlin. PRIMARY hands off daily at 09:00 Berlin from
# Monday 2026-11-23, so Wednesday's shift (Alice's: Alice, Bob, Alice) runs until Thursday 08:00Z.
HANDOFF = datetime(2026, 11, 26, 8, tzinfo=UTC)
LAYER = oncall_support.PRIMARY["layers"][0]


@pytest.fixture
def ids(hotline) -> dict[str, int]:
    with hotline.db.transaction() as session:
        return oncall_support.seed(session)


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    with hotline.db.transaction() as session:
        token = create_token(session, "oncall-admin", clock.now(), scopes=("oncall:admin",))
    return {"Authorization": f"Bearer {token}"}


def _on_call(hotline, at: datetime) -> list[str]:
    with hotline.db.session() as session:
        return [r.name for r in who_is_on_call(session, "primary", at)]


def _turns(hotline, start: datetime, count: int) -> list[str]:
    """Who is on call for ``count`` daily shifts from the one running at ``start``."""
    return [_on_call(hotline, start + timedelta(days=day))[0] for day in range(count)]


def _yaml(members: list[str]) -> str:
    return ("schedules:\n  - name: primary\n    time_zone: Europe/Berlin\n    layers:\n"
            f"      - {{rotation: daily, handoff_time: '09:00', starts_on: 2026-11-23, members: [{', '.join(members)}]}}\n")


def test_adding_a_rep_through_the_api_keeps_the_shift_running_now(client, hotline, clock, ids, auth):
    assert _on_call(hotline, clock.now()) == ["Alice"]

    put = client.put("/api/v1/schedules/primary", headers=auth, json={
        "time_zone": "Europe/Berlin", "layers": [LAYER | {"members": ["Alice", "Bob", "Erin"]}]})

    assert put.status_code == 200, put.get_json()
    # Alice keeps her shift to its hand-off; the rotation goes on in the order given: Bob, Erin, Alice, ...
    assert _on_call(hotline, clock.now()) == ["Alice"]
    assert _turns(hotline, clock.now(), 5) == ["Alice", "Bob", "Erin", "Alice", "Bob"]
    # stored turned (the same cyclic order), so that the list and the shifts agree
    assert put.get_json()["layers"][0]["member_names"] == ["Bob", "Erin", "Alice"]


def test_adding_a_rep_through_the_yaml_import_keeps_the_shift_running_now(hotline, clock, ids):
    with hotline.db.transaction() as session:
        import_yaml(session, _yaml(["Alice", "Bob", "Erin"]), clock.now())

    assert _turns(hotline, clock.now(), 4) == ["Alice", "Bob", "Erin", "Alice"]


def test_adding_a_rep_through_the_dashboard_keeps_the_shift_running_now(client, hotline, clock, ids):
    login_as(client, hotline, role=Role.ADMIN)

    response = client.post("/oncall/yaml", data={"csrf_token": CSRF, "yaml": _yaml(["Alice", "Bob", "Erin"])})

    assert response.status_code == 302
    primary = parse(client.get("/oncall")).find("section", id="schedule-primary")
    assert primary.find(cls="now-on-call").text() == "On call now: Alice ( +4930901820 )"


def test_removing_the_rep_on_call_now_hands_over_to_the_next_in_the_rotation(client, hotline, clock, ids, auth):
    with hotline.db.transaction() as session:
        import_yaml(session, _yaml(["Alice", "Bob", "Erin"]), clock.now())

    put = client.put("/api/v1/schedules/primary", headers=auth, json={
        "time_zone": "Europe/Berlin", "layers": [LAYER | {"members": ["Erin", "Bob"]}]})

    assert put.status_code == 200
    assert _turns(hotline, clock.now(), 3) == ["Bob", "Erin", "Bob"]  # Bob came after Alice


def test_reimporting_the_same_rota_changes_nothing(hotline, clock, ids):
    with hotline.db.transaction() as session:
        import_yaml(session, _yaml(["Alice", "Bob", "Erin"]), clock.now())
    later = HANDOFF + timedelta(days=1, hours=1)  # Erin's shift
    with hotline.db.transaction() as session:
        import_yaml(session, _yaml(["Alice", "Bob", "Erin"]), later)

    assert _turns(hotline, clock.now(), 4) == ["Alice", "Bob", "Erin", "Alice"]


def test_a_rota_that_has_not_started_yet_is_taken_as_given(client, hotline, clock, ids, auth):
    put = client.put("/api/v1/schedules/primary", headers=auth, json={
        "time_zone": "Europe/Berlin", "layers": [LAYER | {"starts_on": "2026-11-30", "members": ["Erin", "Bob"]}]})

    assert put.status_code == 200
    assert put.get_json()["layers"][0]["member_names"] == ["Erin", "Bob"]
    assert _turns(hotline, datetime(2026, 11, 30, 9, tzinfo=UTC), 2) == ["Erin", "Bob"]
