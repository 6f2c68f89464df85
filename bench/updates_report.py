"""The updates report (issue 11's figures) over a year's log: its time and its memory.

Data set ``bench_updates`` (generated once, kept in its own PostgreSQL schema): 2,000,000 lines
of the report's kinds spread evenly over 2026 (``--quick``: 20,000 on SQLite). Figures:

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
from bench.common import Figure, Store, dashboard_client, peak_rss, scratch_dir, timed

NOW = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)
YEAR = {"from": "2026-01-01 00:00", "to": "2027-01-01 00:00"}
START, END = datetime(2026, 1, 1), datetime(2027, 1, 1)
# line i: its kind by i % 10, its time spread evenly over the year
_FILL_POSTGRES = text("""
INSERT INTO incident_events (incident_id, call_sid, at, actor, kind, detail)
SELECT NULL, NULL, TIMESTAMP '2026-01-01' + (i * (31536000.0 / :n)) * INTERVAL '1 second', 'system',
  CASE WHEN i % 10 < 6 THEN 'customer_update_sent' WHEN i % 10 = 6 THEN 'customer_update_late'
       WHEN i % 10 = 7 THEN 'resolution_confirmed' WHEN i % 10 = 8 THEN 'resolved_unconfirmed'
       ELSE 'non_critical_contact' END,
  CASE WHEN i % 10 < 6 THEN json_build_object('round', i % 4, 'late_seconds', CASE WHEN i % 5 = 0 THEN i % 900 ELSE 0 END)
       WHEN i % 10 IN (7, 8) THEN json_build_object('seconds_since_capture', (i % 259200) + 0.5, 'via', 'sms')
       ELSE '{}'::json END
FROM generate_series(0, :n - 1) AS i
""")
BARE_SQL = text("SELECT kind, count(*) FROM incident_events WHERE at >= :s AND at < :e AND kind IN :kinds "
                "GROUP BY kind").bindparams(bindparam("kinds", value=list(COUNTED), expanding=True))


_KIND_OF_REMAINDER = ("customer_update_sent",) * 6 + (
    "customer_update_late", "resolution_confirmed", "resolved_unconfirmed", "non_critical_contact")


def _kind(i: int) -> str:
    """Line i's kind, as _FILL_POSTGRES chooses it."""
    return _KIND_OF_REMAINDER[i % 10]


def _count(quick: bool) -> int:
    return 20_000 if quick else 2_000_000


def prepare(quick: bool) -> Store:
    """The data set's store, generated unless it is kept from an earlier run."""
    store = Store("bench_updates", quick)
    n = _count(quick)

    def fill(engine) -> None:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(_FILL_POSTGRES, {"n": n})
                return
            step = (END - START) / n
            conn.execute(IncidentEvent.__table__.insert(), [
                {"at": (START + i * step).replace(tzinfo=UTC), "actor": "system", "kind": _kind(i),
                 "detail": {"round": i % 4, "late_seconds": i % 900 if i % 5 == 0 else 0,
                            "seconds_since_capture": i % 259200 + 0.5, "via": "sms"}} for i in range(n)])

    store.prepare(f"updates n={n}", fill)
    return store


def figures(store: Store, runs: int, quick: bool) -> list[Figure]:
    """Interleaved runs of the year's page against the bare SQL; then the memory of each way in a fresh process."""
    n = f"{_count(quick):,}"
    client, _ = dashboard_client(store.url, Role.MANAGER, NOW, scratch_dir())
    page = Figure(f"updates report page, a year of {n} lines")
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
