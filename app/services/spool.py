"""A local file that keeps what an emergency path could not write to SQL.

When the database itself is down, the fallback path still answers the caller
and appends what it knows here; ``replay`` turns the lines into incidents later.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from app.models import IncidentSource
from app.services.incidents import attach_recording, rescue_call
from ivr_flows.model import FlowPolicy

log = logging.getLogger(__name__)
SPOOL_NAME = "spool.jsonl"


def spool(data_dir: Path, kind: str, payload: dict[str, Any]) -> None:
    """Append one record durably (fsync) to the spool file."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = json.dumps({"kind": kind, **payload}, default=str)
    # 0600: spooled records carry callers' phone numbers.
    with os.fdopen(os.open(data_dir / SPOOL_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
                   "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def replay(db, data_dir: Path, policy: FlowPolicy) -> int:
    """Write spooled records to SQL (idempotent per call; their jobs go on the unit of work); returns how many."""
    path = data_dir / SPOOL_NAME
    if not path.exists():
        return 0
    work = path.with_suffix(".replaying")
    os.replace(path, work)  # new records go to a fresh file while we replay
    done, left = 0, []
    for line in work.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            _replay_one(db, json.loads(line), policy)
            done += 1
        except Exception:  # noqa: BLE001 - keep the line for the next replay
            log.exception("spool record not replayed; kept")
            left.append(line)
    for line in left:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    work.unlink()
    return done


def _replay_one(db, record: dict[str, Any], policy: FlowPolicy) -> None:
    at = datetime.fromisoformat(record["at"])
    with db.transaction() as session:
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
