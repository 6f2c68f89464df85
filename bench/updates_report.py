"""The updates report (issue 11's figures) over a year's log: its time and its memory.

Data set ``bench_updates`` (generated once, kept in its own PostgreSQL schema): about 25,000 incidents captured
evenly over 2026 with the logs the services write (``bench/update_log.py``: intake, paging, callback, then each
incident's update schedule, its rounds on time, late and alerted, its proposals answered or not, closes, reopens),
about 2,000,000 lines (``--quick``: about 20,000 on SQLite). Until session 48 it held 2,000,000 lines of the report's
kinds alone, naming no incident and no schedule, so the rounds missed and overdue (a walk of each incident's schedule)
were never measured: a year took 3 s there, 6.2 s on this one (23 s on another realistic one). Figures:

- the report page for the year, through the Flask app, against the SQL alone (one bare
  ``GROUP BY kind`` over the same lines);
- the peak RSS of a fresh process serving that page, against the peak of the same process
  holding the year's lines as ORM objects, as the report did before SQL counted them.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import bindparam, create_engine, select, text

from app.models import IncidentEvent
from app.models.user import Role
from app.reports.updates import COUNTED
from bench import update_log
from bench.common import Figure, Store, dashboard_client, peak_rss, scratch_dir, timed

NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)
YEAR = {"from": "2026-01-01 00:00", "to": "2027-01-01 00:00"}
START, END = datetime(2026, 1, 1), datetime(2027, 1, 1)
BARE_SQL = text("SELECT kind, count(*) FROM incident_events WHERE at >= :s AND at < :e AND kind IN :kinds "
                "GROUP BY kind").bindparams(bindparam("kinds", value=list(COUNTED), expanding=True))


LINES_PER_INCIDENT = 80  # update_log.lines_per_incident()


def _count(quick: bool) -> int:
    """The incidents of the year: about 2,000,000 lines (``--quick``: about 20,000)."""
    return round((20_000 if quick else 2_000_000) / LINES_PER_INCIDENT)


def prepare(quick: bool) -> Store:
    """The data set's store, generated unless it is kept from an earlier run."""
    store = Store("bench_updates", quick)
    n = _count(quick)

    def fill(engine) -> None:
        with engine.begin() as conn:
            update_log.generate(conn, n, START.replace(tzinfo=UTC), END.replace(tzinfo=UTC), open_last=n // 100)

    store.prepare(f"updates incidents={n} generator={update_log.GENERATOR}", fill)
    return store


def figures(store: Store, runs: int, quick: bool) -> list[Figure]:
    """Interleaved runs of the year's page against the bare SQL; then the memory of each way in a fresh process."""
    n = f"{_count(quick):,} incidents"
    client, _ = dashboard_client(store.url, Role.MANAGER, NOW, scratch_dir())
    page = Figure(f"updates report page, a year of {n} (about {LINES_PER_INCIDENT} lines each)")
    _page(client)  # warm the pool and the caches once, like a running server
    engine = create_engine(store.url)
    try:
        for _ in range(runs):
            page.ours.append(timed(lambda: _page(client))[0])
            with engine.connect() as conn:
                page.baseline.append(timed(lambda c=conn: c.execute(BARE_SQL, {"s": START, "e": END}).all())[0])
    finally:
        engine.dispose()
    counted, held = (_memory(store.url, way) for way in ("page", "held"))
    memory = Figure("peak RSS serving that page (baseline: the same process holding the year's lines, as before)",
                    [counted], [held], unit="MB", target="< 200 MB")
    return [page, memory]


def _page(client) -> int:
    response = client.get("/reports/updates", query_string=YEAR)
    assert response.status_code == 200, response.status_code
    return len(response.get_data())


def _memory(url: str, way: str) -> float:
    out = subprocess.run([sys.executable, "-m", "bench.updates_report", "--memory-child", url, way],
                         capture_output=True, text=True, check=True, timeout=300).stdout.split()
    return float(out[-1])


def _memory_child(url: str, way: str) -> None:
    """Print the peak RSS (MB) of serving the year's page (``page``) or of holding its lines (``held``)."""
    client, hotline = dashboard_client(url, Role.MANAGER, NOW, scratch_dir())
    warm = client.get("/reports/updates", query_string={"from": "2026-01-01 00:00", "to": "2026-01-01 01:00"})
    assert warm.status_code == 200  # imports and pools warm

    def held() -> None:
        with hotline.db.session() as session:
            lines = list(session.scalars(select(IncidentEvent).where(
                IncidentEvent.kind.in_(COUNTED), IncidentEvent.at >= START.replace(tzinfo=UTC),
                IncidentEvent.at < END.replace(tzinfo=UTC))))
            assert lines
    _, peak = peak_rss((lambda: _page(client)) if way == "page" else held)
    print(f"{peak:.0f}")


if __name__ == "__main__" and sys.argv[1:2] == ["--memory-child"]:
    _memory_child(sys.argv[2], sys.argv[3])
