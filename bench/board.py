"""The live board with 1,000 open incidents (each with its pages, acknowledgements, callbacks, breaches).

``bench_board``: 1,000 incidents captured in the hour before the measured instant, all
still open, realistic logs and three pages each. The figure is the whole ``GET /board``
through the Flask app, as the reps' browsers poll it (rows unchanged since the last poll,
so each is taken from the web process's row cache) and with every row built again (as
after a change to all of them); the baseline is the board's SQL alone (the open incidents
and their pages, fetched as plain rows).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from app.dashboard import board_html
from app.models.user import Role
from bench.common import Figure, Store, dashboard_client, scratch_dir, timed
from bench.eventlog import Plan, generate, seed_reps

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BARE_SQL = (text("SELECT * FROM incidents WHERE status = 'open' ORDER BY callback_due_at, id"),
            text("SELECT p.* FROM pages p JOIN incidents i ON i.id = p.incident_id "
                 "WHERE i.status = 'open' AND p.role <> 'customer' ORDER BY p.created_at, p.id"))


def plan(quick: bool) -> Plan:
    """1,000 open incidents (the same with ``--quick``: the figure is about that size)."""
    return Plan(1_000, NOW - timedelta(hours=1), NOW, realistic=True, open_last=1_000, seed=3, fold=False)


def prepare(quick: bool) -> tuple[Store, str]:
    """The board's store, generated when missing."""
    store = Store("bench_board", quick)
    p = plan(quick)

    def fill(engine):
        with engine.begin() as conn:
            seed_reps(conn)
            return generate(conn, p)
    store.prepare(repr(p), fill)
    return store, repr(p)


def bare_sql(url: str) -> float:
    """Seconds for the board's queries alone."""
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        seconds, _ = timed(lambda: [conn.execute(q).all() for q in BARE_SQL])
    engine.dispose()
    return seconds


def figures(store: Store, runs: int) -> list[Figure]:
    """Interleaved runs of GET /board and its bare SQL."""
    client, _ = dashboard_client(store.url, Role.REP, NOW, scratch_dir())
    figure = Figure("board, 1,000 open incidents, polled (rows unchanged since the last poll)", target="≤ 150 ms")
    cold = Figure("board, 1,000 open incidents, every row changed since the last poll")
    client.get("/board")  # warm
    for _ in range(runs):
        seconds, response = timed(lambda: client.get("/board"))
        assert response.status_code == 200, response.status_code
        figure.ours.append(seconds)
        figure.note = f"{len(response.get_data()) / 1e6:.2f} MB HTML"
        figure.baseline.append(bare_sql(store.url))
        board_html._ROWS.clear()  # as if every row had changed: each is built again
        seconds, response = timed(lambda: client.get("/board"))
        assert response.status_code == 200, response.status_code
        cold.ours.append(seconds)
        cold.baseline.append(bare_sql(store.url))
    return [figure, cold]
