"""A database connection that dies mid-webhook: the webhook is retried once on a fresh one (probe D1, D3).

A terminated PostgreSQL backend (``pg_terminate_backend`` from another connection) or, on SQLite, the driver's
connection closed under the pool: either way SQLAlchemy finds the connection gone, as it did in the probe.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import psycopg2
import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DisconnectionError

from app import db_time_limit
from app.models import DueStep, Incident, StepKind
from app.services import escalation
from app.services.spool import SPOOL_NAME

CALLER = "+14155550100"


def _said(prompt) -> str:
    return " ".join(prompt.said)


@contextmanager
def _dropped_at(hotline, when):
    """Drop the connection that is about to run the first statement for which ``when(statement)`` is true."""
    admin = create_engine(hotline.settings.database_url) if hotline.db.autocommit is not None else None
    dropped: list[str] = []

    def drop(conn, _cursor, statement, *_):
        if dropped or not when(statement):
            return
        dropped.append(statement)
        dbapi = conn.connection.dbapi_connection
        if admin is None:
            dbapi.close()  # SQLite: the driver's connection is gone ("Cannot operate on a closed database")
            return
        with admin.begin() as c:  # waits (up to 5 s) until the backend is gone
            assert c.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dbapi.info.backend_pid}).scalar()

    event.listen(hotline.db.engine, "before_cursor_execute", drop)
    try:
        yield dropped
    finally:
        event.remove(hotline.db.engine, "before_cursor_execute", drop)
        if admin is not None:
            admin.dispose()


def _to_the_callback_number(phone):
    call = phone(CALLER)
    call.dial()
    call.press("1")  # English
    call.press("1")  # e-mail sending is down
    call.press("#")  # no ticket
    call.say("Acme Mail")
    asked = call.say("Dana Smith")
    assert "Can we call you back" in _said(asked)
    return call


def test_a_connection_dropped_in_the_first_page_step_at_the_opening_is_retried(phone, hotline, caplog):
    """Probe D1: the connection died inside ``_run_now``'s savepoint; its ``except`` read an expired attribute
    (PendingRollbackError) and the caller was sent to the emergency voicemail, losing the rest of the intake."""
    call = _to_the_callback_number(phone)

    def in_the_first_page_step(_statement: str) -> bool:
        frame = sys._getframe()
        while frame is not None and frame.f_code is not escalation._run_now.__code__:
            frame = frame.f_back
        return frame is not None

    with _dropped_at(hotline, in_the_first_page_step) as dropped:
        email = call.press("1")  # the number is right: the incident opens, its first page step runs
    assert dropped, "the first page step never ran at the opening"
    assert email.kind == "gather" and "e-mail" in _said(email), _said(email)
    assert "technical problem" not in _said(email)
    assert "lost its database connection; retrying once" in caplog.text
    call.say("dana at acme dot example")
    assert "describe the problem" in _said(call.press("1"))
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        [first] = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id, DueStep.kind == StepKind.PAGE,
                                                  DueStep.level == 0)).all()
    assert (incident.company, incident.contact_name, incident.callback_phone, incident.email) == (
        "Acme Mail", "Dana Smith", CALLER, "dana@acme.example")
    assert first.status == "done"  # the retry ran it at the opening, once


def test_the_drivers_own_error_from_the_lean_steps_connect_is_retried(phone, hotline, database_url, caplog):
    """Probe D1: psycopg2's OperationalError "server closed the connection unexpectedly" came out of the lean
    step's ``with _connect(db)`` unwrapped by SQLAlchemy (its connect sets the connection up outside the wrapping),
    and the caller was sent to the emergency voicemail. Here the backend is terminated there, and the set-up's
    statement finds it gone."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    call = _to_the_callback_number(phone)
    call.press("1")  # the incident opens
    admin = create_engine(hotline.settings.database_url)
    dropped = []

    def drop(conn):
        if not dropped:
            dbapi = conn.connection.dbapi_connection
            dropped.append(dbapi.info.backend_pid)
            with admin.begin() as c:
                assert c.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dropped[0]}).scalar()
            try:
                dbapi.cursor().execute("SELECT 1")
            except psycopg2.OperationalError:
                conn.invalidate()  # back to the pool (and no longer watched); the driver's error leaves unwrapped
                raise

    event.listen(hotline.db.autocommit, "engine_connect", drop)
    try:
        asked = call.say("dana at acme dot example")  # an ordinary step: the lean path
    finally:
        event.remove(hotline.db.autocommit, "engine_connect", drop)
        admin.dispose()
    assert dropped and "lost its database connection; retrying once" in caplog.text
    assert asked.kind == "gather" and "dana at acme dot example" in _said(asked), _said(asked)
    assert "describe the problem" in _said(call.press("1"))
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert (incident.company, incident.contact_name, incident.email) == ("Acme Mail", "Dana Smith", "dana@acme.example")
    assert db_time_limit.WATCHER.watching() == 0


def test_a_status_callback_whose_checkouts_find_every_connection_closed_is_spooled_and_answered(
        phone, hotline, caplog):
    """Probe D3: the pool found each connection it tried at checkout closed ("This connection is closed", an
    InvalidRequestError): the status callback was answered 500, which Twilio never sends again, instead of being
    kept in the spool and answered 200 as for a database that cannot be reached."""
    call = phone(CALLER)
    call.dial()
    call.press("1")
    postgres = hotline.db.autocommit is not None
    admin = create_engine(hotline.settings.database_url) if postgres else None

    def closed(dbapi, _record, _proxy):
        if admin is None:  # SQLite: what ``db._drop_if_closed`` says of a closed PostgreSQL connection
            raise DisconnectionError("the server closed this pooled connection")
        with admin.begin() as c:  # the server closes it; ``_drop_if_closed`` finds it so
            assert c.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dbapi.info.backend_pid}).scalar()

    spool = hotline.settings.data_dir / SPOOL_NAME
    before = spool.read_text().count('"status"') if spool.exists() else 0
    event.listen(hotline.db.engine, "checkout", closed, insert=True)
    try:
        answered = call.hang_up()
    finally:
        event.remove(hotline.db.engine, "checkout", closed)
        if admin is not None:
            admin.dispose()
    assert answered == 200
    assert "kept in the spool" in caplog.text
    assert spool.read_text().count('"status"') == before + 1
