"""When this process's RQ workers last finished a job: the watchdog's sign that queued work is being taken.

The watchdog runs a job itself when it is still not done ``TAKEOVER`` after it was due. A job
still waiting in a queue that this process's own workers keep taking from (they serve every
queue) is a backlog, not a lost job: running it here too would only add a second run to a
machine already short of CPU (issue 12's burst). Workers stuck backing off, or no worker at all,
finish nothing, and the watchdog takes over as before.
"""

from __future__ import annotations

import time

_last_finished = float("-inf")  # time.monotonic() of the last job a worker of this process finished


def finished() -> None:
    """A worker of this process finished (or failed) a job just now."""
    global _last_finished
    _last_finished = time.monotonic()


def recently(seconds: float) -> bool:
    """Whether a worker of this process finished a job within the last ``seconds``."""
    return time.monotonic() - _last_finished <= seconds
