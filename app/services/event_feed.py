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
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal_column, select, text, tuple_
from sqlalchemy.orm import Session

from app.models import IncidentEvent

_SNAPSHOT = re.compile(r"(\d{1,19}):(\d{1,19}):((?:\d{1,19})(?:,\d{1,19})*)?")
_VERSION = "1"


class InvalidPosition(ValueError):
    """A cursor this hotline did not hand out (or one of another database)."""


@dataclass(frozen=True)
class Position:
    """Where a reader of the log stands.

    ``done``: every line committed as of it was handed out (PostgreSQL: a snapshot's text; SQLite: an
    id); None at the beginning of the log. ``pin``/``last``: in the middle of a page cut by its limit,
    the snapshot (SQLite: the highest id) that page was read under and the (txid, id) handed out last.
    """

    dialect: str
    done: str | None = None
    pin: str | None = None
    last: tuple[int, int] | None = None


def here(session: Session) -> Position:
    """The position after every line committed now (a reader that starts now reads what commits from now on)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return Position(dialect, session.scalar(text("SELECT pg_current_snapshot()::text")))
    return Position(dialect, str(session.scalar(select(func.coalesce(func.max(IncidentEvent.id), 0)))))


def read(session: Session, position: Position | None, limit: int,
         kinds: tuple[str, ...] | None = None) -> tuple[list[IncidentEvent], Position, bool]:
    """Up to ``limit`` incident lines (of ``kinds``, if given) after ``position`` in commit order, the position
    after them and whether more were already committed (read again at once)."""
    dialect = session.get_bind().dialect.name
    position = position or Position(dialect)
    if position.dialect != dialect:
        raise InvalidPosition("a cursor of another database")
    conditions = [IncidentEvent.incident_id.is_not(None)]
    if kinds is not None:
        conditions.append(IncidentEvent.kind.in_(kinds))
    pin = position.pin or here(session).done
    assert pin is not None
    if dialect == "postgresql":
        conditions += _postgresql_window(position, pin)
    else:
        conditions.append(IncidentEvent.id <= int(pin))
        if position.done is not None:
            conditions.append(IncidentEvent.id > int(position.done))
    if position.last is not None:
        conditions.append(tuple_(IncidentEvent.txid, IncidentEvent.id) > tuple_(*position.last))
    rows = list(session.scalars(select(IncidentEvent).where(*conditions)
                                .order_by(IncidentEvent.txid, IncidentEvent.id).limit(limit + 1)))
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, Position(dialect, position.done, pin, (rows[-1].txid, rows[-1].id)), True
    return rows, Position(dialect, pin), False


def _postgresql_window(position: Position, pin: str) -> list:
    """Lines committed as of ``pin`` and not as of ``position.done``."""
    def visible(snapshot: str, name: str):
        return func.pg_visible_in_snapshot(literal_column("incident_events.txid::text::xid8"),
                                           bindparam(name, snapshot).op("::")(literal_column("pg_snapshot")))

    window = [visible(pin, "feed_pin")]
    if position.done is not None:
        # a transaction below the snapshot's xmin had ended: the index skips every line before it
        window += [IncidentEvent.txid >= _xmin(position.done), ~visible(position.done, "feed_done")]
    return window


def _xmin(snapshot: str) -> int:
    return int(snapshot.split(":", 1)[0])


def encode(position: Position) -> str:
    """The opaque cursor of ``position``."""
    last = f"{position.last[0]}.{position.last[1]}" if position.last else ""
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
        txid, _, row_id = last.partition(".")
        if not (_id_ok(txid) and _id_ok(row_id)):
            raise InvalidPosition("not a cursor from this API")
        parsed_last = (int(txid), int(row_id))
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
