"""When this process's RQ workers last finished a job from each queue: the watchdog's sign that a queue moves.

The watchdog runs a job itself when it is still not done ``TAKEOVER`` after it was due. A job
still waiting in a queue that this process's own workers keep taking jobs from is a backlog, not
a lost job: running it here too would only add a second run to a machine already short of CPU
(issue 12's burst). A queue nothing was taken from lately (workers stuck backing off, the main
worker held by a slow send while the steps wait) is not moving, and the watchdog takes over.
"""

from __future__ import annotations

import time

from rq import SimpleWorker, worker_registration

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

    _dead = False  # register_death ran: a late heartbeat must not sign the worker up again

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """RQ's heartbeat, and the worker signed up again when Redis no longer knows it.

        RQ registers a worker once, when its loop starts. A Redis restarted empty (no persistence, a
        failover, a FLUSHALL) forgets it, and RQ's loop reconnects and goes on taking jobs unregistered:
        `hotline check` then said "no RQ worker listens" for as long as the process lived. The check rides
        on the heartbeat's round trip; a heartbeat queued on RQ's own pipeline (mid-job) is left as it is.
        """
        if pipeline is not None or self._dead:
            super().heartbeat(timeout, pipeline)
            return
        with self.connection.pipeline() as pipe:
            super().heartbeat(timeout, pipe)
            pipe.sismember(self.redis_workers_keys, self.key)
            registered = pipe.execute()[-1]
        if not registered:
            self.log.warning("Worker %s: Redis no longer knows this worker (restarted empty?); signing up again",
                             self.name)
            with self.connection.pipeline() as pipe:
                pipe.hset(self.key, mapping=self.serialize())
                worker_registration.register(self, pipe)
                pipe.expire(self.key, timeout or self.worker_ttl + 60)
                pipe.execute()

    def register_death(self) -> None:
        self._dead = True
        super().register_death()

    def register_birth(self) -> None:
        self._dead = False
        super().register_birth()

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
