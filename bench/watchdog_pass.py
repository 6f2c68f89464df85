"""CPU of one watchdog pass (``workers.watchdog.sweep``) on an idle or a busy hotline, and of each of its queries.

    python -m bench.watchdog_pass                        # this checkout, on PostgreSQL (BENCH_POSTGRES_URL)
    python -m bench.watchdog_pass --against ../old-tree  # side by side with another checkout, interleaved runs
    python -m bench.watchdog_pass --open 20              # with 20 open incidents nobody owns, their first level paged

An open incident nobody owns is what the tests' scenarios hold most of the time, and an outage's hotline too: each
pass then also looks for an on-call hand-off (``hand_offs``), which reads the paged schedules' rotas.

A pass runs every 10 s in each worker; the tests' simulated back office runs thousands of them
(``hotline_sim.backoffice.settle``), so its cost is the tests' time as much as production's. Each run is a
fresh process on a fresh schema; with ``--against`` the two trees' runs alternate and the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSES = 300


def measure(passes: int, postgres_url: str = "", redis_url: str = "", open_incidents: int = 0) -> dict[str, float]:
    """Milliseconds of CPU per call of a pass and of each of its parts, in this process's tree, on a schema of its
    own at ``postgres_url`` (default ``BENCH_POSTGRES_URL``) and the Redis at ``redis_url`` (default: a benchmark's),
    with ``open_incidents`` open incidents nobody owns (``_seed``)."""
    from redis import Redis
    from sqlalchemy import create_engine, text

    from app.models import Base
    from app.queue import JobQueue
    from app.services import call_endings, callback_calls, deliveries, hand_offs, notices, pages, status_lookups, steps
    from app.services.caller_limits import limits_from
    from app.services.intake import policy_from
    from app.settings import Settings
    from app.wiring import Hotline
    from bench import common
    from hotline_sim.clock import FakeClock
    from workers import watchdog

    schema = f"bench_watchdog_{uuid.uuid4().hex[:8]}"
    postgres_url = postgres_url or common.POSTGRES_URL
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}options=-csearch_path%3D{schema}"
    redis = Redis.from_url(redis_url or common.redis_url())
    data_dir = tempfile.TemporaryDirectory(prefix="bench-watchdog-")
    try:
        Base.metadata.create_all(create_engine(url))
        settings = Settings(data_dir=Path(data_dir.name), database_url=url,
                            twilio_account_sid="AC" + "0" * 32, twilio_auth_token="t" * 32,
                            twilio_number="+15005550006", public_base_url="https://hotline.bench.example",
                            queue_name=f"bench-watchdog-{uuid.uuid4().hex[:6]}")
        hotline = Hotline.build(settings, clock=FakeClock(), jobs=JobQueue(redis, settings.queue_name))
        now = hotline.clock.now()
        if open_incidents:
            _seed(hotline, open_incidents)

        def read(query):
            def run() -> None:
                with hotline.db.session() as session:
                    query(session, now)
            return run

        def settle_calls() -> None:
            with hotline.db.transaction() as session:
                call_endings.settle_unreported_calls(session, now, policy_from(settings), limits_from(settings))

        parts = {"the whole pass": lambda: watchdog.sweep(hotline),
                 "calls whose end was never reported": settle_calls,
                 "overdue steps": read(steps.overdue_steps), "due pages": read(pages.due_pages),
                 "due callbacks": read(callback_calls.due_callbacks), "queued notices": read(notices.queued_notices),
                 "due deliveries": read(deliveries.due_deliveries),
                 "due status lookups": read(status_lookups.due_status_checks),
                 "hand-offs": lambda: hand_offs.write_hand_off_steps(hotline.db, now)}
        figures = {}
        for name, run in parts.items():
            run()  # the statement cache and the pool warm
            began = time.process_time()
            for _ in range(passes):
                run()
            figures[name] = (time.process_time() - began) / passes * 1000
        hotline.db.dispose()
        return figures
    finally:
        data_dir.cleanup()
        for key in redis.scan_iter("rq:*bench-watchdog-*"):
            redis.delete(key)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _seed(hotline, count: int) -> None:
    """``count`` open incidents nobody owns, each with its first level (the two schedules) paged an hour ago by SMS,
    the rota unchanged since: the hand-off look-up finds nobody new on call, as in most of a scenario's passes."""
    from datetime import timedelta

    from app.models import Channel, DueStep, Incident, Page, PageStatus, StepKind, StepStatus
    from app.oncall.records import parse_rep, parse_schedule
    from app.services.oncall import who_is_on_call
    from app.services.oncall_admin import create_rep, save_schedule

    now = hotline.clock.now()
    begun = now - timedelta(hours=1)
    with hotline.db.transaction() as session:
        for name, phone in (("Alice Primary", "+14155550111"), ("Bob Secondary", "+14155550122")):
            create_rep(session, parse_rep({"name": name, "phone": phone}))
        for name, member in (("primary", "Alice Primary"), ("secondary", "Bob Secondary")):
            save_schedule(session, parse_schedule({"name": name, "time_zone": "America/Los_Angeles", "layers": [
                {"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon", "starts_on": "2026-11-02",
                 "members": [member]}]}), begun)
        on_call = [rep for name in ("primary", "secondary") for rep in who_is_on_call(session, name, now)]
        levels = {"levels": [{"targets": [{"type": "schedule", "schedule": "primary"},
                                          {"type": "schedule", "schedule": "secondary"}], "after_minutes": 0}]}
        for number in range(count):
            incident = Incident(reference=f"B{number:06d}", company="Bench", callback_phone="+14155550100",
                                received_at=begun, captured_at=begun, callback_due_at=begun + timedelta(minutes=15),
                                escalation=levels)
            session.add(incident)
            session.flush()
            step = DueStep(incident_id=incident.id, kind=StepKind.PAGE, level=0, due_at=begun,
                           status=StepStatus.DONE, done_at=begun, outcome="paged 2")
            session.add(step)
            session.flush()
            session.add_all(Page(incident_id=incident.id, step_id=step.id, rep_id=rep.id, name=rep.name,
                                 role="oncall:primary", channel=Channel.SMS, to_number=rep.phone,
                                 status=PageStatus.SENT, next_attempt_at=begun, created_at=begun, sent_at=begun,
                                 updated_at=begun) for rep in on_call)


def _run(tree: Path, passes: int, open_incidents: int = 0) -> dict[str, float]:
    """One measurement in a fresh process importing the hotline from ``tree`` (this file's ``measure`` either way)."""
    code = (f"import sys; sys.path.insert(0, {str(tree)!r}); import json, runpy; "
            f"measure = runpy.run_path({str(Path(__file__).resolve())!r})['measure']; "
            f"print(json.dumps(measure({passes}, open_incidents={open_incidents})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tree)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Print a markdown table: ms of CPU per call, this tree (and the other one, with the ratio)."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--against", type=Path, help="another checkout of the hotline, measured alternately")
    args.add_argument("--runs", type=int, default=3)
    args.add_argument("--passes", type=int, default=PASSES)
    args.add_argument("--open", type=int, default=0, help="open incidents nobody owns, their first level paged")
    opts = args.parse_args(argv)
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(opts.runs):
        ours.append(_run(ROOT, opts.passes, opts.open))
        if opts.against:
            theirs.append(_run(opts.against.resolve(), opts.passes, opts.open))
    other_columns = (" other tree | ratio |", "---|---|") if theirs else ("", "")
    print(f"| CPU per call (ms, median of {opts.runs} runs) | this tree |{other_columns[0]}")
    print(f"|---|---|{other_columns[1]}")
    for name in ours[0]:
        mine = statistics.median(run[name] for run in ours)
        line = f"| {name} | {mine:.2f} |"
        if theirs:
            other = statistics.median(run[name] for run in theirs)
            line += f" {other:.2f} | {mine / other:.2f} |"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
