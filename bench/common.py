"""What the benchmarks share: a database per data set (cached), a logged-in dashboard client, timing and tables."""

from __future__ import annotations

import functools
import hashlib
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.models import Base
from app.models.user import Role
from app.queue import JobQueue
from app.settings import Settings, normalize_database_url
from app.wiring import Hotline
from hotline_sim.redis_claim import claim

POSTGRES_URL = normalize_database_url(os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
BENCH_REDIS_DB = 7  # the first database a benchmark tries; never used by the pages measured


@functools.cache
def redis_url() -> str:
    """BENCH_REDIS_URL, else a database of the local Redis no test run or other benchmark uses (claimed on first
    use: CI runs the benchmark smoke check beside the tests, which flush theirs and count the RQ workers there)."""
    return os.environ.get("BENCH_REDIS_URL") or f"redis://127.0.0.1:6379/{claim(BENCH_REDIS_DB)}"


def __getattr__(name: str) -> str:
    """``REDIS_URL``: :func:`redis_url`, claimed when a benchmark first uses it."""
    if name == "REDIS_URL":
        return redis_url()
    raise AttributeError(name)


PASSWORD = "spare oxen carry staples"


@dataclass
class Store:
    """One data set's database: a PostgreSQL schema of its own, or a SQLite file in a temp dir (``--quick``)."""

    name: str
    quick: bool
    url: str = ""
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.quick:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"{self.name}-")
            self.url = f"sqlite:///{Path(self._tmp.name) / 'bench.db'}"
        else:
            self.url = f"{POSTGRES_URL}?options=-csearch_path%3D{self.name}"

    def prepare(self, plan_key: str, fill: Callable[[Engine], object]) -> tuple[bool, float]:
        """Create the schema and fill it unless it already holds ``plan_key``; returns (generated, seconds).

        The key includes the models' tables and columns, so a data set made before a schema change is remade.
        """
        plan_key = f"{plan_key} schema={schema_digest()}"
        if not self.quick:
            admin = create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {self.name}"))
            admin.dispose()
        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE IF NOT EXISTS bench_meta (plan TEXT)"))
                if conn.execute(text("SELECT plan FROM bench_meta")).scalar() == plan_key:
                    return False, 0.0
            engine.dispose()
            self.drop()  # another plan, or a run that stopped half-way: start clean
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE bench_meta (plan TEXT)"))
            Base.metadata.create_all(engine)
            started = time.perf_counter()
            fill(engine)
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_meta (plan) VALUES (:p)"), {"p": plan_key})
                if engine.dialect.name == "postgresql":
                    conn.execute(text("ANALYZE"))
            return True, time.perf_counter() - started
        finally:
            engine.dispose()

    def create_tables(self) -> None:
        """The app's tables (no data)."""
        engine = create_engine(self.url)
        Base.metadata.create_all(engine)
        engine.dispose()

    def drop(self) -> None:
        """Empty the schema (or the SQLite file)."""
        if self.quick:
            Path(self.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            return
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {self.name}"))
        admin.dispose()

    def remove(self) -> None:
        """Drop the schema for good (end of a run without ``--keep``)."""
        if self.quick:
            if self._tmp is not None:
                self._tmp.cleanup()
            return
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        admin.dispose()


def schema_digest() -> str:
    """A short digest of every table's column and index names (what ``create_all`` would have built).

    A kept data set was built by ``create_all``, which never adds an index to a table it finds: a
    new index must make it be rebuilt, or the benchmark would measure without it.
    """
    names = sorted(f"{table.name}.{column.name}" for table in Base.metadata.tables.values() for column in table.columns)
    names += sorted(f"{table.name}:{index.name}" for table in Base.metadata.tables.values() for index in table.indexes)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]


class FixedClock:
    """The clock the measured app sees: a fixed instant, so runs are comparable."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        """The fixed instant."""
        return self._now


_DATA_ROOT = tempfile.TemporaryDirectory(prefix="hotline-bench-")  # settings' data dirs; removed at exit


def scratch_dir() -> Path:
    """A fresh directory for one measured app's data dir (removed when the process ends)."""
    return Path(tempfile.mkdtemp(dir=_DATA_ROOT.name))


def dashboard_client(url: str, role: Role, now: datetime, data_dir: Path):
    """A Flask test client logged in as a new user of ``role``, on the database at ``url``."""
    from app import create_app
    from app.collector import freeze_for_collector
    from app.services.users import create_user

    settings = Settings(data_dir=data_dir, database_url=url, redis_url=redis_url(), queue_name="bench")
    hotline = Hotline.build(settings, clock=FixedClock(now), jobs=JobQueue(Redis.from_url(redis_url()), "bench"))
    email = f"bench-{role}-{time.time_ns()}@example.com"
    with hotline.db.transaction() as session:
        create_user(session, email, f"Bench {role}", PASSWORD, role, datetime.now(UTC))
    app = create_app(hotline)
    freeze_for_collector()  # as `hotline serve`'s master does before forking (app/serving.py)
    client = app.test_client()
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"\s+value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 302, f"bench login failed: {response.status_code}"
    return client, hotline


def rss_mb() -> float:
    """This process's resident memory now (MB)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss(fn: Callable[[], object]) -> tuple[float, float]:
    """(RSS before, peak RSS while ``fn`` ran) in MB, sampled every 2 ms (ru_maxrss would keep an earlier peak)."""
    before = rss_mb()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], rss_mb())
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        fn()
    finally:
        done.set()
        watcher.join()
    return before, max(peak[0], rss_mb())


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds ``fn`` took, and what it returned."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


@dataclass
class Figure:
    """One line of the table: our samples against the baseline's (seconds), or a fixed value."""

    name: str
    ours: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    unit: str = "ms"
    target: str = ""
    note: str = ""

    def cells(self) -> tuple[str, str, str, str]:
        """ours, baseline, ratio as printed."""
        ours = statistics.median(self.ours) if self.ours else None
        base = statistics.median(self.baseline) if self.baseline else None
        ratio = f"{ours / base:.2f}" if ours is not None and base else "–"
        return _fmt(ours, self.unit), _fmt(base, self.unit), ratio, self.target


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (0 for none)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))] if ordered else 0.0


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ms":
        return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.1f} MB"  # targets such as 80 MB are met or missed by less than a megabyte
    return f"{value:.0f} {unit}"


def table(figures: list[Figure], runs: int) -> str:
    """A markdown table of medians."""
    out = [f"| figure (median of {runs} interleaved runs) | ours | baseline | ratio | target |", "|---|---|---|---|---|"]
    for f in figures:
        ours, base, ratio, target = f.cells()
        out.append(f"| {f.name}{' (' + f.note + ')' if f.note else ''} | {ours} | {base} | {ratio} | {target} |")
    return "\n".join(out)
