"""When this process's RQ workers last finished a job from each queue: the watchdog's sign that a queue moves.

The watchdog runs a job itself when it is still not done ``TAKEOVER`` after it was due. A job
still waiting in a queue that this process's own workers keep taking jobs from is a backlog, not
a lost job: running it here too would only add a second run to a machine already short of CPU
(issue 12's burst). A queue nothing was taken from lately (workers stuck backing off, the main
worker held by a slow send while the steps wait) is not moving, and the watchdog takes over.
"""

from __future__ import annotations

import time

from rq import SimpleWorker

_last_finished: dict[str, float] = {}  # queue name: time.monotonic() of the last job a worker here finished from it


def finished(queue: str) -> None:
    """A worker of this process finished (or failed) a job from ``queue`` just now."""
    _last_finished[queue] = time.monotonic()


def recently(queue: str, seconds: float) -> bool:
    """Whether a worker of this process finished a job from ``queue`` within the last ``seconds``."""
    return time.monotonic() - _last_finished.get(queue, float("-inf")) <= seconds


class ReportingWorker(SimpleWorker):
    """RQ's SimpleWorker that records here each job it finishes, by queue (the main worker, the page threads)."""

    def execute_job(self, job, queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            finished(queue.name)
