"""Memory of the deployed processes against bare ones, side by side in one run.

    python -m bench.run --only memory      (python -m bench.memory prints the same table alone)

Starts ``hotline serve --workers 4`` (production settings: a Twilio account on the simulated
Twilio REST server, PostgreSQL in a schema of its own, start-up checks and all) and ``hotline
worker``, beside a bare gunicorn (``-w 4``, the same gthread workers) answering fixed TwiML
and a bare ``rq worker --with-scheduler``. The webhook load generator (bench/webhooks.py)
then walks intakes against both web servers; the hotline's jobs are run by its worker, which
pages through the simulated Twilio. Figures: RSS (what the issue's target counts), and PSS
and USS from /proc/<pid>/smaps_rollup (a preloaded gunicorn's workers share most pages with
the master, so RSS counts those in each). Every process is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.docstring_free import KEEP_VARIABLE
from bench import dashboard_pages
from bench.chaos_deploy import stop_processes
from bench.common import POSTGRES_URL, REDIS_URL, Figure
from bench.webhook_app import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from bench.webhooks import Server, forget_queue, load

STOP_SECONDS = 20  # a hotline process finishes its sends and releases its lease within this
ROOT = Path(__file__).resolve().parent.parent
NUMBER = "+15005550006"
WEB_WORKERS = 4


@dataclass(frozen=True)
class Memory:
    """One process's resident memory in MB: RSS, PSS (shared pages divided among sharers), USS (its own)."""

    rss: float
    pss: float
    uss: float


def memory(pid: int) -> Memory:
    """RSS, PSS and USS of ``pid`` from /proc/<pid>/smaps_rollup."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return Memory(fields["Rss"] / 1024, fields["Pss"] / 1024, uss / 1024)


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def largest(pids: list[int]) -> Memory:
    """The process with the largest RSS among ``pids``."""
    return max((memory(pid) for pid in pids), key=lambda m: m.rss)


class Deployed:
    """``hotline serve`` and ``hotline worker`` on their own schema, queue and simulated Twilio."""

    def __init__(self, quick: bool, python: str = sys.executable, keep_docstrings: bool = False) -> None:
        from bench.chaos import oncall_yaml
        from hotline_sim.twilio_api import SimulatedTwilio

        self.run_dir = Path(tempfile.mkdtemp(prefix="hotline-memory-"))
        self.schema = f"bench_memory_{os.getpid()}"
        self.quick = quick
        self.hotline = [python, "-c", "from app.cli import main; main()"]
        if quick:
            database_url = f"sqlite:///{self.run_dir / 'hotline.db'}"
        else:
            self._admin(f"CREATE SCHEMA {self.schema}")
            database_url = f"{POSTGRES_URL}?options=-csearch_path%3D{self.schema}"
        self.twilio = SimulatedTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
        self.twilio.point_number(NUMBER, PUBLIC_URL)
        self.queue = f"bench-memory-{os.getpid()}"
        self.env = {**os.environ, "HOTLINE_DATA_DIR": str(self.run_dir / "data"), "DATABASE_URL": database_url,
                    "REDIS_URL": REDIS_URL, "QUEUE_NAME": self.queue, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                    "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_NUMBER": NUMBER,
                    "TWILIO_API_BASE_URL": self.twilio.base_url, "PUBLIC_BASE_URL": PUBLIC_URL,
                    "MAX_INCIDENTS_PER_CALLER": "0", "PYTHONPATH": str(ROOT)}
        self.env.pop("TWILIO_AUTH_TOKEN_SECONDARY", None)
        self.env.pop(KEEP_VARIABLE, None)
        if keep_docstrings:
            self.env[KEEP_VARIABLE] = "1"
        (self.run_dir / "oncall.yaml").write_text(oncall_yaml(False))
        self.log = open(self.run_dir / "processes.log", "a")  # noqa: SIM115 - closed in stop()
        self.procs: list[subprocess.Popen] = []
        self.port = _free_port()

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(sql))
        admin.dispose()

    def _run(self, *args: str, stdin: str | None = None) -> None:
        done = subprocess.run([*self.hotline, *args], env=self.env, cwd=self.run_dir, capture_output=True, text=True,
                              input=stdin)
        if done.returncode:
            raise RuntimeError(f"hotline {' '.join(args)} failed: {done.stderr[-2000:]}")

    def start(self) -> None:
        """Migrate, import the on-call set-up, start the web process and the worker; wait until both serve."""
        self._run("db", "upgrade")
        self._run("oncall", "import", str(self.run_dir / "oncall.yaml"))
        self._run("users", "create", "--email", dashboard_pages.EMAIL, "--name", "Bench Manager", "--role", "admin",
                  "--password-stdin", stdin=dashboard_pages.PASSWORD + "\n")
        self.web = subprocess.Popen([*self.hotline, "serve", "--port", str(self.port), "--workers", str(WEB_WORKERS)],
                                    env=self.env, cwd=self.run_dir, stdout=subprocess.DEVNULL, stderr=self.log)
        self.worker = subprocess.Popen([*self.hotline, "worker"], env=self.env, cwd=self.run_dir,
                                       stdout=self.log, stderr=self.log)
        self.procs = [self.web, self.worker]
        try:
            _wait(lambda: len(children(self.web.pid)) >= WEB_WORKERS and _answers(self.port), self.procs,
                  "hotline serve")
            # its RQ scheduler is a thread (issue 12), so there is no child process to wait for
            _wait(lambda: _registered(self.queue), self.procs, "hotline worker")
        except RuntimeError as exc:
            self.log.flush()
            raise RuntimeError(f"{exc}:\n{(self.run_dir / 'processes.log').read_text()[-3000:]}") from None

    def cpu_seconds(self) -> float:
        """CPU of the web workers (the load generator's interface)."""
        return 0.0

    def stop(self) -> None:
        """Stop the processes, the simulated Twilio, and remove the schema, the queue's jobs and the files."""
        stop_processes(self.procs, STOP_SECONDS)
        self.twilio.stop()
        self.log.close()
        if not self.quick:
            self._admin(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        forget_queue(self.queue)
        shutil.rmtree(self.run_dir, ignore_errors=True)


class BareWorker:
    """``rq worker --with-scheduler`` on a queue of its own (the issue's baseline for ``hotline worker``)."""

    def __init__(self, python: str) -> None:
        self.queue = f"bench-memory-bare-{os.getpid()}"
        rq = str(Path(python).with_name("rq"))
        self.proc = subprocess.Popen([rq, "worker", "--with-scheduler", "--url", REDIS_URL, self.queue],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: _registered(self.queue) and children(self.proc.pid), [self.proc], "rq worker")

    def stop(self) -> None:
        """Stop it and remove its queue's keys."""
        stop_processes([self.proc], STOP_SECONDS)
        forget_queue(self.queue)


# What each process imports of the chosen stack, nothing of the app's: the floor its RSS stands on.
WEB_STACK = ("gunicorn.app.base", "gunicorn.workers.gthread", "flask", "sqlalchemy.orm",
             "sqlalchemy.dialects.postgresql.psycopg2", "psycopg2", "redis", "rq", "twilio.twiml.voice_response",
             "twilio.request_validator", "phonenumbers")
WORKER_STACK = ("rq.worker", "rq.scheduler", "click", "redis", "sqlalchemy.orm",
                "sqlalchemy.dialects.postgresql.psycopg2", "psycopg2", "phonenumbers", "http.client")


def figures(runs: int, quick: bool) -> list[Figure]:
    """Start both shapes, measure after start, run the webhook load, measure again; the table's lines.

    The full run measures a production install (bench/production_env.py); ``--quick`` (a smoke check
    in CI, on SQLite) the test environment's interpreter.
    """
    python, where = sys.executable, "the test environment"
    if not quick:
        from bench.production_env import deployed_python

        python, where = deployed_python("memory")
    deployed, bare_web, bare_worker = Deployed(quick, python), None, None
    seconds, cap, callers = (1.5, 300, 5) if quick else (5.0, 3000, 10)
    web_floor, worker_floor = stack_floor(python, WEB_STACK), stack_floor(python, WORKER_STACK)
    try:
        deployed.start()
        bare_web = Server("bare_app()", _free_port(), {"PYTHONPATH": str(ROOT)},
                          ["-k", "gthread", "--threads", "4"], python=python)
        bare_worker = BareWorker(python)
        worker_started = _worker_tree(deployed.worker.pid)
        bare_worker_started = _worker_tree(bare_worker.proc.pid)
        web_started, bare_started = largest(children(deployed.web.pid)), largest(bare_web.workers())
        for _ in range(runs):
            load(deployed, callers, seconds, cap)
            load(bare_web, callers, seconds, cap)
        time.sleep(3)  # the worker pages for the intakes just completed
        web = largest(children(deployed.web.pid))
        bare = largest(bare_web.workers())
        master = memory(deployed.web.pid)
        worker = _worker_tree(deployed.worker.pid)
        bare_worker_after = _worker_tree(bare_worker.proc.pid)
        pages = len(deployed.twilio.requests)
        browsed = dashboard_pages.browse(deployed.port, sessions=4 if quick else 8)
        web_browsed = largest(children(deployed.web.pid))  # after the webhooks and a manager's pages
        how = interpreter(deployed.web.pid)
    finally:
        deployed.stop()
        if bare_web is not None:
            bare_web.stop()
        if bare_worker is not None:
            bare_worker.stop()
    kept = None if quick else _with_docstrings(python, runs, callers, seconds, cap)
    web_target = "≤ 80 MB"  # issue 12, per process
    return [
        Figure(f"web worker RSS after start (largest of 4; baseline: bare gunicorn worker), {where}, {how}",
               [web_started.rss], [bare_started.rss], unit="MB", target=web_target),
        Figure("web worker RSS after the load (largest of 4)", [web.rss], [bare.rss], unit="MB", target=web_target),
        Figure("web worker RSS after the load and a manager's pages (board, reports and exports, on-call, "
               "admin, an incident, the API document)", [web_browsed.rss], [bare.rss], unit="MB", target=web_target,
               note=f"{browsed} pages"),
        *([] if kept is None else [
            Figure("web worker RSS after the load and the pages, docstrings kept (`HOTLINE_KEEP_DOCSTRINGS=1`; "
                   "baseline: the line above, python -OO)", [kept[0].rss], [web_browsed.rss], unit="MB",
                   target=web_target, note=f"{kept[2]} pages"),
            Figure("`hotline worker` RSS after the load, docstrings kept (baseline: python -OO)", [kept[1].rss],
                   [worker[0].rss], unit="MB")]),
        Figure("web worker PSS after the load", [web.pss], [bare.pss], unit="MB"),
        Figure("web worker USS after the load", [web.uss], [bare.uss], unit="MB"),
        Figure("web master (gunicorn arbiter after the start-up checks) RSS", [master.rss], [], unit="MB"),
        Figure("`hotline worker` RSS after start (baseline: bare `rq worker`)", [worker_started[0].rss],
               [bare_worker_started[0].rss], unit="MB", target="≤ 80 MB"),
        Figure("`hotline worker` RSS after the load", [worker[0].rss], [bare_worker_after[0].rss], unit="MB",
               target="≤ 80 MB", note=f"{pages} Twilio requests"),
        Figure("RQ scheduler child RSS after the load (`hotline worker`: none, the scheduler is a thread)",
               [worker[1].rss], [bare_worker_after[1].rss], unit="MB"),
        Figure("the web worker's libraries imported alone, none of the app (baseline: bare gunicorn worker)",
               [web_floor], [bare_started.rss], unit="MB"),
        Figure("`hotline worker`'s libraries imported alone (baseline: bare `rq worker`)",
               [worker_floor], [bare_worker_started[0].rss], unit="MB"),
    ]


def _with_docstrings(python: str, runs: int, callers: int, seconds: float, cap: int) -> tuple[Memory, Memory, int]:
    """(web worker after the load and the pages, worker after the load, pages) with HOTLINE_KEEP_DOCSTRINGS=1."""
    deployed = Deployed(False, python, keep_docstrings=True)
    try:
        deployed.start()
        for _ in range(runs):
            load(deployed, callers, seconds, cap)
        time.sleep(3)  # the worker pages for the intakes just completed
        worker = _worker_tree(deployed.worker.pid)[0]
        browsed = dashboard_pages.browse(deployed.port, sessions=8)
        return largest(children(deployed.web.pid)), worker, browsed
    finally:
        deployed.stop()


def interpreter(pid: int) -> str:
    """How ``hotline serve`` runs: ``python -OO`` once it restarted without docstrings (app/docstring_free.py)."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return "python -OO" if b"-OO" in argv else "docstrings kept"


def stack_floor(python: str, modules: tuple[str, ...]) -> float:
    """RSS (MB) of a fresh ``python`` that has imported ``modules`` and nothing else."""
    code = (f"import {', '.join(modules)}\n"
            "print(int(open('/proc/self/statm').read().split()[1]) * __import__('os').sysconf('SC_PAGE_SIZE'))")
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent)
    return int(done.stdout) / 1048576


def _worker_tree(pid: int) -> tuple[Memory, Memory]:
    """(the worker, its largest child: RQ's scheduler; a zero Memory when it has none)."""
    kids = children(pid)
    return memory(pid), (largest(kids) if kids else Memory(0, 0, 0))


def _wait(ready, procs: list[subprocess.Popen], what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            stop_processes(procs, STOP_SECONDS)
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.2)


def _answers(port: int) -> bool:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        return True
    except OSError:
        return False


def _registered(queue: str) -> bool:
    from redis import Redis

    conn = Redis.from_url(REDIS_URL)
    try:
        return bool(conn.scard(f"rq:workers:{queue}"))
    finally:
        conn.close()


def _free_port() -> int:
    from bench.webhooks import _free_port as free

    return free()


if __name__ == "__main__":
    from bench.common import table

    print(table(figures(1, "--quick" in sys.argv), 1))
