"""Engine and session factory; created by ``create_app``, never at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
_PENDING = "hotline.after_commit"  # key in Session.info: the jobs this transaction registered


def register(session: Session, job: Any) -> None:
    """Register ``job`` on the session's unit of work: it is dispatched only if, and after, the transaction commits."""
    session.info.setdefault(_PENDING, []).append(job)


def withdraw(session: Session) -> list[Any]:
    """Take back every job registered on ``session`` (a caller that reschedules the rows itself)."""
    return session.info.pop(_PENDING, [])


def registered(session: Session) -> list[Any]:
    """The jobs registered on ``session`` and not yet dispatched (for tests and logs)."""
    return list(session.info.get(_PENDING, []))


class Database:
    """Holds the engine and hands out sessions, one transaction at a time."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The one place jobs leave a transaction: after its commit, to whoever the wiring named.
        self.dispatch: Callable[[list[Any]], None] | None = None
        event.listen(self.sessions, "after_commit", self._after_commit)
        event.listen(self.sessions, "after_rollback", _forget)

    def _after_commit(self, session: Session) -> None:
        jobs = session.info.pop(_PENDING, [])
        if not jobs:
            return
        if self.dispatch is None:
            # No queue wired (a bare CLI database): the rows stay due and the watchdog hands them over.
            log.warning("%d jobs committed with no queue wired; left to the watchdog", len(jobs))
            return
        self.dispatch(jobs)

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


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _forget(session: Session) -> None:
    """A rolled-back transaction dispatches nothing."""
    session.info.pop(_PENDING, None)
