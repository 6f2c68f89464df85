"""Logging in to the dashboard from tests, through the real login form.

    user = make_user(hotline, Role.MANAGER)
    login(client, user.email)                   # asserts the login worked
    post_form(client, "/some/form", {"x": "1"})  # adds the session's CSRF token
"""

from __future__ import annotations

import itertools
import re
import secrets

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.models.user import Role, User
from app.services.users import create_user
from app.wiring import Hotline

PASSWORD = "correct horse battery"
_CSRF_INPUT = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
_numbers = itertools.count(1)


def make_user(hotline: Hotline, role: Role | str = Role.REP, email: str | None = None, password: str = PASSWORD,
              name: str | None = None, rep_name: str | None = None) -> User:
    """Create an active user (a unique e-mail unless given) through the users service."""
    n = next(_numbers)
    role = Role(role)
    email = email or f"{role}{n}@hotline.example"
    with hotline.db.transaction() as session:
        return create_user(session, email, name or f"{role.title()} {n}", password, role, hotline.clock.now(),
                           rep_name=rep_name)


def csrf_token_of(client: FlaskClient) -> str:
    """The CSRF token of the client's session (one is started, as any dashboard page would, if missing)."""
    with client.session_transaction() as session:
        if not session.get("csrf_token"):
            session["csrf_token"] = secrets.token_urlsafe(32)
        return session["csrf_token"]


def login(client: FlaskClient, email: str, password: str = PASSWORD, next: str | None = None,
          expect_success: bool = True) -> TestResponse:
    """Log in through the form (GET /login for its CSRF token, then POST); assert success unless told not to."""
    page = client.get("/login")
    found = _CSRF_INPUT.search(page.get_data(as_text=True))
    if found is None:  # already logged in (/login redirects): log out, then in as this user
        client.post("/logout", data={"csrf_token": csrf_token_of(client)})
        page = client.get("/login")
        found = _CSRF_INPUT.search(page.get_data(as_text=True))
    assert found, f"no CSRF field on /login (status {page.status_code})"
    data = {"csrf_token": found.group(1), "email": email, "password": password}
    if next is not None:
        data["next"] = next
    response = client.post("/login", data=data)
    if expect_success:
        assert response.status_code == 302, f"login as {email} failed: {response.status_code}"
        with client.session_transaction() as session:
            assert session.get("user_id") is not None, f"login as {email} set no session"
    return response


def login_as(client: FlaskClient, hotline: Hotline, role: Role | str = Role.REP, **user_fields) -> User:
    """Create a user of ``role`` and log the client in as them; returns the user."""
    password = user_fields.pop("password", PASSWORD)
    user = make_user(hotline, role, password=password, **user_fields)
    login(client, user.email, password)
    return user


def post_form(client: FlaskClient, url: str, data: dict | None = None, **kwargs) -> TestResponse:
    """POST a form with the session's CSRF token added, as the dashboard's own forms do."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token_of(client)}, **kwargs)
