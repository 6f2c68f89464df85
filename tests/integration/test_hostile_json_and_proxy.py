"""Hostile JSON gets a clear 400 on every JSON endpoint (row 9); the cookie and proxy settings (row 10)."""

from __future__ import annotations

import dataclasses
import logging

from app.json_guard import MAX_DEPTH, nesting_depth
from app.models.user import Role
from app.services.api_tokens import SCOPES, create_token
from tests.integration.dashboard_support import login, make_user

DEEP = b"[" * 100_000 + b"]" * 100_000


def _json_routes(app) -> list[tuple[str, str]]:
    """(method, url) of every API route that reads a JSON body."""
    routes = []
    for rule in app.url_map.iter_rules():
        # the refused event change reads its body silently (only to log which fields were sent)
        if rule.rule.startswith("/api/v1/") and "/events/" not in rule.rule:
            url = rule.rule.replace("<name>", "primary").replace("<rep_id>", "1").replace("<override_id>", "1")
            routes += [(m, url) for m in sorted(rule.methods & {"POST", "PUT"})]
    return routes


def test_deeply_nested_json_is_a_clear_400_on_every_json_endpoint(app, client, hotline, clock):
    with hotline.db.transaction() as session:
        token = create_token(session, "all", clock.now(), scopes=list(SCOPES))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    routes = _json_routes(app)
    assert ("POST", "/api/v1/tickets") in routes and ("POST", "/api/v1/reps") in routes and len(routes) >= 6
    for method, url in routes:
        for body in (DEEP, b'{"tickets": ' + b"[" * 40 + b"]" * 40 + b"}", b'{"number": NaN, "company": "x"}',
                     b'{"number": "1", "company": "x", "delay_minutes": 1e400}'):  # overflows to infinity
            response = client.open(url, method=method, data=body, headers=headers)
            assert response.status_code == 400, (method, url, response.status_code)
            error = response.get_json()["error"]
            assert error["code"] == "bad_request"
            assert "nest deeper" in error["message"] or "not a JSON number" in error["message"], error


def test_a_json_string_full_of_brackets_is_fine(client, hotline, clock):
    with hotline.db.transaction() as session:
        token = create_token(session, "sync", clock.now())
    text = "[" * 500 + "{ quoted \\" + '" ' + "]" * 500
    response = client.post("/api/v1/tickets", json={"number": "4521", "company": "Acme " + text[:150]},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201), response.get_json()
    assert nesting_depth(b'{"a": "[[[[", "b": [[1]]}') == 3
    assert nesting_depth(b"[" * (MAX_DEPTH + 1)) > MAX_DEPTH


def test_malformed_json_says_so(client, hotline, clock):
    with hotline.db.transaction() as session:
        token = create_token(session, "sync", clock.now())
    response = client.post("/api/v1/tickets", data=b'{"number": ', headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.get_json()["error"]["message"]


def _cookie(response) -> str:
    [cookie] = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    return cookie


def _proxied_app(hotline, **overrides):
    from app import create_app

    settings = hotline.settings.with_overrides(trust_proxy_headers=True, **overrides)
    flask_app = create_app(dataclasses.replace(hotline, settings=settings))
    flask_app.config["TESTING"] = True
    return flask_app


def test_secure_cookie_follows_x_forwarded_proto_behind_a_trusted_proxy(hotline):
    # PUBLIC_BASE_URL not https: only the request's scheme (from the trusted proxy) can make it Secure.
    flask_app = _proxied_app(hotline, public_base_url="")
    user = make_user(hotline, Role.REP)
    https = flask_app.test_client()
    https.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    assert "Secure" in _cookie(login(https, user.email))
    plain = flask_app.test_client()
    plain.environ_base["HTTP_X_FORWARDED_PROTO"] = "http"
    assert "Secure" not in _cookie(login(plain, user.email))


def test_startup_warns_when_proxy_headers_are_trusted_without_a_public_base_url(hotline, caplog):
    with caplog.at_level(logging.WARNING, logger="app"):
        _proxied_app(hotline, public_base_url="")
    assert any("TRUST_PROXY_HEADERS" in r.getMessage() and "PUBLIC_BASE_URL" in r.getMessage()
               for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="app"):
        _proxied_app(hotline)  # the fixture's settings have a PUBLIC_BASE_URL
    assert not any("TRUST_PROXY_HEADERS" in r.getMessage() for r in caplog.records)
