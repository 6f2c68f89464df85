"""A database a newer version migrated (an older install on a newer schema), on both databases.

An operator upgrades one host and runs `hotline db upgrade`; another host (or a rolled-back install)
still runs this version. Before: every command that migrates at start (`db upgrade`, `db rebuild-facts`,
`api-token`, ...) died with Alembic's traceback ("Can't locate revision"), and `hotline check`, the
start-up refusal of serve/worker, `/healthz` and the schema guard all said "run `hotline db upgrade`",
which cannot help. Now each names the newer version as the fix, and nothing touches the database.
"""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from redis import Redis
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import main
from app.migrate import upgrade, upgrade_locked
from app.models import Role
from app.probes import SchemaAheadError, head_revisions, schema_state
from app.queue import JobQueue
from app.settings import Settings
from app.startup import migrate_in_child
from app.wiring import Hotline
from tests.conftest import REDIS_URL
from tests.integration.dashboard_support import login_as
from workers import watchdog

NEWER = "f00dfacef00d"  # a revision only a newer release ships
NEWER_SAYS = "a newer version of the hotline migrated it"


@pytest.fixture
def newer_url(empty_database_url):
    """A database at head, then migrated by a 'newer release': its revision and a table this version does not know."""
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE newer_things (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO newer_things (id) VALUES (7)"))
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": NEWER})
    engine.dispose()
    return empty_database_url


def _untouched(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [NEWER]
        assert conn.execute(text("SELECT id FROM newer_things")).scalars().all() == [7]
    engine.dispose()


def test_migrating_refuses_with_the_fix_and_changes_nothing(newer_url, tmp_path):
    with pytest.raises(SchemaAheadError) as raised:
        upgrade_locked(newer_url, tmp_path / "data")
    message = str(raised.value)
    assert NEWER in message and NEWER_SAYS in message and "run the newer version" in message
    with pytest.raises(SchemaAheadError):  # serve and worker: the start-up migration refuses before any child runs
        migrate_in_child(Settings(data_dir=tmp_path / "data", database_url=newer_url))
    _untouched(newer_url)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "rebuild-facts"], ["api-token", "list"]])
def test_commands_end_with_one_line_naming_the_newer_version(newer_url, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": newer_url, "REDIS_URL": REDIS_URL,
           "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and NEWER_SAYS in lines[0] and "run the newer version" in lines[0]
    _untouched(newer_url)


def test_check_healthz_and_the_guard_name_the_newer_version_not_db_upgrade(newer_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": newer_url, "REDIS_URL": REDIS_URL,
           "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    result = CliRunner().invoke(main, ["check", "--no-twilio"], env=env)
    assert result.exit_code == 1
    assert NEWER_SAYS in result.output and "run the newer version" in result.output
    assert "run `hotline db upgrade`" not in result.output

    settings = Settings(data_dir=tmp_path / "app-data", database_url=newer_url, redis_url=REDIS_URL,
                        secret_key="s" * 40)
    hotline = Hotline.build(settings, jobs=JobQueue(Redis.from_url(REDIS_URL), f"ahead-{uuid.uuid4().hex[:6]}"))
    try:
        client = create_app(hotline).test_client()
        health = client.get("/healthz")
        assert health.status_code == 503
        schema = health.get_json()["checks"]["schema"]
        assert NEWER_SAYS in schema and "run the newer version" in schema and "; run `hotline db upgrade`" not in schema
        guarded = client.get("/login")
        assert guarded.status_code == 503
        assert NEWER_SAYS in guarded.get_json()["detail"] and "run the newer version" in guarded.get_json()["detail"]
    finally:
        hotline.db.dispose()
    _untouched(newer_url)


def test_db_upgrade_says_where_the_database_is_and_refuses_an_unknown_revision(empty_database_url, tmp_path,
                                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": empty_database_url, "REDIS_URL": REDIS_URL,
           "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    [head] = head_revisions()
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    # an older revision is no downgrade: before, this printed "database at <older revision>" over a database at head
    older = CliRunner().invoke(main, ["db", "upgrade", "e5b8d1f3a7c2"], env=env)
    assert older.exit_code == 0 and f"database at head ({head})" in older.output
    unknown = CliRunner().invoke(main, ["db", "upgrade", "nosuchrev"], env=env)
    assert unknown.exit_code == 2 and "Can't locate revision identified by 'nosuchrev'" in unknown.output
    assert "Traceback" not in unknown.output
    engine = create_engine(empty_database_url)
    assert schema_state(engine).at_head
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_a_host_serving_through_a_rolling_upgrade_stays_in_the_load_balancer(empty_database_url, tmp_path):
    """`hotline db upgrade` of the newer version ran; this host is not restarted yet and still answers callers:
    /healthz stays 200 and warns, or every such host would leave the load balancer at once."""
    upgrade(empty_database_url)
    settings = Settings(data_dir=tmp_path / "app-data", database_url=empty_database_url, redis_url=REDIS_URL,
                        secret_key="s" * 40)
    hotline = Hotline.build(settings, jobs=JobQueue(Redis.from_url(REDIS_URL), f"rolling-{uuid.uuid4().hex[:6]}"))
    try:
        client = create_app(hotline).test_client()
        assert client.get("/healthz").get_json()["checks"]["schema"] == "ok"  # serving at this version's head
        engine = create_engine(empty_database_url)
        with engine.begin() as conn:  # the newer version's migration
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": NEWER})
        engine.dispose()
        watchdog.tick(hotline, "a")  # a live watchdog: nothing else would make /healthz a 503
        health = client.get("/healthz")
        body = health.get_json()
        assert health.status_code == 200 and body["checks"]["schema"] == "ok"
        assert any(NEWER_SAYS in w and "restart this host with the newer version" in w for w in body["warnings"])
        assert client.get("/login").status_code == 200  # still serving
        # its reports may meet values it does not know (probe N N1): the warning says so, and each export names
        # the schema its facts were folded under, so a changed pinned export is traced to the upgrade (N3)
        assert any("reports" in w and "restart this host" in w for w in body["warnings"])
        login_as(client, hotline, Role.MANAGER)
        export = client.get("/reports/compliance.csv", query_string={"start": "2026-11-23", "end": "2026-11-30"})
        assert export.status_code == 200 and export.headers["X-Hotline-Schema"] == NEWER
    finally:
        hotline.db.dispose()
