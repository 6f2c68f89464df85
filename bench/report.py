"""Compliance report and CSV over a million incidents, and over a month of realistic logs.

Data sets (generated once by ``bench.eventlog``, kept in their own PostgreSQL schema,
reused while the plan is unchanged):

- ``bench_report``: 1,000,000 incidents captured evenly over 2023-2026 (about 250,000 a
  year, 21,000 a month), compact logs of ~4.5 lines each (every outcome kind).
- ``bench_report_real``: 8,000 incidents in November 2026 with realistic logs (~29 lines).

Each figure is the whole dashboard request through the Flask app (login, params, SQL,
template or streamed CSV), against the baseline the issue names: the SQL alone, i.e. one
bare aggregate over the range's event log (``GROUP BY kind``).
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import create_engine, select, text

from app.models import IncidentFactsRow
from app.models.user import Role
from app.reports.facts_sync import refresh_facts
from bench.common import Figure, Store, dashboard_client, peak_rss, scratch_dir, timed
from bench.eventlog import Plan, generate, seed_reps

NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)
MONTH = {"start": "2026-03-01", "end": "2026-04-01", "tz": "Europe/Berlin"}
YEAR = {"start": "2026-01-01", "end": "2027-01-01", "tz": "UTC"}
REAL_MONTH = {"start": "2026-11-01", "end": "2026-12-01", "tz": "UTC"}
BARE_SQL = text("SELECT e.kind, count(*), min(e.at), max(e.at) FROM incident_events e "
                "JOIN incidents i ON i.id = e.incident_id "
                "WHERE i.captured_at >= :s AND i.captured_at < :e GROUP BY e.kind")


def plans(quick: bool) -> dict[str, Plan]:
    """The two data sets (``--quick``: a fiftieth of the big one, a quarter of the realistic one)."""
    return {
        "bench_report": Plan(20_000 if quick else 1_000_000, datetime(2023, 1, 1, tzinfo=UTC),
                             datetime(2027, 1, 1, tzinfo=UTC), seed=1, fold=False),
        "bench_report_real": Plan(2_000 if quick else 8_000, datetime(2026, 11, 1, tzinfo=UTC),
                                  datetime(2026, 12, 1, tzinfo=UTC), realistic=True, seed=2, fold=False),
    }


def prepare(quick: bool) -> dict[str, tuple[Store, str]]:
    """Both stores, generated when missing; prints how long generation took."""
    stores = {}
    for name, plan in plans(quick).items():
        store = Store(name, quick)

        def fill(engine, plan=plan):
            with engine.begin() as conn:
                seed_reps(conn)
                return generate(conn, plan)
        made, seconds = store.prepare(repr(plan), fill)
        if made:
            print(f"generated {name}: {plan.count:,} incidents in {seconds:.1f} s", file=sys.stderr)
            verify_sample(store.url, plan.count)
        stores[name] = (store, repr(plan))
    return stores


def verify_sample(url: str, count: int, size: int = 500) -> None:
    """Refold a sample of the generated facts rows from their logs (rolled back): they must not change."""
    engine = create_engine(url)
    ids = random.Random(3).sample(range(1, count + 1), min(size, count))
    columns = list(IncidentFactsRow.__table__.columns)
    query = select(*columns).where(IncidentFactsRow.incident_id.in_(ids)).order_by(IncidentFactsRow.incident_id)
    with engine.connect() as conn, conn.begin() as tx:
        generated = conn.execute(query).all()
        refresh_facts(conn, ids)
        refolded = conn.execute(query).all()
        tx.rollback()
    engine.dispose()
    if generated != refolded:
        raise SystemExit("generated facts rows differ from the fold of their logs")


def bare_sql(url: str, args: dict) -> float:
    """Seconds for the bare aggregate over the range's event log (the issue's baseline)."""
    engine = create_engine(url)
    s, e = (datetime.fromisoformat(args["start"]).replace(tzinfo=UTC), datetime.fromisoformat(args["end"]).replace(tzinfo=UTC))
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        seconds, _ = timed(lambda: conn.execute(BARE_SQL, {"s": s.replace(tzinfo=None), "e": e.replace(tzinfo=None)}).all())
    engine.dispose()
    return seconds


def figures(stores: dict[str, tuple[Store, str]], runs: int, quick: bool = False) -> list[Figure]:
    """Interleaved runs of every report figure; the medians go in the table."""
    sizes = plans(quick)
    big_n, real_n = f"{sizes['bench_report'].count:,}", f"{sizes['bench_report_real'].count:,}"
    big = stores["bench_report"][0].url
    real = stores["bench_report_real"][0].url
    data_dir = scratch_dir()
    client, _ = dashboard_client(big, Role.MANAGER, NOW, data_dir)
    real_client, _ = dashboard_client(real, Role.MANAGER, NOW, data_dir)
    page = lambda c, q: _ok(c.get("/reports/compliance", query_string=q))  # noqa: E731
    csv = lambda c, q: _ok(c.get("/reports/compliance.csv", query_string=q))  # noqa: E731
    rows = [
        (Figure(f"report page, a month of {big_n} incidents over 4 years", target="≤ 300 ms"),
         lambda: page(client, MONTH), big, MONTH),
        (Figure(f"report page, a year of {big_n}", target="≤ 1 s"), lambda: page(client, YEAR), big, YEAR),
        (Figure(f"CSV download, a month of {big_n}", target="≤ 300 ms"), lambda: csv(client, MONTH), big, MONTH),
        (Figure(f"CSV download, a year of {big_n}", target="≤ 1 s"), lambda: csv(client, YEAR), big, YEAR),
        (Figure(f"report page, {real_n} incidents in a month, ~29-line logs"), lambda: page(real_client, REAL_MONTH),
         real, REAL_MONTH),
    ]
    page(client, MONTH)  # warm the pool and the caches once, like a running server
    for _ in range(runs):
        for figure, fn, url, args in rows:
            seconds, size = timed(fn)
            figure.ours.append(seconds)
            figure.note = f"{size / 1e6:.1f} MB" if size > 1e6 else f"{size / 1e3:.0f} kB"
            figure.baseline.append(bare_sql(url, args))
    return [f for f, *_ in rows] + [memory(big)]


def memory(url: str) -> Figure:
    """Peak RSS of a fresh process serving a year's page and CSV, against the same process before them."""
    out = subprocess.run([sys.executable, "-m", "bench.report", "--memory-child", url],
                         capture_output=True, text=True, check=True, timeout=170).stdout.split()
    before, after = (float(x) for x in out[-2:])
    return Figure("peak RSS serving a year's page + CSV (baseline: the same process idle)", [after], [before],
                  unit="MB", target="< 200 MB")


def _ok(response) -> int:
    """Bytes of a 200 response, read piece by piece as a client would (the body is never held whole)."""
    assert response.status_code == 200, response.status_code
    size = 0
    for piece in response.iter_encoded():
        size += len(piece)
    response.close()
    return size


def _memory_child(url: str) -> None:
    """Peak RSS sampled every 2 ms (the login's scrypt peak is not the report's, so ru_maxrss would mislead)."""
    client, _ = dashboard_client(url, Role.MANAGER, NOW, scratch_dir())
    client.get("/reports/compliance", query_string=MONTH)  # imports and pools warm

    def year() -> None:
        _ok(client.get("/reports/compliance", query_string=YEAR))
        _ok(client.get("/reports/compliance.csv", query_string=YEAR))
    before, peak = peak_rss(year)
    print(f"{before:.0f} {peak:.0f}")


if __name__ == "__main__" and sys.argv[1:2] == ["--memory-child"]:
    _memory_child(sys.argv[2])
