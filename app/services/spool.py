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

from app.carried_answers import Carried
from app.db import unreachable
from app.file_lock import exclusive
from app.models import IncidentSource
from app.services.incidents import attach_recording, rescue_call
from app.services.intake import policy_from

log = logging.getLogger(__name__)
SPOOL_NAME = "spool.jsonl"
REPLAYING = ".replaying"  # the suffix of a spool file taken aside by a replay
DEAD_NAME = "spool.dead.jsonl"  # records set aside after MAX_TRIES failed replays, for a human
MAX_TRIES = 3  # failed replays (the database answering) before a record is set aside
TRIES = "replay_failures"  # the field of a kept record counting them


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


def kept(data_dir: Path, *paths: str) -> list[dict[str, Any]]:
    """The webhooks of ``paths`` the spool holds for a replay (its file and any taken aside), in the order they came:
    a web request may apply one ahead of its replay (``status_callbacks.apply_kept_key_press``), once per delivery."""
    found: list[dict[str, Any]] = []
    try:
        files = [*_taken(data_dir), data_dir / SPOOL_NAME]
    except OSError:
        return found
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError:  # replayed meanwhile (gone), or unreadable
            continue
        for line in lines:
            if not any(f'"{path}"' in line for path in paths):  # most lines: no JSON parsed
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("kind") == "status" and record.get("path") in paths:
                found.append(record)
    return found


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
    """Move the spool aside under its lock (a writer holding the lock finishes its record first), named after all
    files taken aside before it (``_place``)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _is_current(fd, path):
            last = max((_place(taken)[0] for taken in _taken(data_dir)), default=0)
            os.replace(path, data_dir / f"spool.{max(time.time_ns(), last + 1)}{REPLAYING}")
    finally:
        os.close(fd)


def _taken(data_dir: Path) -> list[Path]:
    """The files taken aside and not yet replayed, oldest first."""
    return sorted(data_dir.glob(f"spool*{REPLAYING}"), key=_place)


def _place(path: Path) -> tuple[int, str]:
    """Where a file taken aside stands: the number in its name (a leftover ``spool.replaying`` of an older release
    first). Not its mtime: a replay that stops rewrites its file with what is left, which must stay first."""
    middle = path.name[len("spool."):-len(REPLAYING)]
    return (int(middle) if middle.isdigit() else -1, path.name)


def replay(db, settings) -> int:
    """Write the spooled records of ``settings.data_dir`` to SQL, in the order they came (idempotent: a rescue per
    call, a status callback per delivery; their jobs go on the unit of work); returns how many.

    The spool is first moved aside under a name of its own (new records go to a fresh file meanwhile), and
    every file moved aside is replayed, including one a replay that died (a SIGKILLed leader) left behind:
    a fixed name would be overwritten by the next move, and the callers in it lost.

    The first record that fails stops the replay: it and every record after it stay where they are, ahead of
    anything spooled since, so a call's voicemail or status callback is never applied before its rescue (an outside
    probe's rescued caller, their rescue re-appended after them, was texted "call us again" and their voicemail
    attached to no incident). A record that fails ``MAX_TRIES`` times while the database answers (a record no
    release can apply) is set aside in ``DEAD_NAME`` instead of holding up every record behind it for good.
    """
    data_dir, policy = settings.data_dir, policy_from(settings)
    if not (data_dir / SPOOL_NAME).exists() and not any(data_dir.glob(f"spool*{REPLAYING}")):
        return 0
    with exclusive(data_dir / ".spool-replay.lock"):  # two workers on one host during a lease hand-over
        _take_aside(data_dir / SPOOL_NAME, data_dir)
        done = 0
        for work in _taken(data_dir):
            lines = [line for line in work.read_text(encoding="utf-8").splitlines() if line.strip()]
            for index, line in enumerate(lines):
                try:
                    _replay_one(db, json.loads(line), policy, settings)
                    done += 1
                except Exception as exc:  # noqa: BLE001 - kept, in its place, for the next replay
                    kept = _tried(line, exc, db)
                    if kept is not None:
                        _rewrite(work, [kept, *lines[index + 1:]])
                        return done
                    _set_aside(data_dir, line, exc)
            work.unlink()
        return done


def _tried(line: str, exc: Exception, db) -> str | None:
    """``line`` to keep first in line, counting one more failure of its own; None when it is to be set aside.

    The database down or busy (a table lock past the time limit) fails every record alike: waiting loses nothing,
    so only a failure while the database answers counts towards ``MAX_TRIES``; a line that is no JSON object
    never applies.
    """
    try:
        record = json.loads(line)
        tries = int(record.get(TRIES, 0))
    except (ValueError, AttributeError, TypeError):
        return None
    if unreachable(exc):  # the database outage's own lines say so (``app.db_outage``), not one per pass here
        log.debug("spool record not replayed (the database cannot be reached or timed out: %s); kept first in line, "
                  "the records after it wait behind it", db.outage.note(exc))
        return line
    record[TRIES] = tries = tries + 1
    if tries >= MAX_TRIES:
        return None
    log.error("spool record not replayed (try %d of %d); kept first in line, the records after it wait behind it",
              tries, MAX_TRIES, exc_info=exc)
    return json.dumps(record, default=str)


def _set_aside(data_dir: Path, line: str, exc: Exception) -> None:
    """Move a record that will not apply to ``DEAD_NAME`` and say what it held (the log redacts numbers, the file
    keeps them)."""
    _append(data_dir / DEAD_NAME, line + "\n")
    log.error("spool record set aside in %s, never applied (%s: %s): apply it by hand; it held: %s",
              data_dir / DEAD_NAME, type(exc).__name__, exc, line, exc_info=exc)


def _rewrite(path: Path, lines: list[str]) -> None:
    """Replace ``path`` with ``lines`` (written and synced first: a death leaves the old file or the new one)."""
    temp = path.with_name(".spool-rewrite.tmp")
    with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def set_aside(data_dir: Path) -> int:
    """How many spooled records were set aside as never applying (``DEAD_NAME``): each waits for a human."""
    try:
        with (data_dir / DEAD_NAME).open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0


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
                carried=Carried.from_record(record.get("carried")),
            )
            return
        if record["kind"] == "recording":
            attach_recording(session, call_sid=record["call_sid"], url=record.get("url", ""),
                             seconds=int(record.get("seconds", 0)), now=at)
            return
    raise ValueError(f"unknown spool record kind {record['kind']!r}")
