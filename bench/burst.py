"""300 Sev-1 calls starting within 10 s against the deployed shape (2 web processes, 2 workers, simulated Twilio).

    python bench/burst.py [--calls 300] [--within 10] [--pace 0|1] [--wait S] [--cps 30] [--sms-per-second 100]

Reuses the chaos run's deployment (``bench/chaos_deploy.py``: its own redis-server, two
``hotline serve``, two ``hotline worker``) and its Twilio side (``bench/chaos_phones.py``:
signed intake calls through the whole flow; the simulated Twilio REST server accepts the
pages). Prints errors, incidents stored, incidents paged and the time from each incident's
opening (mid-call, issue 13) to its first page accepted by Twilio (p50, p99, max). ``--pace 1``
plays each call in real time (each prompt said at 150 words a minute before the caller answers),
as Twilio would; ``--pace 0`` (the default) answers at once, a far heavier load than 300 real callers. Bounded: every process is
stopped at the end, and the wait for pages is capped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.event_kind import EventKind  # noqa: E402
from app.models import DueStep, Incident, IncidentEvent, Page, StepKind  # noqa: E402
from app.services.failure_log import attempts_written  # noqa: E402
from app.settings import normalize_database_url  # noqa: E402
from bench.chaos import oncall_yaml  # noqa: E402
from bench.chaos_deploy import Deployment, free_port  # noqa: E402
from bench.chaos_phones import HOTLINE_NUMBER, Phones, intake_call  # noqa: E402
from bench.common import Figure, percentile  # noqa: E402
from bench.memory import interpreter  # noqa: E402
from bench.production_env import deployed_python  # noqa: E402
from hotline_sim.twilio_api import SimulatedTwilio  # noqa: E402


def first_pages(engine) -> tuple[int, list[float], list[float]]:
    """Incidents stored; for each paged one the seconds to its first page accepted from the incident's
    opening (when the hotline knew it must page: issue 13 opens it mid-call) and from the end of the intake."""
    with Session(engine) as s:
        stored = s.scalar(select(func.count()).select_from(Incident))
        opened = (select(IncidentEvent.incident_id, func.min(IncidentEvent.at).label("at"))
                  .where(IncidentEvent.kind == EventKind.INCIDENT_OPENED).group_by(IncidentEvent.incident_id)
                  .subquery())
        rows = s.execute(select(opened.c.at, Incident.captured_at, func.min(Page.sent_at))
                         .join(Page, Page.incident_id == Incident.id).join(opened, opened.c.incident_id == Incident.id)
                         .where(Page.sent_at.is_not(None), Page.role != "customer")
                         .group_by(Incident.id, opened.c.at, Incident.captured_at)).all()
    return (stored, [(sent - at).total_seconds() for at, _, sent in rows],
            [(sent - captured).total_seconds() for _, captured, sent in rows])


def percentiles(values: list[float]) -> str:
    """p50 / p99 / max, in seconds."""
    return f"{statistics.median(values):.2f} s / {percentile(values, 0.99):.2f} s / {max(values):.2f} s"


def rss_mb(pid: int) -> str:
    """Resident memory of process ``pid`` and the processes it forked (none for a worker, by design)."""
    try:
        kb = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])
    except (OSError, IndexError):
        return "?"
    kids = child_pids(pid)
    return f"{kb // 1024} MB" + (f" (+{len(kids)} children)" if kids else "")


def child_pids(pid: int) -> list[int]:
    """The processes ``pid`` forked (gunicorn's workers; RQ's scheduler child before issue 12)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def breakdown(engine) -> tuple[list[float], list[float]]:
    """Per paged incident: its first page step's due time (the webhook that opened the incident) to the
    step's run (waiting for a worker), and the run to the first page accepted."""
    with Session(engine) as s:
        rows = s.execute(select(DueStep.due_at, DueStep.done_at, func.min(Page.sent_at))
                         .join(Page, Page.incident_id == DueStep.incident_id)
                         .where(DueStep.kind == StepKind.PAGE, DueStep.level == 0, DueStep.done_at.is_not(None),
                                Page.sent_at.is_not(None), Page.role != "customer")
                         .group_by(DueStep.id, DueStep.due_at, DueStep.done_at)).all()
    return [(done - due).total_seconds() for due, done, _ in rows], [(sent - done).total_seconds() for _, done, sent in rows]


def send_troubles(engine) -> str:
    """What held the reps' pages back: failed sends by error (``page_send_failed`` lines, the error's first
    40 characters), and pages by the attempts they took (a page put off by the account's rate spends none)."""
    with Session(engine) as s:
        failed = s.execute(select(IncidentEvent.detail).where(IncidentEvent.kind == "page_send_failed")).scalars().all()
        attempts = s.execute(select(Page.attempts, func.count()).where(Page.role != "customer")
                             .group_by(Page.attempts)).all()
    errors: Counter[str] = Counter()  # a line of a long retry stands for the attempts since its page's line before (failure_log)
    for detail in failed:
        errors[str(detail.get("error", ""))[:40]] += attempts_written(detail)
    return (f"failed sends: {sum(errors.values())} ({'; '.join(f'{k}: {n}' for k, n in errors.items()) or 'none'}); "
            f"pages by attempts: {', '.join(f'{a}: {n}' for a, n in sorted(attempts))}")


def call_rate(twilio: SimulatedTwilio, per_second: float) -> str:
    """How the calls the hotline placed kept the account's rate, as Twilio saw them arrive: the most in any
    1-second window, and the smallest gap between two."""
    stamps = sorted(c.date_created.timestamp() for c in twilio.calls if c.direction == "outbound-api")
    if not stamps:
        return "no calls"
    most, first = 0, 0
    for last, at in enumerate(stamps):
        while at - stamps[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    gap = min((b - a for a, b in zip(stamps, stamps[1:], strict=False)), default=0.0)
    return (f"{len(stamps)} calls; most in any 1 s: {most} (account rate {per_second:g}); "
            f"smallest gap {gap * 1000:.1f} ms (1/rate: {1000 / per_second:.1f} ms)")


@dataclass
class Burst:
    """What one burst measured (seconds)."""

    calls: int
    pace: float
    started_all: float = 0.0  # the last call placed
    intake_done: float = 0.0  # every intake ended
    failed: int = 0  # intake calls that did not end with the promise
    webhook_5xx: int = 0
    stored: int = 0
    from_opening: list[float] = field(default_factory=list)  # per paged incident: its opening to its first page
    after_intake: list[float] = field(default_factory=list)  # the same from the end of its intake
    to_run: list[float] = field(default_factory=list)  # its first page step waiting for a worker
    to_page: list[float] = field(default_factory=list)  # that step's run to the first page accepted
    memory: str = ""
    troubles: str = ""
    call_rate: str = ""  # the account's call rate as the simulated Twilio saw the calls arrive


    @property
    def ok(self) -> bool:
        """No failed intake, every incident stored and paged."""
        return self.failed == 0 and self.stored == self.calls == len(self.from_opening)


def run(calls: int = 300, within: float = 10.0, pace: float = 0.0, wait: float | None = None, cps: str = "30",
        sms_per_second: str = "100") -> Burst:
    """Start the deployment, place ``calls`` intake calls within ``within`` s, wait for the pages, stop everything."""
    wait = wait if wait is not None else 120.0 + 240.0 * pace
    out = Burst(calls, pace)
    run_dir = Path(tempfile.mkdtemp(prefix="hotline-burst-"))
    (run_dir / "oncall.yaml").write_text(oncall_yaml(False))
    redis_port = free_port(range(6400, 6410))
    web_ports = [free_port(range(18300, 18400)), 0]
    web_ports[1] = free_port(range(web_ports[0] + 1, 18500))
    base_url = normalize_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    schema = f"hotline_burst_{os.getpid()}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    database_url = base_url + ("&" if "?" in base_url else "?") + f"options=-csearch_path%3D{schema}"
    public = "https://hotline.burst.example"  # what Twilio signs; the phones post to the loopback ports
    twilio = SimulatedTwilio().start()
    twilio.point_number(HOTLINE_NUMBER, public)
    env = {**os.environ, "HOTLINE_DATA_DIR": str(run_dir / "data"), "DATABASE_URL": database_url,
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "TWILIO_ACCOUNT_SID": twilio.account_sid,
           "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_NUMBER": HOTLINE_NUMBER,
           "TWILIO_API_BASE_URL": twilio.base_url, "PUBLIC_BASE_URL": public,
           "MAX_INCIDENTS_PER_CALLER": "0", "PYTHONPATH": str(ROOT),
           "TWILIO_CALLS_PER_SECOND": cps, "TWILIO_SMS_PER_SECOND": sms_per_second}
    env.pop("TWILIO_AUTH_TOKEN_SECONDARY", None)
    deployment = Deployment(run_dir, env, redis_port, web_ports, python=deployed_python("burst")[0])
    engine = create_engine(database_url)
    phones = Phones(twilio, [f"http://127.0.0.1:{p}" for p in web_ports], public)
    results: list[bool] = []
    try:
        deployment.start()
        phones.thread.start()
        start = time.monotonic()
        threads = []
        for i in range(calls):
            while time.monotonic() - start < i * within / calls:
                time.sleep(0.005)
            caller = f"+1415555{4000 + i:04d}"
            t = threading.Thread(target=lambda c=caller: results.append(intake_call(phones, c, pace)), daemon=True)
            t.start()
            threads.append(t)
        out.started_all = time.monotonic() - start
        for t in threads:
            t.join(timeout=max(1.0, wait - (time.monotonic() - start)))
        out.intake_done = time.monotonic() - start
        while time.monotonic() - start < wait:
            stored, latencies, _ = first_pages(engine)
            if stored and len(latencies) >= stored:
                break
            time.sleep(1.0)
        out.stored, out.from_opening, out.after_intake = first_pages(engine)
        out.failed, out.webhook_5xx = results.count(False) + calls - len(results), phones.statuses[500]
        out.memory = (f"{' + '.join(rss_mb(w.pid) for w in deployment.workers.values())} / "
                      f"{' + '.join(rss_mb(pid) for web in deployment.web for pid in child_pids(web.pid))} "
                      f"({interpreter(deployment.web[0].pid)}, {deployment.python})")
        out.to_run, out.to_page = breakdown(engine)
        out.troubles = send_troubles(engine)
        out.call_rate = call_rate(twilio, float(cps))
        return out
    except BaseException:
        for log in run_dir.glob("*.log"):
            print(f"--- {log.name}:\n" + log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        phones.stop.set()
        deployment.stop()
        twilio.stop()
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
        shutil.rmtree(run_dir, ignore_errors=True)


def figures(runs: int, quick: bool) -> list[Figure]:
    """For ``bench.run``: a 300-call burst per run at each pace (none in ``--quick``: each takes minutes)."""
    if quick:
        return []
    out = []
    for pace, label in ((1.0, "300 callers in real time"), (0.0, "300 callers answering at once")):
        bursts = [run(pace=pace) for _ in range(runs)]
        failed = sum(b.failed + b.webhook_5xx for b in bursts)
        unpaged = sum(b.calls - len(b.from_opening) for b in bursts)
        note = f"{failed} failed intakes or 5xx, {unpaged} incidents not paged"
        out.append(Figure(f"{label} within 10 s: first page after the incident opened, p50 ({note})",
                          [statistics.median(b.from_opening) for b in bursts if b.from_opening], unit="s"))
        out.append(Figure(f"{label} within 10 s: first page after the incident opened, p99",
                          [percentile(b.from_opening, 0.99) for b in bursts if b.from_opening], unit="s", target="≤ 2 s"))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the burst; print the figures."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--calls", type=int, default=300)
    args.add_argument("--within", type=float, default=10.0, help="seconds over which the calls start")
    args.add_argument("--wait", type=float, default=None,
                      help="at most this long for every incident's page (default 120 s, plus 240 s at --pace 1)")
    args.add_argument("--cps", default="30", help="TWILIO_CALLS_PER_SECOND of the deployment (an account's raised CPS)")
    args.add_argument("--sms-per-second", default="100", help="TWILIO_SMS_PER_SECOND of the deployment")
    args.add_argument("--pace", type=float, default=0.0,
                      help="1: callers listen to each prompt and answer in real time, as on Twilio; 0: at once")
    opts = args.parse_args(argv)
    b = run(opts.calls, opts.within, opts.pace, opts.wait, opts.cps, opts.sms_per_second)
    pace = "real time" if b.pace == 1 else "answering at once" if b.pace == 0 else b.pace
    print(f"| account rates (calls / SMS per second); callers' pace | {opts.cps} / {opts.sms_per_second}; {pace} |")
    print(f"| calls started | {b.calls} in {b.started_all:.1f} s (all intakes ended after {b.intake_done:.1f} s) |")
    print(f"| failed intake calls / webhook 5xx | {b.failed} / {b.webhook_5xx} |")
    print(f"| incidents stored / paged | {b.stored} / {len(b.from_opening)} |")
    if b.from_opening:
        print(f"| first page accepted after the incident opened: p50 / p99 / max | {percentiles(b.from_opening)} |")
        print(f"| first page accepted after the end of the intake (negative: paged while the caller talked) | "
              f"{percentiles(b.after_intake)} |")
    print(f"| resident memory after the burst: each `hotline worker` / each web worker | {b.memory} |")
    if b.to_run:
        print(f"| of which: the first page step waiting for a worker, p50 / p99 / max | {percentiles(b.to_run)} |")
        print(f"| that step's run to its first page accepted by Twilio | {percentiles(b.to_page)} |")
    print(f"| rep pages: {b.troubles} |")
    print(f"| the account's call rate, as the simulated Twilio saw the calls arrive | {b.call_rate} |")
    return 0 if b.ok else 1


if __name__ == "__main__":
    sys.exit(main())
