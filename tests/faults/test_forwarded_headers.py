"""``hotline serve`` honours no forwarded header unless TRUST_PROXY_HEADERS says so: real processes, real sockets.

gunicorn reads X-Forwarded-Proto, X-Forwarded-Ssl and a SCRIPT_NAME header itself from the addresses in its
``forwarded_allow_ips`` (127.0.0.1 by default), so behind the README's same-host TLS proxy, or from any local
client, they made the session cookie Secure, added HSTS and moved the app's root (a 500) with
TRUST_PROXY_HEADERS off. Only the app's ProxyFix reads them now, and only when the setting is on.
"""

from __future__ import annotations

import http.client

from tests.faults.test_embedded_redis import _free_port, _running

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"}


def _get(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_forwarded_headers_from_localhost_change_nothing_without_trust_proxy_headers(tmp_path):
    """Also: serve on another port than 8000 without PUBLIC_BASE_URL says where the links point (the same serve:
    it had a test and a start-up of its own)."""
    port = _free_port()
    with _running(tmp_path, "serve", ("serve", "--workers", "1", "--port", str(port))) as proc:
        plain = _get(port, "/login", {})
        forwarded = _get(port, "/login", FORWARDED)
        moved = _get(port, "/login", {"SCRIPT-NAME": "/elsewhere", "Script_Name": "/elsewhere"})
    assert plain.status == forwarded.status == moved.status == 200
    assert forwarded.getheader("Strict-Transport-Security") is None
    cookie = forwarded.getheader("Set-Cookie") or ""
    assert cookie and "secure" not in cookie.lower()
    assert plain.getheader("Strict-Transport-Security") is None
    said = proc.stderr.read()
    assert "WARNING PUBLIC_BASE_URL: is not set" in said and "http://localhost:8000" in said
    assert f"PUBLIC_BASE_URL=http://localhost:{port}" in said


def test_with_trust_proxy_headers_the_apps_proxy_fix_reads_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUST_PROXY_HEADERS", "true")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://hotline.example.com")
    port = _free_port()
    with _running(tmp_path, "serve", ("serve", "--workers", "1", "--port", str(port))):
        forwarded = _get(port, "/login", {"X-Forwarded-Proto": "https"})
    assert forwarded.status == 200
    assert forwarded.getheader("Strict-Transport-Security")
    assert "secure" in (forwarded.getheader("Set-Cookie") or "").lower()

