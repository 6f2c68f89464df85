"""A short bound on how long a transaction's statements wait for the database: /healthz's reads and its probe of the
lock a caller's incident is written under.

Outside probe (session 46): while another connection held ``LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE`` for
20 s, /healthz answered after 19.2 s, 200 with every check "ok" and no warning, while callers meanwhile went to the
emergency voicemail. A load balancer's health check (2 to 10 s) would have timed out on every host sharing the
database at once, and a monitor with a longer one read "ok". Within ``bounded`` each statement waits at most
``BOUND_SECONDS`` (PostgreSQL: ``statement_timeout``, lock waits included, set for the transaction alone; SQLite:
the connection's ``busy_timeout``, restored after) and ``TooSlow`` says it did not get its answer in time. The
server cancels the statement, so the connection stays usable (``db_time_limit`` shuts a connection's socket only when
the server does not answer at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db import SQLITE_BUSY_MS

# Well under a load balancer's health-check timeout (often 5 s), and more than a busy moment's lock takes
BOUND_SECONDS = 2.0
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement ended at its statement_timeout
LOCK_NOT_AVAILABLE = "55P03"  # ... and at a lock_timeout
SQLITE_BUSY, SQLITE_LOCKED = 5, 6  # SQLite's primary result codes for a lock another connection holds


class TooSlow(Exception):
    """A statement did not get its answer within the bound (a lock another transaction holds, or a slow server)."""


@contextmanager
def bounded(db: Session | Connection, seconds: float = BOUND_SECONDS) -> Iterator[Connection]:
    """Within this block each statement of ``db``'s transaction waits at most ``seconds``; one that waits longer
    raises ``TooSlow`` (the transaction is then spoilt on PostgreSQL: roll it back). Yields ``db``'s connection."""
    millis, conn = round(seconds * 1000), None
    try:
        # a new SQLite connection's own set-up (``PRAGMA journal_mode``) fails at once while another holds the lock
        conn = db.connection() if isinstance(db, Session) else db
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {millis}")
        else:  # SET LOCAL: it ends with the transaction, and the pooled connection keeps no trace of it
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {millis}")
        yield conn
    except OperationalError as exc:
        if timed_out(exc):
            raise TooSlow(f"no answer within {seconds:g} s") from exc
        raise
    finally:
        if conn is not None and conn.dialect.name == "sqlite" and not conn.invalidated:
            # back to the pool with the wait every other statement gets
            conn.connection.dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")


def timed_out(exc: OperationalError) -> bool:
    """Whether ``exc`` is a statement given up at its wait bound (not a connection lost or refused)."""
    orig = exc.orig
    if getattr(orig, "pgcode", None) in (QUERY_CANCELED, LOCK_NOT_AVAILABLE):
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


def take_intake_lock(conn: Connection) -> None:
    """Take, in ``conn``'s transaction, the lock a caller's incident is written under (PostgreSQL: ``ROW EXCLUSIVE``
    on ``incidents``, what an INSERT takes; SQLite: the database's one write lock): it waits as long as another
    transaction keeps callers from being recorded. Roll the transaction back afterwards: nothing is written."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("LOCK TABLE incidents IN ROW EXCLUSIVE MODE")
