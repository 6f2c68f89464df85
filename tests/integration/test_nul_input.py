"""A NUL character in a path, a query or a form is a clear 400 before any view, and in a JSON string a 422 naming
its field: never a 500 and an ERROR traceback from the database (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import logging

from app.input_guard import REFUSED
from app.models.user import Role
from app.services.api_tokens import SCOPES, create_token
from tests.integration.dashboard_support import csrf_token_of, login, login_as, make_user


def _no_error_logged(caplog) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_login_name_with_a_nul_is_refused_with_a_400_and_no_traceback(client, hotline, caplog):
    make_user(hotline, Role.ADMIN, email="admin@example.com")
    for _ in range(3):
        response = login(client, "admin@example.com\x00", expect_success=False)
        assert response.status_code == 400
        assert REFUSED in response.get_data(as_text=True)
    _no_error_logged(caplog)
    login(client, "admin@example.com")  # the same form without it logs in


def test_a_nul_in_a_dashboard_path_query_or_form_is_a_400(client, hotline, caplog):
    login_as(client, hotline, Role.MANAGER)
    for url in ("/incidents/%00", "/incidents/%00/updates", "/board?q=%00", "/reports?tz=UTC%00"):
        assert client.get(url).status_code == 400, url
    for url in ("/incidents/%00/notes", "/incidents/%00/acknowledge", "/incidents/123456/notes"):
        response = client.post(url, data={"csrf_token": csrf_token_of(client), "text": "a\x00b"})
        assert response.status_code == 400, url
    _no_error_logged(caplog)


def test_a_nul_in_an_api_path_is_a_json_400_and_in_a_json_string_a_422_naming_the_field(client, hotline, clock,
                                                                                         caplog):
    with hotline.db.transaction() as session:
        token = create_token(session, "all", clock.now(), scopes=list(SCOPES))
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/v1/incidents/%00", headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
    assert "NUL" in response.get_json()["error"]["message"]
    for field in ("company", "contact_name", "contact_email", "subject"):
        response = client.post("/api/v1/tickets", json={"number": "4521", "company": "Acme", field: "a\x00b"},
                               headers=headers)
        assert response.status_code == 422 and response.get_json()["error"]["field"] == field, field
    _no_error_logged(caplog)
