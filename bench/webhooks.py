"""IVR webhooks under load: the hotline vs a bare Flask endpoint, both under gunicorn ``-w 4`` sync, on loopback.

The load generator plays Twilio: each simulated caller walks a whole intake call (no ticket,
speech answers, a recording, the read-back), signing every request with the auth token and
following the TwiML it is given (``hotline_sim.phone.SimulatedCall``). A rep is on call, so each
intake's opening pages her (``bench.webhook_app.put_reps_on_call``). Each measurement is
bounded in time and requests; server CPU is read from /proc of the gunicorn workers.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlparse

from app.serving import WORKER_CLASS
from bench.common import REDIS_URL, Figure, Store, percentile, scratch_dir
from bench.webhook_app import AUTH_TOKEN, PUBLIC_URL, QUEUE, create_floor_table, put_reps_on_call
from hotline_sim.phone import Prompt, SimulatedCall

CLK_TCK = os.sysconf("SC_CLK_TCK")
ANSWERS = [  # the last sentence said -> what the caller does
    ("For English", ("press", "1")),
    ("Is your e-mail sending down", ("press", "3")),
    ("support ticket number", ("press", "#")),
    ("name of your company", ("say", "Acme Mail Inc")),
    ("your full name", ("say", "Dana Smith")),
    ("Please say your e-mail address", ("say", "dana dot smith at acme dot example")),
    ("describe the problem", ("say", "All API calls time out with error 500 since 2:40, SMTP is refused.")),
    ("we will call you back by", ("press", "2")),  # issue 13: the live-connect offer; this caller takes the callback
]


def next_move(prompt: Prompt) -> tuple[str, str]:
    """What a cooperative caller answers to ``prompt``: (press|say|record, value)."""
    if prompt.kind == "record":
        return "record", ""
    last = prompt.said[-1] if prompt.said else ""
    for words, move in ANSWERS:
        if words in last:
            return move
    return "press", "1"  # every confirmation: yes


@dataclass
class Load:
    """One measurement: requests answered, errors, latencies (s), wall seconds, server CPU seconds."""

    requests: int
    errors: int
    latencies: list[float]
    seconds: float
    cpu: float

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    @property
    def p99(self) -> float:
        """99th percentile latency in seconds."""
        return percentile(self.latencies, 0.99)


class Server:
    """gunicorn -w 4 (sync unless ``worker_args`` say otherwise) around one of bench.webhook_app's apps, on loopback."""

    def __init__(self, factory: str, port: int, env: dict[str, str], worker_args: list[str] | None = None,
                 python: str = sys.executable) -> None:
        self.port = port
        gunicorn = str(Path(python).with_name("gunicorn"))
        self.proc = subprocess.Popen(
            [gunicorn, "-w", "4", *(worker_args or ["-k", "sync"]), "-b", f"127.0.0.1:{port}", "--log-level",
             "warning", "--backlog", "256", f"bench.webhook_app:{factory}"],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 180  # four workers importing the app on a loaded 2-core machine
        while len(self.workers()) < 4 or not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()  # a live gunicorn never closes its stderr: reading it would wait forever
                raise RuntimeError(f"gunicorn {factory} did not start: {self.proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return True
        except OSError:
            return False

    def workers(self) -> list[int]:
        """The worker pids (children of the gunicorn master)."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def cpu_seconds(self) -> float:
        """User + system CPU of the workers so far."""
        total = 0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLK_TCK

    def rss_mb(self) -> list[float]:
        """Each worker's resident memory (MB)."""
        out = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        return out

    def stop(self) -> None:
        """Stop gunicorn (and its workers) and wait for it."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _caller(port: int, number: str, stop_at: float, budget: list[int], lock: threading.Lock, out: Load) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def transport(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        nonlocal conn
        u = urlparse(url)
        body = urlencode(params)
        started = time.perf_counter()
        try:
            conn.request("POST", u.path + (f"?{u.query}" if u.query else ""), body,
                         {**headers, "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            text, status = response.read().decode(), response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            text, status = "", 599
        elapsed = time.perf_counter() - started
        with lock:
            out.requests += 1
            out.latencies.append(elapsed)
            if status != 200:
                out.errors += 1
        return status, text

    calls = 0
    while time.perf_counter() < stop_at:
        with lock:
            if budget[0] <= 0:
                break
        call = SimulatedCall(transport, PUBLIC_URL, AUTH_TOKEN, caller=f"{number[:-2]}{calls % 100:02d}")
        calls += 1
        try:
            prompt = call.dial()
            for _ in range(25):
                if prompt.kind == "hangup" or time.perf_counter() >= stop_at:
                    break
                kind, value = next_move(prompt)
                prompt = call.record(seconds=20) if kind == "record" else getattr(call, kind)(value)
                with lock:
                    budget[0] -= 1
        except AssertionError:  # the app answered something Twilio would reject: counted already as an error
            with lock:
                out.errors += 1
    conn.close()


def load(server: Server, callers: int, seconds: float, max_requests: int) -> Load:
    """Run ``callers`` concurrent simulated callers against ``server`` for at most ``seconds`` / ``max_requests``."""
    out = Load(0, 0, [], 0.0, 0.0)
    lock, budget = threading.Lock(), [max_requests]
    cpu0, started = server.cpu_seconds(), time.perf_counter()
    stop_at = started + seconds
    threads = [threading.Thread(target=_caller, args=(server.port, f"+1415{5550000 + i * 100:07d}", stop_at,
                                                      budget, lock, out)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.seconds, out.cpu = time.perf_counter() - started, server.cpu_seconds() - cpu0
    return out


def figures(runs: int, quick: bool) -> list[Figure]:
    """Interleaved runs of both servers at 10 and 50 callers; the table's lines."""
    from app.migrate import upgrade

    store = Store("bench_webhooks", quick)
    store.drop() if not quick else None
    if not quick:
        from sqlalchemy import create_engine, text

        from bench.common import POSTGRES_URL

        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS bench_webhooks"))
        admin.dispose()
    upgrade(store.url)
    put_reps_on_call(store.url)  # each opening pages the on-call rep, as deployed
    create_floor_table(store.url)
    data = scratch_dir()
    env = {"BENCH_WEBHOOK_DB": store.url, "BENCH_WEBHOOK_DATA": str(data), "BENCH_WEBHOOK_REDIS": REDIS_URL,
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    seconds, cap = (1.5, 600) if quick else (6.0, 6000)
    levels = [10] if quick else [10, 50]
    servers = {name: Server(f"{name}_app()", _free_port(), env) for name in ("hotline", "bare", "floor")}
    if not quick:  # what reading each request whole before a thread takes it costs (app/request_buffering.py)
        for name, worker in (("bare_gthread", "gthread"), ("bare_buffering", WORKER_CLASS)):
            servers[name] = Server("bare_app()", _free_port(), env, ["-k", worker, "--threads", "4"])
    results: dict[tuple[str, int], list[Load]] = {}
    try:
        for _ in range(runs):
            for callers in levels:
                for name, server in servers.items():
                    results.setdefault((name, callers), []).append(load(server, callers, seconds, cap))
        rss = servers["hotline"].rss_mb(), servers["bare"].rss_mb()
    finally:
        for server in servers.values():
            server.stop()
        store.remove()
        shutil.rmtree(data, ignore_errors=True)
        forget_queue(QUEUE)  # the jobs the measured intakes queued
    out = []
    for callers in levels:
        mine, base, floor = results[("hotline", callers)], results[("bare", callers)], results[("floor", callers)]
        errors = sum(r.errors for r in mine)
        note = f"{errors} errors" if errors else ""
        out.append(Figure(f"IVR webhooks, {callers} callers: requests per second", [r.rps for r in mine],
                          [r.rps for r in base], unit="req/s", target="≥ 1/3 of bare", note=note))
        out.append(Figure(f"IVR webhooks, {callers} callers: p99", [r.p99 for r in mine], [r.p99 for r in base],
                          target="≤ 100 ms at 50 callers" if callers == 50 else ""))
        out.append(Figure(f"IVR webhooks, {callers} callers: server CPU per request",
                          [r.cpu / max(r.requests, 1) for r in mine], [r.cpu / max(r.requests, 1) for r in base],
                          target="≤ 3x bare"))
        # the floor (bench.webhook_app.floor_app) against the same bare endpoint: what any webhook that
        # checks the signature and stores the answer before replying pays over it
        out.append(Figure(f"floor (signature check + one stored answer), {callers} callers: server CPU per request",
                          [r.cpu / max(r.requests, 1) for r in floor], [r.cpu / max(r.requests, 1) for r in base]))
        out.append(Figure(f"floor, {callers} callers: requests per second", [r.rps for r in floor],
                          [r.rps for r in base], unit="req/s"))
        out.append(Figure(f"floor, {callers} callers: p99", [r.p99 for r in floor], [r.p99 for r in base]))
    for callers in levels if not quick else []:
        gthread, buffering = results[("bare_gthread", callers)], results[("bare_buffering", callers)]
        out.append(Figure(f"bare endpoint under `serve`'s worker (each request read whole) vs gunicorn's gthread, "
                          f"{callers} callers: server CPU per request", [r.cpu / max(r.requests, 1) for r in buffering],
                          [r.cpu / max(r.requests, 1) for r in gthread]))
        out.append(Figure(f"the same, {callers} callers: requests per second", [r.rps for r in buffering],
                          [r.rps for r in gthread], unit="req/s"))
    # Not the deployed shape: sync workers that each import the app (no preload), the simulated outbox and the
    # test environment's packages. The 80 MB target is measured on ``hotline serve`` by bench/memory.py.
    out.append(Figure("gunicorn worker RSS after the load (largest of 4; sync, no preload: not `hotline serve`)",
                      [max(rss[0], default=0)], [max(rss[1], default=0)], unit="MB"))
    return out


def _free_port() -> int:
    """A loopback port nobody listens on now (two benchmarks may run at once on a shared machine)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forget_queue(queue: str) -> None:
    """Remove the jobs and registries of ``queue`` and of its siblings for each class of work (``-first``,
    ``-pages``, ``-slow``: app.queue.queue_names) from the bench Redis (no worker runs them here)."""
    from redis import Redis

    from app.queue import queue_names

    names = set(queue_names(queue).values())
    conn = Redis.from_url(REDIS_URL)
    try:
        doomed = [key for key in conn.scan_iter("rq:job:*", count=1000) if conn.type(key) == b"hash"
                  and (conn.hget(key, "origin") or b"").decode() in names]
        for name in names:
            doomed += list(conn.scan_iter(f"rq:*:{name}", count=1000))
        for start in range(0, len(doomed), 500):
            conn.delete(*doomed[start:start + 500])
        conn.srem("rq:queues", *(f"rq:queue:{name}" for name in names))
    finally:
        conn.close()
