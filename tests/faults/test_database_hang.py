"""A PostgreSQL that stops answering (frozen, not down): every request's database work ends in time, callers are saved.

Before the time limit (app/db_time_limit.py) a webhook waited on libpq's socket until the server
came back: the caller heard Twilio's own error after 15 s, and each such request held a thread.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app import create_app, db_time_limit
from app.db import Database
from app.models import Incident, IncidentSource
from app.queue import JobQueue
from app.services.intake import policy_from
from app.services.spool import SPOOL_NAME, replay
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.faults.freezable_proxy import FreezableProxy

LIMIT = 4.0  # the webhooks' limit in these tests (WEBHOOK_SECONDS in production)
SLACK = 4.0  # how much longer than the limit an answer may take here: the watcher's tick, the spool, a busy machine


ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has no server


@pytest.fixture
def proxied(database_url):
    """A FreezableProxy in front of the test PostgreSQL, and the database URL that goes through it."""
    url = make_url(database_url)
    proxy = FreezableProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


def _spooled(data_dir) -> list[dict]:
    path = data_dir / SPOOL_NAME
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@ON_POSTGRES
def test_a_webhook_answers_and_saves_the_caller_when_the_database_stops_answering(
        proxied, settings, clock, redis_conn, hotline, monkeypatch):
    monkeypatch.setattr(db_time_limit, "WEBHOOK_SECONDS", LIMIT)
    proxy, url = proxied
    frozen_settings = settings.with_overrides(database_url=url)
    through = Hotline.build(frozen_settings, clock=clock, jobs=JobQueue(redis_conn, settings.queue_name))
    client = create_app(through).test_client()

    def phone(caller: str) -> SimulatedCall:
        return SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                             caller=caller)

    try:
        first, second = phone("+14155550142"), phone("+14155550144")
        for call in (first, second):
            call.dial()
            assert call.press("1").kind == "gather"  # English: the database answers through the proxy
        assert db_time_limit.WATCHER.watching() == 0  # every connection the requests took was handed back
        assert not db_time_limit.WATCHER.suspect()
        shut_before = db_time_limit.WATCHER.shut

        proxy.freeze()
        started = time.monotonic()
        prompt = first.press("3")  # both API and SMTP failing
        took = time.monotonic() - started
        assert prompt.kind == "record"  # the rescue's voicemail, not Twilio's error after 15 s
        assert LIMIT <= took < LIMIT + SLACK
        assert db_time_limit.WATCHER.shut - shut_before >= 1 and db_time_limit.WATCHER.suspect()

        started = time.monotonic()
        assert second.press("3").kind == "record"  # the next caller waits SUSPECT_SECONDS, not the whole limit
        assert db_time_limit.SUSPECT_SECONDS <= time.monotonic() - started < LIMIT
        assert {(r["kind"], r["call_sid"], r["from"]) for r in _spooled(settings.data_dir)} == {
            ("rescue", first.call_sid, "+14155550142"), ("rescue", second.call_sid, "+14155550144")}

        proxy.thaw()
        assert phone("+14155550143").dial().kind == "gather"  # the shut connections left the pool; fresh ones answer
        assert not db_time_limit.WATCHER.suspect()  # and the full limit applies again
    finally:
        proxy.thaw()
        through.db.dispose()

    assert replay(hotline.db, settings.data_dir, policy_from(settings)) == 2
    with hotline.db.session() as s:
        incident = s.scalars(select(Incident).where(Incident.call_sid == first.call_sid)).one()
    assert incident.source == IncidentSource.RESCUED and incident.callback_phone == "+14155550142"


@ON_POSTGRES
def test_a_connection_is_watched_only_within_a_request_and_until_it_is_returned(proxied):
    """Workers and the CLI set no limit: their connections are never shut (their own time-outs apply)."""
    _proxy, url = proxied
    db = Database(url)
    try:
        for limited in (False, True):
            if limited:
                db_time_limit.begin(LIMIT)
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
                assert db_time_limit.WATCHER.watching() == (1 if limited else 0)
            assert db_time_limit.WATCHER.watching() == 0
    finally:
        db_time_limit.end()
        db.dispose()


@ON_POSTGRES
def test_a_statement_on_a_frozen_server_fails_at_the_limit_and_its_connection_leaves_the_pool(proxied):
    proxy, url = proxied
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            frozen_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        proxy.freeze()
        db_time_limit.begin(LIMIT)
        started = time.monotonic()
        with pytest.raises(OperationalError) as failed, db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        took = time.monotonic() - started
        db_time_limit.end()
        assert failed.value.connection_invalidated  # a disconnect: the webhook's one retry, then its error path
        assert LIMIT <= took < LIMIT + SLACK
        proxy.thaw()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != frozen_pid
    finally:
        db_time_limit.end()
        proxy.thaw()
        db.dispose()


def test_a_connect_gets_what_is_left_of_the_limit_and_none_once_it_is_spent():
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody ever answers
    url = f"postgresql+psycopg2://hotline@127.0.0.1:{silent.getsockname()[1]}/hotline?connect_timeout=30"
    db = Database(url)
    try:
        db_time_limit.begin(1.0)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="timeout expired"):
            db.engine.connect()
        assert time.monotonic() - started < 2 + SLACK  # libpq's shortest connect_timeout is 2 s, not the URL's 30

        db_time_limit.begin(0)
        with pytest.raises(OperationalError, match="time for the database is spent"):
            db.engine.connect()
        silent.settimeout(0)
        accepted = 0
        while True:
            try:
                silent.accept()[0].close()
                accepted += 1
            except BlockingIOError:
                break
        assert accepted == 1  # the first attempt's connection only: the spent one never dialled
    finally:
        db_time_limit.end()
        db.dispose()
        silent.close()
