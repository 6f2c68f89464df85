"""Headers on every page and API answer; no inline script or style (issue 9, row 5)."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest

from app.models.user import Role
from tests.integration.board_support import make_incident
from tests.integration.dashboard_support import login_as

PAGES = ["/board", "/incidents/123456", "/reports/compliance?start=2026-11-01&end=2026-12-01&tz=UTC", "/oncall",
         "/admin/users", "/admin/users/new"]


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP would refuse: inline scripts, <style>, style= and on*= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script":
            self.scripts.append(names.get("src") or "")
            if not names.get("src"):
                self.refused.append("inline <script>")
        if tag == "style":
            self.refused.append("<style>")
        self.refused += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        if names.get("href", "").lower().startswith("javascript:"):
            self.refused.append("javascript: link")


def _check_headers(response, *, personal: bool = True) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
    if personal:
        assert response.headers["Cache-Control"] == "no-store"


def test_every_dashboard_page_has_the_headers_and_nothing_inline(hotline, client):
    make_incident(hotline)
    login_as(client, hotline, Role.ADMIN)
    for path in ["/login", *PAGES]:
        response = client.get(path)
        assert response.status_code in (200, 302), path
        _check_headers(response)
        finder = _InlineFinder()
        finder.feed(response.get_data(as_text=True))
        assert finder.refused == [], (path, finder.refused)
    board = _InlineFinder()
    board.feed(client.get("/board").get_data(as_text=True))
    [script] = board.scripts
    assert script == "/static/dashboard/dashboard.js" and client.get(script).status_code == 200


def test_the_login_page_and_its_stylesheet(client):
    response = client.get("/login")
    _check_headers(response)
    assert 'rel="stylesheet" href="/static/dashboard/dashboard.css"' in response.get_data(as_text=True)
    css = client.get("/static/dashboard/dashboard.css")
    assert css.status_code == 200 and b".countdown" in css.data and b".range-form" in css.data
    _check_headers(css, personal=False)
    assert "no-store" not in css.headers["Cache-Control"]


def test_api_answers_ack_pages_health_and_errors_have_the_headers(client):
    for path in ("/api/v1/incidents", "/api/v1/openapi.json", "/api/v1/nothing-here", "/ack/garbled-token",
                 "/healthz", "/no-such-page"):
        response = client.get(path)
        _check_headers(response)
        finder = _InlineFinder()
        finder.feed(response.get_data(as_text=True))
        assert finder.refused == [], (path, finder.refused)


def test_hsts_only_over_https(client, hotline):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://hotline.example.com")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_behind_a_trusted_proxy_follows_x_forwarded_proto(hotline):
    from app import create_app

    proxied = dataclasses.replace(hotline, settings=hotline.settings.with_overrides(trust_proxy_headers=True))
    client = create_app(proxied).test_client()
    assert "Strict-Transport-Security" in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "http"}).headers


@pytest.mark.parametrize("path", ["/ack/x"])
def test_the_ack_link_page_uses_a_stylesheet_file(client, path):
    body = client.get(path).get_data(as_text=True)
    assert re.search(r'<link rel="stylesheet" href="/static/ack.css">', body)
    assert client.get("/static/ack.css").status_code == 200
