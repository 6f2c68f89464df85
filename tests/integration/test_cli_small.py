"""Small CLI fixes: `simulate` survives a bad /record, `tickets import --help` lists the columns, --version."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.cli import main
from app.services.ticket_input import TICKET_FIELDS
from tests.conftest import REDIS_URL


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "REDIS_URL": REDIS_URL, "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}


def test_simulate_survives_record_with_a_word_and_a_record_before_the_recording(env):
    result = CliRunner().invoke(main, ["simulate"], env=env, input="/record abc\n/record 20\n/hangup\n",
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "[usage: /record [seconds], a whole number from 1 to 600, e.g. /record 30]" in result.output
    assert "[the hotline is not recording yet" in result.output
    assert "[you hung up]" in result.output


def test_tickets_import_help_lists_every_column(env):
    result = CliRunner().invoke(main, ["tickets", "import", "--help"], env=env)
    assert result.exit_code == 0
    for column in TICKET_FIELDS:
        assert column in result.output
    assert "number and company are required" in result.output


def _worker_runs(database_url: str) -> None:
    """A `hotline worker` beside the in-process app: its watchdog's lease is held, on the real clock."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from app.services import leases

    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        assert leases.hold(session, leases.WATCHDOG, "worker-beside", datetime.now(UTC), timedelta(hours=1))
    engine.dispose()


def test_simulate_can_wait_on_the_line_after_the_intake_and_hang_up(env):
    """Issue 13: the terminal phone accepts the live-connect offer, holds (each Enter is one waitUrl round)."""
    answers = ["1", "1", "#", "Acme Mail", "Dana Smith", "1", "dana at acme dot example", "1",
               "Every API call fails.", "/record 5", "1", "1", "", "hello", "/hangup"]
    assert CliRunner().invoke(main, ["simulate"], env=env, input="/hangup\n").exit_code == 0  # the schema is made
    _worker_runs(env["DATABASE_URL"])  # the wait is offered only while a `hotline worker` runs (app.watchdog_state)
    result = CliRunner().invoke(main, ["simulate"], env=env, input="\n".join(answers) + "\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "No engineer is free yet" in result.output and "Please hold while we page an engineer." in result.output
    assert "[plays http" in result.output and "[you are on hold" in result.output
    assert "[you hung up]" in result.output


def test_simulate_against_a_hotline_that_cannot_be_reached_is_one_line(env):
    result = CliRunner().invoke(main, ["simulate", "--url", "http://127.0.0.1:1"], env=env, input="/hangup\n")
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    assert "Error: the hotline at http://127.0.0.1:1 cannot be reached:" in result.output
    assert "Traceback" not in result.output


def test_simulate_signing_with_another_token_is_told_why_in_one_line(env, served):
    """The served hotline signs with the test token; this CLI's data dir has a token of its own: 403."""
    result = CliRunner().invoke(main, ["simulate", "--url", served], env=env, input="/hangup\n")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Error: the hotline did not answer the call:" in result.output
    assert "403: the signature did not match: PUBLIC_BASE_URL must be the address" in result.output
