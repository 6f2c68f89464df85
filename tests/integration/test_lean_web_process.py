"""Issue 12 (memory): the web process loads neither Alembic, nor the Twilio REST SDK, nor the dev package.

The schema guard reads ``alembic_version`` and the migration files itself; these tests prove it
agrees with Alembic and still refuses a database behind or ahead of the code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from app import create_app
from app.migrate import alembic_config, upgrade
from app.probes import current_revisions, head_revisions, heads_in, schema_state
from app.queue import JobQueue
from app.settings import Settings, SettingsError
from app.startup import in_forked_child, migrate_in_child
from app.wiring import Hotline
from tests.conftest import REDIS_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, scratch_schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_heads_read_from_the_migration_files_are_alembics():
    from alembic.script import ScriptDirectory

    assert head_revisions() == tuple(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def _migration(directory: Path, revision: str, down: str | tuple[str, ...] | None, annotated: bool = False) -> None:
    down_text = f"(\n    {down[0]!r},\n    {down[1]!r},\n)" if isinstance(down, tuple) else repr(down)
    kinds = (": str", ": Union[str, Sequence[str], None]") if annotated else ("", "")
    (directory / f"{revision}_step.py").write_text(
        f'"""step\n\nrevision = "not this one"\n"""\nfrom alembic import op\n\n'
        f"revision{kinds[0]} = {revision!r}\ndown_revision{kinds[1]} = {down_text}  # the parent(s)\n"
        "branch_labels = None\n\n\ndef upgrade() -> None:\n    revision = 'local'\n")


def test_two_branches_are_two_heads_until_a_merge_revises_both(tmp_path):
    _migration(tmp_path, "aaa", None)
    _migration(tmp_path, "bbb", "aaa")
    _migration(tmp_path, "ccc", "aaa", annotated=True)  # newer Alembic templates annotate the ids
    (tmp_path / "__init__.py").write_text("")
    assert heads_in(tmp_path) == ("bbb", "ccc")
    _migration(tmp_path, "ddd", ("bbb", "ccc"))  # a merge names both parents, over several lines
    assert heads_in(tmp_path) == ("ddd",)


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_url(request, tmp_path):
    """A database migrated to head by Alembic: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'guard.db'}"
        upgrade(url)
        yield url
        return
    request.getfixturevalue("postgres_url")
    with scratch_schema("h15_guard") as url:
        upgrade(url)
        yield url


def _set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def _guarded_answer(url: str, tmp_path: Path) -> tuple[int, dict]:
    """A fresh app's answer to the login page (the guard looks once per process, at the first request)."""
    settings = Settings(data_dir=tmp_path / f"data-{uuid.uuid4().hex[:6]}", database_url=url, redis_url=REDIS_URL,
                        secret_key="s" * 40)
    hotline = Hotline.build(settings, jobs=JobQueue(Redis.from_url(REDIS_URL), "h15-guard"))
    try:
        response = create_app(hotline).test_client().get("/login")
        return response.status_code, (response.get_json(silent=True) or {})
    finally:
        hotline.db.dispose()


def test_the_guard_refuses_a_database_behind_or_ahead_of_the_code(migrated_url, tmp_path):
    from alembic.script import ScriptDirectory

    [head] = head_revisions()
    previous = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(head).down_revision
    engine = create_engine(migrated_url)
    with engine.connect() as conn:
        assert current_revisions(conn) == (head,)
    engine.dispose()
    assert _guarded_answer(migrated_url, tmp_path)[0] == 200

    _set_revision(migrated_url, previous)  # behind: this code needs a migration not yet applied
    status, body = _guarded_answer(migrated_url, tmp_path)
    assert status == 503
    assert body["detail"] == f"at {previous}, but this version needs {head}; run `hotline db upgrade`"

    _set_revision(migrated_url, "f00dfacef00d")  # ahead: a newer release migrated this database
    status, body = _guarded_answer(migrated_url, tmp_path)
    assert status == 503 and body["detail"].startswith("at f00dfacef00d, but this version needs")
    engine = create_engine(migrated_url)
    assert not schema_state(engine).usable
    engine.dispose()


def test_start_up_migrates_a_behind_database_in_a_child_and_leaves_one_at_head_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'start.db'}"
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    migrate_in_child(settings)  # an empty database: the child process runs Alembic
    engine = create_engine(url)
    assert schema_state(engine).at_head
    engine.dispose()
    broken = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    with pytest.raises(Exception, match="unable to open database file"):
        migrate_in_child(broken)


def test_a_forked_childs_answer_and_its_exception_come_back():
    assert in_forked_child(lambda a, b: {"sum": a + b, "pid": os.getpid()}, 2, 3)["sum"] == 5
    assert in_forked_child(os.getpid) != os.getpid()

    def refuse() -> None:
        raise SettingsError("CALLBACK_SLA_MINUTES", "must be a number.", "write 15")

    with pytest.raises(SettingsError) as raised:
        in_forked_child(refuse)
    assert (raised.value.variable, raised.value.fix) == ("CALLBACK_SLA_MINUTES", "write 15")


ONCALL = """
reps:
  - {name: Alice, phone: '+14155550111'}
  - {name: Maria, phone: '+14155550133', is_manager: true}
schedules:
  - name: primary
    time_zone: UTC
    layers: [{rotation: weekly, handoff_time: '09:00', handoff_weekday: mon, starts_on: '2026-01-05', members: [Alice]}]
escalation_policies:
  - name: lean
    is_default: true
    levels:
      - {delay_minutes: 0, targets: [{type: schedule, schedule: primary, channels: [sms, voice]}]}
      - {delay_minutes: 3, targets: [{type: managers, channels: [sms, voice]}]}
"""

SERVE_MASTER = textwrap.dedent("""
    import json, sys
    from app import create_app
    from app.startup import checked_settings
    from app.wiring import Hotline

    hotline = Hotline.build(checked_settings("serve"))  # what `hotline serve` does before gunicorn forks
    client = create_app(hotline).test_client()
    answers = [client.get("/login").status_code, client.get("/healthz").status_code,
               client.post("/twilio/voice", data={"CallSid": "CA1"}).status_code]
    # what an intake's opening and completion hand over: a job due now and one for later (app.job_records)
    from datetime import timedelta
    from app.queue import PendingJob
    now = hotline.clock.now()
    handed = hotline.jobs.dispatch([PendingJob("page", 1, now, first=True), PendingJob("step", 2, now + timedelta(minutes=3))], now)
    print(json.dumps({"answers": answers, "handed": handed, "modules": sorted(sys.modules)}))
""")


def test_serve_with_a_twilio_account_imports_no_alembic_twilio_rest_or_dev_package(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HOTLINE_", "DATABASE_"))},
           "HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
           "REDIS_URL": REDIS_URL, "QUEUE_NAME": f"h15-{uuid.uuid4().hex[:8]}",
           "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
           "TWILIO_NUMBER": "+14155550100", "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
           "PUBLIC_BASE_URL": "https://hotline.example.com", "SECRET_KEY": "k" * 40}
    (tmp_path / "oncall.yaml").write_text(ONCALL)
    hotline = [sys.executable, "-c", "from app.cli import main; main()"]
    imported = subprocess.run([*hotline, "oncall", "import", str(tmp_path / "oncall.yaml")], env=env,
                              cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    run = subprocess.run([sys.executable, "-c", SERVE_MASTER], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["answers"] == [200, 200, 403]  # the schema guard let the page through; no watchdog: a warning; unsigned
    assert found["handed"] == 2  # jobs reach RQ's queues without RQ in the process
    modules = set(found["modules"])
    for heavy in ("alembic", "twilio.rest", "requests", "hotline_sim", "rq", "workers", "app.config_check",
                  "app.telephony.twilio_rest", "smtplib"):  # the web process sends no page and no e-mail
        assert heavy not in modules, heavy
    assert "twilio.twiml.voice_response" in modules  # TwiML is rendered here; only the REST SDK is lazy


ONCALL_PAGE = textwrap.dedent("""
    import json, sys
    from app import create_app
    from app.models.user import Role
    from app.startup import checked_settings
    from app.wiring import Hotline
    from tests.integration.dashboard_support import login_as

    hotline = Hotline.build(checked_settings("serve"))
    client = create_app(hotline).test_client()
    login_as(client, hotline, Role.ADMIN)
    page = client.get("/oncall")
    print(json.dumps({"status": page.status_code, "html": page.get_data(as_text=True),
                      "yaml": sorted(m for m in sys.modules if m.split(".")[0] == "yaml")}))
""")


def test_the_admins_on_call_page_shows_the_configuration_as_yaml_without_loading_pyyaml(tmp_path):
    """PyYAML (about 1.3 MB a web worker keeps) is loaded only to read a document an admin imports or saves."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HOTLINE_", "DATABASE_"))},
           "HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'oncall.db'}",
           "REDIS_URL": REDIS_URL, "QUEUE_NAME": f"h15-{uuid.uuid4().hex[:8]}", "SECRET_KEY": "k" * 40,
           "PYTHONPATH": str(ROOT)}
    (tmp_path / "oncall.yaml").write_text(ONCALL)
    imported = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "oncall", "import",
                               str(tmp_path / "oncall.yaml")], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    run = subprocess.run([sys.executable, "-c", ONCALL_PAGE], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["status"] == 200
    assert found["yaml"] == []
    html = found["html"]  # the whole configuration, and the default policy's levels, to edit
    assert "  - name: Maria\n    phone: &#39;+14155550133&#39;\n" in html
    assert "        starts_on: &#39;2026-01-05&#39;\n        members: [Alice]\n" in html
    assert ("levels:\n  - delay_minutes: 0\n    targets:\n      - type: schedule\n        schedule: primary\n"
            "        channels: [sms, voice]\n") in html


WORKER = textwrap.dedent("""
    import json, sys
    from rq.utils import import_attribute
    from app.cli import _ready_hotline
    from app.queue import JOB_FUNCTIONS
    from workers.runner import run_worker
    for path in JOB_FUNCTIONS.values():
        import_attribute(path)  # every job a worker may run
    run_worker(_ready_hotline(), burst=True)  # its sweep, its RQ worker on every queue
    print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "jinja2", "werkzeug"))))
""")


def test_a_worker_imports_no_flask(tmp_path):
    """``hotline worker`` serves no HTTP: importing ``app.*`` must not load Flask, Werkzeug and Jinja (~20 MB)."""
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": "", "REDIS_URL": REDIS_URL,
           "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
