"""Simulated telephony that ``serve`` and ``worker`` share: every SMS and call lands in a SQLite file.

Without a Twilio account nothing dials out. The worker sends pages and the web app
answers replies in different processes, so the outbox is a small SQLite database in
the data directory (``simulated_phones.db``) rather than a list in one process's
memory. The admin page "Simulated phones" reads it and answers as each phone would.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.clock import Clock, SystemClock
from app.telephony.protocol import Rejected, Reported, Sent

FILE_NAME = "simulated_phones.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,            -- sms (to a phone), reply (from a phone), call (to a phone)
    phone TEXT NOT NULL,           -- the simulated phone's number
    body TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    status_callback TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT '{}'  -- a call's progress: status, what was said, the pending <Gather>/<Dial>
);
CREATE INDEX IF NOT EXISTS items_phone ON items (phone, id);
"""


@dataclass(frozen=True)
class Item:
    """One SMS, reply or call of a simulated phone."""

    id: int
    sid: str
    kind: str
    phone: str
    body: str
    url: str
    status_callback: str
    at: datetime
    state: dict

    @property
    def status(self) -> str:
        """A call's status (ringing, in-progress, completed, ...); empty for an SMS."""
        return self.state.get("status", "")


class SharedOutbox:
    """The SQLite file of simulated SMS and calls, safe to use from several processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # It holds every page SMS (customers' numbers, signed acknowledgement links): this user's alone.
        # SQLite gives its -wal and -shm files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            with conn:
                yield conn
        finally:
            conn.close()

    def add(self, kind: str, phone: str, at: datetime, *, body: str = "", url: str = "", status_callback: str = "",
            state: dict | None = None, sid: str | None = None) -> Item:
        """Store a new item and return it."""
        sid = sid or ("CA" if kind == "call" else "SM") + secrets.token_hex(16)
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO items (sid, kind, phone, body, url, status_callback, at, state) VALUES (?,?,?,?,?,?,?,?)",
                (sid, kind, phone, body, url, status_callback, _utc(at).isoformat(), json.dumps(state or {})))
            item_id = cur.lastrowid
        found = self.get(int(item_id or 0))
        assert found is not None
        return found

    def get(self, item_id: int) -> Item | None:
        """The item with this id, if any."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return _item(row) if row else None

    def update_state(self, item_id: int, state: dict) -> None:
        """Replace a call's progress."""
        with self._connect() as conn:
            conn.execute("UPDATE items SET state = ? WHERE id = ?", (json.dumps(state), item_id))

    def items(self, phone: str | None = None) -> list[Item]:
        """Every item (of one phone), oldest first."""
        with self._connect() as conn:
            if phone is None:
                rows = conn.execute("SELECT * FROM items ORDER BY id").fetchall()
            else:
                rows = conn.execute("SELECT * FROM items WHERE phone = ? ORDER BY id", (phone,)).fetchall()
        return [_item(row) for row in rows]

    def phones(self) -> list[str]:
        """Every phone that received or sent something, in order of first appearance."""
        seen: dict[str, None] = {}
        for item in self.items():
            seen.setdefault(item.phone, None)
        return list(seen)


class SharedOutboxTelephony:
    """The Telephony protocol over a :class:`SharedOutbox`: accepted, stored, never dialled."""

    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        self.outbox = SharedOutbox(path)
        self._clock: Clock = clock or SystemClock()

    def send_sms(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None) -> Sent:
        """Store an SMS to ``to``."""
        item = self.outbox.add("sms", to, self._clock.now(), body=body, status_callback=status_callback)
        return Sent(sid=item.sid, status="queued")

    def place_call(
        self, *, to: str, url: str, status_callback: str, machine_detection: str = "", timeout_seconds: int = 30
    ) -> Sent:
        """Store a call to ``to``, ringing until someone answers it on the admin page."""
        item = self.outbox.add("call", to, self._clock.now(), url=url, status_callback=status_callback,
                               state={"status": "ringing", "said": [], "machine_detection": machine_detection})
        return Sent(sid=item.sid, status="queued")

    def find_sms(self, *, to: str, since: datetime, marker: str) -> Sent | None:
        """The newest SMS to ``to`` since ``since`` containing ``marker``, if any."""
        for item in reversed(self.outbox.items(to)):
            if item.kind == "sms" and marker in item.body and item.at >= _utc(since):
                return Sent(sid=item.sid, status="queued")
        return None

    def find_call(self, *, to: str, since: datetime) -> Sent | None:
        """The newest call to ``to`` since ``since``, if any."""
        for item in reversed(self.outbox.items(to)):
            if item.kind == "call" and item.at >= _utc(since):
                return Sent(sid=item.sid, status="queued")
        return None

    def fetch_sms(self, sid: str) -> Reported:
        """A stored SMS: "sent" (the simulated phones report no delivery, so nothing final is claimed)."""
        self._item(sid, "sms")
        return Reported(sid=sid, status="sent")

    def fetch_call(self, sid: str) -> Reported:
        """A stored call, with the status the admin page's answers gave it."""
        return Reported(sid=sid, status=self._item(sid, "call").status or "queued")

    def child_calls(self, parent_sid: str) -> list[Reported]:
        """None: a ``<Dial>`` on the admin page places no call of its own here."""
        return []

    def _item(self, sid: str, kind: str) -> Item:
        for item in self.outbox.items():
            if item.sid == sid and item.kind == kind:
                return item
        raise Rejected(f"no {kind} {sid}")


def _item(row: tuple) -> Item:
    item_id, sid, kind, phone, body, url, status_callback, at, state = row
    return Item(item_id, sid, kind, phone, body, url, status_callback, datetime.fromisoformat(at), json.loads(state))


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
