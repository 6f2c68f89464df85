"""Real ``hotline`` commands and a redis-server of the test's own, as child processes the fault tests stop or kill."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
from redis import Redis
from redis.exceptions import RedisError

START_SECONDS = 90.0  # bounded waits on conditions (start-up, a fault noticed): never asserted as timing
STOP_SECONDS = 5.0  # "promptly" after a signal: well under systemd's TimeoutStopSec, and under the worker's 10 s joins


def wait_for(condition, what: str, seconds: float = START_SECONDS) -> None:
    """Poll ``condition`` until it holds; AssertionError naming ``what`` after ``seconds``.

    The first polls come 10 ms apart, then half as often again each time up to every 0.1 s: most conditions hold
    within a few tenths of a second (a line logged, a lease released), and a long wait (a process starting) does not
    poll its files and database ten times as often."""
    deadline = time.monotonic() + seconds
    pause = 0.01
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(pause)
        pause = min(0.1, pause * 1.5)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a spare port (no persistence), which the test may kill."""

    def __init__(self, port: int | None = None) -> None:
        self.port = free_port() if port is None else port  # a port given: a server started again where one was
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = Redis(port=self.port, socket_timeout=5)
        wait_for(self._answers, "redis-server to start")

    @property
    def url(self) -> str:
        """Its REDIS_URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except RedisError:
            return False

    def refuse_writes(self, how: str) -> None:
        """Make it answer PING but refuse writes: ``full`` (noeviction, maxmemory under what it uses) or ``replica``
        (of a port nothing listens on, so it never syncs and keeps its data)."""
        if how == "full":
            self.client.config_set("maxmemory-policy", "noeviction")
            # far under it: what a server uses moves by hundreds of kB with its clients' buffers (a tester's
            # "used_memory - 100000" was under it again seconds later)
            self.client.config_set("maxmemory", 1)
        else:
            self.client.replicaof("127.0.0.1", 9)

    def take_writes(self) -> None:
        """Undo ``refuse_writes``."""
        self.client.config_set("maxmemory", 0)
        self.client.replicaof("NO", "ONE")

    def kill(self) -> None:
        """SIGKILL: Redis gone at once, its clients' connections reset."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=START_SECONDS)
        self.client.close()


def hotline_env(tmp_path: Path, database_url: str | None, redis_url: str | None) -> dict[str, str]:
    """This environment for a ``hotline`` command on ``tmp_path``: simulated telephony; embedded defaults where None."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "TWILIO_ACCOUNT_SID",
                                                             "TWILIO_AUTH_TOKEN", "HOTLINE_WATCHDOG_SECONDS",
                                                             "QUEUE_NAME")}
    env["HOTLINE_DATA_DIR"] = str(tmp_path / "data")
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def hotline_command(*args: str) -> list[str]:
    """``hotline *args`` run by this interpreter."""
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def stopped_within(proc: subprocess.Popen, seconds: float) -> bool:
    """Whether ``proc`` ended within ``seconds``."""
    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
