"""Locks on a name (a network, a caller ID, a callback number), held until the transaction ends.

A limit counted in SQL and then written (a failed login, an incident opened, an SMS answered) holds only when the
count and the write of one name are never interleaved: requests at the same moment each read the same count and each
passed (24 logins at once with three failures left: 16 failures; 10 hang-ups at once from one number under a limit of
3: 8 incidents). ``hold`` makes the caller's transaction the only one of that name until it ends.

PostgreSQL: ``pg_advisory_xact_lock(space, key)``, the key a hash of the name: the two-key form never meets a one-key
lock (``app/migrate.py``'s), and each space sets its names apart from any other's. Other names do not wait.
SQLite: the database's write lock (taken by a write that changes nothing), which orders every writer anyway; taken
before the count, so a transaction never counts on a snapshot that an earlier writer's commit makes stale (in WAL
mode its write would then fail with SQLITE_BUSY_SNAPSHOT instead of waiting).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

LOGIN_SPACE = 727_001_016  # failed logins, per client network (``login_limits``)
CALLER_SPACE = 727_001_017  # incidents opened per caller ID (``caller_limits``)
CONTACT_SPACE = 727_001_018  # incidents opened per callback number (``caller_limits``)
UNKNOWN_SMS_SPACE = 727_001_019  # answers to SMS from unknown senders, all of them (``sms_commands``)
GUESS_SPACE = 727_001_020  # wrong references and ticket numbers keyed, all callers (``reference_guesses``)
UNPROVEN_RECEIPT_SPACE = 727_001_021  # receipts to numbers nobody proved, all of them (``unproven_reports``)
REP_REFUSAL_SPACE = 727_001_022  # a rep's refused SMS: their log lines and answers (``refusal_answers``)


def name_key(name: str) -> int:
    """The signed 32-bit key a name is locked under."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def hold(session: Session, space: int, name: str) -> None:
    """Make this transaction the only holder of ``name`` in ``space`` until it ends (see the module's words)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": space, "key": name_key(name)})
    else:
        sqlite_writer(session)


def sqlite_writer(session: Session) -> None:
    """SQLite: take the database's write lock now, until the transaction ends (a write that changes nothing), where
    PostgreSQL's row locks would order the writers and SQLite ignores them; what is read after it is no longer
    stale when written. PostgreSQL: nothing."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("UPDATE leases SET name = name WHERE 1 = 0"))
