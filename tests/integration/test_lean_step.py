"""Issue 12: the ordinary IVR step written without the ORM — once, compare-and-set on seq, same answers as before."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import create_engine, event, func, select, text
from twilio.request_validator import RequestValidator

from app.carried_answers import key_of, token
from app.models import CallSession, IncidentEvent, WebhookDelivery
from app.services import intake, lean_step
from app.voice.twiml import render
from app.webhooks import UNANSWERED
from ivr_flows.model import Gathered
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

SID = "CA" + "5" * 32
CALL = {"CallSid": SID, "From": "+14155550100", "To": "+15005550006"}


def _post(client, path: str, params: dict):
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def _counts(hotline):
    with hotline.db.session() as s:
        call = s.get(CallSession, SID)
        return (call.seq, s.scalar(select(func.count()).select_from(WebhookDelivery)),
                s.scalar(select(func.count()).select_from(IncidentEvent).where(IncidentEvent.call_sid == SID)))


def _gather_action(body: bytes) -> str:
    """The <Gather action> without the token carrying the call's language and answers (``app.carried_answers``)."""
    action = ET.fromstring(body).find("Gather").get("action")
    return re.sub(r"&token=[\w-]+", "", action)


def test_an_ordinary_step_is_written_once_and_its_retry_gets_the_same_answer(client, hotline):
    assert _post(client, "/twilio/voice", CALL).status_code == 200
    seq, deliveries, lines = _counts(hotline)
    assert seq == 1
    first = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})  # English: an ordinary step
    assert first.status_code == 200 and _gather_action(first.data) == "/twilio/voice/step?seq=2"
    assert _counts(hotline) == (2, deliveries + 1, lines + 1)
    with hotline.db.session() as s:
        call = s.get(CallSession, SID)
        assert call.state["lang"] == "en-US" and call.updated_at == hotline.clock.now()
        line = s.scalars(select(IncidentEvent).where(IncidentEvent.call_sid == SID)
                         .order_by(IncidentEvent.id.desc())).first()
        assert (line.kind, line.actor, line.detail, line.at) == (
            "language_chosen", "ivr", {"lang": "en-US", "how": "keypad"}, hotline.clock.now())
        stored = s.scalar(select(WebhookDelivery.response).where(WebhookDelivery.path == "/twilio/voice/step"))
        assert stored == first.get_data(as_text=True)
    again = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})  # Twilio's retry
    assert again.data == first.data
    assert _counts(hotline) == (2, deliveries + 1, lines + 1)


def test_the_lean_answer_is_the_one_the_full_path_gives(client, hotline):
    """Same TwiML and the same state as ``continue_call`` in its ORM transaction."""
    _post(client, "/twilio/voice", CALL)
    with hotline.db.session() as s:
        before = s.get(CallSession, SID).state
    lean = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "2"})  # Deutsch
    with hotline.db.session() as s:
        lean_state = s.get(CallSession, SID).state
    with hotline.db.transaction() as s:  # replay the same step through the full path
        call = s.get(CallSession, SID)
        call.state, call.seq = before, 1
    with hotline.db.transaction() as s:
        turn = intake.continue_call(s, call_sid=SID, seq=1, event=Gathered("2", ""), now=hotline.clock.now())
        full_state = s.get(CallSession, SID).state
    carried = f"&token={token(turn.state, SID, key_of(hotline.settings))}"  # the same state: the same token
    assert render(turn.reply, f"/twilio/voice/step?seq={turn.seq}{carried}",
                  f"/twilio/voice/recording?seq={turn.seq}{carried}") == lean.get_data(as_text=True)
    assert full_state == lean_state


def test_a_stale_step_still_takes_the_full_path(client, hotline):
    _post(client, "/twilio/voice", CALL)
    _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})
    stale = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "2"})  # an old URL, another answer
    assert stale.status_code == 200 and _gather_action(stale.data) == "/twilio/voice/step?seq=2"
    with hotline.db.session() as s:
        kinds = list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.call_sid == SID)))
        assert "stale_step_ignored" in kinds and s.get(CallSession, SID).state["lang"] == "en-US"


def test_a_duplicate_stored_after_the_lean_look_still_wins_over_the_full_path(client, hotline):
    """The full path no longer looks for a stored answer after the lean one did: a duplicate that stores its answer
    in between makes the full path's insert fail, and the request answers what the duplicate answered."""
    _post(client, "/twilio/voice", CALL)
    _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})
    first = "<Response><Say>the duplicate's answer</Say></Response>"
    other = create_engine(hotline.settings.database_url)
    raced = []

    def store_first(conn, cursor, statement, parameters, context, executemany):
        if not raced and statement.lstrip().upper().startswith("INSERT INTO WEBHOOK_DELIVERIES"):
            params = context.compiled_parameters[0]  # the same names on both drivers
            raced.append(params["key"])
            with other.begin() as c:
                c.execute(text('INSERT INTO webhook_deliveries ("key", path, response, received_at) '
                               "VALUES (:key, '/twilio/voice/step', :response, :at)"),
                          {"key": params["key"], "response": first, "at": params["received_at"]})

    event.listen(hotline.db.engine, "before_cursor_execute", store_first)
    try:  # a stale step: the lean path looks, finds nothing stored, and hands over to the full path
        stale = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "2"})
    finally:
        event.remove(hotline.db.engine, "before_cursor_execute", store_first)
        other.dispose()
    assert raced and stale.status_code == 200 and stale.get_data(as_text=True) == first
    with hotline.db.session() as s:  # the full path's transaction was rolled back: its log line is not there
        kinds = list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.call_sid == SID)))
    assert "stale_step_ignored" not in kinds


def test_a_step_that_lost_the_race_writes_nothing(hotline, clock):
    """Another delivery moves the call between the read and the write: compare-and-set refuses, no row lands."""
    with hotline.db.transaction() as s:
        intake.start_call(s, call_sid=SID, from_number=CALL["From"], to_number=CALL["To"],
                          policy=intake.policy_from(hotline.settings), now=clock.now())
    _, deliveries, lines = _counts(hotline)
    other = create_engine(hotline.settings.database_url)

    moved = []

    def move_first(conn, cursor, statement, *_):
        if not moved and statement.lstrip().upper().startswith(("UPDATE CALL_SESSIONS", "WITH MOVED")):
            moved.append(True)
            with other.begin() as c:
                c.execute(text("UPDATE call_sessions SET seq = seq + 1 WHERE call_sid = :sid"), {"sid": SID})

    event.listen(hotline.db.engine, "before_cursor_execute", move_first)
    try:
        body = lean_step.answer(hotline.db, key="k" * 64, path="/twilio/voice/step", call_sid=SID, seq=1,
                                event=Gathered("1", ""), now=clock.now(), render=lambda turn: "<Response/>")
    finally:
        event.remove(hotline.db.engine, "before_cursor_execute", move_first)
        other.dispose()
    assert moved and body is UNANSWERED  # the full path decides (a stale step), knowing nothing is stored
    assert _counts(hotline) == (2, deliveries, lines)  # moved by the other delivery alone


def test_a_pooled_connection_the_server_closed_is_replaced(client, hotline, database_url):
    """No pre-ping: a connection PostgreSQL terminated is dropped at checkout and the caller gets the next question."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    _post(client, "/twilio/voice", CALL)
    with hotline.db.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    assert hotline.db.engine.pool.checkedin() >= 1
    admin = create_engine(hotline.settings.database_url)
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    step = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})
    assert step.status_code == 200 and _gather_action(step.data) == "/twilio/voice/step?seq=2"
    assert _counts(hotline)[0] == 2


def test_a_pooled_connection_closed_on_our_side_is_replaced(client, hotline, database_url, caplog):
    """A driver connection closed in the pool (psycopg2's fileno() raises on it) is dropped at checkout too."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the checkout check is PostgreSQL's")
    _post(client, "/twilio/voice", CALL)
    hotline.db.engine.dispose()  # then the pool holds one connection, the one closed below
    with hotline.db.engine.connect() as conn:
        closed = conn.connection.dbapi_connection
    closed.close()  # after check-in: the pool still holds it
    assert hotline.db.engine.pool.checkedin() == 1 and closed.closed
    step = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})
    assert step.status_code == 200 and _gather_action(step.data) == "/twilio/voice/step?seq=2"
    assert "retrying once" not in caplog.text  # replaced at checkout, not found dead by the first statement
    assert _counts(hotline)[0] == 2
    with hotline.db.engine.connect() as conn:
        assert conn.connection.dbapi_connection is not closed


def test_a_database_host_that_never_answers_fails_the_connect_within_the_timeout(monkeypatch):
    """libpq waits as long as the operating system does unless told; the hotline tells it CONNECT_TIMEOUT_SECONDS,
    unless DATABASE_URL gives its own ``connect_timeout``."""
    import socket

    from app import db as db_module

    silent = socket.socket()  # accepts the TCP connection (the kernel does) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"postgresql+psycopg2://hotline@127.0.0.1:{silent.getsockname()[1]}/hotline"
    try:
        monkeypatch.setattr(db_module, "CONNECT_TIMEOUT_SECONDS", 1)
        assert "timeout expired" in _failed_connect(db_module.Database(url))
        monkeypatch.setattr(db_module, "CONNECT_TIMEOUT_SECONDS", 3600)
        assert "timeout expired" in _failed_connect(db_module.Database(url + "?connect_timeout=1"))
    finally:
        silent.close()


def _failed_connect(database) -> str:
    """The error of a connect attempt that must fail well within 20 s (the test's bound, not the one tested)."""
    import threading

    from sqlalchemy.exc import OperationalError

    outcome: list[str] = []

    def connect() -> None:
        try:
            database.engine.connect().close()
        except OperationalError as exc:
            outcome.append(str(exc))

    attempt = threading.Thread(target=connect, daemon=True)
    attempt.start()
    attempt.join(timeout=20)
    database.dispose()
    assert not attempt.is_alive(), "the connect attempt was still waiting after 20 s"
    return outcome[0] if outcome else ""


def test_a_connection_lost_mid_webhook_is_retried_once(client, hotline, database_url, caplog):
    """The server drops the connection after checkout, before the first statement: one retry, one step written."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to close a connection")
    _post(client, "/twilio/voice", CALL)
    _, deliveries, lines = _counts(hotline)
    admin = create_engine(hotline.settings.database_url)
    killed = []

    def kill_first(conn, cursor, statement, *_):
        if not killed:
            pid = conn.connection.dbapi_connection.info.backend_pid
            killed.append(pid)
            with admin.begin() as c:  # waits (up to 5 s) until the backend is gone
                assert c.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()

    event.listen(hotline.db.engine, "before_cursor_execute", kill_first)
    try:
        step = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})
    finally:
        event.remove(hotline.db.engine, "before_cursor_execute", kill_first)
        admin.dispose()
    assert killed and step.status_code == 200 and _gather_action(step.data) == "/twilio/voice/step?seq=2"
    assert "lost its database connection; retrying once" in caplog.text
    assert _counts(hotline) == (2, deliveries + 1, lines + 1)


def _status_lines(hotline):
    with hotline.db.session() as s:
        return [(e.detail["status"], e.incident_id) for e in s.scalars(
            select(IncidentEvent).where(IncidentEvent.call_sid == SID, IncidentEvent.kind == "call_status")
            .order_by(IncidentEvent.id))]


def test_a_status_callback_that_only_logs_is_written_lean_and_once(client, hotline, clock):
    _post(client, "/twilio/voice", CALL)
    _, deliveries, _ = _counts(hotline)
    body = lean_step.status(hotline.db, key="s" * 64, path="/twilio/voice/status", call_sid=SID,
                            call_status="in-progress", duration="", ended=False, now=clock.now())
    assert body == ""  # written without the ORM
    assert _status_lines(hotline) == [("in-progress", None)]
    again = lean_step.status(hotline.db, key="s" * 64, path="/twilio/voice/status", call_sid=SID,
                             call_status="in-progress", duration="", ended=False, now=clock.now())
    assert again == "" and _status_lines(hotline) == [("in-progress", None)]  # Twilio's retry: the stored answer
    assert _counts(hotline)[1] == deliveries + 1
    with hotline.db.session() as s:
        assert s.get(CallSession, SID).status == "in-progress"


def test_an_ended_call_with_something_to_settle_takes_the_full_path(client, hotline, clock):
    """Hung up before triage: a missed call to record, which only ``end_call`` does."""
    _post(client, "/twilio/voice", CALL)
    assert lean_step.status(hotline.db, key="e" * 64, path="/twilio/voice/status", call_sid=SID,
                            call_status="completed", duration="4", ended=True, now=clock.now()) is UNANSWERED
    assert _status_lines(hotline) == []  # nothing written by the lean attempt
    assert lean_step.status(hotline.db, key="u" * 64, path="/twilio/voice/status", call_sid="CA" + "9" * 32,
                            call_status="completed", duration="4", ended=True, now=clock.now()) is None  # unknown call
    params = {**CALL, "CallStatus": "completed", "CallDuration": "4"}
    assert _post(client, "/twilio/voice/status", params).status_code == 200
    with hotline.db.session() as s:
        assert s.get(CallSession, SID).status == "completed"
        kinds = set(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.call_sid == SID)))
    assert {"call_status", "missed_call"} <= kinds, kinds


def test_a_completed_status_after_a_whole_intake_is_lean_and_marks_the_call_ended(client, hotline, clock):
    """The intake is done (its incident whole): the status only logs and ends the call, without the ORM."""
    with hotline.db.transaction() as s:  # a call whose incident is whole: stage done, as the flow leaves it
        intake.start_call(s, call_sid=SID, from_number=CALL["From"], to_number=CALL["To"],
                          policy=intake.policy_from(hotline.settings), now=clock.now())
    with hotline.db.transaction() as s:
        call = s.get(CallSession, SID)
        call.state = {**call.state, "stage": "done", "opened": True}
        incident_id = _an_incident(s, clock)
        call.incident_id = incident_id
    body = lean_step.status(hotline.db, key="c" * 64, path="/twilio/voice/status", call_sid=SID,
                            call_status="completed", duration="95", ended=True, now=clock.now())
    assert body == ""
    assert _status_lines(hotline) == [("completed", incident_id)]
    with hotline.db.session() as s:
        call = s.get(CallSession, SID)
        assert (call.status, call.updated_at) == ("completed", clock.now())


def _an_incident(session, clock) -> int:
    from app.models import Incident, IncidentStatus

    incident = Incident(reference="654321", status=IncidentStatus.OPEN, callback_phone="+14155550100",
                        received_at=clock.now(), captured_at=clock.now(), callback_due_at=clock.now())
    session.add(incident)
    session.flush()
    return incident.id
