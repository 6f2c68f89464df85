"""Every incident's log lines in the order they were committed: a position a reader resumes from skips nothing.

A line's ``at`` is the hotline's clock when the line was made, and its ``id`` when it was inserted;
its transaction may commit later (a slow webhook, a worker's pass, a spooled call replayed after a
database outage with the call's own time). A reader that resumes "after the last ``at``" or "after
the last ``id``" it saw can therefore step over a line that was not yet committed when it read.

A :class:`Position` instead says which transactions' lines were handed out. On PostgreSQL it holds a
snapshot (``pg_current_snapshot()``: xmin, xmax and the transactions in progress); the next read
hands out the lines of the transactions that snapshot did not see as committed, each line once, and
waits for nobody (a transaction still open is simply read next time). A page cut by ``limit`` is
pinned to the snapshot of the read that began it. On SQLite one writer holds the database at a time,
so lines commit in ``id`` order and the position is the highest id handed out.

An incident's log is its own lines and those its call logged before it opened mid-call (issue 13:
no incident id then, the call's SID; ``events.events_of``). Those are handed out with the incident's
opening line, as the incident's, once both have committed: a reader that had passed them then (no
incident to name) gets them with the opening.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from sqlalchemy import bindparam, cast, false, func, literal_column, select, text, tuple_, union_all
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

from app.event_kind import EventKind
from app.models import Incident, IncidentEvent

_SNAPSHOT = re.compile(r"(\d{1,19}):(\d{1,19}):((?:\d{1,19})(?:,\d{1,19})*)?")
_VERSION = "1"


class InvalidPosition(ValueError):
    """A cursor this hotline did not hand out (or one of another database)."""


@dataclass(frozen=True)
class Position:
    """Where a reader of the log stands.

    ``done``: every line committed as of it was handed out (PostgreSQL: a snapshot's text; SQLite: an
    id); None at the beginning of the log. ``pin``/``last``: in the middle of a page cut by its limit,
    the snapshot (SQLite: the highest id) that page was read under and the key of the line handed out last:
    (txid, id, id) of a line logged to its incident; of a call's line logged before its incident opened, the
    (txid, id) of the later of it and the opening line, then its own id (``_call_lines``).
    """

    dialect: str
    done: str | None = None
    pin: str | None = None
    last: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class FeedLine:
    """One line handed out, and the incident whose log it is part of."""

    event: IncidentEvent
    incident_id: int


def here(session: Session) -> Position:
    """The position after every line committed now (a reader that starts now reads what commits from now on)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return Position(dialect, session.scalar(text("SELECT pg_current_snapshot()::text")))
    return Position(dialect, str(session.scalar(select(func.coalesce(func.max(IncidentEvent.id), 0)))))


def read(session: Session, position: Position | None, limit: int,
         kinds: tuple[str, ...] | None = None) -> tuple[list[FeedLine], Position, bool]:
    """Up to ``limit`` incident lines (of ``kinds``, if given) after ``position`` in commit order, the position
    after them and whether more were already committed (read again at once)."""
    dialect = session.get_bind().dialect.name
    position = position or Position(dialect)
    if position.dialect != dialect:
        raise InvalidPosition("a cursor of another database")
    pin = position.pin or here(session).done
    assert pin is not None
    # each part in its key order, cut at the page (the incident's own lines: an index scan of (txid, id) that
    # stops there), then the page of their union
    keyed = union_all(_page(_own_lines(dialect, position, pin, kinds), position.last, limit, own=True),
                      *(_page(_call_lines(dialect, position, pin, kinds, opened_now), position.last, limit)
                        for opened_now in (True, False))).subquery()
    key = (keyed.c.key_txid, keyed.c.key_id, keyed.c.id)
    stmt = (select(IncidentEvent, keyed.c.owner, *key).join(keyed, keyed.c.id == IncidentEvent.id)
            .order_by(*key).limit(limit + 1))
    rows = session.execute(stmt).all()
    lines = [FeedLine(event, owner) for event, owner, *_ in rows[:limit]]
    if len(rows) > limit:
        return lines, Position(dialect, position.done, pin, tuple(rows[limit - 1][2:])), True
    return lines, Position(dialect, pin), False


def _page(part, last: tuple[int, int, int] | None, limit: int, own: bool = False):
    """The first ``limit`` + 1 lines of ``part`` (a select of id, owner, key_txid, key_id) after ``last``, by key."""
    columns = part.selected_columns
    key = (columns.key_txid, columns.key_id, columns.id)
    if last is not None:
        if own:  # key (txid, id, id): the index's own order; the opening line after its call's lines keyed by it
            txid, key_id, row_id = last
            after = tuple_(*key[:2]) >= tuple_(txid, key_id) if row_id < key_id else tuple_(*key[:2]) > tuple_(txid, key_id)
        else:
            after = tuple_(*key) > tuple_(*last)
        part = part.where(after)
    return select(part.order_by(*key).limit(limit + 1).subquery())


def _own_lines(dialect: str, position: Position, pin: str, kinds: tuple[str, ...] | None):
    """Lines logged to an incident, keyed by their own transaction and id."""
    e = IncidentEvent.__table__
    where = [e.c.incident_id.is_not(None), *_window(dialect, position, pin, e)]
    if kinds is not None:
        where.append(e.c.kind.in_(kinds))
    return select(e.c.id, e.c.incident_id.label("owner"), e.c.txid.label("key_txid"), e.c.id.label("key_id")).where(*where)


_CALL_LINE, _OPENING = IncidentEvent.__table__.alias("call_line"), IncidentEvent.__table__.alias("opening")


def _call_lines(dialect: str, position: Position, pin: str, kinds: tuple[str, ...] | None, opened_now: bool):
    """Lines a call logged with no incident id (before its incident opened mid-call, issue 13), handed out as the
    incident's once both they and its opening line have committed: with the opening line when that commits last
    (``opened_now``), else as themselves. Each side is found from the lines in the window (the txid index)."""
    e, o = _CALL_LINE, _OPENING
    later = o if opened_now else e
    where = [e.c.incident_id.is_(None), *_window(dialect, position, pin, later)]
    if opened_now:
        where.append(_committed(dialect, pin, e))
    else:  # the opening handed out before: its line came before this one's
        where += [_committed(dialect, pin, o), _handed_out(dialect, position, o)]
    if kinds is not None:
        where.append(e.c.kind.in_(kinds))
    return (select(e.c.id, o.c.incident_id.label("owner"), later.c.txid.label("key_txid"),
                   later.c.id.label("key_id"))
            .select_from(o).join(Incident, Incident.id == o.c.incident_id).join(e, e.c.call_sid == Incident.call_sid)
            .where(o.c.kind == EventKind.INCIDENT_OPENED.value, *where))


def _committed(dialect: str, snapshot: str, line):
    """SQL: ``line`` had committed as of ``snapshot`` (SQLite: the highest id then)."""
    if dialect == "postgresql":
        return _visible(line, snapshot, "feed_pin")
    return line.c.id <= int(snapshot)


def _handed_out(dialect: str, position: Position, line):
    """SQL: ``line`` was handed out before ``position`` (committed as of its ``done``)."""
    if position.done is None:
        return false()
    if dialect == "postgresql":
        return _visible(line, position.done, "feed_done")
    return line.c.id <= int(position.done)


def _window(dialect: str, position: Position, pin: str, line) -> list:
    """Conditions: ``line`` committed as of ``pin`` and not handed out before ``position``."""
    window = [_committed(dialect, pin, line)]
    if position.done is not None:
        if dialect == "postgresql":  # a transaction below the snapshot's xmin had ended: the index skips the lines
            window.append(line.c.txid >= _xmin(position.done))
        window.append(~_handed_out(dialect, position, line))
    return window


class _Snapshot(UserDefinedType):
    """PostgreSQL's ``pg_snapshot`` (a cast target only)."""

    cache_ok = True

    def get_col_spec(self, **_kw) -> str:
        return "pg_snapshot"


# the txid of each table the feed reads lines from, as xid8 (built once: this is on every poll's path)
_XID8 = {name: literal_column(f"{name}.txid::text::xid8") for name in ("incident_events", "call_line", "opening")}


def _visible(line, snapshot: str, name: str):
    return func.pg_visible_in_snapshot(_XID8[line.name], cast(bindparam(name, snapshot, unique=True), _Snapshot()))


def _xmin(snapshot: str) -> int:
    return int(snapshot.split(":", 1)[0])


def encode(position: Position) -> str:
    """The opaque cursor of ``position``."""
    last = ".".join(str(n) for n in position.last) if position.last else ""
    raw = "|".join((_VERSION, position.dialect, position.done or "", position.pin or "", last))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> Position:
    """The position a cursor names; InvalidPosition if this hotline did not hand it out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        version, dialect, done, pin, last = raw.split("|")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidPosition("not a cursor from this API") from exc
    check = _snapshot_ok if dialect == "postgresql" else _id_ok
    if version != _VERSION or not all(check(s) for s in (done, pin) if s) or (pin == "") != (last == ""):
        raise InvalidPosition("not a cursor from this API")
    parsed_last = None
    if last:
        parts = last.split(".")  # txid.key_id.id; a cursor handed out before the key had its id: txid.id
        if len(parts) not in (2, 3) or not all(_id_ok(part) for part in parts):
            raise InvalidPosition("not a cursor from this API")
        txid, key_id, row_id = (parts[0], parts[1], parts[-1])
        parsed_last = (int(txid), int(key_id), int(row_id))
    return Position(dialect, done or None, pin or None, parsed_last)


def _id_ok(value: str) -> bool:
    return value.isascii() and value.isdecimal() and len(value) <= 18


def _snapshot_ok(value: str) -> bool:
    """What PostgreSQL's pg_snapshot input accepts: 0 < xmin <= xmax, in-progress ids ascending in [xmin, xmax)."""
    match = _SNAPSHOT.fullmatch(value)
    if match is None:
        return False
    xmin, xmax = int(match[1]), int(match[2])
    xip = [int(x) for x in match[3].split(",")] if match[3] else []
    return 0 < xmin <= xmax < 2**63 and all(xmin <= x < xmax for x in xip) and xip == sorted(set(xip))
