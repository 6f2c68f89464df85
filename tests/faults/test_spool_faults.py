"""The emergency spool survives the watchdog leader dying mid-replay.

``replay`` first moves ``spool.jsonl`` aside (``spool.replaying``) so that callers spooled
meanwhile go to a fresh file, writes each record to SQL, then deletes the moved file. A leader
SIGKILLed between the move and the delete (a replay takes a while when the database is slow
to come back) left ``spool.replaying`` behind: the next leader found no ``spool.jsonl`` and
replayed nothing, and once a later outage spooled another caller, its move overwrote the
leftover file, and the callers in it were gone for good.
"""

from __future__ import annotations

import os

from sqlalchemy import select

from app.models import DueStep, Incident
from app.services.spool import SPOOL_NAME, spool
from tests.paging.conftest import CUSTOMER
from workers import watchdog

FIRST, SECOND, LATER = "CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32


def _spool_one(hotline, call_sid: str) -> None:
    spool(hotline.settings.data_dir, "rescue", {"call_sid": call_sid, "from": CUSTOMER, "reason": "db down",
                                                "at": hotline.clock.now().isoformat(), "source": "fallback"})


def _leader_killed_mid_replay(hotline) -> None:
    """The disk as a SIGKILLed replay leaves it: the spool taken aside, none of it written to SQL yet."""
    path = hotline.settings.data_dir / SPOOL_NAME
    os.replace(path, path.with_suffix(".replaying"))  # replay's first move; the process died right after it


def _rescued(hotline) -> dict[str, int]:
    """Each rescued incident's call SID, with how many due steps it owes."""
    with hotline.db.session() as s:
        incidents = s.scalars(select(Incident)).all()
        return {i.call_sid: len(s.scalars(select(DueStep.id).where(DueStep.incident_id == i.id)).all())
                for i in incidents}


def test_the_next_leader_replays_what_a_killed_leader_had_taken_from_the_spool(hotline):
    _spool_one(hotline, FIRST)
    _spool_one(hotline, SECOND)
    _leader_killed_mid_replay(hotline)

    watchdog.tick(hotline, "next-leader")

    rescued = _rescued(hotline)
    assert sorted(rescued) == [FIRST, SECOND]
    assert all(steps > 0 for steps in rescued.values())  # each owes its escalation plan
    assert not list(hotline.settings.data_dir.glob("spool.*"))  # nothing left to replay, nothing replayed twice
    watchdog.tick(hotline, "next-leader")
    assert sorted(_rescued(hotline)) == [FIRST, SECOND]


def test_a_caller_spooled_after_a_killed_replay_does_not_overwrite_the_callers_it_had_taken(hotline):
    _spool_one(hotline, FIRST)
    _spool_one(hotline, SECOND)
    _leader_killed_mid_replay(hotline)
    _spool_one(hotline, LATER)  # the database is down again before anyone replayed

    watchdog.tick(hotline, "next-leader")

    assert sorted(_rescued(hotline)) == [FIRST, SECOND, LATER]
    assert not list(hotline.settings.data_dir.glob("spool.*"))


def _waiting_for_a_lock_on(inode: int) -> bool:
    """True once some process waits for a flock on ``inode`` (/proc/locks lists waiters with '->')."""
    for line in open("/proc/locks", encoding="ascii"):
        fields = line.split()
        if "->" in fields and fields[fields.index("->") + 1] == "FLOCK" and fields[-3].endswith(f":{inode}"):
            return True
    return False


def test_a_record_written_while_the_replay_moves_the_spool_lands_in_the_new_spool(tmp_path):
    """A writer that opened the spool just before a replay took it aside: its record goes to the new spool, never
    into the file the replay has read and is about to delete."""
    import fcntl
    import threading
    import time

    from app.services.spool import REPLAYING

    spool(tmp_path, "rescue", {"call_sid": FIRST, "at": "2026-12-03T03:00:00+00:00"})
    path = tmp_path / SPOOL_NAME
    held = os.open(path, os.O_RDONLY)  # the replay holds the spool's lock while it moves it aside
    fcntl.flock(held, fcntl.LOCK_EX)
    later = {"call_sid": LATER, "at": "2026-12-03T03:01:00+00:00"}
    writer = threading.Thread(target=spool, args=(tmp_path, "rescue", later))
    writer.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_a_lock_on(os.fstat(held).st_ino):  # the writer has the old file open and waits
        assert time.monotonic() < deadline, "the writer never waited for the spool's lock"
    moved = tmp_path / f"spool.1{REPLAYING}"
    os.replace(path, moved)
    os.close(held)
    writer.join(timeout=10)
    assert FIRST in moved.read_text() and LATER not in moved.read_text()
    assert LATER in path.read_text() and FIRST not in path.read_text()
