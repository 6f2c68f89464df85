"""The unit of work's jobs leave only with the outermost commit (app.db), on SQLite and PostgreSQL.

SQLAlchemy reports a savepoint's release as a commit and its rollback as a rollback. The opening's
first page step runs in a savepoint (``escalation.plan_escalation``): taken for the commit, its
release sent the incident's page jobs to RQ before the incident was committed, and in the burst a
worker that took one at once found no page row yet and dropped it (146 of 300 first pages waited
for the watchdog, 8 to 17 s).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.db import Database, register, registered


def _database(database_url):
    db = Database(database_url)
    sent: list[list[str]] = []
    db.dispatch = lambda jobs: sent.append(list(jobs))
    return db, sent


def test_jobs_registered_in_a_released_savepoint_leave_with_the_outer_commit(database_url):
    db, sent = _database(database_url)
    try:
        with db.transaction() as session:
            register(session, "before")
            with session.begin_nested():
                session.execute(text("SELECT 1"))
                register(session, "inside")
            assert sent == []  # the release is not the commit
            register(session, "after")
        assert sent == [["before", "inside", "after"]]
    finally:
        db.dispose()


def test_a_rolled_back_savepoint_drops_only_its_own_jobs(database_url):
    db, sent = _database(database_url)
    try:
        with db.transaction() as session:
            register(session, "before")
            with pytest.raises(RuntimeError), session.begin_nested():
                register(session, "inside")
                with session.begin_nested():
                    register(session, "deeper")
                raise RuntimeError("the savepoint fails")
            assert registered(session) == ["before"]
            with session.begin_nested():
                register(session, "retried")
        assert sent == [["before", "retried"]]
    finally:
        db.dispose()


def test_a_rolled_back_transaction_sends_nothing(database_url):
    db, sent = _database(database_url)
    try:
        with pytest.raises(RuntimeError), db.transaction() as session:
            register(session, "doomed")
            with session.begin_nested():
                register(session, "inside")
            raise RuntimeError("the transaction fails")
        with db.transaction() as session:
            register(session, "next")
        assert sent == [["next"]]
    finally:
        db.dispose()
