"""The ordinary intake step in two statements, without the ORM's unit of work (issue 12).

Read the call's row and any answer already stored for this delivery in one SELECT; advance
the pure flow (``intake.plain_step``); when the step only logs and replies, write it:
compare-and-set the call's state on its ``seq``, store the delivery's answer and append the
log lines. On PostgreSQL that is one statement (a CTE, atomic on its own, so neither needs
BEGIN/COMMIT round trips); on SQLite three in one transaction. Whatever else a step needs
(a lookup, an incident, a job, a stale or unknown call) returns None: the caller then takes
the full path (``intake.continue_call`` in one ORM transaction), which decides it as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, bindparam, column, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.models.base import UTCDateTime
from app.services.intake import Turn, flow_line, plain_step
from ivr_flows.model import CallState, Event

Render = Callable[[Turn], str]

_READ = text(
    'SELECT c.state, c.seq, c.incident_id, (SELECT d.response FROM webhook_deliveries d WHERE d."key" = :key) '
    "FROM call_sessions c WHERE c.call_sid = :sid"
).bindparams(bindparam("key", type_=String), bindparam("sid", type_=String)).columns(
    column("state", JSON), column("seq", Integer), column("incident_id", Integer), column("stored", Text))
_STORED = text('SELECT response FROM webhook_deliveries WHERE "key" = :key')
_TYPES = (bindparam("state", type_=JSON), bindparam("now", type_=UTCDateTime()))
_LINE_TYPES = (bindparam("at", type_=UTCDateTime()), bindparam("detail", type_=JSON))

# SQLite: three statements in one transaction.
_MOVE = text("UPDATE call_sessions SET state = :state, seq = :seq + 1, updated_at = :now "
             "WHERE call_sid = :sid AND seq = :seq").bindparams(*_TYPES)
_STORE = text('INSERT INTO webhook_deliveries ("key", path, response, received_at) '
              "VALUES (:key, :path, :response, :now)").bindparams(bindparam("now", type_=UTCDateTime()))
_LOG = text("INSERT INTO incident_events (incident_id, call_sid, at, actor, kind, detail) "
            "VALUES (:incident_id, :call_sid, :at, :actor, :kind, :detail)").bindparams(*_LINE_TYPES)
_CTE: dict[int, Any] = {}  # PostgreSQL: one statement per number of log lines, built once


def answer(db: Database, *, key: str, path: str, call_sid: str, seq: int, event: Event, now: datetime,
           render: Render) -> str | None:
    """The TwiML for this step if it is an ordinary one (written, or stored before); None for the full path."""
    postgres = db.autocommit is not None
    with (db.autocommit if postgres else db.engine).connect() as conn:
        row = conn.execute(_READ, {"key": key, "sid": call_sid}).first()
        if row is None:
            return None
        state, current, incident_id, stored = row
        if stored is not None:
            return stored  # Twilio's retry: the answer it got the first time, written once
        if seq != current:
            return None  # stale: the full path logs it and repeats the question
        step = plain_step(CallState.from_dict(state), event, now, incident_id)
        if step is None:
            return None
        body = render(Turn(step.reply, current + 1))
        lines = [flow_line(e, call_sid, incident_id, now) for e in step.effects]
        params = {"state": step.state.to_dict(), "seq": current, "now": now, "sid": call_sid, "key": key,
                  "path": path[:200], "response": body}
        try:
            written = _write_postgres(conn, params, lines) if postgres else _write_sqlite(conn, params, lines)
        except IntegrityError:  # a concurrent duplicate stored this key first
            conn.rollback()
            written = False
        if written:
            return body
        # Someone else moved the call first: a duplicate of this delivery (answer what it answered),
        # or another delivery (None: the full path decides, as for any stale step).
        return conn.execute(_STORED, {"key": key}).scalar()


def _write_postgres(conn: Connection, params: dict[str, Any], lines: list[dict[str, Any]]) -> bool:
    for i, line in enumerate(lines):
        params.update({f"{name}_{i}": value for name, value in line.items()})
    return conn.execute(_cte(len(lines)), params).scalar() == 1


def _cte(n_lines: int):
    """UPDATE ... WHERE seq = :seq, and only if it moved the call: INSERT the delivery and the log lines."""
    if n_lines not in _CTE:
        logged = " UNION ALL ".join(
            f"SELECT CAST(:incident_id_{i} AS INTEGER), CAST(:call_sid_{i} AS VARCHAR), :at_{i}, "
            f"CAST(:actor_{i} AS VARCHAR), CAST(:kind_{i} AS VARCHAR), CAST(:detail_{i} AS JSON) FROM moved"
            for i in range(n_lines))
        sql = ("WITH moved AS (UPDATE call_sessions SET state = CAST(:state AS JSON), seq = :seq + 1, updated_at = :now "
               "WHERE call_sid = :sid AND seq = :seq RETURNING call_sid), "
               'stored AS (INSERT INTO webhook_deliveries ("key", path, response, received_at) '
               "SELECT CAST(:key AS VARCHAR), CAST(:path AS VARCHAR), CAST(:response AS TEXT), :now FROM moved)"
               + (f", logged AS (INSERT INTO incident_events (incident_id, call_sid, at, actor, kind, detail) {logged})"
                  if n_lines else "")
               + " SELECT count(*) FROM moved")
        types = [*_TYPES, *(bindparam(f"at_{i}", type_=UTCDateTime()) for i in range(n_lines)),
                 *(bindparam(f"detail_{i}", type_=JSON) for i in range(n_lines))]
        _CTE[n_lines] = text(sql).bindparams(*types)
    return _CTE[n_lines]


def _write_sqlite(conn: Connection, params: dict[str, Any], lines: list[dict[str, Any]]) -> bool:
    """The same writes in the read's transaction (pysqlite begins it at the UPDATE)."""
    if conn.execute(_MOVE, params).rowcount != 1:
        conn.rollback()
        return False
    conn.execute(_STORE, params)
    if lines:
        conn.execute(_LOG, lines)
    conn.commit()
    return True
