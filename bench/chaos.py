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
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from app.models import DueStep, Incident, IncidentEvent, Page  # noqa: E402
from hotline_sim.phone import SimulatedCall, http_transport  # noqa: E402
from hotline_sim.twilio_api import SimulatedTwilio  # noqa: E402
from hotline_sim.twilio_spec import default_spec_path  # noqa: E402

HOTLINE_NUMBER = "+15005550006"
ALICE, BOB, MARIA = "+14155550111", "+14155550122", "+14155550133"
PROMISE = 15.0


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


class Deployment:
    """Redis, 2 web processes and 2 workers as child processes; every one is stopped at the end."""

    def __init__(self, run_dir: Path, env: dict[str, str], redis_port: int, web_ports: list[int]) -> None:
        self.run_dir, self.env, self.redis_port, self.web_ports = run_dir, env, redis_port, web_ports
        self.redis: subprocess.Popen | None = None
        self.web: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.log = open(run_dir / "processes.log", "a")  # noqa: SIM115 - closed in stop()

    def hotline(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", *args], env=self.env,
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
        imported = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "oncall", "import",
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
        """Until ``count`` RQ workers are registered: calls made before that would only measure start-up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = subprocess.run(["redis-cli", "-p", str(self.redis_port), "SCARD", "rq:workers"],
                                   capture_output=True, text=True).stdout.strip()
            if found.isdigit() and int(found) >= count:
                return
            time.sleep(0.5)
        raise SystemExit("the workers did not start")

    def stop(self) -> None:
        procs = list(self.workers.values()) + self.web
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
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


class Phones:
    """Twilio's side of the phones: status callbacks for what it accepted; counts webhook 5xx."""

    def __init__(self, twilio: SimulatedTwilio, web_urls: list[str], public: str) -> None:
        self.twilio, self.web_urls, self.public = twilio, web_urls, public
        self.validator = RequestValidator(twilio.auth_token)
        self.seen: set[str] = set()
        self.statuses: Counter = Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._n = 0

    def post(self, public_url: str, params: dict[str, str]) -> int:
        """POST signed like Twilio, to one of the web processes in turn."""
        self._n += 1
        transport = http_transport(self.web_urls[self._n % len(self.web_urls)], timeout=15)
        signature = self.validator.compute_signature(public_url, params)
        try:
            status, _ = transport(public_url, params, {"X-Twilio-Signature": signature})
        except OSError:
            status = 599  # no answer at all
        self.statuses[status // 100 * 100] += 1
        return status

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            for call in self.twilio.calls:
                if call.sid in self.seen or not call.status_callback or time.time() - call.date_created.timestamp() < 2:
                    continue
                self.seen.add(call.sid)
                self.post(call.status_callback, {"CallSid": call.sid, "CallStatus": "no-answer",
                                                 "AccountSid": self.twilio.account_sid, "From": call.from_,
                                                 "To": call.to, "Direction": "outbound-api",
                                                 "ApiVersion": "2010-04-01"})
            for message in self.twilio.messages:
                if message.sid in self.seen or not message.status_callback:
                    continue
                self.seen.add(message.sid)
                self.post(message.status_callback, {"MessageSid": message.sid, "SmsSid": message.sid,
                                                    "MessageStatus": "delivered", "SmsStatus": "delivered",
                                                    "AccountSid": self.twilio.account_sid, "From": message.from_,
                                                    "To": message.to, "ApiVersion": "2010-04-01"})


def intake_call(phones: Phones, caller: str) -> bool:
    """One signed Sev-1 intake call through the whole flow; True when it ended with the promise."""
    phones._n += 1
    transport = http_transport(phones.web_urls[phones._n % len(phones.web_urls)], timeout=15)
    call = SimulatedCall(transport=transport, base_url=phones.public, auth_token=phones.twilio.auth_token,
                         caller=caller, to=HOTLINE_NUMBER)
    try:
        call.dial()
        for action, arg in [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Acme Mail"),
                            ("say", "Dana Smith"), ("press", "1"), ("say", "dana at acme dot example"),
                            ("press", "1"), ("say", "Every API call returns 500."), ("record", "5"), ("press", "1")]:
            {"press": call.press, "say": call.say, "record": lambda s: call.record(int(s))}[action](arg)
        return True
    except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
        print(f"  intake call from {caller[-4:]} failed: {exc}", flush=True)
        phones.statuses[500] += 1
        return False


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


def acknowledge(phones: Phones, engine, reference: str) -> None:
    """The primary replies ACK <ref> to the page SMS."""
    phones.post(f"{phones.public}/twilio/sms", {
        "MessageSid": "SM" + os.urandom(16).hex(), "SmsSid": "SM" + os.urandom(16).hex(), "From": ALICE,
        "To": HOTLINE_NUMBER, "Body": f"ACK {reference}", "AccountSid": phones.twilio.account_sid,
        "NumMedia": "0", "ApiVersion": "2010-04-01"})


def kind_of(step: DueStep) -> str:
    return f"page L{step.level}" if step.kind == "page" else str(step.kind)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))] if ordered else 0.0


def report(engine, twilio: SimulatedTwilio, phones: Phones, ended: datetime,
           outages: list[tuple[datetime, datetime]]) -> tuple[str, int]:
    """The markdown table, and how many missed or unexplained duplicate pages there were.

    A page's lateness counts from its step's due time, or from Twilio answering again when
    the step fell due during an injected Twilio outage.
    """
    accepted: Counter = Counter()
    first_accept: dict[int, datetime] = {}
    for record in list(twilio.messages) + [c for c in twilio.calls if c.direction == "outbound-api"]:
        page = parse_qs(urlparse(record.status_callback).query).get("page")
        if page:
            pid = int(page[0])
            accepted[pid] += 1
            first_accept[pid] = min(first_accept.get(pid, record.date_created), record.date_created)
    with Session(engine) as s:
        steps = list(s.scalars(select(DueStep)))
        pages = list(s.scalars(select(Page)))
        flagged = {e.detail.get("page_id") for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "page_sent")) if e.detail.get("possible_duplicate")}
        incidents = s.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1)) or 0
    pages_by_step = defaultdict(list)
    for page in pages:
        pages_by_step[page.step_id].append(page)
    rows: dict[str, dict] = defaultdict(lambda: {"expected": 0, "fired": 0, "never": 0, "late": [], "page_late": [],
                                                 "dups": 0, "flagged": 0, "unsent": 0})
    for st in steps:
        if st.due_at > ended - timedelta(seconds=PROMISE):
            continue  # not due long enough before the end to be judged
        row = rows[kind_of(st)]
        row["expected"] += 1
        if st.status != "done":
            row["never"] += 1
            continue
        row["fired"] += 1
        row["late"].append((st.done_at - st.due_at).total_seconds())
        for page in pages_by_step[st.id]:
            if page.status == "canceled":
                continue
            if page.id not in first_accept:
                row["unsent"] += 1
                continue
            accepted_at = first_accept[page.id]
            since = max([st.due_at] + [end for begin, end in outages if begin < accepted_at and end > st.due_at])
            row["page_late"].append((accepted_at - since).total_seconds())
            if accepted[page.id] > 1:
                row["flagged" if page.id in flagged else "dups"] += accepted[page.id] - 1
    lines = [f"{incidents} incidents; webhook answers: " + ", ".join(f"{k}xx {v}" for k, v in
                                                                      sorted(phones.statuses.items())), "",
             "| step kind | expected | fired | never fired | lateness p50 / p95 / max (s) | pages | page not sent "
             "| page lateness p95 / max (s, from due or Twilio back) | duplicates (flagged possible / unexplained) |",
             "|---|---|---|---|---|---|---|---|---|"]
    bad = 0
    order = ["receipt", "page L0", "page L1", "page L2", "at_risk", "breach", "repage"]
    for kind in sorted(rows, key=lambda k: order.index(k) if k in order else 99):
        r = rows[kind]
        late, plate = r["late"], r["page_late"]
        lines.append(f"| {kind} | {r['expected']} | {r['fired']} | {r['never']} | "
                     f"{percentile(late, .5):.1f} / {percentile(late, .95):.1f} / {max(late, default=0):.1f} | "
                     f"{len(plate) + r['unsent']} | {r['unsent']} | "
                     f"{percentile(plate, .95):.1f} / {max(plate, default=0):.1f} | {r['flagged']} / {r['dups']} |")
        bad += r["never"] + r["unsent"] + r["dups"]
    return "\n".join(lines), bad


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
    database_url = os.environ.get("DATABASE_URL", "")
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
    public = f"http://127.0.0.1:{web_ports[0]}"
    spec = default_spec_path()
    twilio = SimulatedTwilio(spec_path=spec, validate=spec.is_file(), hang_seconds=6.0).start()
    env = {**os.environ, "HOTLINE_DATA_DIR": str(run_dir / "data"), "DATABASE_URL": database_url,
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "TWILIO_ACCOUNT_SID": twilio.account_sid,
           "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_NUMBER": HOTLINE_NUMBER,
           "TWILIO_API_BASE_URL": twilio.base_url, "PUBLIC_BASE_URL": public,
           "CALLBACK_SLA_MINUTES": "6" if opts.quick else "15", "PYTHONPATH": str(ROOT)}
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
            admin = create_engine(os.environ["DATABASE_URL"])
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
