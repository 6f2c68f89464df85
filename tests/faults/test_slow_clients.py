"""Slow clients hold no thread of ``hotline serve`` (app/request_buffering.py): real processes, real sockets.

A client that trickles its request (a byte at a time, as slowloris does) used to hold one of the web
server's threads until it finished; eight of them held every thread of a ``serve`` with 2 workers x 4
threads, and Twilio's webhooks timed out. The worker now reads each request whole on its event loop
and gives a thread only requests that are whole. Waits here are bounded; nothing asserts a duration.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from app.request_buffering import (
    HEAD_TOO_LARGE,
    MAX_HEAD_BYTES,
    MAX_REQUEST_BYTES,
    TOO_LARGE,
    RequestEnd,
    request_end,
)
from tests.faults.test_embedded_redis import _free_port, _running, _wait_for

ANSWER_SECONDS = 20.0  # a bounded wait for an answer, never a timing assertion


class Trickler:
    """A client that sends ``head`` and then one more byte every ``every`` seconds, never finishing its request."""

    def __init__(self, port: int, head: bytes, every: float = 0.3) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_SECONDS)
        self.sock.sendall(head)
        self.stop, self.every = threading.Event(), every
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.sock.send(b"X")
            except OSError:
                return

    def answer(self) -> bytes:
        """What the server sent before closing (the trickling goes on until it does)."""
        return _until_closed(self.sock)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def _until_closed(sock: socket.socket) -> bytes:
    """What the server sent before it closed (a reset after its answer, for bytes it left unread, ends it too)."""
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


@contextmanager
def tricklers(port: int, count: int, head: bytes) -> Iterator[list[Trickler]]:
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            trickler = Trickler(port, head)
            stack.callback(trickler.close)
            started.append(trickler)
        yield started


HALF_HEAD = b"POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def test_serve_answers_while_more_slow_clients_than_threads_trickle(tmp_path):
    port = _free_port()
    with _running(tmp_path, "serve", ("serve", "--workers", "1", "--threads", "2", "--port", str(port))):
        with tricklers(port, 8, HALF_HEAD):  # four times the threads
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_SECONDS)
            conn.request("GET", "/login")
            login = conn.getresponse()
            assert login.status == 200 and b"Log in</button>" in login.read()
            conn.request("POST", "/twilio/voice", body="CallSid=CA1&From=%2B14155550100",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert conn.getresponse().status == 403  # a whole request reaches the app: unsigned, refused
            conn.close()


_SERVER = """
import hashlib, sys
import app.request_buffering as buffering
buffering.REQUEST_SECONDS = float(sys.argv[2])  # the deadline, shortened for the test
buffering.MAX_BUFFERED_BYTES = 256 * 1024  # and the worker's budget for requests being read
from gunicorn.app.base import BaseApplication

def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{environ['PATH_INFO']} {len(body)} {hashlib.sha256(body).hexdigest()[:12]}".encode()]

class Server(BaseApplication):
    def load_config(self):
        for key, value in {"bind": "127.0.0.1:" + sys.argv[1], "workers": 1, "threads": 1, "keepalive": 5,
                           "worker_connections": int(sys.argv[3]),
                           "worker_class": "app.request_buffering.BufferingThreadWorker"}.items():
            self.cfg.set(key, value)
    def load(self):
        return echo

Server().run()
"""


@contextmanager
def echo_server(tmp_path: Path, deadline: float, connections: int = 1000) -> Iterator[tuple[int, subprocess.Popen]]:
    """gunicorn with the buffering worker (one thread, ``deadline`` for a request to be whole, 256 KiB buffered
    at most, ``connections`` at once) around an app that echoes what it read; stopped with SIGTERM at the end."""
    port = _free_port()
    script = tmp_path / "server.py"
    script.write_text(_SERVER)
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(deadline), str(connections)],
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _answers(port) or proc.poll() is not None, "the server to answer")
        assert proc.poll() is None
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=ANSWER_SECONDS)


@pytest.fixture
def echo_port(tmp_path) -> Iterator[int]:
    with echo_server(tmp_path, 2.0) as (port, _proc):
        yield port


def test_a_flood_of_slow_connections_past_the_workers_limit_does_not_stop_it_accepting(tmp_path):
    with echo_server(tmp_path, 300.0, connections=8) as (port, _proc):  # deadlines beyond the bounded waits
        with tricklers(port, 20, HALF_HEAD) as slow:  # more than the worker takes at once
            assert _post(port, "/through", b"ok") == "/through " + _echo(b"ok")
            assert slow[0].answer().startswith(b"HTTP/1.1 503 ")  # the oldest made room


def test_a_stopping_worker_closes_silent_connections_at_once_instead_of_at_their_deadline(tmp_path):
    with echo_server(tmp_path, 300.0) as (port, proc):  # a deadline far beyond the bounded waits here
        silent = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_SECONDS)
        slow = Trickler(port, HALF_HEAD)
        proc.terminate()
        assert _until_closed(silent) == b""  # closed without a word
        assert slow.answer().startswith(b"HTTP/1.1 408 ")  # answered after gunicorn's linger, not 300 s
        proc.wait(timeout=ANSWER_SECONDS)
        silent.close()
        slow.close()


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _echo(body: bytes) -> str:
    return f"{len(body)} {hashlib.sha256(body).hexdigest()[:12]}"


def _post(port: int, path: str, body: bytes) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_SECONDS)
    conn.request("POST", path, body=body)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    assert response.status == 200
    return text


def test_one_thread_serves_whole_requests_while_a_slow_client_trickles(echo_port):
    with tricklers(echo_port, 3, HALF_HEAD):
        assert _post(echo_port, "/a", b"x" * 5000) == "/a " + _echo(b"x" * 5000)


def test_a_request_not_whole_by_the_deadline_is_answered_408_and_closed(echo_port):
    with tricklers(echo_port, 1, HALF_HEAD) as [slow]:
        assert slow.answer().startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as silent:
        assert _until_closed(silent) == b""  # a connection that never sent a byte is closed without a word


def test_a_slow_request_whole_before_the_deadline_is_answered(echo_port):
    body = b"From=%2B14155550100&Digits=1"
    request = b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as sock:
        for i in range(0, len(request), 16):  # a slow client: 16 bytes every 50 ms (well within the deadline)
            sock.send(request[i:i + 16])
            threading.Event().wait(0.05)
        assert _Answers(sock).next() == (200, "/slow " + _echo(body))


def test_a_request_larger_than_the_limit_is_refused_413_before_its_body(echo_port):
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_REQUEST_BYTES + 1))
        assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")


def test_headers_that_do_not_end_are_refused_431_and_requests_past_the_workers_budget_503(echo_port):
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nX-Long: " + b"a" * (MAX_HEAD_BYTES + 1))
        assert sock.recv(4096).startswith(b"HTTP/1.1 431 ")
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 600000\r\n\r\n" + b"z" * 300_000)
        assert _until_closed(sock).startswith(b"HTTP/1.1 503 ")  # 300 KB of it in, over the 256 KiB budget
    assert _post(echo_port, "/after", b"ok") == "/after " + _echo(b"ok")  # the budget came back


def test_a_client_that_expects_100_continue_gets_one_and_then_the_answer(echo_port):
    body = b"y" * 3000
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as sock:
        sock.sendall(b"POST /expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3000\r\n\r\n")
        assert sock.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = b""
        while not answer.endswith(b"0\r\n\r\n"):  # the echo's chunked answer, whole
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")  # one 100 Continue, not a second before the answer
    assert ("/expect " + _echo(body)).encode() in answer


def test_pipelined_kept_alive_and_chunked_requests_are_each_answered(echo_port):
    first = b"POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    second = b"POST /two HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as sock:
        answers = _Answers(sock)
        sock.sendall(first + second)  # both at once: the second waits for the first's answer
        assert [answers.next(), answers.next()] == [(200, "/one " + _echo(b"abc")), (200, "/two " + _echo(b"def"))]
        sock.sendall(b"GET /three HTTP/1.1\r\nHost: x\r\n\r\n")  # the same connection, kept alive
        assert answers.next() == (200, "/three " + _echo(b""))


def test_a_chunk_whose_data_looks_like_the_last_chunk_is_read_as_data(echo_port):
    body = b"\r\n0\r\n\r\nab"  # the 9 bytes of one chunk
    with socket.create_connection(("127.0.0.1", echo_port), timeout=ANSWER_SECONDS) as sock:
        sock.sendall(b"POST /tricky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n" + body + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        assert _Answers(sock).next() == (200, "/tricky " + _echo(body))


class _Answers:
    """The answers on one connection, in order, read through one buffer (none lost to another's read-ahead)."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def makefile(self, *_args, **_kwargs):
        return self  # each answer reads the shared buffer, and leaves it open for the next

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self.file, name)

    def next(self) -> tuple[int, str]:
        response = http.client.HTTPResponse(self)  # it reads through makefile(): the shared buffer
        response.begin()
        return response.status, response.read().decode()


@pytest.mark.parametrize(("data", "end"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n", None),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next", 27),  # pipelined: the first request ends there
    (b"POST / HTTP/1.1\r\ncontent-LENGTH: 3\r\n\r\nab", None),
    (b"POST / HTTP/1.1\r\ncontent-LENGTH: 3\r\n\r\nabcd", 41),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n", None),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", 58),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 52),
    # a chunk whose data looks like the last chunk is data: the body goes on
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n\r\n0\r\n\r\nab\r\n", None),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n\r\n0\r\n\r\nab\r\n0\r\n\r\n", 66),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;x=y\r\na\r\n0\r\nX-T: 1\r\n\r\n", 70),  # extension, trailer
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nmore", 51),  # no size: the parser refuses it
    # sizes Python would read and gunicorn refuses (a negative one walked backwards): ended where they stand
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-10\r\nabcdef", 52),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\nabcdef", 52),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nabcdef", 51),
    (b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", TOO_LARGE),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD_BYTES, HEAD_TOO_LARGE),  # headers that never end
    (b"GET / HTTP/1.1\r\nX: " + b"a" * (MAX_HEAD_BYTES - 100), None),
])
def test_where_a_request_ends(data, end):
    assert request_end(data) == end
    scan, buffer, found = RequestEnd(), bytearray(), None  # the same, read a byte at a time as a trickler sends it
    for byte in data:
        buffer.append(byte)
        if (found := scan.find(buffer)) is not None:
            break
    assert found == end
