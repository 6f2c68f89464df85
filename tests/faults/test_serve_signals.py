"""``hotline serve`` (gunicorn) stops at once on SIGTERM while Redis or the database is down, and leaves no worker.

The same operator review that found ``hotline worker`` outliving SIGTERM with Redis down (test_worker_signals.py)
asked the same of the web process: its master and its forked web workers must all be gone promptly, the
database or Redis notwithstanding, or systemd kills them after TimeoutStopSec.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import scratch_schema
from tests.faults import own_processes as own
from tests.faults.freezable_proxy import FreezableProxy
from tests.faults.own_processes import STOP_SECONDS, alive, hotline_command, hotline_env, stopped_within, wait_for


def _serving(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _healthz(port: int) -> int:
    """/healthz's status: the web workers touch the database and Redis once while they are down."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=own.START_SECONDS) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _serve(tmp_path: Path, database_url: str, redis_url: str) -> tuple[subprocess.Popen, int, Path]:
    port = own.free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(hotline_command("serve", "--workers", "2", "--port", str(port)),
                                env=hotline_env(tmp_path, database_url, redis_url), cwd=tmp_path, stdout=log,
                                stderr=subprocess.STDOUT)
    wait_for(lambda: proc.poll() is not None or (_serving(port) and len(psutil.Process(proc.pid).children()) == 2),
             "hotline serve and its two web workers")
    assert proc.poll() is None, log_path.read_text()[-3000:]
    return proc, port, log_path


def _stop_and_check(proc: subprocess.Popen, log_path: Path) -> None:
    web_workers = psutil.Process(proc.pid).children(recursive=True)
    assert len(web_workers) == 2
    proc.send_signal(signal.SIGTERM)
    assert stopped_within(proc, STOP_SECONDS), log_path.read_text()[-3000:]
    assert proc.returncode == 0, log_path.read_text()[-3000:]
    wait_for(lambda: not any(alive(child) for child in web_workers), "the web workers to be gone", STOP_SECONDS)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=own.START_SECONDS)


def test_serve_stops_at_once_on_sigterm_while_redis_is_down(tmp_path, empty_database_url, redis_server_of_its_own):
    proc, port, log_path = _serve(tmp_path, empty_database_url, redis_server_of_its_own.url)
    try:
        redis_server_of_its_own.kill()
        assert _healthz(port) == 200  # Redis down is a warning: the node still takes callers
        _stop_and_check(proc, log_path)
    finally:
        _kill(proc)


@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_serve_stops_at_once_on_sigterm_while_the_database_is_down(tmp_path, postgres_url, redis_server_of_its_own,
                                                                  fault):
    from sqlalchemy.engine import make_url

    with scratch_schema("hotline_serve_stop") as url:
        real = make_url(url)
        proxy = FreezableProxy((real.host, real.port or 5432))
        proc, port, log_path = _serve(tmp_path, real.set(port=proxy.port).render_as_string(hide_password=False),
                                      redis_server_of_its_own.url)
        try:
            if fault == "refused":
                proxy.close()
            else:
                proxy.sever()  # the open connections never answer again (a stopped or partitioned server)
                proxy.freeze()  # and new ones are accepted and left unanswered
            assert _healthz(port) == 503  # the database is what decides whether this node takes callers
            _stop_and_check(proc, log_path)
        finally:
            _kill(proc)
            proxy.close()


def test_serve_starts_while_redis_is_down_and_takes_callers(tmp_path, empty_database_url):
    """A restart during a Redis outage (a deploy, a crash, a reboot): an outside probe's `hotline serve` refused to
    start ("Redis ... does not answer"), and with Twilio's fallback URL on the same hosts nobody answered callers.
    It starts with a warning, as the running ones go on."""
    dead = f"redis://127.0.0.1:{own.free_port()}/0"
    proc, port, log_path = _serve(tmp_path, empty_database_url, dead)
    try:
        assert "does not answer" in log_path.read_text() and "starting all the same" in log_path.read_text()
        assert _healthz(port) == 200  # the node records callers
        _stop_and_check(proc, log_path)
    finally:
        _kill(proc)
