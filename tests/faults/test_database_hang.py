"""A PostgreSQL that stops answering (frozen, not down): every request's database work ends in time, callers are saved.

Before the time limit (app/db_time_limit.py) a webhook waited on libpq's socket until the server
came back: the caller heard Twilio's own error after 15 s, and each such request held a thread.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app import create_app, db_time_limit
from app.db import KEEPALIVES, NO_GSSAPI, Database
from app.models import DueStep, Incident, IncidentSource, Role, StepStatus
from app.queue import JobQueue
from app.services.spool import SPOOL_NAME, replay
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.dashboard_support import login_as
from tests.integration.test_report_views import WEEK, desk  # noqa: F401 - the week of incidents (a fixture)
from workers import watchdog

LIMIT = 4.0  # the webhooks' limit in these tests (WEBHOOK_SECONDS in production)
SLACK = 4.0  # how much longer than the limit an answer may take here: the watcher's tick, the spool, a busy machine


ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has no server


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

    assert replay(hotline.db, settings) == 2
    with hotline.db.session() as s:
        incident = s.scalars(select(Incident).where(Incident.call_sid == first.call_sid)).one()
    assert incident.source == IncidentSource.RESCUED and incident.callback_phone == "+14155550142"


@ON_POSTGRES
def test_a_connection_is_watched_within_a_request_or_a_worker_and_until_it_is_returned(proxied):
    """The CLI sets no limit: its connections are never shut (TCP keepalives still end a dead one)."""
    _proxy, url = proxied
    db = Database(url)
    try:
        for where in ("cli", "request", "worker"):
            if where == "request":
                db_time_limit.begin(LIMIT)
            if where == "worker":
                db_time_limit.end()
                db_time_limit.limit_background(LIMIT)
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
                assert db_time_limit.WATCHER.watching() == (0 if where == "cli" else 1)
            assert db_time_limit.WATCHER.watching() == 0
    finally:
        db_time_limit.end()
        db_time_limit.limit_background(None)
        db.dispose()


@ON_POSTGRES
def test_a_worker_whose_connection_never_answers_again_runs_the_due_step_on_a_fresh_one(
        proxied, settings, clock, redis_conn, client, monkeypatch):
    """A failover or a host that restarted leaves the pooled connection open and silent for ever: without a
    limit the watchdog's pass waited on it for ever and no step ran again. (``hotline worker`` sets the limit.)"""
    proxy, url = proxied
    through = Hotline.build(settings.with_overrides(database_url=url), clock=clock,
                            jobs=JobQueue(redis_conn, settings.queue_name))
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller="+14155550142")
    call.dial()
    call.press("1")  # English
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("Acme Mail")
    call.say("Dana Smith")
    call.press("1")  # call back on this number: the incident opens, with its escalation steps
    db_time_limit.limit_background(LIMIT)  # as in the worker: the connection is set up as the worker's
    try:
        with through.db.session() as s:
            step = s.scalars(select(DueStep).join(Incident).where(Incident.call_sid == call.call_sid,
                                                                  DueStep.status == StepStatus.PENDING)
                             .order_by(DueStep.due_at)).first()
        assert step is not None  # and the pool now holds a connection through the proxy
        proxy.sever()
        clock.set(step.due_at + timedelta(seconds=10))  # due, and past the watchdog's take-over
        started = time.monotonic()
        with pytest.raises(OperationalError):
            watchdog.sweep(through, replay_spool=False)
        assert LIMIT <= time.monotonic() - started < LIMIT + SLACK  # not for ever

        watchdog.sweep(through, replay_spool=False)  # the next pass: a fresh connection, the step runs here
        with through.db.session() as s:
            done = s.get(DueStep, step.id)
        assert done.status == StepStatus.DONE and done.runs == 1
    finally:
        db_time_limit.limit_background(None)
        through.db.dispose()


@ON_POSTGRES
def test_every_postgresql_connection_has_tcp_keepalives_unless_the_url_sets_its_own(database_url):
    db = Database(make_url(database_url).update_query_dict({"keepalives_idle": "7"}).render_as_string(False))
    try:
        with db.engine.connect() as conn:
            found = conn.connection.dbapi_connection.get_dsn_parameters()
    finally:
        db.dispose()
    assert {key: found.get(key) for key in KEEPALIVES} == {
        **{key: str(value) for key, value in KEEPALIVES.items()}, "keepalives_idle": "7"}


@ON_POSTGRES
@pytest.mark.parametrize("asked", [None, "url", "environment"])
def test_gssapi_encryption_is_off_unless_the_url_or_pgs_environment_asks_for_it(database_url, asked, monkeypatch):
    """libpq's default ("prefer") reads the Kerberos set-up on every new connection (issue 12: memory and CPU)."""
    url = make_url(database_url)
    if asked == "url":
        url = url.update_query_dict({"gssencmode": "prefer"})
    if asked == "environment":
        monkeypatch.setenv("PGGSSENCMODE", "prefer")
    db = Database(url.render_as_string(False))
    try:
        with db.engine.connect() as conn:
            found = conn.connection.dbapi_connection.get_dsn_parameters()["gssencmode"]
    finally:
        db.dispose()
    assert found == ("prefer" if asked else NO_GSSAPI["gssencmode"])


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


@ON_POSTGRES
@pytest.mark.usefixtures("desk")
def test_a_streamed_export_on_a_frozen_server_ends_at_the_limit_and_a_slow_client_is_not_cut_off(
        proxied, settings, clock, redis_conn, monkeypatch):
    """The export is read from the database while it is sent, after the request's own limit has ended: each piece
    gets REQUEST_SECONDS of its own. Before, a server that stopped answering held the thread for ever."""
    monkeypatch.setattr(db_time_limit, "REQUEST_SECONDS", LIMIT)
    proxy, url = proxied
    through = Hotline.build(settings.with_overrides(database_url=url), clock=clock,
                            jobs=JobQueue(redis_conn, settings.queue_name))
    client = create_app(through).test_client()
    login_as(client, through, Role.MANAGER)
    try:
        whole = client.get("/reports/compliance.csv", query_string=WEEK).get_data()
        assert whole.count(b"\n") == 8  # the header and the week's seven incidents

        body = iter(client.get("/reports/compliance.csv", query_string=WEEK, buffered=False).response)
        sent = [next(body)]  # the header: no database work yet
        sent.append(next(body))  # the first day's lines: the stream now holds a connection
        assert db_time_limit.WATCHER.watching() == 0  # not watched while the client reads: a slow one is not cut off
        sent += list(body)
        assert b"".join(sent) == whole

        body = iter(client.get("/reports/compliance.csv", query_string=WEEK, buffered=False).response)
        next(body)
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(OperationalError):
            next(body)
        assert LIMIT <= time.monotonic() - started < LIMIT + SLACK  # not for ever
    finally:
        proxy.thaw()
        through.db.dispose()


def test_inside_a_request_a_stream_keeps_the_request_limit_and_leaves_it_in_force():
    """The export's digest (``.sha256``) reads the same pieces within its request: the request's own limit stays."""
    db_time_limit.begin(LIMIT)
    outer = db_time_limit._deadline()
    seen = []

    def pieces():
        for piece in (b"a", b"b"):
            seen.append(db_time_limit._deadline())
            yield piece
    try:
        assert b"".join(db_time_limit.each_piece(pieces(), seconds=3600)) == b"ab"
        assert seen and all(deadline <= outer for deadline in seen)  # never later than the request's own
        assert db_time_limit._deadline() == outer  # and still in force afterwards
    finally:
        db_time_limit.end()
    assert list(db_time_limit.each_piece(iter([b"x"]), seconds=LIMIT)) == [b"x"]
    assert db_time_limit._deadline() is None  # outside a request, none is left behind


LOCK_KEY = 0x5E71  # an advisory lock of this test's own


@ON_POSTGRES
def test_a_worker_frozen_inside_a_transaction_loses_its_locks_to_the_server_not_to_its_own_thread(
        database_url, monkeypatch):
    """A probe froze a worker (SIGSTOP) inside a transaction holding an incident's row lock: the worker's own limit
    is kept by a thread of that frozen process, so every other worker's step on the incident, and a rep's ACK by SMS,
    waited for as long as it stayed frozen. The server now ends a worker's session idle in a transaction."""
    monkeypatch.setattr(db_time_limit, "WORKER_IDLE_IN_TRANSACTION_SECONDS", 1.0)
    frozen, other = Database(database_url), Database(database_url)
    try:
        with frozen.engine.connect() as conn:  # a connection from before the worker's limit (its start-up checks)
            conn.execute(text("SELECT 1"))
        db_time_limit.limit_background(LIMIT)
        held = frozen.engine.connect()
        held.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})  # then the process freezes
        db_time_limit.WATCHER.forget(held.connection.dbapi_connection)  # as frozen: its own watcher never fires
        db_time_limit.limit_background(None)  # the other worker's own limit must not be what frees the row
        started = time.monotonic()
        with other.engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})  # a row lock's stand-in
        assert time.monotonic() - started < 1.0 + SLACK  # the server ended the frozen session, not the lock wait
        with pytest.raises(OperationalError):  # thawed, the frozen worker finds its session ended
            held.execute(text("SELECT 1"))
        held.close()
    finally:
        db_time_limit.limit_background(None)
        frozen.dispose()
        other.dispose()
