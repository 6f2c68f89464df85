"""Twilio's REST API (2010-04-01) over the standard library's HTTP client, errors translated at this boundary.

The hotline asks six things of it: create a message, create a call, list the recent ones to one
number (or a call's children), and fetch one by its SID. The ``twilio`` SDK's client answers the same with ``requests`` and a class per
resource: about 8 MB more in every ``hotline worker`` and several times the CPU per page (issue
12), so the worker speaks the documented form-encoded requests itself. The SDK stays for TwiML
and for checking webhook signatures.

One keep-alive connection per thread (a page thread sends one page at a time); a connection the
server closed while idle is noticed before a request is written on it, so a POST is never
re-sent by this client: a request that fails after it may have been written is
:class:`OutcomeUnknown`, and the caller looks it up before sending again. ``HTTPS_PROXY`` (a
CONNECT tunnel), ``HTTP_PROXY`` (for a plain-http test double) and ``NO_PROXY`` are honoured as
``requests`` would.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import ssl
import threading
import urllib.request
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from app.idle_socket import closed_while_idle
from app.telephony.protocol import NO_ANSWER, OutcomeUnknown, Rejected, TelephonyError, Throttled
from app.telephony.twilio_errors import error_code, error_kind

log = logging.getLogger(__name__)
API_VERSION = "2010-04-01"
_Connection = http.client.HTTPConnection


class TwilioRest:
    """An account's resources under ``base_url``; each method returns Twilio's JSON or raises a TelephonyError."""

    def __init__(self, base_url: str, account_sid: str, auth_token: str, timeout_seconds: float) -> None:
        url = urlsplit(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._tls = url.scheme == "https"
        self._host, self._port = url.hostname, url.port or (443 if self._tls else 80)
        self._prefix = f"{url.path}/{API_VERSION}/Accounts/{account_sid}"
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._headers = {"Authorization": f"Basic {credentials}", "Accept": "application/json",
                         "User-Agent": "sev1-hotline (python http.client)"}
        self._timeout = timeout_seconds
        self._local = threading.local()
        self._proxy = _proxy_for(self._host, self._tls)
        self._proxy_auth = _proxy_authorization(self._proxy)
        # plain http through a proxy: requests name the absolute URL and go to the proxy itself, as requests does
        plain_proxy = self._proxy is not None and not self._tls
        self._target_prefix = f"http://{self._host}:{self._port}" if plain_proxy else ""
        if plain_proxy:
            self._headers.update(self._proxy_auth)

    def create(self, resource: str, fields: list[tuple[str, Any]]) -> dict[str, Any]:
        """POST ``fields`` (repeated names allowed) to ``resource`` (``Messages``, ``Calls``); the created resource."""
        body = urlencode([(name, str(value)) for name, value in fields])
        return self._request("POST", f"{self._prefix}/{resource}.json", body,
                             {"Content-Type": "application/x-www-form-urlencoded"})

    def fetch(self, resource: str, sid: str) -> dict[str, Any]:
        """GET one ``resource`` (``Messages``, ``Calls``) by its SID."""
        if not sid.isalnum():  # a SID is two letters and 32 hex digits: never a path of its own
            raise Rejected(f"not a Twilio SID: {sid[:40]!r}")
        return self._request("GET", f"{self._prefix}/{resource}/{sid}.json", None, {})

    def list(self, resource: str, **query: Any) -> list[dict[str, Any]]:
        """The first page of ``resource`` filtered by ``query`` (Twilio's names: ``To``, ``From``, ``PageSize``)."""
        answer = self._request("GET", f"{self._prefix}/{resource}.json?{urlencode(query)}", None, {})
        items = answer.get(resource.lower())
        if not isinstance(items, list):
            raise OutcomeUnknown(f"unreadable answer from Twilio: no {resource.lower()!r} list")
        return items

    def _request(self, method: str, path: str, body: str | None, headers: dict[str, str]) -> dict[str, Any]:
        conn = self._connection()
        try:
            conn.request(method, self._target_prefix + path, body=body, headers={**self._headers, **headers})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:  # time-outs and refused connections are OSErrors
            self._drop()
            raise OutcomeUnknown(f"{NO_ANSWER}: {type(exc).__name__}: {exc}") from exc
        if response.will_close:
            self._drop()
        # the resource and the answer's status only: the path's query and the body hold phone numbers
        log.debug("Twilio %s %s: HTTP %s", method, path.split("?", 1)[0].rsplit("/", 1)[-1], response.status)
        try:
            answer = json.loads(data) if data else {}
        except ValueError:  # a proxy's HTML page: the request may have been accepted
            answer = None
        if response.status >= 400:
            raise _error(response.status, answer, response.getheader("Retry-After"))
        if not isinstance(answer, dict):
            raise OutcomeUnknown(f"unreadable answer from Twilio (HTTP {response.status})")
        return answer

    def _connection(self) -> _Connection:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and closed_while_idle(conn.sock):
            self._drop()
            conn = None
        if conn is None:
            conn = self._local.conn = self._new_connection()
        return conn

    def _new_connection(self) -> _Connection:
        if self._proxy is None:
            return self._open(self._host, self._port)
        conn = self._open(self._proxy.hostname or "", self._proxy.port or 8080)
        if self._tls:  # HTTPS through the proxy's CONNECT tunnel
            conn.set_tunnel(self._host, self._port, headers=self._proxy_auth)
        return conn

    def _open(self, host: str, port: int) -> _Connection:
        if self._tls:
            return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=_tls_context())
        return http.client.HTTPConnection(host, port, timeout=self._timeout)

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()


def _proxy_for(host: str, tls: bool):
    """The proxy URL for ``host`` from the environment (HTTPS_PROXY / HTTP_PROXY, NO_PROXY), if any."""
    proxies = urllib.request.getproxies()
    url = proxies.get("https" if tls else "http")
    if not url or urllib.request.proxy_bypass(host):
        return None
    return urlsplit(url if "://" in url else f"http://{url}")


def _proxy_authorization(proxy) -> dict[str, str]:
    """The Proxy-Authorization header for a proxy URL with a user name, else none."""
    if proxy is None or not proxy.username:
        return {}
    pair = f"{proxy.username}:{proxy.password or ''}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode()}


_context: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """Verifying context on certifi's bundle when installed (what ``requests`` used), else the system's."""
    global _context
    if _context is None:
        try:
            import certifi

            _context = ssl.create_default_context(cafile=certifi.where())
        except ImportError:
            _context = ssl.create_default_context()
    return _context


def _error(status: int, answer: Any, retry_after: str | None = None) -> TelephonyError:
    """Twilio's error answer (``{"code", "message", "more_info", "status"}``) as a TelephonyError: its code decides
    before its HTTP status (``app.telephony.twilio_errors``: a 400 with 21611 passes, a 400 with 21211 does not).
    A refusal for now keeps the wait its ``Retry-After`` header asks for (``Throttled.retry_after``)."""
    details = answer if isinstance(answer, dict) else {}
    text = f"Twilio answered HTTP {status} (code {details.get('code')}): {details.get('message') or ''}".strip()
    kind = error_kind(status, error_code(details.get("code")))
    if kind is Throttled:
        wait = retry_after_seconds(retry_after)
        return Throttled(text + (f" (Retry-After {wait:g} s)" if wait is not None else ""), retry_after=wait)
    return kind(text)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """An HTTP ``Retry-After`` value (RFC 9110: delay-seconds, or an HTTP-date) as seconds from ``now``, at least 0;
    None when absent or unreadable (the caller's own back-off then decides)."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
