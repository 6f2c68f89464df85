"""The chaos run's deployment: its own redis-server, 2 ``hotline serve`` and 2 ``hotline worker`` processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port(preferred: range) -> int:
    """A port from ``preferred`` nothing listens on."""
    for port in preferred:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit(f"no free port in {preferred}")


def stop_processes(procs: list[subprocess.Popen], wait_seconds: float) -> None:
    """SIGTERM every process still running, then wait for each (bounded); one that does not stop is killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=wait_seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Deployment:
    """Redis, 2 web processes and 2 workers as child processes; every one is stopped at the end."""

    def __init__(self, run_dir: Path, env: dict[str, str], redis_port: int, web_ports: list[int],
                 python: str = sys.executable) -> None:
        self.run_dir, self.env, self.redis_port, self.web_ports = run_dir, env, redis_port, web_ports
        self.python = python
        self.redis: subprocess.Popen | None = None
        self.web: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.log = open(run_dir / "processes.log", "a")  # noqa: SIM115 - closed in stop()

    def hotline(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([self.python, "-c", "from app.cli import main; main()", *args], env=self.env,
                                cwd=self.run_dir, stdout=self.log, stderr=self.log)

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"], stdout=self.log, stderr=self.log)
        wait_port(self.redis_port)

    def kill_redis(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait()

    def start_worker(self, name: str) -> None:
        self.workers[name] = self.hotline("-v", "worker")

    def kill_worker(self, name: str) -> None:
        proc = self.workers[name]
        if proc.poll() is None:
            proc.kill()  # SIGKILL: no clean shutdown, the lease is not released
            proc.wait()

    def start(self) -> None:
        self.start_redis()
        upgrade = self.hotline("db", "upgrade")
        upgrade.wait()
        imported = subprocess.run([self.python, "-c", "from app.cli import main; main()", "oncall", "import",
                                   str(self.run_dir / "oncall.yaml")], env=self.env, cwd=self.run_dir,
                                  capture_output=True, text=True)
        if imported.returncode:
            raise SystemExit(imported.stderr)
        self.web = [self.hotline("serve", "--port", str(port)) for port in self.web_ports]
        for port in self.web_ports:
            wait_port(port, 90)
        self.start_worker("worker-1")
        self.start_worker("worker-2")
        self.wait_workers(2)

    def wait_workers(self, count: int, seconds: float = 120) -> None:
        """Until ``count`` workers run steps: calls made before that would only measure start-up.

        Counted on the steps queue (QUEUE_NAME): each worker's page threads register on the page queue
        alone, and come up before its main worker does.
        """
        queue = self.env.get("QUEUE_NAME", "hotline")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = subprocess.run(["redis-cli", "-p", str(self.redis_port), "SCARD", f"rq:workers:{queue}"],
                                   capture_output=True, text=True).stdout.strip()
            if found.isdigit() and int(found) >= count:
                return
            time.sleep(0.5)
        raise SystemExit("the workers did not start")

    def stop(self) -> None:
        stop_processes(list(self.workers.values()) + self.web, wait_seconds=15)
        self.kill_redis()
        self.log.close()


def wait_port(port: int, seconds: float = 30) -> None:
    """Until something accepts connections on ``port`` (bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port}")
