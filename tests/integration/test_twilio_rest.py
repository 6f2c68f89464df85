"""The hotline's own Twilio REST client (issue 12: the SDK and ``requests`` cost every worker ~8 MB).

What the SDK's client did is covered against the simulated Twilio in test_twilio_telephony.py;
these cover what a hand-written client could get wrong: a keep-alive connection the server
closed while idle, the proxy from the environment, and the modules a sending process loads.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from app.telephony.protocol import OutcomeUnknown
from app.telephony.twilio_rest import TwilioRest, _proxy_for
from hotline_sim.twilio_api import SimulatedTwilio
from tests.integration.twilio_support import twilio_spec_path

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC" + "c" * 32


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(65536)
    return head


class OneAnswerPerConnection:
    """An HTTP/1.1 server that answers one request on each connection, then closes it as an idle server would."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.closed = threading.Semaphore(0)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.requests.append(_read_request(conn))
                body = json.dumps({"sid": f"SM{len(self.requests):032d}", "status": "queued"}).encode()
                conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # no "Connection: close"
            self.closed.release()

    def stop(self) -> None:
        self.sock.close()


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_next_post():
    server = OneAnswerPerConnection()
    try:
        rest = TwilioRest(f"http://127.0.0.1:{server.port}", ACCOUNT, "token", 2.0)
        first = rest.create("Messages", [("To", "+14155550111"), ("Body", "one")])
        assert server.closed.acquire(timeout=10)  # the server has closed the connection the client keeps
        second = rest.create("Messages", [("To", "+14155550111"), ("Body", "two")])
    finally:
        server.stop()
    assert (first["sid"], second["sid"]) == (f"SM{1:032d}", f"SM{2:032d}")  # not an OutcomeUnknown
    assert [r.split(b"\r\n")[0] for r in server.requests] == [
        f"POST /2010-04-01/Accounts/{ACCOUNT}/Messages.json HTTP/1.1".encode()] * 2


def test_each_thread_keeps_its_own_connection_and_reuses_it(clock):
    with SimulatedTwilio(spec_path=twilio_spec_path(), clock=clock) as twilio:
        twilio.numbers.add("+15005550006")
        rest = TwilioRest(twilio.base_url, twilio.account_sid, twilio.auth_token, 2.0)
        seen: list[int] = []

        def send(n: int) -> None:
            for i in range(3):
                rest.create("Messages", [("To", "+14155550111"), ("From", "+15005550006"), ("Body", f"{n}-{i}")])
                seen.append(id(rest._local.conn))

        threads = [threading.Thread(target=send, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(m.body for m in twilio.messages) == sorted(f"{n}-{i}" for n in range(3) for i in range(3))
        assert twilio.spec_violations == []
    assert len(seen) == 9 and len(set(seen)) <= 3  # one connection per thread, kept between sends


def test_an_answer_that_is_not_json_leaves_the_outcome_unknown():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            _read_request(conn)
            body = b"<html>Bad gateway</html>"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(OutcomeUnknown, match="unreadable"):
            TwilioRest(f"http://127.0.0.1:{server.getsockname()[1]}", ACCOUNT, "t", 2.0).create("Calls", [("To", "x")])
    finally:
        thread.join(timeout=10)
        server.close()


def test_the_proxy_comes_from_the_environment_and_no_proxy_is_honoured(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _proxy_for("api.twilio.com", tls=True) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.corp:3128")
    proxy = _proxy_for("api.twilio.com", tls=True)
    assert (proxy.hostname, proxy.port, proxy.username, proxy.password) == ("proxy.corp", 3128, "user", "secret")
    monkeypatch.setenv("NO_PROXY", ".twilio.com")
    assert _proxy_for("api.twilio.com", tls=True) is None


SEND = textwrap.dedent("""
    import json, sys
    from datetime import datetime, timedelta, UTC
    from app.settings import Settings
    from app.telephony.twilio import TwilioTelephony
    base_url, sid, token = sys.argv[1:4]
    t = TwilioTelephony(Settings(twilio_account_sid=sid, twilio_auth_token=token, twilio_number="+15005550006",
                                 twilio_api_base_url=base_url))
    sent = t.send_sms(to="+14155550111", body="Sev-1 INC-7", status_callback="https://h.example/s")
    call = t.place_call(to="+14155550111", url="https://h.example/c", status_callback="https://h.example/v")
    since = datetime.now(UTC) - timedelta(minutes=1)
    found = [t.find_sms(to="+14155550111", since=since, marker="INC-7"), t.find_call(to="+14155550111", since=since)]
    print(json.dumps({"sids": [sent.sid, call.sid], "found": [f.sid for f in found if f],
                      "loaded": sorted(m for m in ("twilio.rest", "requests", "urllib3") if m in sys.modules)}))
""")


def test_a_process_that_pages_loads_neither_the_twilio_sdk_client_nor_requests(tmp_path):
    with SimulatedTwilio(spec_path=twilio_spec_path()) as twilio:
        twilio.numbers.add("+15005550006")
        run = subprocess.run([sys.executable, "-c", SEND, twilio.base_url, twilio.account_sid, twilio.auth_token],
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        out = json.loads(run.stdout.strip().splitlines()[-1])
        assert out["sids"] == [twilio.messages[0].sid, twilio.calls[0].sid] == out["found"]
        assert twilio.spec_violations == []
    assert out["loaded"] == []


def test_plain_http_through_a_proxy_sends_the_absolute_url_to_the_proxy(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy = OneAnswerPerConnection()
    monkeypatch.setenv("HTTP_PROXY", f"http://user:pw@127.0.0.1:{proxy.port}")
    try:
        sent = TwilioRest("http://twilio-double.example:8099", ACCOUNT, "token", 2.0).create(
            "Messages", [("To", "+14155550111"), ("Body", "one")])
    finally:
        proxy.stop()
    assert sent["sid"] == f"SM{1:032d}"
    [request] = proxy.requests
    lines = request.split(b"\r\n")
    assert lines[0] == f"POST http://twilio-double.example:8099/2010-04-01/Accounts/{ACCOUNT}/Messages.json HTTP/1.1".encode()
    assert b"Proxy-Authorization: Basic dXNlcjpwdw==" in lines
