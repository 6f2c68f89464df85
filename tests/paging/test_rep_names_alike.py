"""Two reps are never named alike but for case: the board, the pages and the reports name reps by name.

An import or the API accepted ``Alice primary`` beside ``Alice Primary``; a manager reading the compliance report's
per-rep table could not tell which of them acknowledged. Now both refuse the name, naming the rep it collides with;
the rep's own name with another case is still that rep's to change.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Rep
from app.services.api_tokens import create_token
from app.services.oncall_yaml import OnCallConfigError, import_yaml


def _reps_named(desk, name):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Rep.name).where(func.lower(Rep.name) == name.lower())))


def test_an_import_naming_a_new_rep_like_another_but_for_case_is_refused_and_changes_nothing(desk):
    with pytest.raises(OnCallConfigError) as caught, desk.hotline.db.transaction() as s:
        import_yaml(s, "reps: [{name: Dan, phone: '+14155550177'}, {name: alice primary, phone: '+14155550188'}]",
                    desk.clock.now())
    assert caught.value.path == "reps[1].name" and "'Alice Primary'" in str(caught.value)
    assert _reps_named(desk, "dan") == [] and _reps_named(desk, "alice primary") == ["Alice Primary"]


def test_the_api_refuses_a_name_alike_but_for_case_and_a_rename_to_one(desk):
    with desk.hotline.db.transaction() as s:
        token = create_token(s, "oncall-admin", desk.clock.now(), scopes=("oncall:admin",))
    auth = {"Authorization": f"Bearer {token}"}
    response = desk.client.post("/api/v1/reps", json={"name": "ALICE PRIMARY", "phone": "+14155550177"},
                                headers=auth)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["field"] == "name" and "'Alice Primary'" in error["message"]
    created = desk.client.post("/api/v1/reps", json={"name": "Dave", "phone": "+14155550188"}, headers=auth)
    assert created.status_code == 201
    rep_id = created.get_json()["id"]
    renamed = desk.client.put(f"/api/v1/reps/{rep_id}", json={"name": "alice Primary", "phone": "+14155550188"},
                              headers=auth)
    assert renamed.status_code == 409 and renamed.get_json()["error"]["field"] == "name"
    assert _reps_named(desk, "alice primary") == ["Alice Primary"]


def test_a_rep_may_change_the_case_of_their_own_name(desk):
    with desk.hotline.db.transaction() as s:
        alice = s.scalar(select(Rep).where(Rep.name == "Alice Primary"))
        phone = alice.phone
        import_yaml(s, f"reps: [{{name: Alice Primary, phone: '{phone}'}}]", desk.clock.now())
    with desk.hotline.db.transaction() as s:
        token = create_token(s, "oncall-admin", desk.clock.now(), scopes=("oncall:admin",))
    response = desk.client.put(f"/api/v1/reps/{alice.id}", json={"name": "alice primary", "phone": phone},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert _reps_named(desk, "alice primary") == ["alice primary"]
