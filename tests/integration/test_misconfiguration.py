"""Each misconfiguration an operator can make ends in one clear message naming the variable, and nothing starts."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import create_engine, func, select, text

from app.cli import main
from app.models import Lease, Schedule
from app.settings import Settings, SettingsError
from tests.conftest import REDIS_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, scratch_schema
from tests.updates.smtp_support import Inbox, SmtpServer, free_port

TWILIO_NUMBER = "+14155550100"
ONCALL_PRIMARY_ONLY = """
reps:
  - {name: Alice, phone: '+14155550111'}
  - {name: Maria, phone: '+14155550133', is_manager: true}
schedules:
  - name: oncall-emea
    time_zone: Europe/Berlin
    layers:
      - {rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20', members: [Alice]}
"""
UNSET = ("DATABASE_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_SECONDARY",
         "TWILIO_NUMBER", "PUBLIC_BASE_URL",
         "CALLBACK_SLA_MINUTES", "ALLOWED_CALLBACK_REGIONS", "DEFAULT_REGION", "SECRET_KEY", "QUEUE_NAME",
         "HOTLINE_WATCHDOG_SECONDS", "TWILIO_API_BASE_URL", "TWILIO_CALLS_PER_SECOND", "TWILIO_SMS_PER_SECOND",
         "HOTLINE_PAGE_THREADS", "SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_USERNAME", "SMTP_PASSWORD")


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `hotline` in an empty working directory with only the given variables set."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, **env: str):
        full = dict.fromkeys(UNSET, "") | {"HOTLINE_DATA_DIR": str(tmp_path / "data"),
                                           "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
                                           "REDIS_URL": REDIS_URL, "QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}"} | env
        return CliRunner().invoke(main, list(args), env=full, catch_exceptions=False)

    return invoke


def _refused(result, variable: str, command: str) -> None:
    """The command exited 2 naming ``variable``, without a traceback and without starting."""
    assert result.exit_code == 2, result.output
    assert variable in result.output
    assert "Traceback" not in result.output
    assert "Sev-1 Hotline on" not in result.output  # serve never got to announce itself, let alone bind
    assert f"hotline {command} did not start" in result.output or "configuration error" in result.output


PRODUCTION = {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
              "TWILIO_NUMBER": TWILIO_NUMBER, "PUBLIC_BASE_URL": "https://hotline.example.com",
              "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_missing_twilio_number_stops_serve_and_worker(cli, tmp_path, command):
    result = cli(command, **(PRODUCTION | {"TWILIO_NUMBER": ""}))
    _refused(result, "TWILIO_NUMBER", command)
    assert "21603" in result.output and "E.164" in result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    with engine.connect() as conn:  # the worker never took the watchdog lease
        assert conn.execute(select(func.count()).select_from(Lease)).scalar_one() == 0
    engine.dispose()


def test_a_secondary_auth_token_twilio_could_not_have_issued_stops_check_serve_and_worker(cli, tmp_path):
    """TWILIO_AUTH_TOKEN_SECONDARY=x: check said "0 error(s)" and serve accepted a call signed with the key "x"."""
    forged = PRODUCTION | {"TWILIO_AUTH_TOKEN_SECONDARY": "x"}
    checked = cli("check", **forged)
    assert checked.exit_code == 1, checked.output
    assert ("ERROR   TWILIO_AUTH_TOKEN_SECONDARY: cannot be a Twilio auth token (1 characters; Twilio's are 32 "
            "lowercase hexadecimal characters)") in checked.output
    assert "fix: copy the secondary Auth Token from the Twilio console" in checked.output
    for command in ("serve", "worker"):
        _refused(cli(command, **forged), "TWILIO_AUTH_TOKEN_SECONDARY", command)
    engine = create_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    with engine.connect() as conn:  # the worker never took the watchdog lease
        assert conn.execute(select(func.count()).select_from(Lease)).scalar_one() == 0
    engine.dispose()
    same = cli("check", **(PRODUCTION | {"TWILIO_AUTH_TOKEN_SECONDARY": TEST_AUTH_TOKEN}))
    assert "WARNING TWILIO_AUTH_TOKEN_SECONDARY: is the same as TWILIO_AUTH_TOKEN" in same.output
    assert "ERROR   TWILIO_AUTH_TOKEN" not in same.output


@pytest.mark.parametrize(("url", "words"), [("", "is not set"), ("http://hotline.example.com", "not https")])
def test_public_base_url_must_be_https_in_production(cli, url, words):
    result = cli("serve", **(PRODUCTION | {"PUBLIC_BASE_URL": url}))
    _refused(result, "PUBLIC_BASE_URL", "serve")
    assert words in result.output


@pytest.mark.parametrize(("raw", "words"), [("US;GB", "separate them with commas"),
                                           ("US,XX", "'XX' is not a country code")])
def test_callback_regions_with_a_wrong_separator_or_unknown_code_are_refused(cli, raw, words):
    for command in ("serve", "oncall"):
        result = cli(command, "now", ALLOWED_CALLBACK_REGIONS=raw) if command == "oncall" else cli(command,
                                                                                                    ALLOWED_CALLBACK_REGIONS=raw)
        _refused(result, "ALLOWED_CALLBACK_REGIONS", command)
        assert words in result.output


def test_an_upper_case_scheme_is_a_scheme():
    # a probe's PUBLIC_BASE_URL=HTTPS://H.EXAMPLE.COM was refused as "not an http(s) URL", and serve would not start
    assert Settings.from_env({"PUBLIC_BASE_URL": "HTTPS://hotline.example.com/"}).public_base_url == (
        "https://hotline.example.com")


def test_smtp_credentials_without_smtp_host_are_a_warning_of_check(cli):
    # a probe set SMTP_USERNAME and SMTP_PASSWORD and forgot SMTP_HOST: check said nothing, and every e-mail to the
    # customers was skipped
    result = cli("check", SMTP_USERNAME="mailer", SMTP_PASSWORD="s3cret", SMTP_HOST="")
    assert "SMTP_HOST" in result.output and "SMTP_USERNAME and SMTP_PASSWORD set but SMTP_HOST is empty" in result.output


def test_regions_with_spaces_after_commas_are_read():
    assert Settings.from_env({"ALLOWED_CALLBACK_REGIONS": "us, gb"}).allowed_callback_regions == ("US", "GB")


def test_account_rates_and_page_threads_that_cannot_work_are_named_by_check(cli):
    result = cli("check", TWILIO_CALLS_PER_SECOND="fast", TWILIO_SMS_PER_SECOND="0", HOTLINE_PAGE_THREADS="99")
    assert result.exit_code == 1
    for variable in ("TWILIO_CALLS_PER_SECOND", "TWILIO_SMS_PER_SECOND", "HOTLINE_PAGE_THREADS"):
        assert f"ERROR   {variable}:" in result.output
    assert "TWILIO_CALLS_PER_SECOND=1" in result.output and "Traceback" not in result.output


def test_account_rates_default_to_twilios_and_are_read():
    assert (Settings.from_env({}).twilio_calls_per_second, Settings.from_env({}).twilio_sms_per_second) == (1.0, 10.0)
    read = Settings.from_env({"TWILIO_CALLS_PER_SECOND": "30", "TWILIO_SMS_PER_SECOND": "2.5"})
    assert (read.twilio_calls_per_second, read.twilio_sms_per_second) == (30.0, 2.5)


@pytest.mark.parametrize(("variable", "raw", "example"), [
    ("TWILIO_SMS_PER_SECOND", "0", "TWILIO_SMS_PER_SECOND=10 "), ("OUTBOUND_ALERT_PER_HOUR", "1.5",
                                                                  "OUTBOUND_ALERT_PER_HOUR=120 "),
    ("MISSED_CALL_SMS_HOURS", "x", "MISSED_CALL_SMS_HOURS=24 "), ("LIVE_WAIT_MINUTES", "61", "LIVE_WAIT_MINUTES=5\n"),
    ("CALLER_INCIDENT_WINDOW_MINUTES", "0", "CALLER_INCIDENT_WINDOW_MINUTES=60\n"),
    ("MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER", "three", "MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER=3 ")])
def test_the_fix_of_an_unreadable_number_suggests_its_default(cli, variable, raw, example):
    """The fix used to suggest values that were not the default (SMS=1, alerts at 3/h, LIVE_WAIT_MINUTES=15: warned)."""
    result = cli("check", **{variable: raw})
    assert f"ERROR   {variable}:" in result.output
    assert f"e.g. {example}" in result.output


def test_a_data_dir_that_cannot_be_made_is_one_line_naming_it_for_every_command(cli, tmp_path):
    """Each command crashed with a FileNotFoundError/NotADirectoryError traceback, and check said 0 errors."""
    (tmp_path / "a-file").write_text("")
    data_dir = str(tmp_path / "a-file" / "data")
    result = cli("check", "--no-twilio", HOTLINE_DATA_DIR=data_dir)
    assert result.exit_code == 1 and "ERROR   HOTLINE_DATA_DIR:" in result.output and "not a folder" in result.output
    for command in (("serve",), ("worker",), ("oncall", "now"), ("db", "upgrade")):
        _refused(cli(*command, HOTLINE_DATA_DIR=data_dir), "HOTLINE_DATA_DIR", command[0])


def test_a_twilio_number_not_in_e164_is_an_error_with_simulated_telephony_too(cli):
    """Simulated phones dial TWILIO_NUMBER and see it as the sender; 4155550100 passed check with 0 errors."""
    result = cli("check", "--no-twilio", TWILIO_NUMBER="4155550100")
    assert result.exit_code == 1
    assert "ERROR   TWILIO_NUMBER: '4155550100' is not a valid number in E.164" in result.output
    assert "TWILIO_NUMBER=+14155550100" in result.output
    assert "ERROR   TWILIO_NUMBER" not in cli("check", "--no-twilio", TWILIO_NUMBER="+14155550199").output


def test_callback_sla_with_a_unit_is_a_clear_error(cli):
    result = cli("oncall", "now", CALLBACK_SLA_MINUTES="15m")
    _refused(result, "CALLBACK_SLA_MINUTES", "oncall")
    assert "'15m'" in result.output and "CALLBACK_SLA_MINUTES=15" in result.output


def test_check_reports_every_unreadable_variable_at_once(cli):
    result = cli("check", CALLBACK_SLA_MINUTES="15m", ALLOWED_CALLBACK_REGIONS="US;GB", DEFAULT_REGION="USA")
    assert result.exit_code == 1
    for variable in ("CALLBACK_SLA_MINUTES", "ALLOWED_CALLBACK_REGIONS", "DEFAULT_REGION"):
        assert f"ERROR   {variable}:" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("url", ["not a url", "postgresql://postgres@127.0.0.1:1/nowhere", "sqlite://",
                                 "sqlite:///:memory:", "sqlite:///file:h?mode=memory&uri=true",
                                 "mysql://u:p@db/hotline"])
def test_bad_database_url_names_the_variable_without_a_traceback(cli, url):
    result = cli("oncall", "export", DATABASE_URL=url)
    _refused(result, "DATABASE_URL", "oncall")
    assert len(result.output.splitlines()) <= 3


@pytest.mark.parametrize(("url", "said"), [("sqlite://", "in-memory SQLite"), ("mysql://u:p@db/h", "PostgreSQL or SQLite")])
def test_a_database_no_process_could_share_is_refused_by_db_upgrade_and_check(cli, url, said):
    # `db upgrade` on sqlite:// exited 0 into a database gone with its process; check and serve then sent the
    # operator back to `db upgrade`
    for command in (("db", "upgrade"), ("check", "--no-twilio")):
        result = cli(*command, DATABASE_URL=url)
        assert result.exit_code != 0 and "DATABASE_URL" in result.output and said in result.output, result.output
        assert "Traceback" not in result.output


def test_bad_database_url_stops_serve(cli):
    result = cli("serve", DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere")
    _refused(result, "DATABASE_URL", "serve")
    assert "cannot connect" in result.output


def test_postgres_scheme_urls_are_normalized_and_work(cli, postgres_url):
    assert Settings.from_env({"DATABASE_URL": "postgres://u:p@db/hotline"}).database_url == \
        "postgresql+psycopg2://u:p@db/hotline"
    with scratch_schema("h5_pgurl") as url:
        assert url.startswith("postgresql+psycopg2://")
        result = cli("oncall", "now", DATABASE_URL=url.replace("postgresql+psycopg2://", "postgres://", 1))  # migrates
        assert result.exit_code == 0, result.output  # the empty schema under the advisory lock
        assert "(no schedules)" in result.output
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        engine.dispose()


def test_unreachable_redis_is_an_error_for_check(cli):
    """`hotline check` fails on it; `serve` and `worker` start with a warning (tests/faults: their real processes)."""
    result = cli("check", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.exit_code == 1 and "REDIS_URL" in result.output and "does not answer" in result.output
    assert "starting all the same" not in result.output


def test_dotenv_in_the_working_directory_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QUEUE_NAME=from-dotenv\nCALLBACK_SLA_MINUTES=20\n")
    monkeypatch.setenv("QUEUE_NAME", "placeholder")
    monkeypatch.delenv("QUEUE_NAME")  # monkeypatch restores the absence after the test
    monkeypatch.setenv("CALLBACK_SLA_MINUTES", "12")
    settings = Settings.from_env()
    assert settings.queue_name == "from-dotenv"
    assert settings.callback_sla_minutes == 12


def test_dotenv_mistakes_are_reported_like_environment_ones(cli, tmp_path):
    (tmp_path / ".env").write_text("ALLOWED_CALLBACK_REGIONS=US;GB\n")
    result = CliRunner().invoke(main, ["check"], env={"ALLOWED_CALLBACK_REGIONS": None, "REDIS_URL": REDIS_URL,
                                                     "HOTLINE_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 1
    assert "ALLOWED_CALLBACK_REGIONS: 'US;GB'" in result.output


TYPOS = {"SMTP_HOTS": "SMTP_HOST", "CALLBACK_SLA_MINUTE": "CALLBACK_SLA_MINUTES",
         "HOTLINE_WATCHDOG_SECOND": "HOTLINE_WATCHDOG_SECONDS"}


def _example_dotenv(tmp_path, extra: str = "") -> None:
    """.env.example as the working directory's .env (its data dir in ``tmp_path``), ``extra`` lines appended."""
    from pathlib import Path

    example = (Path(__file__).parents[2] / ".env.example").read_text()
    example = example.replace("HOTLINE_DATA_DIR=.hotline", f"HOTLINE_DATA_DIR={tmp_path / 'data'}")
    (tmp_path / ".env").write_text(example + extra)


def _unset_after(*names: str) -> dict[str, None]:
    """CliRunner's env entries that unset ``names`` and every setting the ``cli`` fixture leaves alone, restoring
    their absence after: the check reads the .env into os.environ, and a later test in this process must not see it."""
    from app.setting_names import DEV_NAMES, setting_names

    fixture_sets = {*UNSET, "HOTLINE_DATA_DIR", "DATABASE_URL", "REDIS_URL", "QUEUE_NAME"}
    return dict.fromkeys(name for name in (*names, *sorted(setting_names() | DEV_NAMES)) if name not in fixture_sets)


def test_misspelt_dotenv_keys_are_warnings_naming_the_setting_at_check_and_start(cli, tmp_path):
    """An outside probe appended SMTP_HOTS, CALLBACK_SLA_MINUTE and HOTLINE_WATCHDOG_SECOND to the .env: check said
    "0 error(s), 1 warning(s)" naming none, every customer e-mail was "skipped (no_smtp)" and the deadline stayed 15."""
    _example_dotenv(tmp_path, "".join(f"{typo}=5\n" for typo in TYPOS) + "FAVOURITE_COLOUR=blue\n")
    unset = _unset_after(*TYPOS, "FAVOURITE_COLOUR")
    checked = cli("check", "--no-twilio", **unset)
    for typo, setting in TYPOS.items():
        assert (f"WARNING {typo}: not a setting the hotline reads (did you mean {setting}?): this line of "
                f"{tmp_path / '.env'} changes nothing.\n        fix: rename it {setting}, or remove it") in checked.output
    assert "WARNING FAVOURITE_COLOUR: not a setting the hotline reads: this line of" in checked.output
    assert "fix: remove it (.env.example lists every setting" in checked.output
    refused = cli("worker", **(unset | PRODUCTION | {"TWILIO_NUMBER": ""}))  # the start-up checks print them too
    _refused(refused, "TWILIO_NUMBER", "worker")
    assert all(f"WARNING {typo}: not a setting the hotline reads (did you mean {setting}?)" in refused.output
               for typo, setting in TYPOS.items())


def test_a_clean_dotenv_and_others_variables_give_no_name_warning_but_a_misspelt_variable_does(cli, tmp_path):
    """.env.example as it is names only settings; the test suite's HOTLINE_TEST_*, what Twilio's CLI reads and what
    Kubernetes sets for a service named hotline are not the hotline's. A misspelt TWILIO_ variable is."""
    _example_dotenv(tmp_path, "PGSSLMODE=require\nHTTPS_PROXY=http://proxy.example.com:3128\n")
    others = {"HOTLINE_TEST_SOMETHING": "1", "TWILIO_REGION": "ie1", "TWILIO_API_KEY": "SK1",
              "HOTLINE_SERVICE_HOST": "10.0.0.1", "HOTLINE_PORT_8000_TCP": "tcp://10.0.0.1:8000"}
    unset = _unset_after("PGSSLMODE", "HTTPS_PROXY")
    checked = cli("check", "--no-twilio", **(unset | others))
    assert "not a setting the hotline reads" not in checked.output
    misspelt = cli("check", "--no-twilio", **(unset | others | {"TWILIO_AUTH_TOKN": "x"}))
    assert ("WARNING TWILIO_AUTH_TOKN: not a setting the hotline reads (did you mean TWILIO_AUTH_TOKEN?): this "
            "variable of the environment changes nothing.") in misspelt.output
    assert misspelt.output.count("not a setting the hotline reads") == 1


def test_import_naming_schedules_the_policy_does_not_page_is_refused(cli, tmp_path):
    config = tmp_path / "oncall.yaml"
    config.write_text(ONCALL_PRIMARY_ONLY)
    result = cli("oncall", "import", str(config))
    assert result.exit_code == 1
    assert "schedule 'primary'" in result.output and "nothing was changed" in result.output
    assert "escalation_policies" in result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Schedule)).scalar_one() == 0
    engine.dispose()


def test_readme_example_yaml_defines_every_schedule_the_default_policy_pages(cli, tmp_path):
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "readme.yaml"
    config.write_text("\n".join(line[2:] for line in block.splitlines()))
    result = cli("oncall", "import", str(config))
    assert result.exit_code == 0, result.output


def test_overlapping_overrides_are_reported(cli, tmp_path):
    config = tmp_path / "oncall.yaml"
    config.write_text(ONCALL_PRIMARY_ONLY.replace("oncall-emea", "primary") + """
    overrides:
      - {rep: Maria, starts_at: '2030-12-24T08:00:00Z', ends_at: '2030-12-27T08:00:00Z'}
      - {rep: Alice, starts_at: '2030-12-26T08:00:00Z', ends_at: '2030-12-28T08:00:00Z'}
  - name: secondary
    time_zone: UTC
    layers:
      - {rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20', members: [Maria]}
""")
    result = cli("oncall", "import", str(config))
    assert result.exit_code == 0, result.output
    assert "overrides for Maria and Alice overlap from 2030-12-26T08:00:00Z to 2030-12-27T08:00:00Z" in result.output
    checked = cli("check", "--no-twilio")
    assert "WARNING schedules[primary].overrides" in checked.output


def test_an_override_of_a_deactivated_rep_is_reported(cli, tmp_path):
    """It pages nobody while the rep stays deactivated (the layers' rep is on call instead): accepted, not in silence."""
    config = tmp_path / "oncall.yaml"
    config.write_text(ONCALL_PRIMARY_ONLY.replace("oncall-emea", "primary").replace(
        "  - {name: Maria", "  - {name: Dave, phone: '+14155550144', active: false}\n  - {name: Maria") + """
    overrides:
      - {rep: Dave, starts_at: '2030-12-24T08:00:00Z', ends_at: '2030-12-27T08:00:00Z'}
  - name: secondary
    time_zone: UTC
    layers:
      - {rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20', members: [Maria]}
""")
    result = cli("oncall", "import", str(config))
    assert result.exit_code == 0, result.output
    line = ("schedule 'primary': the override for Dave from 2030-12-24T08:00:00Z to 2030-12-27T08:00:00Z pages nobody "
            "while Dave is deactivated (Alice is on call instead)")
    assert line in result.output
    checked = cli("check", "--no-twilio")
    assert f"WARNING schedules[primary].overrides: {line}." in checked.output


def test_check_passes_a_complete_configuration_and_names_coverage_gaps(cli, tmp_path):
    config = tmp_path / "oncall.yaml"
    config.write_text(ONCALL_PRIMARY_ONLY.replace("oncall-emea", "primary") + """
  - name: secondary
    time_zone: UTC
    layers:
      - {rotation: daily, handoff_time: '09:00', starts_on: '2099-01-01', members: [Maria]}
""")
    assert cli("oncall", "import", str(config)).exit_code == 0
    without_worker = cli("check", "--no-twilio")
    assert without_worker.exit_code == 1
    assert "ERROR   watchdog: no watchdog holds its lease" in without_worker.output
    assert "WARNING schedules[secondary]: schedule 'secondary' has nobody on call from" in without_worker.output

    queue = f"test-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(REDIS_URL)
    worker = Worker([Queue(queue, connection=redis)], connection=redis, name=f"h5-{uuid.uuid4().hex[:6]}")
    worker.register_birth()
    try:
        from app.clock import SystemClock
        from app.db import Database
        from app.services import leases

        db = Database(f"sqlite:///{tmp_path / 'hotline.db'}")
        with db.transaction() as session:
            from datetime import timedelta

            leases.hold(session, leases.WATCHDOG, "test-host:1", SystemClock().now(), timedelta(seconds=60))
        db.dispose()
        alive = cli("check", "--no-twilio", QUEUE_NAME=queue)
    finally:
        worker.register_death()
        redis.close()
    assert "watchdog alive (test-host:1" in alive.output
    assert f"1 RQ worker(s) listen on queue '{queue}'" in alive.output
    assert alive.exit_code == 0, alive.output  # only the coverage warning is left


def test_check_asks_twilio_about_the_credentials_and_the_number(cli):
    from hotline_sim.twilio_api import SimulatedTwilio

    with SimulatedTwilio(validate=False, account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as sim:
        sim.point_number(TWILIO_NUMBER, PRODUCTION["PUBLIC_BASE_URL"])
        env = PRODUCTION | {"TWILIO_API_BASE_URL": sim.base_url}
        good = cli("check", **env)
        wrong_token = cli("check", **(env | {"TWILIO_AUTH_TOKEN": "wrong"}))
        foreign_number = cli("check", **(env | {"TWILIO_NUMBER": "+14155550199"}))
        sim.number_fields[TWILIO_NUMBER].update(voice_method="GET", sms_method="POST", sms_fallback_method="GET")
        by_get = cli("check", **env)
    assert f"ok      Twilio account accepts the credentials and owns {TWILIO_NUMBER}" in good.output
    assert (f"ok      {TWILIO_NUMBER}'s voice, fallback, status-callback and SMS webhooks point at "
            "https://hotline.example.com") in good.output
    assert "TWILIO_NUMBER" not in "".join(p for p in good.output.splitlines() if not p.startswith("ok"))
    assert (f"ERROR   TWILIO_NUMBER: {TWILIO_NUMBER} calls its webhooks with GET (voice_method, sms_fallback_method): "
            "the hotline answers POST only") in by_get.output and by_get.exit_code == 1
    assert "ERROR   TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN: Twilio answered 401" in wrong_token.output
    assert "ERROR   TWILIO_NUMBER: +14155550199 is not a phone number of account" in foreign_number.output


def test_check_fails_when_twilio_cannot_be_reached_and_serve_only_warns(cli):
    """An outside probe's outbound firewall refused api.twilio.com: check said "0 error(s)", the deployment's
    acceptance step passed, and nothing of the account, the number or its webhooks had been verified."""
    from app.config_check import twilio_account_problems
    from app.config_report import CheckReport, Role
    from app.settings import Settings

    with socket.socket() as closed:  # a local port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = PRODUCTION | {"TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}"}
    checked = cli("check", **env)
    assert checked.exit_code == 1, checked.output
    assert ("ERROR   TWILIO_API_BASE_URL: could not ask Twilio about the account: ConnectionRefusedError"
            in checked.output), checked.output
    assert "fix: let this host reach Twilio's API over HTTPS" in checked.output
    at_start = CheckReport()
    twilio_account_problems(Settings.from_env(env), at_start, Role.SERVE)
    assert at_start.errors == [] and [w.where for w in at_start.warnings] == ["TWILIO_API_BASE_URL"]


def _twilio_lines(output: str) -> list[str]:
    """check's lines about the number (its problems and their fixes)."""
    lines = output.splitlines()
    return [line for i, line in enumerate(lines) if line.startswith(("ERROR   TWILIO_NUMBER", "WARNING TWILIO_NUMBER"))
            or (line.startswith("        fix:") and lines[i - 1].startswith(("ERROR   TWILIO_NUMBER",
                                                                              "WARNING TWILIO_NUMBER")))]


def test_check_refuses_a_number_whose_webhooks_point_elsewhere(cli):
    """The probe's number: "A call comes in" at an old host, the SMS, fallback and status-callback URLs empty.
    check said 0 errors; callers would never have reached the hotline, nor reps' ACK/CALL texts."""
    from hotline_sim.twilio_api import SimulatedTwilio

    with SimulatedTwilio(validate=False, account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as sim:
        sim.point_number(TWILIO_NUMBER, "https://hotline.example.com")
        sim.number_fields[TWILIO_NUMBER].update(voice_url="https://old-hotline.example.net/twilio/voice",
                                                voice_fallback_url="", status_callback="", sms_url="")
        env = PRODUCTION | {"TWILIO_API_BASE_URL": sim.base_url}
        checked = cli("check", **env)
    assert checked.exit_code == 1
    assert _twilio_lines(checked.output) == [
        f'ERROR   TWILIO_NUMBER: {TWILIO_NUMBER}\'s "A call comes in" (voice_url) is '
        "https://old-hotline.example.net/twilio/voice, not this hotline's https://hotline.example.com/twilio/voice: "
        "callers would never reach the hotline.",
        f"        fix: in Twilio's console (Phone Numbers > Manage > Active numbers > {TWILIO_NUMBER}), Voice "
        'configuration, set "A call comes in" to HTTP POST https://hotline.example.com/twilio/voice',
        f'WARNING TWILIO_NUMBER: {TWILIO_NUMBER}\'s "Primary handler fails" (voice_fallback_url) is empty, not this '
        "hotline's https://hotline.example.com/twilio/voice/fallback: a caller whose intake webhook fails or takes "
        "over 15 s would hear Twilio's error, not be recorded.",
        f"        fix: in Twilio's console (Phone Numbers > Manage > Active numbers > {TWILIO_NUMBER}), Voice "
        'configuration, set "Primary handler fails" to HTTP POST https://hotline.example.com/twilio/voice/fallback',
        f'WARNING TWILIO_NUMBER: {TWILIO_NUMBER}\'s "Call status changes" (status_callback) is empty, not this '
        "hotline's https://hotline.example.com/twilio/voice/status: a caller who hangs up mid-intake would not be "
        "saved as an incident.",
        f"        fix: in Twilio's console (Phone Numbers > Manage > Active numbers > {TWILIO_NUMBER}), Voice "
        'configuration, set "Call status changes" to HTTP POST https://hotline.example.com/twilio/voice/status',
        f'ERROR   TWILIO_NUMBER: {TWILIO_NUMBER}\'s "A message comes in" (sms_url) is empty, not this hotline\'s '
        "https://hotline.example.com/twilio/sms: reps' ACK/CALL replies and customers' texts to the hotline would "
        "be lost.",
        f"        fix: in Twilio's console (Phone Numbers > Manage > Active numbers > {TWILIO_NUMBER}), Messaging "
        'configuration, set "A message comes in" to HTTP POST https://hotline.example.com/twilio/sms',
    ]
    assert f"ok      Twilio account accepts the credentials and owns {TWILIO_NUMBER}" in checked.output
    assert "webhooks point at" not in checked.output


@pytest.mark.parametrize(("voice_url", "same"), [
    ("https://hotline.example.com/twilio/voice/", False),  # a trailing slash: the route answers 404
    ("https://hotline.example.com:443/twilio/voice", True),  # the default port
    ("https://hotline.example.com/twilio/voice?source=console", True),  # a query changes nowhere Twilio posts
    ("http://hotline.example.com/twilio/voice", False),  # another scheme
    ("https://hotline.example.com:8443/twilio/voice", False),
    ("https://hotline.example.com.evil.test/twilio/voice", False),
    ("https://hotline.example.com/twilio/voice/fallback", False),  # another path
    ("https://hotline.example.com/twilio/Voice", False),  # paths are case-sensitive
])
def test_check_compares_the_voice_url_by_scheme_host_port_and_path(cli, voice_url, same):
    from hotline_sim.twilio_api import SimulatedTwilio

    with SimulatedTwilio(validate=False, account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as sim:
        sim.point_number(TWILIO_NUMBER, "https://hotline.example.com/")
        sim.number_fields[TWILIO_NUMBER]["voice_url"] = voice_url
        checked = cli("check", **(PRODUCTION | {"TWILIO_API_BASE_URL": sim.base_url}))
    assert (f"ERROR   TWILIO_NUMBER: {TWILIO_NUMBER}'s \"A call comes in\" (voice_url) is {voice_url}, not this "
            "hotline's https://hotline.example.com/twilio/voice" in checked.output) is not same
    assert ("webhooks point at https://hotline.example.com" in checked.output) is same


def test_check_says_which_spelling_of_the_host_twilio_signs_and_whether_the_hotline_accepts_it(cli):
    """An outside probe's PUBLIC_BASE_URL=https://LOCALHOST:8611 beside a number holding https://localhost:8611/...:
    check said the webhooks point at PUBLIC_BASE_URL ("host in any case"), then every webhook was refused (403),
    Twilio signing the URL the number holds. Signatures are now checked for PUBLIC_BASE_URL as written and in lower
    case: the lower-case number is accepted (a warning says so), a number in capitals beside a lower-case
    PUBLIC_BASE_URL is not (an error)."""
    from hotline_sim.twilio_api import SimulatedTwilio

    with SimulatedTwilio(validate=False, account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as sim:
        sim.point_number(TWILIO_NUMBER, "https://hotline.example.com")
        env = PRODUCTION | {"TWILIO_API_BASE_URL": sim.base_url}
        capitalised = cli("check", **(env | {"PUBLIC_BASE_URL": "https://HOTLINE.Example.com"}))
        sim.number_fields[TWILIO_NUMBER]["voice_url"] = "https://HOTLINE.Example.com/twilio/voice"
        console_in_capitals = cli("check", **env)
    assert "ok      PUBLIC_BASE_URL https://HOTLINE.Example.com" in capitalised.output
    assert _twilio_lines(capitalised.output) == [
        f'WARNING TWILIO_NUMBER: {TWILIO_NUMBER}\'s "A call comes in", "Primary handler fails", "Call status changes", '
        '"A message comes in" write the host of PUBLIC_BASE_URL (https://HOTLINE.Example.com) in lower case (e.g. '
        "https://hotline.example.com/twilio/voice): Twilio signs those requests for the URLs as held, and the hotline "
        "accepts a signature for PUBLIC_BASE_URL with its host in lower case as well as for it as written.",
        "        fix: nothing is refused; to write the address alike everywhere, set "
        "PUBLIC_BASE_URL=https://hotline.example.com"]
    assert console_in_capitals.exit_code == 1
    assert _twilio_lines(console_in_capitals.output) == [
        f'ERROR   TWILIO_NUMBER: {TWILIO_NUMBER}\'s "A call comes in" (voice_url) is '
        "https://HOTLINE.Example.com/twilio/voice: this hotline's https://hotline.example.com/twilio/voice written "
        "otherwise, and Twilio signs its requests for the URL as held while the hotline checks the signature for "
        "PUBLIC_BASE_URL as written or with its scheme and host in lower case only, so every request there would be "
        "refused (403): callers would never reach the hotline.",
        f"        fix: in Twilio's console (Phone Numbers > Manage > Active numbers > {TWILIO_NUMBER}), Voice "
        'configuration, set "A call comes in" to HTTP POST https://hotline.example.com/twilio/voice']


def test_check_reads_the_twiml_app_a_number_hands_its_calls_to(cli):
    from hotline_sim.twilio_api import SimulatedTwilio

    app_sid = "AP" + "1" * 32
    with SimulatedTwilio(validate=False, account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as sim:
        sim.point_number(TWILIO_NUMBER, "https://hotline.example.com")
        # Twilio ignores the number's own voice URLs while a TwiML App is set: the app's count
        sim.number_fields[TWILIO_NUMBER].update(voice_application_sid=app_sid)
        sim.applications[app_sid] = {"voice_url": "https://old-hotline.example.net/twilio/voice",
                                     "voice_fallback_url": "https://hotline.example.com/twilio/voice/fallback",
                                     "status_callback": "https://hotline.example.com/twilio/voice/status"}
        env = PRODUCTION | {"TWILIO_API_BASE_URL": sim.base_url}
        wrong_app = cli("check", **env)
        sim.applications[app_sid]["voice_url"] = "https://hotline.example.com/twilio/voice"
        right_app = cli("check", **env)
        del sim.applications[app_sid]
        unreadable = cli("check", **env)
    assert wrong_app.exit_code == 1
    assert _twilio_lines(wrong_app.output) == [
        f'ERROR   TWILIO_NUMBER: TwiML App {app_sid} (voice_application_sid of {TWILIO_NUMBER}) "A call comes in" '
        "(voice_url) is https://old-hotline.example.net/twilio/voice, not this hotline's "
        "https://hotline.example.com/twilio/voice: callers would never reach the hotline.",
        f"        fix: in Twilio's console (Voice > TwiML > TwiML Apps > {app_sid}), Voice configuration, set "
        '"A call comes in" to HTTP POST https://hotline.example.com/twilio/voice']
    assert _twilio_lines(right_app.output) == [] and "webhooks point at" in right_app.output
    [headline, fix] = _twilio_lines(unreadable.output)
    assert headline.startswith(f"WARNING TWILIO_NUMBER: {TWILIO_NUMBER}'s voice webhooks are those of TwiML App "
                               f"{app_sid} (voice_application_sid), which could not be read: Twilio answered HTTP 404")
    assert "POST https://hotline.example.com/twilio/voice;" in fix


def test_serve_and_worker_start_with_a_number_pointed_elsewhere_and_say_so(cli):
    """An error for check, a warning at start: a worker refused start would page nobody for callers already
    recorded, and a new deployment starts before the number is moved over to it."""
    from app.config_check import Role, run_checks
    from hotline_sim.twilio_api import SimulatedTwilio

    with SimulatedTwilio(validate=False, account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN) as sim:
        sim.point_number(TWILIO_NUMBER, "https://old-hotline.example.net")
        env = PRODUCTION | {"TWILIO_API_BASE_URL": sim.base_url}
        reports = {role: run_checks(env, role=role) for role in (Role.CHECK, Role.SERVE, Role.WORKER)}
    for role, report in reports.items():
        about_number = [p for p in report.problems if p.where == "TWILIO_NUMBER"]
        assert len(about_number) == 4
        voice = next(p for p in about_number if "(voice_url)" in p.message)
        assert voice.severity == ("error" if role == Role.CHECK else "warning")
        assert voice.fix.endswith("POST https://hotline.example.com/twilio/voice")


def test_settings_error_names_variable_and_fix():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"DEFAULT_REGION": "Germany"})
    assert caught.value.variable == "DEFAULT_REGION" and "ISO 3166" in caught.value.fix


def test_a_fresh_database_answers_healthz_and_pages_with_the_fix(tmp_path, redis_conn):
    from app import create_app
    from app.queue import JobQueue
    from app.wiring import Hotline

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    hotline = Hotline.build(settings, jobs=JobQueue(redis_conn, "test-fresh"))
    client = create_app(hotline).test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["checks"]["schema"] == "error: the database is empty (no tables); run `hotline db upgrade`"
    login = client.get("/login")
    assert login.status_code == 503 and "hotline db upgrade" in login.get_json()["detail"]
    from app.migrate import upgrade

    upgrade(settings.resolved_database_url)
    assert client.get("/healthz").get_json()["checks"]["schema"] == "ok"
    assert client.get("/login").status_code == 200
    hotline.db.dispose()


def test_version_is_printed(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.output.startswith("hotline, version ")


def test_a_refused_page_is_logged_at_the_workers_default_level_without_the_number(hotline, caplog):
    import logging

    from app.models import Channel, PageStatus
    from app.services.page_urls import PageUrls
    from app.services.pages import PageSender
    from app.telephony import Rejected
    from tests.fakes import SimulatedTelephony
    from tests.integration.board_support import make_incident, page

    incident_id = make_incident(hotline)
    page_id = page(hotline, incident_id, "Alice", None, Channel.SMS, PageStatus.QUEUED, phone="+4930901820")
    telephony = SimulatedTelephony(hotline.clock)
    telephony.fail_next(Rejected("HTTP 400 error 21603: A 'From' phone number is required (to +4930901820)"))
    with caplog.at_level(logging.WARNING):  # the worker's default level
        PageSender(hotline.db, telephony, PageUrls(hotline.settings)).send(page_id, hotline.clock.now())
    [line] = [r.getMessage() for r in caplog.records if r.name == "app.services.pages"]
    assert f"page {page_id} of incident {incident_id} (sms) failed, attempt 1, giving up" in line
    assert "21603" in line and "+4930901820" not in line and "<number>" in line


def test_create_app_under_a_wsgi_server_exits_with_the_message_not_a_traceback(monkeypatch, tmp_path, capsys):
    from app import create_app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CALLBACK_SLA_MINUTES", "15m")
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert stopped.value.code == 3  # gunicorn: "worker failed to boot", the master stops
    assert "configuration error: CALLBACK_SLA_MINUTES" in capsys.readouterr().err


def test_two_processes_migrating_a_fresh_postgresql_at_once_do_not_race(tmp_path, postgres_url):
    from concurrent.futures import ThreadPoolExecutor

    from app.migrate import upgrade_locked
    from app.probes import schema_state

    with scratch_schema("h5_lock") as url:
        with ThreadPoolExecutor(max_workers=2) as pool:  # web and worker starting together
            results = [pool.submit(upgrade_locked, url, tmp_path / f"d{i}") for i in range(2)]
            for result in results:
                result.result()  # raises if either migration failed
        migrated = create_engine(url)
        assert schema_state(migrated).at_head
        migrated.dispose()


def test_check_reports_helpdesk_webhook_settings_and_failed_deliveries(cli, tmp_path):
    short = cli("check", "--no-twilio", HELPDESK_WEBHOOK_URL="https://helpdesk.example/hooks",
                HELPDESK_WEBHOOK_SECRET="short")
    assert "ERROR   HELPDESK_WEBHOOK_SECRET: must be set (16 characters or more)" in short.output
    from datetime import timedelta

    from app.clock import SystemClock
    from app.db import Database
    from app.models import DeliveryStatus, HelpdeskDelivery
    from app.services.events import log_event

    assert cli("oncall", "now").exit_code == 0  # migrates the database
    db = Database(f"sqlite:///{tmp_path / 'hotline.db'}")
    now = SystemClock().now()
    with db.transaction() as session:
        event = log_event(session, at=now, actor="system", kind="note")
        session.flush()
        session.add(HelpdeskDelivery(event_id=event.id, kind="incident.opened", status=DeliveryStatus.FAILED,
                                     attempts=6, next_attempt_at=now, created_at=now - timedelta(hours=1)))
    db.dispose()
    failed = cli("check", "--no-twilio", HELPDESK_WEBHOOK_URL="https://helpdesk.example/hooks",
                 HELPDESK_WEBHOOK_SECRET="s" * 32)
    assert "WARNING HELPDESK_WEBHOOK_URL: 1 webhook deliveries failed for good in the last 24 hours" in failed.output


def test_a_twilio_api_base_url_the_worker_cannot_send_to_is_refused_at_start(cli):
    for raw in ("api.twilio.com", "ftp://api.twilio.com", "http://:8080", "http://127.0.0.1:port"):
        _refused(cli("worker", TWILIO_API_BASE_URL=raw), "TWILIO_API_BASE_URL", "worker")
    assert Settings.from_env({"TWILIO_API_BASE_URL": "http://127.0.0.1:8099/"}).twilio_api_base_url == \
        "http://127.0.0.1:8099"
    assert Settings.from_env({}).twilio_api_base_url == "https://api.twilio.com"


SMTP_PASSWORD = "Pa55-w0rd-only-the-server-knows"


class WatchedInbox(Inbox):
    """What the SMTP server was asked: each login (user, password right?), each MAIL FROM, each message."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[tuple[bytes, bool]] = []
        self.mechanisms: list[str] = []  # the AUTH mechanism of each login
        self.senders: list[str] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's hook
        """Record the sender, then accept it as aiosmtpd does by default."""
        self.senders.append(address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        """aiosmtpd authenticator: user "hotline" with SMTP_PASSWORD, anything else refused with 535."""
        from aiosmtpd.smtp import AuthResult

        right = auth_data.login == b"hotline" and auth_data.password == SMTP_PASSWORD.encode()
        self.logins.append((auth_data.login, right))
        self.mechanisms.append(mechanism)
        return AuthResult(success=right, handled=False)  # not handled: aiosmtpd answers 535 itself


@contextmanager
def _watched_server(**options: object) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that records what it is asked (``options``: aiosmtpd's)."""
    inbox = WatchedInbox()
    server = SmtpServer(inbox, authenticator=inbox.authenticate, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_server():
    """One that offers AUTH without TLS (it is local)."""
    with _watched_server(auth_require_tls=False) as server:
        yield server


def _smtp_env(port: int, **env: str) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_TLS": "none", "SMTP_USERNAME": "hotline",
            "SMTP_PASSWORD": SMTP_PASSWORD} | env


def test_check_logs_in_to_the_smtp_server_and_sends_nothing(cli, mail_server):
    result = cli("check", "--no-twilio", **_smtp_env(mail_server.port))
    assert f"ok      SMTP server 127.0.0.1:{mail_server.port} accepts the connection (no TLS) and the login" \
        in result.output
    assert "SMTP_" not in result.output.replace(f"ok      SMTP server 127.0.0.1:{mail_server.port}", "")
    assert mail_server.inbox.logins == [(b"hotline", True)]
    assert mail_server.inbox.senders == [] and mail_server.inbox.messages == []

    from app.mail import send_mail  # the same server and settings do take a message: the check just sent none

    send_mail(Settings.from_env(_smtp_env(mail_server.port)), to="ops@customer.example", subject="s", body="b")
    assert len(mail_server.inbox.senders) == 1 and len(mail_server.inbox.to("ops@customer.example")) == 1


def test_a_refused_smtp_login_is_an_error_naming_username_and_password_but_not_the_password(cli, mail_server):
    wrong = "Wr0ng-but-still-secret"
    result = cli("check", "--no-twilio", **_smtp_env(mail_server.port, SMTP_PASSWORD=wrong))
    assert result.exit_code == 1
    assert (f"ERROR   SMTP_USERNAME/SMTP_PASSWORD: the SMTP server 127.0.0.1:{mail_server.port} refused the login: "
            "SMTPAuthenticationError: the server answered 535 5.7.8 Authentication credentials invalid.") \
        in result.output
    assert wrong not in result.output and "Traceback" not in result.output
    assert mail_server.inbox.logins == [(b"hotline", False)]  # one failed login, not one per mechanism offered
    assert mail_server.inbox.senders == []

    from app.mail import MailError, send_mail  # sending meets the same refusal, and gives up at once (5xx)

    with pytest.raises(MailError) as refused:
        send_mail(Settings.from_env(_smtp_env(mail_server.port, SMTP_PASSWORD=wrong)), to="a@b.example",
                  subject="s", body="b")
    assert str(refused.value) == "SMTP 535" and refused.value.permanent
    assert mail_server.inbox.logins == [(b"hotline", False)] * 2  # the check's attempt and the send's


def test_starttls_secures_the_session_before_one_plain_login(tmp_path, monkeypatch):
    import ssl

    import trustme

    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))  # what ssl.create_default_context() trusts
    from app.mail import send_mail
    from app.probes import smtp_problem

    # auth_require_tls (aiosmtpd's default): AUTH is offered only once STARTTLS has secured the session
    with _watched_server(tls_context=server_tls, require_starttls=True) as server:
        settings = Settings.from_env(_smtp_env(server.port, SMTP_TLS="starttls"))
        assert smtp_problem(settings) is None
        send_mail(settings, to="ops@customer.example", subject="s", body="b")
        wrong = Settings.from_env(_smtp_env(server.port, SMTP_TLS="starttls", SMTP_PASSWORD="Wr0ng"))
        assert smtp_problem(wrong)[0] == "login"
    inbox = server.inbox
    assert inbox.logins == [(b"hotline", True), (b"hotline", True), (b"hotline", False)]
    assert inbox.mechanisms == ["PLAIN"] * 3  # over TLS, PLAIN first: one attempt each
    assert len(inbox.to("ops@customer.example")) == 1


class SlowSmtp(socketserver.StreamRequestHandler):
    """An SMTP server that takes ``delay`` seconds over every reply (greeting, EHLO, AUTH, QUIT)."""

    delay = 0.0

    def _reply(self, text: str) -> None:
        time.sleep(self.delay)  # the server's slowness is what is tested, not a wait for the test's sake
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 slow.example ESMTP")
        for line in self.rfile:
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                self._reply("250-slow.example\r\n250 AUTH PLAIN")
            elif verb == b"AUTH":
                self._reply("235 2.7.0 Authentication successful")
            elif verb == b"QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not here")


def test_the_smtp_check_bounds_the_whole_session_not_each_reply(monkeypatch):
    from app import probes

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SlowSmtp)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    monkeypatch.setattr(probes, "CONNECT_TIMEOUT_SECONDS", 2.0)
    try:
        SlowSmtp.delay = 0.9  # each reply in time (0.9 s < 2 s); greeting, EHLO and AUTH together not (2.7 s)
        slow = probes.smtp_problem(Settings.from_env(_smtp_env(port)))
        SlowSmtp.delay = 0.1
        quick = probes.smtp_problem(Settings.from_env(_smtp_env(port)))
    finally:
        server.shutdown()
        server.server_close()
    assert slow[0] == "unreachable" and "timed out" in slow[1]  # the AUTH reply came after the 2 s
    assert quick is None


def test_a_server_offering_only_login_is_logged_in_with_it():
    from app.mail import send_mail

    with _watched_server(auth_require_tls=False, auth_exclude_mechanism=["PLAIN"]) as server:
        send_mail(Settings.from_env(_smtp_env(server.port)), to="ops@customer.example", subject="s", body="b")
    inbox = server.inbox
    assert inbox.logins == [(b"hotline", True)] and inbox.mechanisms == ["LOGIN"]
    assert len(inbox.to("ops@customer.example")) == 1


def test_a_tls_mode_the_smtp_server_does_not_speak_is_an_error_naming_smtp_tls(cli, mail_server):
    starttls = cli("check", "--no-twilio", **_smtp_env(mail_server.port, SMTP_TLS="starttls"))
    assert (f"ERROR   SMTP_TLS: securing the connection to the SMTP server 127.0.0.1:{mail_server.port} (STARTTLS) "
            "failed: SMTPNotSupportedError: STARTTLS extension not supported by server.") in starttls.output
    ssl = cli("check", "--no-twilio", **_smtp_env(mail_server.port, SMTP_TLS="ssl"))
    assert f"ERROR   SMTP_TLS: securing the connection to the SMTP server 127.0.0.1:{mail_server.port} (SSL) " \
        "failed: SSLError" in ssl.output
    assert mail_server.inbox.logins == []  # no password went over a connection that TLS did not secure
    assert SMTP_PASSWORD not in starttls.output + ssl.output

    from app.mail import MailError, send_mail  # the same rule for a message: given up at once, not retried

    for mode in ("starttls", "ssl"):
        with pytest.raises(MailError) as failed:
            send_mail(Settings.from_env(_smtp_env(mail_server.port, SMTP_TLS=mode)), to="a@b.example",
                      subject="s", body="b")
        assert failed.value.permanent, mode
    assert mail_server.inbox.logins == [] and mail_server.inbox.senders == []


def test_an_smtp_server_nobody_listens_on_is_a_warning_naming_host_and_port(cli):
    port = free_port()
    result = cli("check", "--no-twilio", **_smtp_env(port))
    assert (f"WARNING SMTP_HOST/SMTP_PORT: cannot use the SMTP server 127.0.0.1:{port} now: "
            "ConnectionRefusedError: [Errno 111] Connection refused.") in result.output
    assert "ERROR   SMTP" not in result.output and "ok      SMTP" not in result.output

    from app.mail import MailError, send_mail  # a message to a server that is not there (yet) is retried

    with pytest.raises(MailError) as failed:
        send_mail(Settings.from_env(_smtp_env(port)), to="a@b.example", subject="s", body="b")
    assert "ConnectionRefusedError" in str(failed.value) and not failed.value.permanent
    without = cli("check", "--no-twilio")  # SMTP_HOST unset: e-mail is off, nothing is probed or said
    assert "SMTP" not in without.output


@pytest.mark.parametrize("role", ["serve", "worker"])
def test_smtp_problems_do_not_stop_serve_or_worker(mail_server, role, tmp_path, monkeypatch, capsys):
    from app.startup import checked_settings

    monkeypatch.chdir(tmp_path)
    base = dict.fromkeys(UNSET, "") | {"HOTLINE_DATA_DIR": str(tmp_path / "data"),
                                       "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
                                       "REDIS_URL": REDIS_URL, "QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}"}
    port = free_port()
    for env in (_smtp_env(mail_server.port, SMTP_PASSWORD="wrong"), _smtp_env(port)):
        for name, value in (base | env).items():
            monkeypatch.setenv(name, value)
        settings = checked_settings(role)  # exits 2 on an error
        assert settings.smtp_port == int(env["SMTP_PORT"])
    printed = capsys.readouterr().err
    assert f"WARNING SMTP_USERNAME/SMTP_PASSWORD: the SMTP server 127.0.0.1:{mail_server.port} refused the login" \
        in printed
    assert f"WARNING SMTP_HOST/SMTP_PORT: cannot use the SMTP server 127.0.0.1:{port} now" in printed
    assert "ERROR" not in printed and "did not start" not in printed


def test_a_mail_from_on_localhost_is_a_warning_when_email_is_on(cli, mail_server):
    """Updates by e-mail from hotline@localhost are refused or filed as spam, and the customer's reply is lost."""
    default = cli("check", "--no-twilio", **_smtp_env(mail_server.port))
    assert "WARNING MAIL_FROM: 'Sev-1 Hotline <hotline@localhost>' is not an address of a real domain" in default.output
    own = cli("check", "--no-twilio", **_smtp_env(mail_server.port, MAIL_FROM="Sev-1 Hotline <sev1@mailco.example>"))
    assert "MAIL_FROM" not in own.output
    off = cli("check", "--no-twilio")  # no SMTP_HOST: e-mail is off, nothing to say about its sender
    assert "MAIL_FROM" not in off.output


@pytest.mark.parametrize(("raw", "words"), [("redis://127.0.0.1:6379/abc", "names the database 'abc'"),
                                            ("http://127.0.0.1:6379/0", "is not a redis://"),
                                            ("redis:///0", "is not a redis://")])
def test_a_redis_url_redis_py_would_misread_stops_every_command(cli, raw, words):
    """redis-py took ``/abc`` silently as database 0: web and worker could share work with another deployment."""
    result = cli("check", "--no-twilio", REDIS_URL=raw)
    assert result.exit_code == 1 and "ERROR   REDIS_URL:" in result.output and words in result.output
    assert "e.g. REDIS_URL=redis://127.0.0.1:6379/0" in result.output
    _refused(cli("worker", REDIS_URL=raw), "REDIS_URL", "worker")


def test_a_redis_url_with_a_database_number_or_a_socket_is_read_as_given():
    for raw in ("redis://127.0.0.1:6379/3", "rediss://user:pw@redis.example.com:6380", "unix:///run/redis.sock?db=2"):
        assert Settings.from_env({"REDIS_URL": raw}).redis_url == raw


def test_the_placeholder_ticket_howto_is_warned_about_with_twilio_on(cli):
    """Non-critical callers would be texted to write to support@example.com."""
    placeholder = cli("check", "--no-twilio", **PRODUCTION)
    assert "TICKET_HOWTO: is the placeholder text" in placeholder.output
    own = cli("check", "--no-twilio", **(PRODUCTION | {"TICKET_HOWTO": "Open a ticket at https://help.acme.example"}))
    assert "TICKET_HOWTO" not in own.output


def test_check_warns_of_trusted_proxy_headers_without_a_public_base_url(cli):
    result = cli("check", "--no-twilio", TRUST_PROXY_HEADERS="true")
    assert "WARNING TRUST_PROXY_HEADERS: is on but PUBLIC_BASE_URL is not set" in result.output, result.output
    quiet = cli("check", "--no-twilio", TRUST_PROXY_HEADERS="true", PUBLIC_BASE_URL="http://localhost:8000")
    assert "TRUST_PROXY_HEADERS" not in quiet.output
