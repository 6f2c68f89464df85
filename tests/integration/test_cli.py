"""The `hotline` command as an operator uses it: on-call YAML, tickets CSV, API tokens."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import REDIS_URL

ONCALL_YAML = """
reps:
  - {name: Alice, phone: '+14155550111', time_zone: America/Los_Angeles}
  - {name: Bob, phone: '+14155550122'}
  - {name: Maria, phone: '+14155550133', is_manager: true}
schedules:
  - name: primary
    time_zone: Europe/Berlin
    layers:
      - {rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20', members: [Alice, Bob]}
  - name: secondary
    time_zone: Europe/Berlin
    layers:
      - {rotation: daily, handoff_time: '09:00', starts_on: '2026-10-20', members: [Bob, Alice]}
"""


@pytest.fixture
def run(tmp_path):
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "REDIS_URL": REDIS_URL, "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_oncall_import_now_and_export_round_trip(run, tmp_path):
    config = tmp_path / "oncall.yaml"
    config.write_text(ONCALL_YAML)
    imported = run("oncall", "import", str(config))
    assert imported.exit_code == 0, imported.output
    # Berlin falls back on 2026-10-25: Saturday's 09:00 CEST shift runs until 08:00 UTC on Sunday
    before = run("oncall", "now", "--at", "2026-10-25T07:59:00Z")
    after = run("oncall", "now", "--at", "2026-10-25T08:00:00Z")
    assert "primary [Europe/Berlin, Sun 08:59 CET]: Alice (+14155550111)" in before.output
    assert "primary [Europe/Berlin, Sun 09:00 CET]: Bob (+14155550122)" in after.output
    assert "Managers: Maria (+14155550133)" in after.output
    exported = run("oncall", "export")
    assert exported.exit_code == 0 and "members: [Alice, Bob]" in exported.output
    config.write_text(exported.output)
    assert run("oncall", "import", str(config)).exit_code == 0
    assert run("oncall", "export").output == exported.output


def test_oncall_import_of_an_unchanged_export_says_nothing_changed(run, tmp_path):
    config = tmp_path / "oncall.yaml"
    config.write_text(ONCALL_YAML)
    assert "reps: 3 created, 0 updated, 0 unchanged;" in run("oncall", "import", str(config)).stdout
    config.write_text(run("oncall", "export").stdout)
    again = run("oncall", "import", str(config))
    assert again.exit_code == 0
    assert again.stdout.startswith("reps: 0 created, 0 updated, 3 unchanged; schedules: 0 created, 0 updated, "
                                   "2 unchanged;")
    config.write_text(config.read_text().replace("'+14155550122'", "'+14155550129'"))  # Bob's phone
    assert "reps: 0 created, 1 updated, 2 unchanged;" in run("oncall", "import", str(config)).stdout


def test_the_export_of_an_empty_database_imports(run, tmp_path):
    config = tmp_path / "oncall.yaml"
    exported = run("oncall", "export").stdout
    config.write_text(exported)
    imported = run("oncall", "import", str(config))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.strip().endswith("escalation policies: 0 created, 0 updated, 0 unchanged, "
                                            "1 built-in default, not stored")
    assert "warning: the built-in default escalation policy pages schedules 'primary', 'secondary'" in imported.stderr
    assert run("oncall", "export").stdout == exported


def test_oncall_import_error_names_the_place_and_changes_nothing(run, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(ONCALL_YAML.replace("members: [Alice, Bob]", "members: [Alice, Zed]"))
    result = CliRunner().invoke(main, ["oncall", "import", str(config)],
                                env={"HOTLINE_DATA_DIR": str(tmp_path / "d"), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
                                     "REDIS_URL": REDIS_URL})
    assert result.exit_code != 0
    assert "members[1]" in result.output and "Zed" in result.output and "nothing was changed" in result.output
    assert "Alice" not in CliRunner().invoke(main, ["oncall", "export"], env={
        "HOTLINE_DATA_DIR": str(tmp_path / "d"), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
        "REDIS_URL": REDIS_URL}).output


@pytest.mark.parametrize(("phone", "why"), [
    ("+14155550111;ext=12", "has an extension (12): a page cannot dial an extension, give the rep's direct number"),
    ("+442079460000x", "has 'x' besides the number: write only + and the digits (a page cannot dial an extension)"),
])
def test_oncall_import_refuses_a_reps_number_with_an_extension_or_junk_and_exports_nothing(run, tmp_path, phone, why):
    # an outside probe's import took both and the export showed +14155550111 and +442079460000
    config = tmp_path / "oncall.yaml"
    config.write_text(ONCALL_YAML.replace("'+14155550111'", f"'{phone}'"))
    result = run("oncall", "import", str(config))
    assert result.exit_code == 1
    assert f"reps[0].phone: '{phone}' {why}" in result.output and "nothing was changed" in result.output
    exported = run("oncall", "export").output
    assert "Alice" not in exported and phone[:12] not in exported


def test_tickets_import_reports_bad_rows_and_keeps_good_ones(run, tmp_path):
    csv = tmp_path / "tickets.csv"
    csv.write_text("number,company,contact_phone\n4521,Acme Mail,+14155550100\nABC,Broken,+1\n")
    result = run("tickets", "import", str(csv))
    assert result.exit_code == 1
    assert "1 created, 0 updated, 1 rejected" in result.output and "line 3" in result.output


def test_api_token_create_prints_a_token_once_and_revoke_names_it(run):
    created = run("api-token", "create", "helpdesk")
    token = created.output.strip()
    assert created.exit_code == 0 and token.startswith("hl_") and len(token) > 30
    again = run("api-token", "create", "helpdesk")  # a rotation under the same name would be revoked with the old
    assert again.exit_code != 0 and "already named 'helpdesk'" in again.output and "hl_" not in again.output
    rotated = run("api-token", "create", "helpdesk-2")
    assert rotated.exit_code == 0
    assert "revoked the token named helpdesk" in run("api-token", "revoke", "helpdesk").output
    listed = run("api-token", "list").output
    assert "\thelpdesk\t" in listed and "revoked" in listed and "\thelpdesk-2\ttickets:write\tactive" in listed
    assert run("api-token", "create", "helpdesk").exit_code == 0  # a revoked token's name is free again


def test_api_token_revoke_refuses_a_name_two_active_tokens_share(run, tmp_path):
    from sqlalchemy import create_engine, insert, select

    from app.models import ApiToken

    assert run("api-token", "create", "helpdesk").exit_code == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")  # a second one made before names were unique
    with engine.begin() as conn:
        first = conn.execute(select(ApiToken.__table__).where(ApiToken.name == "helpdesk")).one()
        conn.execute(insert(ApiToken.__table__).values(name="helpdesk", token_hash="x" * 64, created_at=first.created_at,
                                                       scopes=first.scopes))
    engine.dispose()
    refused = run("api-token", "revoke", "helpdesk")
    assert refused.exit_code != 0 and "2 active API tokens are named 'helpdesk'" in refused.output
    assert "revoked the token named helpdesk" in run("api-token", "revoke", str(first.id)).output


def test_serve_refuses_a_port_outside_1_to_65535_before_starting(run):
    for port in ("99999", "0", "-1"):
        for extra in ((), ("--dev",)):  # --dev served 99999 on 34463 (the port modulo 65536)
            result = CliRunner().invoke(main, ["serve", "--port", port, *extra])
            assert result.exit_code == 2 and "--port" in result.output and "65535" in result.output, result.output


@pytest.mark.parametrize("command", [("oncall", "import"), ("tickets", "import")])
def test_a_file_that_is_missing_or_a_directory_is_a_usage_error_for_both_imports(run, tmp_path, command):
    for path in (tmp_path / "missing.file", tmp_path):
        result = run(*command, str(path))
        assert result.exit_code == 2, result.output
        assert str(path) in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", [("oncall", "import"), ("tickets", "import")])
def test_a_file_whose_contents_are_refused_exits_1_for_both_imports(run, tmp_path, command):
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("number,company\n4521,Société\n".encode("latin-1"))
    result = run(*command, str(latin))
    assert result.exit_code == 1 and "not UTF-8 text" in result.output, result.output


def test_option_values_that_do_not_parse_are_usage_errors(run):
    at = run("oncall", "now", "--at", "tomorrow")
    assert at.exit_code == 2 and "--at" in at.output, at.output
    scope = run("api-token", "create", "helpdesk", "--scope", "everything")
    assert scope.exit_code == 2 and "--scope" in scope.output and "hl_" not in scope.output, scope.output
    assert run("api-token", "list").output == ""  # no token was made


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1:8000", "http://"])
def test_simulate_with_a_url_that_is_no_http_address_is_a_usage_error(run, url):
    # an outside probe: `hotline simulate --url notaurl` printed a traceback ("unknown url type") and exited 1
    result = run("simulate", "--url", url)
    assert result.exit_code == 2 and "--url" in result.output and "http://" in result.output, result.output
    assert "Traceback" not in result.output


def test_db_upgrade_says_whether_it_migrated_anything(run):
    # an outside probe: the first real upgrade and a run with nothing to do printed the same "database at head" line
    first, again = run("db", "upgrade"), run("db", "upgrade")
    assert first.exit_code == 0 and "(migrated from: the database is empty (no tables))" in first.output, first.output
    assert again.exit_code == 0 and "database at head (" in again.output and "(nothing to do)" in again.output
