"""Engine and session factory; created by ``create_app``, never at import time."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    InvalidRequestError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from app import db_time_limit
from app.clock import Clock, SystemClock
from app.db_outage import Outage
from app.idle_socket import closed_while_idle

log = logging.getLogger(__name__)
POOL_RECYCLE_SECONDS = 600
# libpq's connect_timeout (unset, it waits as long as the operating system does: two minutes for a host
# that drops the connection attempt). A webhook retries once on a fresh connection, and Twilio gives up at 15 s.
CONNECT_TIMEOUT_SECONDS = 5
# TCP keepalives on every PostgreSQL connection (libpq sets none): a server whose host vanished (a failover,
# a restarted machine, a path that lost its state) is noticed by the kernel within 30 + 3 x 10 s, so its
# pooled connections are refused at checkout and a process with no time limit (the CLI) gets an error
# instead of waiting for ever. What DATABASE_URL sets itself stands.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
# libpq built with Kerberos (psycopg2's wheel is) first tries a GSSAPI-encrypted connection ("prefer"): each
# new connection then loads and reads the Kerberos set-up, 0.8 MB more in every process and twice a new
# connection's client CPU (0.85 against 0.39 ms, issue 12), for a server that nearly never offers it. So it
# is off unless DATABASE_URL (?gssencmode=) or PGGSSENCMODE asks for it; TLS is ?sslmode= as before.
NO_GSSAPI = {"gssencmode": "disable"}
_PENDING = "hotline.after_commit"  # key in Session.info: the jobs this transaction registered
_SAVEPOINTS = "hotline.savepoints"  # key in Session.info: how many jobs were registered when each open savepoint began
_DATABASE = "hotline.database"  # key in Session.info: the Database that made the session (``database_of``)


def database_of(session: Session) -> Database | None:
    """The Database whose session this is (None for a session made elsewhere)."""
    return session.info.get(_DATABASE)


def register(session: Session, job: Any) -> None:
    """Register ``job`` on the session's unit of work: it is dispatched only if, and after, the transaction commits."""
    session.info.setdefault(_PENDING, []).append(job)


def withdraw(session: Session) -> list[Any]:
    """Take back every job registered on ``session`` (a caller that reschedules the rows itself)."""
    return session.info.pop(_PENDING, [])


def registered(session: Session) -> list[Any]:
    """The jobs registered on ``session`` and not yet dispatched (for tests and logs)."""
    return list(session.info.get(_PENDING, []))


# How long a SQLite statement waits for another connection's lock (``busy_timeout``; /healthz waits less,
# ``db_wait_bound``)
SQLITE_BUSY_MS = 30000


class Database:
    """Holds the engine and hands out sessions, one transaction at a time."""

    def __init__(self, url: str) -> None:
        self.url = url
        # a failing statement's error (and so its traceback in a log) names no value it carried: customers' numbers,
        # e-mails and words stay out of the log even where no redaction pattern would see them (probe AT)
        kwargs: dict = {"future": True, "hide_parameters": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}
        else:
            # No pre-ping (a SELECT 1 round trip per checkout, issue 12): a connection the server
            # closed is dropped at checkout by a zero-timeout poll of its socket, connections are
            # renewed after POOL_RECYCLE_SECONDS, and webhooks retry once on a disconnect.
            kwargs["pool_recycle"] = POOL_RECYCLE_SECONDS
            own = make_url(url).query  # DATABASE_URL's own ?connect_timeout=, keepalives and gssencmode stand
            defaults = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **KEEPALIVES,
                        **({} if os.environ.get("PGGSSENCMODE") else NO_GSSAPI)}
            kwargs["connect_args"] = {key: value for key, value in defaults.items() if key not in own}
        self.engine: Engine = create_engine(url, **kwargs)
        # This process's view of a database outage, and its few log lines (``app.db_outage``): a commit or a new
        # connection says it is over.
        self.outage = Outage(lambda: self.clock.now(), connect_seconds=_connect_seconds(url))
        event.listen(self.engine, "connect", lambda _conn, _record: self.outage.over())
        # Connections on which each statement commits on its own (PostgreSQL only): the lean IVR
        # step's single-statement write needs no BEGIN/COMMIT round trips. None on SQLite.
        self.autocommit: Engine | None = None
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine, "checkout", _drop_if_closed)
            db_time_limit.watch(self.engine)  # a request's work ends in time even if the server stops answering
            self.autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={_DATABASE: self})
        # The one place jobs leave a transaction: after its commit, to whoever the wiring named.
        self.dispatch: Callable[[list[Any]], None] | None = None
        # The app's clock (the wiring's; a test's fake one): when each log line was written (``written_at``).
        self.clock: Clock = SystemClock()
        # The running hotline's settings (the wiring's), for a service that has only a session (``database_of``):
        # None for a bare database (a CLI check, a test's own), which knows nothing of SMTP or Twilio.
        self.settings: Any = None
        # The running hotline's queue (the wiring's), for a service that must know whether a worker runs and has only
        # a session (``watchdog_state.worker_runs``): None for a bare database, which knows no Redis.
        self.jobs: Any = None
        event.listen(self.sessions, "before_flush", self._stamp_written)
        event.listen(self.sessions, "after_commit", self._after_commit)
        event.listen(self.sessions, "after_rollback", _forget)
        event.listen(self.sessions, "after_transaction_create", _savepoint_began)
        event.listen(self.sessions, "after_transaction_end", _savepoint_ended)

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # SQLAlchemy reports a savepoint's release as a commit: the transaction is still open
        self.outage.over()
        jobs = session.info.pop(_PENDING, [])
        if not jobs:
            return
        if self.dispatch is None:
            # No queue wired (a bare CLI database): the rows stay due and the watchdog hands them over.
            log.warning("%d jobs committed with no queue wired; left to the watchdog", len(jobs))
            return
        self.dispatch(jobs)

    def _stamp_written(self, session: Session, _context, _instances) -> None:
        """Each log line this flush inserts: written now, by the app's clock (whatever instant its ``at`` tells of)."""
        from app.models import IncidentEvent  # the models import nothing of this module; this one imports no model

        now = None
        for obj in session.new:
            if isinstance(obj, IncidentEvent):
                now = now or self.clock.now()
                obj.written_at = now

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def session(self) -> Session:
        """A plain session (the caller commits)."""
        return self.sessions()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _connect_seconds(url: str) -> float | None:
    """libpq's connect time-out for ``url`` (DATABASE_URL's own ?connect_timeout=, else ours); None for SQLite."""
    if url.startswith("sqlite"):
        return None
    own = make_url(url).query.get("connect_timeout")
    try:
        return float(own) if isinstance(own, str) else float(CONNECT_TIMEOUT_SECONDS)
    except ValueError:
        return None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.close()


def _drop_if_closed(dbapi_conn, _record, _proxy) -> None:
    """Refuse a pooled connection whose socket is readable while idle: the server closed it (restart, idle
    time-out) and said so. A healthy idle connection has nothing to read; the check costs no round trip."""
    if dbapi_conn.closed:  # closed on our side (psycopg2's fileno() would raise its InterfaceError)
        raise DisconnectionError("this pooled connection is closed")
    if closed_while_idle(dbapi_conn.fileno()):
        raise DisconnectionError("the server closed this pooled connection")


def is_disconnect(exc: BaseException) -> bool:
    """True for an error that says the connection died under us (worth one retry on a fresh one).

    Not only the statement's error that invalidated it: probe D1 saw a dropped connection surface as each of
    these, and the caller was sent to the emergency voicemail instead of being retried. The transaction's next
    statement after it (PendingRollbackError "Can't reconnect until invalid transaction is rolled back", code
    8s2b: only an invalidated connection raises it; the error of the first page step, caught in its savepoint,
    left the opening's transaction on a dead connection), the driver's own error when it escapes SQLAlchemy
    unwrapped (psycopg2's OperationalError "server closed the connection unexpectedly" out of the lean step's
    connect), and the pool's "This connection is closed" when each connection it tried at checkout was found
    closed (probe D3: a status callback's retry, answered 500 instead of spooled).
    """
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated
    if isinstance(exc, PendingRollbackError):
        return exc.code == "8s2b"
    if isinstance(exc, InvalidRequestError):
        return str(exc) == "This connection is closed"
    # psycopg2 as loaded by the engine, if it was: a SQLite process need not load libpq to learn that no error of
    # psycopg2's was raised
    driver = sys.modules.get("psycopg2")
    return driver is not None and isinstance(exc, (driver.OperationalError, driver.InterfaceError))


def unreachable(exc: BaseException) -> bool:
    """True for an error that says the database could not be reached or did not answer in time (down, refusing
    connections, its time limit spent, a pool with no connection to give), not that a statement was wrong."""
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)) or is_disconnect(exc)


def _forget(session: Session) -> None:
    """A rolled-back transaction dispatches nothing; a rolled-back savepoint drops only what it registered."""
    marks = session.info.get(_SAVEPOINTS)
    if session.in_nested_transaction() and marks:
        del session.info.get(_PENDING, [])[marks[-1]:]
    else:
        session.info.pop(_PENDING, None)


def _savepoint_began(session: Session, transaction) -> None:
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS, []).append(len(session.info.get(_PENDING, [])))


def _savepoint_ended(session: Session, transaction) -> None:
    if transaction.nested and session.info.get(_SAVEPOINTS):
        session.info[_SAVEPOINTS].pop()
