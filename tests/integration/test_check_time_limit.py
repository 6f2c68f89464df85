"""`hotline check` against a server that answers its first probe, then stops answering (probe T4).

Each probe's first connection gives up after a few seconds, but a later step's connection to the same server could
wait for ever: the deployment's acceptance step never ended and said nothing. The whole check now has a time limit
(``--time-limit``), and the error names the server it was still waiting for. A real socket server here: it answers
every command of the first connection as Redis would (the PING of ``redis_problems``), then takes every later
connection and never sends a byte back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import uuid

import pytest

from app.check_time_limit import within
from app.config_report import CheckReport

UNSET = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "PUBLIC_BASE_URL", "TWILIO_API_BASE_URL",
         "CALLBACK_SLA_MINUTES", "HOTLINE_WATCHDOG_SECONDS", "SMTP_HOST", "HELPDESK_WEBHOOK_URL", "SECRET_KEY")


HELLO = b"%1\r\n$5\r\nproto\r\n:3\r\n"  # RESP3's answer to HELLO 3 (redis-py's first command), as short as it takes


class FreezingRedis:
    """A TCP server on 127.0.0.1: the first connection gets a Redis answer to each command (HELLO, +PONG to PING, +OK
    to the rest), every later one is accepted and never answered. ``connections``: how many it accepted."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            self.connections += 1
            self.held.append(conn)
            if self.connections == 1:
                threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while header := reader.readline():
                words = []
                for _ in range(int(header[1:]) if header.startswith(b"*") else 0):
                    size = int(reader.readline()[1:])
                    words.append(reader.read(size + 2)[:-2])
                conn.sendall(HELLO if words[:1] == [b"HELLO"] else b"+PONG\r\n" if words[:1] == [b"PING"] else b"+OK\r\n")
        except (OSError, ValueError):
            return

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def freezing_redis():
    server = FreezingRedis()
    yield server
    server.close()


def test_check_against_a_redis_that_freezes_after_its_first_answer_ends_in_time_naming_it(tmp_path, freezing_redis):
    """Before: the PING passed, each later connection waited 5 s for its handshake, and the check ended after 20 s
    in a traceback (redis' TimeoutError out of the RQ workers' look-up); a server that froze after a later handshake
    held it for ever. Now the check ends at its limit, exit 1, with what it found so far and
    an error naming Redis, its password hidden. (The limit leaves the check's first imports time to reach Redis on
    a loaded machine; from the PING on, every step waits for Redis.)"""
    url = f"redis://:hunter2@127.0.0.1:{freezing_redis.port}/0"
    env = {k: v for k, v in os.environ.items() if k not in UNSET} | {
        "HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
        "REDIS_URL": url, "QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}"}
    done = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "check", "--no-twilio",
                           "--time-limit", "6"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1, done.stdout + done.stderr
    assert freezing_redis.connections >= 2  # the first probe was answered, a later one was not
    said = [line for line in done.stdout.splitlines() if line.startswith("ERROR   hotline check:")]
    assert said == [f"ERROR   hotline check: did not finish within 6 s: it was still waiting for Redis at "
                    f"redis://:***@127.0.0.1:{freezing_redis.port}/0, which did not answer; the checks after that "
                    "one did not run."], done.stdout
    assert "fix: find out why Redis at redis://:***@127.0.0.1" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr
    assert "ERROR   DATABASE_URL: schema: the database is empty (no tables)." in done.stdout  # found before: said
    assert done.stdout.rstrip().endswith("error(s), 0 warning(s)") and "Traceback" not in done.stderr


def test_a_check_that_ends_in_time_is_its_own_report_and_its_error_is_raised():
    """Within the limit nothing is added (the report is the checks' own), and a check that fails raises in the
    caller's thread as it did when the checks ran there."""
    def fine(report: CheckReport) -> None:
        report.passed.append("all well")

    assert within(30, fine).text() == "ok      all well\n0 error(s), 0 warning(s)"

    def broken(report: CheckReport) -> None:
        raise LookupError("a bug in a check")

    with pytest.raises(LookupError, match="a bug in a check"):
        within(30, broken)


def test_a_server_that_fails_a_step_within_the_limit_is_named_not_a_traceback():
    """A later connection of the check that times out (redis' TimeoutError from a frozen server's handshake, after
    5 s) ended ``hotline check`` in a traceback; it is an error naming the server the step was asking."""
    from redis.exceptions import TimeoutError as RedisTimeout

    def frozen(report: CheckReport) -> None:
        report.passed.append("database reachable")
        report.asking = "Redis at redis://:***@10.0.0.7:6379/0"
        raise RedisTimeout("Timeout reading from 10.0.0.7:6379")

    found = within(30, frozen)
    assert found.passed == ["database reachable"]
    assert [(p.where, p.message) for p in found.errors] == [
        ("hotline check", "stopped: Redis at redis://:***@10.0.0.7:6379/0 failed it (TimeoutError: Timeout reading "
                          "from 10.0.0.7:6379); the checks after that one did not run.")]
