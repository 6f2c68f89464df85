"""The ordinary intake step and status callback in two statements, without the ORM's unit of work (issue 12).

Read the call's row, the incident it opened (if any) and any answer already stored for this delivery
in one SELECT (given again only within ``webhooks.RETRY_WINDOW``); advance the pure flow
(``intake.plain_step``); when the step only logs and replies, write it: compare-and-set the call's
state on its ``seq``, store the delivery's answer, append the log lines and copy the answer into the
incident the call opened (issue 13, ``incidents.incident_changes``). On PostgreSQL that is one
statement (a CTE, atomic on its own, so it needs no BEGIN/COMMIT round trips); on SQLite a few in
one transaction. Whatever else a step needs (a lookup, an incident to open or complete, a job, a
stale or unknown call) returns UNANSWERED (or None for a call it could not find): the caller then
takes the full path (``intake.continue_call`` in one ORM transaction), without looking for a stored
answer again after UNANSWERED.

A status callback (``status``) is as lean when all it does is log the status and, once the call
ended, mark it so: a call in progress, or one whose incident needs nothing more
(``call_endings.nothing_to_settle``). A call that ended with something to settle (a missed call,
a rescue, an incident opened mid-call and left before the end, a connect a rep asked for while the
caller talked) takes ``intake.end_call``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, bindparam, column, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.event_kind import EventKind
from app.models import Incident
from app.models.base import ReadableJSON, UTCDateTime
from app.reports.facts_sync import refresh_facts
from app.services.call_endings import nothing_to_settle
from app.services.events import event_row
from app.services.incidents import FOLLOWED, incident_changes, readable_state
from app.services.intake import Turn, flow_line, follows, plain_step
from app.webhooks import UNANSWERED, Replayed, Unanswered, stored_answer
from ivr_flows.model import Event

Render = Callable[[Turn], str]
# the answers the company's label compares with the ticket's contact when the caller said no company
# (``company_label.row_company``): like the company itself, a change refolds the incident's facts row
_CONTACT = frozenset({"callback_phone", "email"})
_INCIDENT = (*FOLLOWED, "missing_fields")

_DELIVERY = 'LEFT JOIN webhook_deliveries d ON d."key" = :key'  # at most one row: the key is unique
_STORED_COLUMNS = (column("stored", Text), column("stored_at", UTCDateTime()))
_READ = text(
    "SELECT c.state, c.seq, c.incident_id, d.response, d.received_at, i.call_sid, "
    + ", ".join(f"i.{name}" for name in _INCIDENT)
    + f" FROM call_sessions c LEFT JOIN incidents i ON i.id = c.incident_id {_DELIVERY} WHERE c.call_sid = :sid"
).bindparams(bindparam("key", type_=String), bindparam("sid", type_=String)).columns(
    column("state", ReadableJSON()), column("seq", Integer), column("incident_id", Integer), *_STORED_COLUMNS,
    column("opened_by", String), *(column(name, Incident.__table__.c[name].type) for name in _INCIDENT))
_STORED = text('SELECT response, received_at FROM webhook_deliveries WHERE "key" = :key').columns(*_STORED_COLUMNS)
_NOW = bindparam("now", type_=UTCDateTime())
_MOVE_TYPES = (bindparam("state", type_=JSON), _NOW)
_STATEMENTS: dict[tuple, Any] = {}  # built once per shape (dialect, log lines, incident columns)


def answer(db: Database, *, key: str, path: str, call_sid: str, seq: int, event: Event, now: datetime,
           render: Render) -> str | Replayed | Unanswered | None:
    """The TwiML for this step if it is an ordinary one (written, or stored before: REPLAYED past the retry window);
    else the full path (UNANSWERED once it saw no stored answer for ``key``)."""
    postgres = db.autocommit is not None
    with _connect(db) as conn:
        row = conn.execute(_READ, {"key": key, "sid": call_sid}).first()
        if row is None:
            return None
        state, current, incident_id, stored, stored_at, opened_by = row[:6]
        if stored is not None:
            return stored_answer(stored, stored_at, now)  # Twilio's retry: the answer it got the first time
        flow = readable_state(state)
        if seq != current or flow is None:
            # stale: the full path logs it and repeats the question; unreadable (a row edited by hand, no JSON, a
            # key every version writes missing, a stage only a newer version knows): the full path answers it safely
            # (``intake.UnreadableCall``)
            return UNANSWERED
        step = plain_step(flow, event, now, incident_id)
        if step is None:
            return UNANSWERED
        lines = [flow_line(e, call_sid, incident_id, now) for e in step.effects]
        followed: dict[str, Any] = {}
        relabel = False
        if follows(step.state, incident_id) and opened_by == call_sid:  # not an incident the call joined
            followed_now = dict(zip(_INCIDENT, row[6:], strict=True))
            changes = incident_changes(followed_now, step.state.captured, final=False)
            if "ticket_number" in changes.values or ("callback_phone" in changes.values
                                                      and followed_now["callback_phone"]):
                # the ticket is looked up on the full path; a corrected number is told to the reps paged there
                return UNANSWERED
            followed = {**changes.values, **({"missing_fields": changes.missing} if changes.missing is not None else {})}
            relabel = "company" in followed or (not followed_now["company"] and bool(_CONTACT & followed.keys()))
            if changes.detail is not None:
                lines.append(event_row(at=now, actor="ivr", kind=changes.kind, incident_id=incident_id,
                                       call_sid=call_sid, detail=changes.detail))
        body = render(Turn(step.reply, current + 1, step.state))
        params = {"state": step.state.to_dict(), "seq": current, "now": now, "sid": call_sid, "key": key,
                  "path": path[:200], "response": body, "incident_id": incident_id,
                  **{f"set_{name}": value for name, value in followed.items()}}
        try:
            write = _write_postgres if postgres else _write_sqlite
            written = write(conn, params, lines, tuple(followed))
        except IntegrityError:  # a concurrent duplicate stored this key first
            conn.rollback()
            written = False
        if written:
            if relabel:  # the report's stored CSV line names the company as the board does (``facts_sync``)
                with db.engine.begin() as tx:
                    refresh_facts(tx, [incident_id])
            return body
        # Someone else moved the call first: a duplicate of this delivery (answer what it answered),
        # or another delivery (the full path decides, as for any stale step).
        return _stored_or_unanswered(conn, key, now)


def _stored_or_unanswered(conn: Connection, key: str, now: datetime) -> str | Replayed | Unanswered:
    stored = conn.execute(_STORED, {"key": key}).first()
    return UNANSWERED if stored is None else stored_answer(*stored, now)  # a status callback's stored answer is ""


def _connect(db: Database) -> Connection:
    """On PostgreSQL a connection whose statements commit on their own; on SQLite a plain one (the writer commits)."""
    return (db.autocommit or db.engine).connect()


def _set_clause(columns: tuple[str, ...]) -> str:
    return ", ".join(f"{name} = :set_{name}" for name in columns)


def _set_types(columns: tuple[str, ...]) -> list:
    return [bindparam(f"set_{name}", type_=Incident.__table__.c[name].type) for name in columns]


def _write_postgres(conn: Connection, params: dict[str, Any], lines: list[dict[str, Any]],
                    columns: tuple[str, ...]) -> bool:
    for i, line in enumerate(lines):
        params.update({f"{name}_{i}": value for name, value in line.items()})
    return conn.execute(_cte(len(lines), columns), params).scalar() == 1


def _cte(n_lines: int, columns: tuple[str, ...]):
    """UPDATE the call WHERE seq = :seq and, only if that moved it, INSERT the delivery and lines, UPDATE the incident."""
    shape = ("postgresql", n_lines, columns)
    if shape not in _STATEMENTS:
        parts = [
            "moved AS (UPDATE call_sessions SET state = CAST(:state AS JSON), seq = :seq + 1, updated_at = :now "
            "WHERE call_sid = :sid AND seq = :seq RETURNING call_sid)",
            'stored AS (INSERT INTO webhook_deliveries ("key", path, response, received_at) '
            "SELECT CAST(:key AS VARCHAR), CAST(:path AS VARCHAR), CAST(:response AS TEXT), :now FROM moved)",
        ]
        if n_lines:
            parts.append("logged AS (INSERT INTO incident_events (incident_id, call_sid, at, written_at, actor, kind, "
                         "detail) " + " UNION ALL ".join(
                             f"SELECT CAST(:incident_id_{i} AS INTEGER), CAST(:call_sid_{i} AS VARCHAR), :at_{i}, :now, "
                             f"CAST(:actor_{i} AS VARCHAR), CAST(:kind_{i} AS VARCHAR), CAST(:detail_{i} AS JSON) "
                             "FROM moved" for i in range(n_lines)) + ")")
        if columns:
            parts.append(f"followed AS (UPDATE incidents SET {_set_clause(columns)} FROM moved "
                         "WHERE incidents.id = :incident_id)")
        types = [*_MOVE_TYPES, *_set_types(columns),
                 *(bindparam(f"at_{i}", type_=UTCDateTime()) for i in range(n_lines)),
                 *(bindparam(f"detail_{i}", type_=JSON) for i in range(n_lines))]
        _STATEMENTS[shape] = text("WITH " + ", ".join(parts) + " SELECT count(*) FROM moved").bindparams(*types)
    return _STATEMENTS[shape]


_MOVE = text("UPDATE call_sessions SET state = :state, seq = :seq + 1, updated_at = :now "
             "WHERE call_sid = :sid AND seq = :seq").bindparams(*_MOVE_TYPES)
_STORE = text('INSERT INTO webhook_deliveries ("key", path, response, received_at) '
              "VALUES (:key, :path, :response, :now)").bindparams(_NOW)
# written_at: the request's clock (``now``), as ``Database`` stamps the ORM's lines (``IncidentEvent.written_at``)
_LOG = text("INSERT INTO incident_events (incident_id, call_sid, at, written_at, actor, kind, detail) "
            "VALUES (:incident_id, :call_sid, :at, :written_at, :actor, :kind, :detail)").bindparams(
    bindparam("at", type_=UTCDateTime()), bindparam("written_at", type_=UTCDateTime()),
    bindparam("detail", type_=JSON))


def _write_sqlite(conn: Connection, params: dict[str, Any], lines: list[dict[str, Any]],
                  columns: tuple[str, ...]) -> bool:
    """The same writes in the read's transaction (pysqlite begins it at the UPDATE)."""
    if conn.execute(_MOVE, params).rowcount != 1:
        conn.rollback()
        return False
    conn.execute(_STORE, params)
    if lines:
        conn.execute(_LOG, [line | {"written_at": params["now"]} for line in lines])
    if columns:
        shape = ("sqlite", columns)
        if shape not in _STATEMENTS:
            _STATEMENTS[shape] = text(f"UPDATE incidents SET {_set_clause(columns)} WHERE id = :incident_id"
                                      ).bindparams(*_set_types(columns))
        conn.execute(_STATEMENTS[shape], params)
    conn.commit()
    return True


_STATUS_READ = text(
    "SELECT c.state, c.incident_id, d.response, d.received_at, "
    "EXISTS (SELECT 1 FROM incident_events e WHERE e.incident_id = c.incident_id AND e.kind = :deferred) "
    f"FROM call_sessions c {_DELIVERY} WHERE c.call_sid = :sid"
).bindparams(bindparam("key", type_=String), bindparam("sid", type_=String),
             bindparam("deferred", value=EventKind.CONNECT_DEFERRED.value, type_=String)).columns(
    column("state", ReadableJSON()), column("incident_id", Integer), *_STORED_COLUMNS, column("deferred", Boolean))
_STATUS_TYPES = (_NOW, bindparam("at", type_=UTCDateTime()), bindparam("detail", type_=JSON))
_STATUS_POSTGRES = text(
    'WITH stored AS (INSERT INTO webhook_deliveries ("key", path, response, received_at) '
    "VALUES (:key, :path, :response, :now) RETURNING 1), "
    "logged AS (INSERT INTO incident_events (incident_id, call_sid, at, written_at, actor, kind, detail) "
    "SELECT CAST(:incident_id AS INTEGER), :call_sid, :at, :now, :actor, :kind, :detail FROM stored), "
    "ended AS (UPDATE call_sessions SET status = :status, updated_at = :now "
    "WHERE call_sid = :call_sid AND :ended AND EXISTS (SELECT 1 FROM stored)) "
    "SELECT count(*) FROM stored").bindparams(*_STATUS_TYPES)
_STATUS_SQLITE_END = text("UPDATE call_sessions SET status = :status, updated_at = :now "
                          "WHERE call_sid = :call_sid").bindparams(_NOW)


def status(db: Database, *, key: str, path: str, call_sid: str, call_status: str, duration: str, ended: bool,
           now: datetime) -> str | Replayed | Unanswered | None:
    """The (empty) answer to a status callback that only logs (or stored before); else the full path
    (``intake.end_call``)."""
    postgres = db.autocommit is not None
    with _connect(db) as conn:
        row = conn.execute(_STATUS_READ, {"key": key, "sid": call_sid}).first()
        if row is None:
            return None  # a call we never saw start: the full path logs it
        state, incident_id, stored, stored_at, deferred = row
        if stored is not None:
            return stored_answer(stored, stored_at, now)
        if ended and (deferred or not nothing_to_settle(readable_state(state), incident_id)):
            return UNANSWERED  # a connect a rep asked for during the call (acks.connect_after_call), or more to settle
        params = {**event_row(at=now, actor="twilio", kind="call_status", call_sid=call_sid, incident_id=incident_id,
                              detail={"status": call_status, "duration": duration}),
                  "key": key, "path": path[:200], "response": "", "now": now, "written_at": now,
                  "status": call_status[:32],
                  "ended": ended}
        try:
            if postgres:
                conn.execute(_STATUS_POSTGRES, params)
            else:
                conn.execute(_STORE, params)
                conn.execute(_LOG, params)
                if ended:
                    conn.execute(_STATUS_SQLITE_END, params)
                conn.commit()
        except IntegrityError:  # a concurrent duplicate stored this key first
            conn.rollback()
            return _stored_or_unanswered(conn, key, now)
        return ""
