"""Dashboard login as reps and managers meet it: passwords, lockouts, sessions, CSRF, roles."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.auth.views import LOGIN_FAILED, safe_next
from app.models.user import LoginAttempt, Role, User
from app.services.users import deactivate, reset_password
from tests.integration.dashboard_support import PASSWORD, csrf_token_of, login, login_as, make_user, post_form


def _path(response) -> str:
    """Where a redirect goes, as a local path (refusing any other host)."""
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost"), response.headers["Location"]
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _logged_in_user_id(client) -> int | None:
    with client.session_transaction() as session:
        return session.get("user_id")


def _attempt(client, email: str, password: str, remote_addr: str = "127.0.0.1"):
    """One login POST through the form, from ``remote_addr``."""
    token = csrf_token_of(client)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": remote_addr})


def test_login_starts_a_session_and_goes_to_the_board(hotline, client, clock):
    user = make_user(hotline, Role.REP, email="Rita@Hotline.example")
    assert client.get("/").headers["Location"].endswith("/login")
    response = login(client, "  rita@hotline.example ", PASSWORD)
    assert _path(response) == "/board"
    assert _logged_in_user_id(client) == user.id
    assert _path(client.get("/")) == "/board"
    assert _path(client.get("/login")) == "/board"  # already in: the form is skipped
    with hotline.db.session() as session:
        assert session.get(User, user.id).last_login_at == clock.now()


def test_wrong_password_and_unknown_email_get_the_same_generic_answer(hotline, client):
    make_user(hotline, Role.REP, email="rita@hotline.example")
    wrong = _attempt(client, "rita@hotline.example", "not the password!")
    unknown = _attempt(client, "nobody@hotline.example", "not the password!")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert LOGIN_FAILED in response.get_data(as_text=True)
        assert "not the password!" not in response.get_data(as_text=True)
    assert _logged_in_user_id(client) is None


def test_five_failures_lock_the_account_for_fifteen_minutes(hotline, client, clock):
    user = make_user(hotline, Role.MANAGER)
    for _ in range(5):
        assert _attempt(client, user.email, "wrong password 123").status_code == 401
    locked = _attempt(client, user.email, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert "Too many attempts, try again in 15 minutes" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 14 * 60
    assert _logged_in_user_id(client) is None
    clock.advance(minutes=10)
    assert "try again in 5 minutes" in _attempt(client, user.email, PASSWORD).get_data(as_text=True)
    clock.advance(minutes=6)
    assert _path(_attempt(client, user.email, PASSWORD)) == "/board"
    with hotline.db.session() as session:
        row = session.get(User, user.id)
        assert row.failed_logins == 0 and row.locked_until is None


def test_an_unknown_email_locks_like_a_real_one(hotline, client, clock):
    for _ in range(5):
        assert _attempt(client, "ghost@hotline.example", "wrong password 123").status_code == 401
    assert _attempt(client, "ghost@hotline.example", "wrong password 123").status_code == 429
    clock.advance(minutes=16)
    assert _attempt(client, "ghost@hotline.example", "wrong password 123").status_code == 401


def test_a_success_resets_the_failure_count(hotline, client):
    user = make_user(hotline, Role.REP)
    for _ in range(4):
        _attempt(client, user.email, "wrong password 123")
    login(client, user.email)
    client.post("/logout", data={"csrf_token": csrf_token_of(client)})
    for _ in range(4):
        assert _attempt(client, user.email, "wrong password 123").status_code == 401
    assert _path(_attempt(client, user.email, PASSWORD)) == "/board"


def test_one_address_gets_twenty_failures_per_fifteen_minutes(hotline, client, clock):
    user = make_user(hotline, Role.REP)
    for n in range(20):  # a different e-mail each time: no single account locks
        assert _attempt(client, f"guess{n}@hotline.example", "wrong password 123", "203.0.113.9").status_code == 401
    blocked = _attempt(client, user.email, PASSWORD, "203.0.113.9")
    assert blocked.status_code == 429 and "Too many attempts" in blocked.get_data(as_text=True)
    assert _logged_in_user_id(client) is None
    # Another address is not affected, and the user's own account is not locked.
    assert _path(_attempt(client, user.email, PASSWORD, "198.51.100.7")) == "/board"
    client.post("/logout", data={"csrf_token": csrf_token_of(client)})
    clock.advance(minutes=16)
    assert _path(_attempt(client, user.email, PASSWORD, "203.0.113.9")) == "/board"
    with hotline.db.session() as session:  # attempts are rows in SQL, not process memory
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 20


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example",
                                    "http:/evil.example", "/\t/evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(hotline, client, target):
    user = make_user(hotline, Role.REP)
    response = login(client, user.email, next=target)
    assert _path(response) == "/board"
    assert safe_next(target) == "/board"


def test_login_returns_to_the_local_page_asked_for(hotline, client):
    user = make_user(hotline, Role.ADMIN)
    asked = client.get("/admin/users?x=1")
    assert _path(asked) == "/login?next=/admin/users?x%3D1"
    page = client.get(asked.headers["Location"])
    assert 'name="next" value="/admin/users?x=1"' in page.get_data(as_text=True)
    response = login(client, user.email, next="/admin/users?x=1")
    assert _path(response) == "/admin/users?x=1"


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(hotline, client):
    admin = login_as(client, hotline, Role.ADMIN)
    form = {"email": "new@hotline.example", "name": "New", "role": "rep", "password": "a long enough password"}
    missing = client.post("/admin/users", data=form)
    forged = client.post("/admin/users", data={**form, "csrf_token": "forged"})
    for response in (missing, forged):
        assert response.status_code == 400
        assert "did not come from this site" in response.get_data(as_text=True)
    assert client.post("/logout").status_code == 400
    with hotline.db.session() as session:
        assert session.scalar(select(User.id).where(User.email == "new@hotline.example")) is None
    assert _logged_in_user_id(client) == admin.id
    assert client.get("/admin/users").status_code == 200


def test_a_login_post_without_a_csrf_token_logs_nobody_in(hotline, client):
    user = make_user(hotline, Role.REP)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The login form expired" in response.get_data(as_text=True)
    assert 'name="csrf_token"' in response.get_data(as_text=True)  # a fresh form to try again
    assert _logged_in_user_id(client) is None


def test_login_replaces_the_session_and_its_csrf_token(hotline, client):
    user = make_user(hotline, Role.REP)
    before = csrf_token_of(client)
    login(client, user.email)
    with client.session_transaction() as session:
        assert session.get("csrf_token") != before and session["user_id"] == user.id


def _session_cookie_header(response) -> str:
    cookies = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_the_session_cookie_is_httponly_lax_and_secure_on_https(hotline, client):
    user = make_user(hotline, Role.REP)
    cookie = _session_cookie_header(login(client, user.email))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_the_session_cookie_is_not_secure_on_a_plain_http_site(hotline):
    from app import create_app

    local = dataclasses.replace(hotline, settings=hotline.settings.with_overrides(public_base_url="http://localhost:8000"))
    flask_app = create_app(local)
    flask_app.config["TESTING"] = True
    client = flask_app.test_client()
    user = make_user(hotline, Role.REP)
    cookie = _session_cookie_header(login(client, user.email))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_logout_ends_the_session(hotline, client):
    login_as(client, hotline, Role.ADMIN)
    response = post_form(client, "/logout")
    assert _path(response) == "/login"
    assert _logged_in_user_id(client) is None
    assert _path(client.get("/admin/users")) == "/login?next=/admin/users"


def test_deactivating_a_user_ends_their_open_session(hotline, client):
    other_admin = make_user(hotline, Role.ADMIN)
    user = login_as(client, hotline, Role.ADMIN)
    assert client.get("/admin/users").status_code == 200
    with hotline.db.transaction() as session:
        deactivate(session, user.id, actor_id=other_admin.id)
    assert _path(client.get("/admin/users")) == "/login?next=/admin/users"
    assert login(client, user.email, expect_success=False).status_code == 401


def test_a_password_change_ends_every_session_made_with_the_old_one(hotline, app):
    phone, laptop = app.test_client(), app.test_client()
    user = make_user(hotline, Role.ADMIN)
    login(phone, user.email)
    login(laptop, user.email)
    with hotline.db.transaction() as session:
        reset_password(session, user.id, "a brand new passphrase")
    for client in (phone, laptop):
        assert _path(client.get("/admin/users")) == "/login?next=/admin/users"
    assert login(phone, user.email, expect_success=False).status_code == 401
    login(phone, user.email, "a brand new passphrase")
    assert phone.get("/admin/users").status_code == 200


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER])
def test_reps_and_managers_get_a_plain_403_on_the_admin_pages(hotline, client, role):
    secret = make_user(hotline, Role.ADMIN, email="the-admin@hotline.example")
    login_as(client, hotline, role)
    for response in (client.get("/admin/users"), client.get("/admin/users/new"),
                     post_form(client, f"/admin/users/{secret.id}/deactivate"),
                     post_form(client, "/admin/users", {"email": "x@hotline.example", "name": "X", "role": "admin",
                                                        "password": "a long enough password"})):
        assert response.status_code == 403
        body = response.get_data(as_text=True)
        assert "Not allowed" in body and "the-admin@hotline.example" not in body
    with hotline.db.session() as session:
        assert session.get(User, secret.id).active
        assert session.scalar(select(User.id).where(User.email == "x@hotline.example")) is None


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert _path(client.get("/admin/users")) == "/login?next=/admin/users"
    assert _path(client.post("/admin/users/1/deactivate", data={"csrf_token": csrf_token_of(client)})).startswith(
        "/login")


def test_the_api_keeps_its_own_json_errors(client):
    response = client.get("/api/v1/incidents")
    assert response.status_code == 401 and response.is_json
