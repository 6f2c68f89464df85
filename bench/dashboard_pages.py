"""A manager browsing a running hotline: log in, then fetch every page, export and API document (for bench/memory.py).

A web worker serves these too, not only webhooks: what it holds after them is part of its memory.
"""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

PAGES = ("/board", "/board/rows", "/reports/compliance", "/reports/compliance.csv", "/reports/compliance.json",
         "/reports/updates", "/oncall", "/missed-calls", "/outages", "/admin/users", "/admin/accounts",
         "/api/v1/openapi.json")
EMAIL, PASSWORD = "bench-manager@hotline.example", "tidy spoons carry 0123"


class Browser:
    """One logged-in dashboard session on ``127.0.0.1:port`` (each request a new connection: any worker may answer)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies = SimpleCookie()
        _, login = self.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', login)
        if token is None:
            raise RuntimeError("the login page has no CSRF token")
        status, _ = self._request("POST", "/login", urlencode(
            {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1).decode()}))
        if status != 302:
            raise RuntimeError(f"logging in as {EMAIL} answered {status}")

    def get(self, path: str) -> tuple[int, bytes]:
        """(status, body) of ``GET path``."""
        return self._request("GET", path)

    def _request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v.value}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(header)
            return response.status, data
        finally:
            conn.close()


def browse(port: int, sessions: int = 8, rounds: int = 2) -> int:
    """Log in ``sessions`` times and fetch every page (and one incident's pages) ``rounds`` times in each; returns
    how many requests were answered 200. Raises when a page answers anything else."""
    browsers = [Browser(port) for _ in range(sessions)]
    _, board = browsers[0].get("/board")
    references = sorted(set(re.findall(rb'href="/incidents/([A-Za-z0-9-]+)"', board)))[:1]
    pages = [*PAGES, *(f"/incidents/{ref.decode()}" for ref in references),
             *(f"/incidents/{ref.decode()}/updates" for ref in references)]
    answered = 0
    for _ in range(rounds):
        for browser in browsers:
            for page in pages:
                status, _ = browser.get(page)
                if status != 200:
                    raise RuntimeError(f"GET {page} answered {status}")
                answered += 1
    return answered
