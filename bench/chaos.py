"""Chaos run: the hotline as deployed (2 web processes, 2 workers, its own Redis), ~30 Sev-1 calls, faults.

Starts its own redis-server on a spare port, two ``hotline serve`` processes and two
``hotline worker`` processes (on PostgreSQL when DATABASE_URL points at one, in a schema of
its own; else SQLite), and a simulated Twilio REST server that can fail on demand. Signed
intake calls come in; reps never answer (a few acknowledge by SMS). Faults are injected at
known times; at the end a markdown table per step kind shows expected, fired, never fired,
lateness from the due time, page lateness from the step's due time, duplicates and webhook 5xx.

    python bench/chaos.py --quick     # under 3 minutes; exit 1 on a missed or duplicate page
    python bench/chaos.py             # the full run (about 22 minutes)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.models import Incident  # noqa: E402
from app.settings import normalize_database_url  # noqa: E402
from bench.chaos_deploy import Deployment, free_port  # noqa: E402
from bench.chaos_phones import ALICE, HOTLINE_NUMBER, Phones, acknowledge, intake_call  # noqa: E402
from bench.chaos_report import report  # noqa: E402
from hotline_sim.twilio_api import SimulatedTwilio  # noqa: E402
from hotline_sim.twilio_spec import default_spec_path  # noqa: E402

BOB, MARIA = "+14155550122", "+14155550133"


def oncall_yaml(quick: bool) -> str:
    """Three reps; in --quick the escalation levels are a minute apart instead of three."""
    start = (datetime.now(UTC).date() - timedelta(days=8)).isoformat()
    gap = 1 if quick else 3
    return f"""
reps:
  - {{name: Alice, phone: '{ALICE}'}}
  - {{name: Bob, phone: '{BOB}'}}
  - {{name: Maria, phone: '{MARIA}', is_manager: true}}
schedules:
  - name: primary
    time_zone: UTC
    layers: [{{rotation: weekly, handoff_time: '09:00', handoff_weekday: mon, starts_on: '{start}', members: [Alice]}}]
  - name: secondary
    time_zone: UTC
    layers: [{{rotation: weekly, handoff_time: '09:00', handoff_weekday: mon, starts_on: '{start}', members: [Bob]}}]
escalation_policies:
  - name: chaos
    is_default: true
    levels:
      - {{delay_minutes: 0, targets: [{{type: schedule, schedule: primary, channels: [sms, voice]}}]}}
      - {{delay_minutes: {gap}, targets: [{{type: schedule, schedule: primary, channels: [voice]}},
                                 {{type: schedule, schedule: secondary, channels: [sms, voice]}}]}}
      - {{delay_minutes: {2 * gap}, targets: [{{type: managers, channels: [sms, voice]}}]}}
"""


def plan(quick: bool) -> tuple[list[float], list[tuple[float, str]], float]:
    """Call times, fault times and the run's length, in seconds from the start."""
    if quick:
        calls = [i * 1.0 for i in range(30)]
        faults = [(20, "kill worker-1"), (25, "start worker-1"), (40, "flush redis"), (55, "kill leader"),
                  (62, "start killed"), (70, "kill redis"), (100, "start redis"), (110, "twilio 500 20"),
                  (135, "twilio timeout 15")]
        return calls, faults, 165.0
    calls = [i * 8.0 for i in range(30)]
    faults = [(60, "kill worker-1"), (66, "start worker-1"), (150, "flush redis"), (240, "kill leader"),
              (250, "start killed"), (330, "kill redis"), (390, "start redis"), (480, "kill scheduler"),
              (600, "twilio 500 60"), (720, "twilio 429 60"), (840, "twilio timeout 60"), (960, "kill worker-2"),
              (966, "start worker-2")]
    return calls, faults, 21.5 * 60


def leader_of(engine) -> str:
    with engine.connect() as conn:
        holder = conn.execute(text("SELECT holder FROM leases WHERE name = 'watchdog'")).scalar()
    return holder or ""


def inject(fault: str, deployment: Deployment, twilio: SimulatedTwilio, engine, state: dict) -> None:
    """Carry out one fault (or the repair after it)."""
    words = fault.split()
    if words[0] == "kill" and words[1].startswith("worker"):
        deployment.kill_worker(words[1])
    elif words[0] == "start" and words[1].startswith("worker"):
        deployment.start_worker(words[1])
    elif fault == "kill leader":
        pid = leader_of(engine).rsplit(":", 1)[-1]
        name = next((n for n, p in deployment.workers.items() if str(p.pid) == pid), "worker-1")
        deployment.kill_worker(name)
        state["killed"] = name
    elif fault == "start killed":
        deployment.start_worker(state.get("killed", "worker-1"))
    elif fault == "flush redis":
        subprocess.run(["redis-cli", "-p", str(deployment.redis_port), "FLUSHALL"], capture_output=True)
    elif fault == "kill redis":
        deployment.kill_redis()
    elif fault == "start redis":
        deployment.start_redis()  # back, empty
    elif fault == "kill scheduler":
        import psutil

        for proc in deployment.workers.values():  # RQ runs its scheduler in a child process of the worker
            for child in psutil.Process(proc.pid).children():
                child.kill()
    elif words[0] == "twilio":
        status = 0 if words[1] == "timeout" else int(words[1])
        begin = datetime.now(UTC)
        end = begin + timedelta(seconds=float(words[2]))
        twilio.fail_until(end, status=status)
        state.setdefault("outages", []).append((begin, end))


def main(argv: list[str] | None = None) -> int:
    """Run it; exit 1 on a missed or an unexplained duplicate page."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="about 3 minutes (CI)")
    args.add_argument("--keep", action="store_true", help="keep the run directory (logs, SQLite)")
    opts = args.parse_args(argv)
    run_dir = Path(tempfile.mkdtemp(prefix="hotline-chaos-"))
    (run_dir / "oncall.yaml").write_text(oncall_yaml(opts.quick))
    redis_port = free_port(range(6390, 6400))
    web_ports = [free_port(range(18100, 18200)), 0]
    web_ports[1] = free_port(range(web_ports[0] + 1, 18300))
    database_url = normalize_database_url(os.environ.get("DATABASE_URL", ""))
    schema = ""
    if database_url.startswith("postgresql"):
        schema = f"hotline_chaos_{os.getpid()}"
        admin = create_engine(database_url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        database_url += ("&" if "?" in database_url else "?") + f"options=-csearch_path%3D{schema}"
    else:
        database_url = f"sqlite:///{run_dir / 'hotline.db'}"
    # What Twilio signs (the start-up checks refuse a plain-http public URL); the phones post to
    # the loopback ports, keeping the path.
    public = "https://hotline.chaos.example"
    spec = default_spec_path()
    twilio = SimulatedTwilio(spec_path=spec, validate=spec.is_file(), hang_seconds=6.0).start()
    # the account owns the hotline's number, its webhooks pointed at the public URL (``hotline check`` asks)
    twilio.point_number(HOTLINE_NUMBER, public)
    env = {**os.environ, "HOTLINE_DATA_DIR": str(run_dir / "data"), "DATABASE_URL": database_url,
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "TWILIO_ACCOUNT_SID": twilio.account_sid,
           "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_NUMBER": HOTLINE_NUMBER,
           "TWILIO_API_BASE_URL": twilio.base_url, "PUBLIC_BASE_URL": public,
           "CALLBACK_SLA_MINUTES": "6" if opts.quick else "15", "PYTHONPATH": str(ROOT),
           "TWILIO_CALLS_PER_SECOND": "10"}  # an account with raised CPS: pacing at 1 call a second is not a fault
    env.pop("TWILIO_AUTH_TOKEN_SECONDARY", None)
    deployment = Deployment(run_dir, env, redis_port, web_ports)
    engine = create_engine(database_url)
    phones = Phones(twilio, [f"http://127.0.0.1:{p}" for p in web_ports], public)
    calls, faults, length = plan(opts.quick)
    print(f"chaos run ({'quick' if opts.quick else 'full'}): {len(calls)} calls, {len(faults)} fault events, "
          f"{length:.0f} s; in {run_dir}", flush=True)
    try:
        deployment.start()
        phones.thread.start()
        start = time.monotonic()
        events = sorted([(t, "call", f"+1415555{3000 + i:04d}") for i, t in enumerate(calls)]
                        + [(t, "fault", f) for t, f in faults])
        acks = {i for i in range(0, len(calls), 10)}  # every 10th incident is acknowledged
        state: dict = {}
        pending_acks: list[tuple[float, str]] = []
        for at, what, arg in events:
            while time.monotonic() - start < at:
                time.sleep(0.05)
                _due_acks(pending_acks, start, phones, engine)
            if what == "call":
                index = calls.index(at)
                threading.Thread(target=_call_and_maybe_ack, args=(phones, arg, index in acks, pending_acks,
                                                                   time.monotonic() - start), daemon=True).start()
            else:
                print(f"  t={time.monotonic() - start:6.1f}s  {arg}", flush=True)
                inject(arg, deployment, twilio, engine, state)
        while time.monotonic() - start < length:
            time.sleep(0.2)
            _due_acks(pending_acks, start, phones, engine)
        ended = datetime.now(UTC)
        table, bad = report(engine, twilio, phones, ended, state.get("outages", []))
        print(table, flush=True)
        if twilio.spec_violations:
            print(f"requests Twilio's API description does not allow: {twilio.spec_violations[:3]}")
        return 1 if bad else 0
    finally:
        phones.stop.set()
        deployment.stop()
        twilio.stop()
        engine.dispose()
        if schema:
            admin = create_engine(normalize_database_url(os.environ["DATABASE_URL"]))
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()
        if not opts.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


def _call_and_maybe_ack(phones: Phones, caller: str, ack: bool, pending: list, at: float) -> None:
    if intake_call(phones, caller) and ack:
        pending.append((at + 20 + random.random() * 5, caller))


def _due_acks(pending: list, start: float, phones: Phones, engine) -> None:
    now = time.monotonic() - start
    for item in [p for p in pending if p[0] <= now]:
        pending.remove(item)
        with Session(engine) as s:
            reference = s.scalar(select(Incident.reference).where(Incident.callback_phone == item[1]))
        if reference:
            acknowledge(phones, engine, reference)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the finally block stops every child process
    sys.exit(main())
