"""When this process's RQ workers last finished a job from each queue: the watchdog's sign that a queue moves.

The watchdog runs a job itself when it is still not done ``TAKEOVER`` after it was due. A job
still waiting in a queue that this process's own workers keep taking jobs from is a backlog, not
a lost job: running it here too would only add a second run to a machine already short of CPU
(issue 12's burst). A queue nothing was taken from lately (workers stuck backing off, the main
worker held by a slow send while the steps wait) is not moving, and the watchdog takes over.
"""

from __future__ import annotations

import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, worker_registration
from rq.exceptions import DeserializationError, StopRequested

from app import redis_refusal
from app.db import unreachable
from workers import context

_last_finished: dict[str, float] = {}  # queue name: time.monotonic() of the last job a worker here finished from it


def finished(queue: str) -> None:
    """A worker of this process finished (or failed) a job from ``queue`` just now."""
    _last_finished[queue] = time.monotonic()


def recently(queue: str, seconds: float) -> bool:
    """Whether a worker of this process finished a job from ``queue`` within the last ``seconds``."""
    return time.monotonic() - _last_finished.get(queue, float("-inf")) <= seconds


COMMAND_POLL_SECONDS = 1.0  # the command channel's listening thread looks at its stop flag this often
STOP_POLL_SECONDS = 1  # an idle worker notices a stop request within this long (RQ's own wait is 405 s)


class StoppableWorker(SimpleWorker):
    """RQ's SimpleWorker that notices a stop request (``_stop_requested``) within seconds wherever it waits.

    Nothing raises into it to stop it (``workers.stop_signals``): it looks at the request itself.
    - Waiting for a job: RQ blocks on one BLPOP for up to 405 s; here the wait is polls of a second (a page
      thread in RQ's wait reconnected after the process had closed its connection to stop its embedded
      redis-server, in time to keep that server alive).
    - Waiting out a dead Redis: RQ retries inside its wait for a job for as long as Redis stays down,
      heartbeat first, and never looks at the request; here a failed heartbeat after a request ends it.
    - A Redis that refuses writes (full under noeviction, a read-only replica: ``app.redis_refusal``) is waited
      out like a dead one, told once for the process; RQ's loop took it as "an unhandled exception, quitting",
      and its sign-off, refused too, ended ``hotline worker``.
    - Its command channel: RQ's listening thread waits up to 60 s per poll, and at the end of work
      redis-py (8.2) joins it without a limit (a ``hotline worker`` told to stop, a burst of the simulated
      back office, stood still for a minute); here it polls every second, and it is told to stop before the
      channel is left, so it ends on the leave's reply instead of a poll later.
    """

    max_connection_wait_time = STOP_POLL_SECONDS  # RQ's retry of a dead Redis, up to 60 s apart
    _dead = False  # register_death ran: a late heartbeat must not sign the worker up again

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's; a dead Redis (or one refusing writes) is left to the wait for a job that follows, which retries it.

        Outside that wait RQ's loop takes a Redis that went away as "an unhandled exception, quitting",
        with a traceback in the log of every worker of the process, each time Redis goes away.
        """
        try:
            super().check_for_suspension(burst)
        except (RedisConnectionError, ResponseError) as exc:
            _unless_refusal(exc)
            self.log.debug("Worker %s: no suspension check, Redis is down", self.name)

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up; on a dead or refusing Redis, left for the next pass (as ``check_for_suspension``)."""
        try:
            super().run_maintenance_tasks()
        except (RedisConnectionError, ResponseError) as exc:
            _unless_refusal(exc)
            self.log.debug("Worker %s: maintenance put off, Redis is down", self.name)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """RQ's wait for a job, in polls of ``STOP_POLL_SECONDS`` until a job comes or a stop is requested.

        A burst (no ``timeout``) pops once, and a wait bounded by ``max_idle_time`` ends after it, as in RQ.
        Each poll begins by setting the worker's state and ends with a heartbeat, both outside RQ's retry of
        a dead Redis: a Redis that goes away between two polls is retried here, not taken by RQ's loop as
        "an unhandled exception, quitting" with a traceback (CI, session 25: one in 5 RQ workers polling
        every second met it whenever a test killed redis-server).
        """
        if timeout is None or max_idle_time is not None:
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        while not self._stop_requested:
            try:
                result = super().dequeue_job_and_maintain_ttl(STOP_POLL_SECONDS, STOP_POLL_SECONDS)
            except ResponseError as exc:  # full, or a replica: said once for the process (app.redis_refusal)
                _unless_refusal(exc)
                if self._stop_requested:
                    break
                self.log.debug("Worker %s: Redis refuses writes; retrying in %d seconds", self.name, STOP_POLL_SECONDS)
                time.sleep(STOP_POLL_SECONDS)
                continue
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if self._stop_requested:
                    break
                # RQ's own words for its retry inside the wait: one kind of line for the operator (and for
                # workers.log_repeats, which lets it out once a minute per worker)
                self.log.error("Worker %s: could not connect to Redis instance: %s retrying in %d seconds...",
                               self.name, exc, STOP_POLL_SECONDS)
                time.sleep(STOP_POLL_SECONDS)
                continue
            if result is not None:
                return result
        raise StopRequested  # RQ's loop ends on it, as on its own request_stop

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """RQ's heartbeat; the worker signed up again when Redis no longer knows it; a stop on a dead Redis.

        RQ registers a worker once, when its loop starts. A Redis restarted empty (no persistence, a
        failover, a FLUSHALL) forgets it, and RQ's loop reconnects and goes on taking jobs unregistered:
        `hotline check` then said "no RQ worker listens" for as long as the process lived. The check rides
        on the heartbeat's round trip; a heartbeat queued on RQ's own pipeline (mid-job) is left as it is.

        A heartbeat of its own (no pipeline: no job in hand) that finds Redis down (or refusing writes) after a
        stop request raises ``StopRequested``: RQ's wait for a job retries a dead Redis heartbeat first, for ever.
        """
        try:
            self._heartbeat(timeout, pipeline)
        except (RedisConnectionError, RedisTimeoutError, ResponseError) as exc:
            if self._stop_requested and pipeline is None and (
                    not isinstance(exc, ResponseError) or redis_refusal.refuses(exc)):
                raise StopRequested from None
            raise

    def _heartbeat(self, timeout: int | None, pipeline) -> None:
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

    def handle_exception(self, job, *exc_info) -> None:
        """RQ's ERROR line with the traceback, except for a job that failed only because the database cannot be
        reached: one WARNING line, no traceback (the outage itself is told once, ``app.db_outage``). Such a job is
        lost to nothing: it moves to RQ's failed registry as any failed job does, and its row, still due in SQL,
        is handed over again by the watchdog once the database is back. RQ's exception handlers run either way."""
        hotline = context.peek()
        if hotline is None or not unreachable(exc_info[1]):
            super().handle_exception(job, *exc_info)
            return
        why = hotline.db.outage.note(exc_info[1])
        self.log.warning("Worker %s: job %s (%s) not done: the database is unreachable (%s); the watchdog hands it "
                         "over again once it is back", self.name, job.id, _function_of(job), why)
        for handler in self._exc_handlers:  # as RQ walks them: one that returns a false value other than None ends it
            fallthrough = handler(job, *exc_info)
            if fallthrough is not None and not fallthrough:
                break

    def register_death(self) -> None:
        self._dead = True
        super().register_death()

    def register_birth(self) -> None:
        self._dead = False
        super().register_birth()

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = _CommandListener(self.pubsub, self._pubsub_exception_handler)
        self.pubsub_thread.start()

    def unsubscribe(self) -> None:
        """RQ's, with the listening thread told to end before the channel is left, not after.

        RQ leaves the channel, then stops the thread: the thread, woken by the leave's reply before the stop,
        went back to a poll of ``COMMAND_POLL_SECONDS`` and was joined through it. Every burst worker paid up
        to that second at its end (the simulated back office runs one per round: a third of the wall time of
        the tests that play the back office). Told first, the thread ends on the reply itself.
        """
        thread = self.pubsub_thread
        if not thread:
            return
        thread.stop()
        self.pubsub.unsubscribe()
        thread.join(timeout=COMMAND_POLL_SECONDS + 1)
        self.pubsub.close()


class _CommandListener(threading.Thread):
    """The command channel's listening thread: redis-py's ``run_in_thread`` loop, with a ``stop`` that only asks.

    redis-py's ``stop`` (8.x) also joins the thread, so it could not be asked before the channel is left; and its
    thread closes the connection as it ends, which could race the leave still being written on it."""

    def __init__(self, pubsub, exception_handler) -> None:
        super().__init__(daemon=True, name="rq-commands")
        self.pubsub = pubsub
        self.exception_handler = exception_handler
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.pubsub.get_message(ignore_subscribe_messages=True, timeout=COMMAND_POLL_SECONDS)
            except Exception as exc:  # noqa: BLE001 - RQ's handler: a lost connection waited out, anything else ends the thread
                self.exception_handler(exc, self.pubsub, self)
        # the worker's unsubscribe closes the connection once it has left the channel on it

    def stop(self) -> None:
        self._stopping.set()


def _function_of(job) -> str:
    """The job's function's name, as RQ's own failure line gives it (a job whose data cannot be read has none)."""
    try:
        return job.func_name
    except DeserializationError:
        return "<DeserializationError>"


def _unless_refusal(exc: BaseException) -> None:
    """Re-raise ``exc`` unless Redis is down or refuses writes (then told once: ``redis_refusal.NOTICE``)."""
    if isinstance(exc, ResponseError) and not redis_refusal.note(exc):
        raise exc


class ReportingWorker(StoppableWorker):
    """A StoppableWorker that records here each job it finishes, by queue (the main worker, the page threads)."""

    def execute_job(self, job, queue) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            finished(queue.name)
