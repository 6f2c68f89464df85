"""Secrets and data files are readable by the service's user alone (issue 9, row 4)."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from app.cli import main
from app.db import Database
from app.migrate import upgrade
from app.services.page_urls import BadAckLink, PageUrls
from app.services.spool import spool
from app.settings import Settings
from app.voice.signature import is_signed
from tests.conftest import REDIS_URL


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """The usual umask 022, under which plain creation gives 0755 dirs and 0644 files."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_data_dir_secrets_and_sqlite_file_are_private(tmp_path, loose_umask):
    settings = Settings(data_dir=tmp_path / "data")
    settings.signing_key()
    settings.simulated_auth_token()
    settings.prepare_data_dir()
    upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    with db.transaction() as session:  # WAL mode: SQLite makes -wal and -shm beside the file
        session.execute(text("INSERT INTO leases (name, holder, expires_at, heartbeat_at) "
                             "VALUES ('x', 'y', '2026-01-01', '2026-01-01')"))
    spool(settings.data_dir, "rescue", {"call_sid": "CA1", "from": "+14155550100"})
    assert _mode(settings.data_dir) == 0o700
    files = sorted(p.name for p in settings.data_dir.iterdir())
    assert {"secret_key", "simulated_auth_token", "hotline.db", "hotline.db-wal", "spool.jsonl"} <= set(files)
    assert {name: _mode(settings.data_dir / name) for name in files} == {name: 0o600 for name in files}
    db.dispose()


def test_an_existing_world_readable_data_dir_is_tightened(tmp_path, loose_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "secret_key").write_text("0123456789abcdef")
    (data / "hotline.db").write_bytes(b"")
    os.chmod(data / "secret_key", 0o644)
    Settings(data_dir=data).prepare_data_dir()
    assert _mode(data) == 0o700
    assert _mode(data / "secret_key") == 0o600 and _mode(data / "hotline.db") == 0o600
    assert Settings(data_dir=data).signing_key() == "0123456789abcdef"


def test_cli_db_upgrade_creates_a_private_data_dir(tmp_path, loose_umask):
    data = tmp_path / "fresh" / "data"
    result = CliRunner().invoke(main, ["db", "upgrade"], env={
        "HOTLINE_DATA_DIR": str(data), "DATABASE_URL": "", "REDIS_URL": REDIS_URL})
    assert result.exit_code == 0, result.output
    assert _mode(data) == 0o700 and _mode(data / "hotline.db") == 0o600


def test_a_sqlite_file_outside_the_data_dir_is_created_private_and_an_open_one_is_named_by_check(tmp_path,
                                                                                                  loose_umask):
    outside = tmp_path / "outside"
    outside.mkdir()
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{outside / 'h.db'}",
           "REDIS_URL": REDIS_URL, "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert _mode(outside / "h.db") == 0o600  # it was 0644 under umask 022
    assert "can be read by other users" not in CliRunner().invoke(main, ["check", "--no-twilio"], env=env).output
    os.chmod(outside / "h.db", 0o644)  # one the operator made (or copied) readable: left so, but named
    warned = CliRunner().invoke(main, ["check", "--no-twilio"], env=env).output
    assert f"the SQLite database {outside / 'h.db'} can be read by other users" in warned and "chmod 600" in warned
    assert _mode(outside / "h.db") == 0o644


def test_ack_link_issued_in_the_future_is_refused(tmp_path, client, clock, settings):
    urls = PageUrls(settings)
    now = clock.now()
    future = urls.ack_link(1, now + timedelta(days=3650)).rsplit("/", 1)[1]
    with pytest.raises(BadAckLink):
        urls.page_of_link(future, now)
    response = client.get(f"/ack/{future}")
    assert response.status_code == 410 and b"not valid" in response.data
    # a few seconds of clock difference between servers is still fine
    assert urls.page_of_link(urls.ack_link(7, now + timedelta(seconds=5)).rsplit("/", 1)[1], now) == 7


def test_the_simulated_phones_file_and_the_migration_lock_are_private(tmp_path, loose_umask):
    from app.migrate import upgrade_locked
    from hotline_sim.outbox import FILE_NAME, SharedOutbox

    settings = Settings(data_dir=tmp_path / "data")
    settings.prepare_data_dir()
    upgrade_locked(settings.resolved_database_url, settings.data_dir)  # the file lock of SQLite installs
    outbox = SharedOutbox(settings.data_dir / FILE_NAME)  # every page SMS: customers' numbers, ack links
    outbox.add("sms", "+14155550111", datetime(2026, 11, 26, 3, 0, tzinfo=UTC),
               body="SEV1 123456 Acme: call back +14155552671 https://hotline.example.com/ack/x.y")
    reader = sqlite3.connect(settings.data_dir / FILE_NAME)  # an open reader (the web app) keeps -wal and -shm
    try:
        assert reader.execute("SELECT count(*) FROM items").fetchone() == (1,)
        files = sorted(p.name for p in settings.data_dir.iterdir())
        assert {"migrate.lock", FILE_NAME, f"{FILE_NAME}-wal", f"{FILE_NAME}-shm"} <= set(files)
        assert {name: _mode(settings.data_dir / name) for name in files} == {name: 0o600 for name in files}
    finally:
        reader.close()


def test_an_existing_readable_simulated_phones_file_is_tightened_at_start(tmp_path, loose_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    for name in ("simulated_phones.db", "simulated_phones.db-wal", "migrate.lock"):
        (data / name).write_bytes(b"")
        os.chmod(data / name, 0o644)
    Settings(data_dir=data).prepare_data_dir()
    names = ("simulated_phones.db", "simulated_phones.db-wal", "migrate.lock")
    assert {name: _mode(data / name) for name in names} == {name: 0o600 for name in names}


def _secrets_of_a_starting_process(data_dir: str, barrier, results) -> None:
    settings = Settings(data_dir=Path(data_dir))
    barrier.wait()  # serve's workers, `hotline worker` and `simulate` starting together on a fresh data dir
    results.put((settings.simulated_auth_token(), settings.signing_key()))


def test_processes_starting_together_agree_on_one_non_empty_secret(tmp_path):
    # A file made with O_TRUNC and then written let a process read it empty (a webhook signed with
    # the empty key was accepted) or read a value another process then overwrote.
    context = multiprocessing.get_context("fork")
    for round_no in range(15):
        data = tmp_path / f"fresh{round_no}"
        barrier, results = context.Barrier(4), context.Queue()
        workers = [context.Process(target=_secrets_of_a_starting_process, args=(str(data), barrier, results))
                   for _ in range(4)]
        for worker in workers:
            worker.start()
        seen = {results.get(timeout=30) for _ in workers}
        for worker in workers:
            worker.join()
        on_disk = ((data / "simulated_auth_token").read_text(), (data / "secret_key").read_text())
        assert seen == {on_disk} and all(len(value) == 32 for value in on_disk), round_no
        assert [p.name for p in data.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_secret_file_left_empty_is_made_again_and_the_empty_key_signs_nothing(tmp_path, loose_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    for name in ("simulated_auth_token", "secret_key"):  # a process stopped between creating and writing it
        (data / name).write_text("")
    settings = Settings(data_dir=data)
    token, key = settings.simulated_auth_token(), settings.signing_key()
    assert len(token) == 32 and len(key) == 32
    assert (data / "simulated_auth_token").read_text() == token and _mode(data / "simulated_auth_token") == 0o600
    url, form = "http://localhost/twilio/voice", {"CallSid": "CA" + "1" * 32, "From": "+14155550100"}
    for signing_token, accepted in (("", False), (token, True)):
        environ = EnvironBuilder(url, method="POST", data=form, headers={
            "X-Twilio-Signature": RequestValidator(signing_token).compute_signature(url, form)}).get_environ()
        assert is_signed(Request(environ), settings) is accepted
