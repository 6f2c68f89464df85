"""What this host's emergency spool holds, in the words ``/healthz`` and ``hotline check`` both give.

Read from local files only, so it is said with the database down too, which is when it matters: an outside
probe's ``hotline check`` during an outage said only that the database could not be reached, not that callers'
reports were waiting in a local file that only this host's leading watchdog replays (README, *Several hosts*).
"""

from __future__ import annotations

from pathlib import Path

from app.services.spool import DEAD_NAME, MAX_TRIES, set_aside, unwritable, waiting

SPOOL_UNWRITABLE = ("this host's HOTLINE_DATA_DIR cannot be written ({why}): should the database go down, callers, "
                    "voicemails and SMS could not be kept in the emergency spool and would be lost")
SPOOL_WAITING = ("{count} record(s) (callers, voicemails, status callbacks, SMS) wait in this host's emergency spool: "
                 "the database did not take them when they came (down, or a table or row locked); a worker's watchdog "
                 "replays them once it can write them")
SPOOL_SET_ASIDE = ("{count} record(s) of this host's emergency spool could not be applied (unreadable, or {tries} failed "
                   "replays while the database answered) and were set aside in HOTLINE_DATA_DIR/{name}: the worker's "
                   "log names each (ERROR); apply them by hand, then remove the file")


def spool_warnings(data_dir: Path, probe_write: bool = True) -> list[str]:
    """A warning for each of: the spool cannot be written (``probe_write``: it writes and removes a file, creating
    the data dir), records wait in it for a replay, records were set aside."""
    warnings = []
    why = unwritable(data_dir) if probe_write else None
    if why:  # only the database down too would need it: a warning, as Redis down is
        warnings.append(SPOOL_UNWRITABLE.format(why=why))
    # callers diverted to the spool while SELECT 1 answers (a locked table): an outside probe's /healthz said all was
    # well while every caller got the emergency voicemail
    spooled = waiting(data_dir)
    if spooled:
        warnings.append(SPOOL_WAITING.format(count=spooled))
    dead = set_aside(data_dir)
    if dead:
        warnings.append(SPOOL_SET_ASIDE.format(count=dead, tries=MAX_TRIES, name=DEAD_NAME))
    return warnings
