"""Slow clients against ``hotline serve`` as deployed by default (2 workers x 4 threads, embedded defaults).

    .venv/bin/python bench/slow_clients.py [--tricklers 400] [--requests 300]

The login page's latency, measured sequentially, with no other client and then while ``--tricklers``
connections trickle their headers a byte at a time (each reconnecting when the server closes it, as an
attacker would). Before ``app/request_buffering.py`` eight such connections held every thread and the
page did not answer at all. Loopback only, bounded in time; prints a markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HEAD = b"POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
START_SECONDS = 120

from bench.common import percentile  # noqa: E402
from bench.webhooks import _free_port  # noqa: E402


def _latencies(port: int, requests: int) -> tuple[list[float], int]:
    """Seconds per GET /login over one kept-alive connection, and how many failed."""
    out, failed = [], 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    for _ in range(requests):
        started = time.perf_counter()
        try:
            conn.request("GET", "/login")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failed += 1
        except OSError:
            failed += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        out.append(time.perf_counter() - started)
    conn.close()
    return out, failed


class Tricklers:
    """``count`` connections sending a byte each every half second, reopened when the server closes one."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.stop = port, threading.Event()
        self.socks = [self._open() for _ in range(count)]
        self.reopened = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(HEAD)
        return sock

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            for i, sock in enumerate(self.socks):
                try:
                    sock.send(b"X")
                except OSError:
                    sock.close()
                    self.socks[i] = self._open()
                    self.reopened += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for sock in self.socks:
            sock.close()


def _p(samples: list[float], q: float) -> float:
    return percentile(samples, q) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tricklers", type=int, default=400)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="hotline-slow-clients-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "TWILIO_ACCOUNT_SID",
                                                             "TWILIO_AUTH_TOKEN")}
    env["HOTLINE_DATA_DIR"] = str(data / "data")
    proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tricklers = None
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("hotline serve did not start") from None
                time.sleep(0.2)
        _latencies(port, 20)  # warm
        alone, failed_alone = _latencies(port, args.requests)
        tricklers = Tricklers(port, args.tricklers)
        attacked, failed_attacked = _latencies(port, args.requests)
        reopened = tricklers.reopened
    finally:
        if tricklers is not None:
            tricklers.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)
    print(f"| GET /login on `hotline serve` (2 x 4 threads), {args.requests} in a row | alone | "
          f"with {args.tricklers} trickling clients | ratio |")
    print("|---|---|---|---|")
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        print(f"| {name} | {_p(alone, q):.1f} ms | {_p(attacked, q):.1f} ms | {_p(attacked, q) / _p(alone, q):.2f} |")
    print(f"| mean | {statistics.mean(alone) * 1000:.1f} ms | {statistics.mean(attacked) * 1000:.1f} ms | "
          f"{statistics.mean(attacked) / statistics.mean(alone):.2f} |")
    print(f"| failed | {failed_alone} | {failed_attacked} (trickling connections the server closed and that "
          f"reconnected meanwhile: {reopened}) | |")


if __name__ == "__main__":
    main()
