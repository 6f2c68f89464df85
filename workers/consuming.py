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


COMMAND_POLL_SECONDS = 1.0  # the command channel's listening thread looks at its stop flag this often


class StoppableWorker(SimpleWorker):
    """RQ's SimpleWorker whose stop never waits a minute on its command channel.

    RQ listens for commands (``rq.command.send_shutdown_command``) on a thread that waits up to
    60 s per poll; at the end of work it leaves the channel, then stops that thread. A thread that
    saw the channel left before the stop waits those 60 s for a new subscription, and redis-py
    (8.2) joins it without a limit: a ``hotline worker`` told to stop, a burst of the simulated back
    office (the demo, the tests) stood still for a minute. Polling every second bounds that wait.
    """

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=COMMAND_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)


class ReportingWorker(StoppableWorker):
    """A StoppableWorker that records here each job it finishes, by queue (the main worker, the page threads)."""

    def execute_job(self, job, queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            finished(queue.name)
