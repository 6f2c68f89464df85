"""Where an intake's server CPU goes: CPU and SQL statements per webhook of one scripted call, in process.

    .venv/bin/python -m bench.webhook_paths [--calls 40] [--profile STEP] [--sql STEP] [--parts]

The hotline app (bench.webhook_app's, on PostgreSQL, with a rep on call) answers the load generator's caller through
its WSGI callable directly, so each request's ``time.process_time`` is the app's own CPU (no
HTTP server). Every call follows the same script, so request *i* of each call is the same step;
the table gives each step's median CPU and statement count. ``--profile i`` prints a cProfile of
step *i* over all calls; ``--sql i`` prints the statements step *i* ran in the last call.
``--parts`` times the parts of every ordinary step (the lean path's answers, ``app.services.lean_step``)
and replays those same signed requests through the bare endpoint and the floor
(``bench.webhook_app``) in process, for the CPU an ordinary step spends above them.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import time
from urllib.parse import urlparse

from sqlalchemy import event
from werkzeug.test import EnvironBuilder

from bench.common import POSTGRES_URL, REDIS_URL, scratch_dir
from bench.webhook_app import AUTH_TOKEN, PUBLIC_URL, QUEUE, bench_settings, put_reps_on_call
from bench.webhooks import forget_queue, next_move
from hotline_sim.phone import SimulatedCall

SCHEMA = "bench_webhook_paths"


def _drop_schema() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def _app(data):
    from redis import Redis
    from sqlalchemy import create_engine, text

    from app import create_app
    from app.migrate import upgrade
    from app.queue import JobQueue
    from app.wiring import Hotline
    from hotline_sim.outbox import FILE_NAME, SharedOutboxTelephony

    _drop_schema()  # left by a run that was killed
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{SCHEMA}"
    upgrade(url)
    put_reps_on_call(url)  # each opening pages the on-call rep, as deployed
    settings = bench_settings(url, data, REDIS_URL)
    hotline = Hotline.build(settings, jobs=JobQueue(Redis.from_url(REDIS_URL), settings.queue_name),
                            telephony=SharedOutboxTelephony(data / FILE_NAME))
    return create_app(hotline), hotline, url


def main(argv: list[str] | None = None) -> int:
    """Walk ``--calls`` scripted intakes through the app; print CPU and statements per step."""
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_paths", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--profile", type=int, default=None, help="cProfile this step (its index in the table)")
    parser.add_argument("--sql", type=int, default=None, help="print this step's statements (last call)")
    parser.add_argument("--parts", action="store_true", help="time the parts of the ordinary steps")
    args = parser.parse_args(argv)
    data = scratch_dir()
    app, hotline, url = _app(data)
    statements = [0]
    shown: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, many) -> None:
        statements[0] += 1
        if position[0] == args.sql:
            shown.append(" ".join(statement.split())[:160] + (" [executemany]" if many else ""))

    # one listener: the autocommit engine is a copy of this one with other options, and shares its events
    event.listen(hotline.db.engine, "before_cursor_execute", count)
    rows: dict[int, list[tuple[str, str, float, int]]] = {}
    profiler = cProfile.Profile(time.process_time) if args.profile is not None else None
    position = [0]
    parts = Parts() if args.parts else None

    def transport(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        u = urlparse(url)
        environ = _environ(url, params, headers)  # built before the clock starts
        status: list[str] = []
        statements[0] = 0
        if position[0] == args.sql:
            shown.clear()  # the last call's: the first call's also create what later calls find (the default policy)
        profiling = profiler is not None and position[0] == args.profile
        started = time.process_time()
        if profiling:
            profiler.enable()
        chunks = app.wsgi_app(environ, lambda s, h, *rest: status.append(s))
        text_ = b"".join(chunks).decode()
        if profiling:
            profiler.disable()
        cpu = time.process_time() - started
        if parts is not None:
            parts.request_done(cpu, (url, params, headers))
        rows.setdefault(position[0], []).append((u.path, params.get("Digits") or params.get("SpeechResult", "")[:20]
                                                 or params.get("CallStatus", ""), cpu, statements[0]))
        position[0] += 1
        return int(status[0].split()[0]), text_

    try:
        for i in range(args.calls):
            call = SimulatedCall(transport, PUBLIC_URL, AUTH_TOKEN, caller=f"+1415555{i:04d}")
            position[0] = 0
            prompt = call.dial()
            for _ in range(25):
                if prompt.kind == "hangup":
                    break
                kind, value = next_move(prompt)
                prompt = call.record(seconds=20) if kind == "record" else getattr(call, kind)(value)
        if parts is not None:
            parts.replay(url)
    finally:
        if parts is not None:
            parts.unwrap()
        hotline.db.dispose()
        _drop_schema()
        shutil.rmtree(data, ignore_errors=True)
        forget_queue(QUEUE)
    total = sum(statistics.median(r[2] for r in v) for v in rows.values())
    print("| step | path | answer | CPU ms (median) | share | statements |\n|---|---|---|---|---|---|")
    for i, v in sorted(rows.items()):
        cpu = statistics.median(r[2] for r in v)
        print(f"| {i} | {v[0][0]} | {v[0][1]} | {cpu * 1000:.1f} | {cpu / total:.0%} | {v[0][3]} |")
    print(f"\n{len(rows)} requests per intake; {total * 1000:.0f} ms per intake, "
          f"{total * 1000 / len(rows):.1f} ms per request on average")
    if shown:
        print(f"\nstep {args.sql}'s statements:\n" + "\n".join(f"{n}. {line}" for n, line in enumerate(shown, 1)))
    if parts is not None:
        parts.print()
    if profiler is not None:
        _print_profile(pstats.Stats(profiler), args.calls)
        if os.environ.get("BENCH_DUMP"):
            profiler.dump_stats(os.environ["BENCH_DUMP"])
    return 0


def _environ(url: str, params: dict[str, str], headers: dict[str, str]) -> dict:
    """The WSGI environ of the simulated Twilio's request."""
    u = urlparse(url)
    return EnvironBuilder(path=u.path, query_string=u.query, method="POST", base_url=PUBLIC_URL,
                          data=params, headers=headers).get_environ()


class Parts:
    """CPU of each part of the ordinary steps (``--parts``), timed by wrapping the functions that do them."""

    TIMED = (  # (label, module, attribute): the parts of an ordinary step, in the order they run
        ("signature check", "app.voice.signature", "is_signed"),
        ("delivery key", "app.webhooks", "delivery_key"),
        ("connection from the pool", "app.services.lean_step", "_connect"),
        ("state from its JSON", "ivr_flows.model", "CallState.from_dict"),
        ("the flow's core", "app.services.lean_step", "plain_step"),
        ("TwiML", "app.voice.routes", "_twiml"),
        ("state to its JSON", "ivr_flows.model", "CallState.to_dict"),
        ("the write (one statement)", "app.services.lean_step", "_write_postgres"),
    )
    BEFORE_LEAN = ("signature check", "delivery key")  # the rest run inside the lean path (``lean_step.answer``)

    def __init__(self) -> None:
        import importlib

        self.current: dict[str, float] = {}
        self.totals: dict[str, float] = {}
        self.ordinary: list[tuple] = []  # the ordinary steps' requests (url, params, headers), replayed
        self.lean = False  # this request was answered by the lean path
        self.restore: list[tuple[object, str, object]] = []
        for label, module, attribute in (*self.TIMED, ("lean", "app.services.lean_step", "answer")):
            owner = importlib.import_module(module)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = owner.__dict__[name]
            self.restore.append((owner, name, original))
            setattr(owner, name, self._timed(label, original))

    def _timed(self, label: str, original):
        function = original.__func__ if isinstance(original, classmethod) else original

        def timed(*args, **kwargs):
            started = time.process_time()
            try:
                result = function(*args, **kwargs)
            finally:
                self.current[label] = self.current.get(label, 0.0) + time.process_time() - started
            if label == "lean":
                self.lean = isinstance(result, str)
            return result

        return classmethod(timed) if isinstance(original, classmethod) else timed

    def unwrap(self) -> None:
        """Put the wrapped functions back."""
        for owner, name, original in self.restore:
            setattr(owner, name, original)

    def request_done(self, cpu: float, request: tuple) -> None:
        """Count this request's parts if the lean path answered it."""
        if self.lean:
            self.ordinary.append(request)
            self.current["whole"] = cpu
            for label, seconds in self.current.items():
                self.totals[label] = self.totals.get(label, 0.0) + seconds
        self.current, self.lean = {}, False

    def replay(self, url: str) -> None:
        """The same signed requests through the bare endpoint and the floor, in process."""
        from bench.webhook_app import bare_app, create_floor_table, floor_app

        create_floor_table(url)
        for label, app in (("bare", bare_app()), ("floor", floor_app(url))):
            environs = [_environ(*request) for request in self.ordinary]
            started = time.process_time()
            for environ in environs:
                status: list[str] = []
                b"".join(app.wsgi_app(environ, lambda s, h, *rest: status.append(s)))  # noqa: B023
                assert status[0].startswith("200"), (label, status)
            self.totals[label] = time.process_time() - started

    def print(self) -> None:
        """The table: each part's mean CPU per ordinary step, the rest, and the bare endpoint and the floor."""
        n = len(self.ordinary)
        if not n:
            print("\nno ordinary step was answered by the lean path")
            return
        whole, lean = self.totals["whole"], self.totals.get("lean", 0.0)
        rows = [(label, self.totals.get(label, 0.0)) for label, _module, _attribute in self.TIMED]
        before = sum(seconds for label, seconds in rows if label in self.BEFORE_LEAN)
        rows.append(("the read (one statement) and the lean path's own code", lean - (sum(s for _, s in rows) - before)))
        rows.append(("Flask, werkzeug and the rest", whole - lean - before))
        print(f"\n{n} ordinary steps (answered by the lean path), in process:\n\n"
              "| part | CPU ms per step (mean) | share |\n|---|---|---|")
        for label, seconds in rows:
            print(f"| {label} | {seconds * 1000 / n:.3f} | {seconds / whole:.0%} |")
        print(f"| **the whole ordinary step** | {whole * 1000 / n:.3f} | 100% |")
        for label in ("bare", "floor"):
            print(f"| the same requests through the {label} app ({'fixed TwiML' if label == 'bare' else 'signature check + one stored answer'}) "
                  f"| {self.totals[label] * 1000 / n:.3f} | {self.totals[label] / whole:.0%} |")


def _print_profile(stats: pstats.Stats, calls: int) -> None:
    """CPU of the profiled step by package (own time), then the app's functions by cumulative time."""
    by_package: dict[str, float] = {}
    for (path, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        match = re.search(r"site-packages/([^/]+)|/(app|ivr_flows|workers|hotline_sim|bench)/", path)
        package = (match.group(1) or match.group(2)) if match else "python"
        by_package[package] = by_package.get(package, 0.0) + own
    total = sum(by_package.values())
    print("\n| package | own CPU ms per request (profiled) | share |\n|---|---|---|")
    for package, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"| {package} | {own * 1000 / calls:.2f} | {own / total:.0%} |")
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(os.environ.get("BENCH_FILTER", r"/(app|ivr_flows)/"), 40)
    print(out.getvalue())


if __name__ == "__main__":
    raise SystemExit(main())
