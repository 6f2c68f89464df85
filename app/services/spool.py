"""A local file that keeps what an emergency path could not write to SQL.

When the database itself is down, the fallback path still answers the caller
and appends what it knows here, and Twilio's status callbacks and inbound SMS are
kept here as Twilio posted them (``app.webhooks.answer_status``, ``app.sms.routes``);
``replay`` turns the lines into incidents and applies the callbacks and SMS later,
in the order they came.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from app.models import IncidentSource
from app.services.incidents import attach_recording, rescue_call
from app.services.intake import policy_from

log = logging.getLogger(__name__)
SPOOL_NAME = "spool.jsonl"
REPLAYING = ".replaying"  # the suffix of a spool file taken aside by a replay


def spool(data_dir: Path, kind: str, payload: dict[str, Any]) -> None:
    """Append one record durably (fsync) to the spool file."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _append(data_dir / SPOOL_NAME, json.dumps({"kind": kind, **payload}, default=str) + "\n")


def keep(data_dir: Path, kind: str, payload: dict[str, Any]) -> bool:
    """``spool``, or False when the data dir cannot take the record (read-only, immutable, full): logged as the
    loss it is, never as kept, and never raised (the webhook still answers its caller)."""
    try:
        spool(data_dir, kind, payload)
        return True
    except OSError as exc:
        log.error("could NOT keep a %s record in the spool: %s (%s); HOTLINE_DATA_DIR must be writable", kind,
                  exc.strerror or exc, type(exc).__name__)
        return False


def waiting(data_dir: Path) -> int:
    """How many records the spool holds for a replay (its file and any taken aside): each is a caller, a recording,
    a status callback or an SMS the database did not take when it came."""
    count = 0
    try:
        paths = [data_dir / SPOOL_NAME, *data_dir.glob(f"spool*{REPLAYING}")]
    except OSError:  # a data dir that cannot be read: ``unwritable`` says so
        return 0
    for path in paths:
        try:
            with path.open("rb") as handle:
                count += sum(1 for line in handle if line.strip())
        except OSError:  # replayed meanwhile (gone), or unreadable (``unwritable`` says so)
            continue
    return count


def unwritable(data_dir: Path) -> str | None:
    """Why the spool could not be written now (a file is created, written and removed), or None."""
    probe = data_dir / ".spool-probe"
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with probe.open("ab") as handle:
            handle.write(b"x")
        probe.unlink()
        return None
    except OSError as exc:
        return f"{exc.strerror or exc} ({type(exc).__name__})"


def _append(path: Path, text: str) -> None:
    """Append ``text`` to the spool at ``path`` under its lock, to the file that is the spool *then*.

    A replay moves the spool aside under the same lock; a writer that opened the file before that
    move finds, once it holds the lock, that ``path`` names another file, and opens it again:
    its record never lands in a file the replay has already read and is about to delete.
    """
    while True:
        # 0600: spooled records carry callers' phone numbers.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not _is_current(fd, path):
                continue  # moved aside while we waited: the spool is a new file now
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
            return
        finally:
            os.close(fd)  # and with it the lock


def _is_current(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def _take_aside(path: Path, data_dir: Path) -> None:
    """Move the spool aside under its lock (a writer holding the lock finishes its record first)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _is_current(fd, path):
            os.replace(path, data_dir / f"spool.{time.time_ns()}{REPLAYING}")
    finally:
        os.close(fd)


def replay(db, settings) -> int:
    """Write the spooled records of ``settings.data_dir`` to SQL, in order (idempotent: a rescue per call, a status
    callback per delivery; their jobs go on the unit of work); returns how many.

    The spool is first moved aside under a name of its own (new records go to a fresh file meanwhile), and
    every file moved aside is replayed, including one a replay that died (a SIGKILLed leader) left behind:
    a fixed name would be overwritten by the next move, and the callers in it lost.
    """
    data_dir, policy = settings.data_dir, policy_from(settings)
    path = data_dir / SPOOL_NAME
    _take_aside(path, data_dir)
    taken = sorted(data_dir.glob(f"spool*{REPLAYING}"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    done, left = 0, []
    for work in taken:
        for line in work.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                _replay_one(db, json.loads(line), policy, settings)
                done += 1
            except Exception:  # noqa: BLE001 - keep the line for the next replay
                log.exception("spool record not replayed; kept")
                left.append(line)
    # kept lines go back before the files are deleted: a death in between replays them twice (idempotent), not never
    if left:
        _append(path, "".join(line + "\n" for line in left))
    for work in taken:
        work.unlink()
    return done


def _replay_one(db, record: dict[str, Any], policy, settings) -> None:
    at = datetime.fromisoformat(record["at"])
    with db.transaction() as session:
        if record["kind"] == "status":  # applied as its route would have, at the time it came, once per delivery
            from app.services.status_callbacks import APPLY
            from app.webhooks import apply_once

            apply = APPLY[record["path"]]
            form, query = record.get("form", {}), record.get("query", {})
            apply_once(session, record["key"], record["path"],
                       lambda s, now: apply(s, form, query, now, settings) or "", at)
            return
        if record["kind"] == "sms":  # carried out at the time it came, once per delivery; its answer sent by SMS
            from app.services.sms_inbound import PATH, answer_later
            from app.webhooks import apply_once

            form = record.get("form", {})
            apply_once(session, record["key"], PATH, lambda s, now: answer_later(s, form, now, settings), at)
            return
        if record["kind"] == "rescue":
            rescue_call(
                session, call_sid=record["call_sid"], from_number=record.get("from", ""), now=at,
                reason=record.get("reason", "spooled"), policy=policy,
                source=IncidentSource(record.get("source", IncidentSource.FALLBACK)),
            )
            return
        if record["kind"] == "recording":
            attach_recording(session, call_sid=record["call_sid"], url=record.get("url", ""),
                             seconds=int(record.get("seconds", 0)), now=at)
            return
    raise ValueError(f"unknown spool record kind {record['kind']!r}")
