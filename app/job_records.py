"""RQ 2's jobs as they stand in Redis, written here without importing RQ (issue 12).

The web process only ever hands jobs over; importing RQ for that cost each web worker 1.9 MB
(RQ's package pulls in its worker, scheduler, ``multiprocessing``, ``ctypes`` and ``urllib.request``)
and a few hundred Python calls per job. These are the commands RQ's ``Queue.enqueue`` and
``Queue.enqueue_at`` send for a job called by its dotted name with positional arguments, with one
difference: RQ's ``ScheduledJobRegistry.schedule`` sends its ZADD at once, outside the caller's
pipeline, so a scheduled job could stand in the registry before its hash existed (and stay there
alone when the pipeline failed); here every command is in the caller's MULTI.

``tests/integration/test_job_records.py`` compares every field and key with what the installed RQ
writes for the same job, and has RQ read and run them: an RQ upgrade that changes its format fails there.
"""

from __future__ import annotations

import calendar
import pickle
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

JOB_KEY = "rq:job:{}"
QUEUE_KEY = "rq:queue:{}"
QUEUES_KEY = "rq:queues"  # every queue's key (rq.queue.Queue.redis_queues_keys)
SCHEDULED_KEY = "rq:scheduled:{}"  # rq.registry.ScheduledJobRegistry
TIMEOUT_SECONDS = 180  # RQ's default job time-out (rq.defaults.DEFAULT_JOB_TIMEOUT)
RESULT_TTL_SECONDS = 3600
FAILURE_TTL_SECONDS = 86400
QUEUED, SCHEDULED = "queued", "scheduled"  # rq.job.JobStatus
_EMPTY = ("success_callback_name", "failure_callback_name", "stopped_callback_name", "started_at", "ended_at",
          "last_heartbeat", "worker_name", "group_id")


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # rq.utils.utcformat


def _rq_now() -> datetime:
    """RQ's own bookkeeping stamps (created, enqueued) are the real time, as RQ writes them, not the app's clock."""
    return datetime.now(UTC)


def job_fields(func: str, args: tuple[Any, ...], queue: str, status: str, now: datetime) -> dict[str, Any]:
    """The job's hash, as ``rq.job.Job.to_dict`` writes it (pickled call data, compressed)."""
    fields: dict[str, Any] = {
        "created_at": _stamp(now),
        "data": zlib.compress(pickle.dumps((func, None, args, {}), protocol=pickle.HIGHEST_PROTOCOL)),
        **dict.fromkeys(_EMPTY, ""),
        "origin": queue,
        "description": f"{func}({', '.join(repr(arg) for arg in args)})",
    }
    if status == QUEUED:
        fields["enqueued_at"] = _stamp(now)
    fields.update(timeout=TIMEOUT_SECONDS, result_ttl=RESULT_TTL_SECONDS, failure_ttl=FAILURE_TTL_SECONDS,
                  status=status)
    return fields


def put_in_queue(pipe: Any, queue: str, job_id: str, func: str, args: tuple[Any, ...]) -> None:
    """Queue the job at the back of ``queue`` (a time it was scheduled for is dropped)."""
    pipe.sadd(QUEUES_KEY, QUEUE_KEY.format(queue))
    pipe.hset(JOB_KEY.format(job_id), mapping=job_fields(func, args, queue, QUEUED, _rq_now()))
    pipe.rpush(QUEUE_KEY.format(queue), job_id)
    pipe.zrem(SCHEDULED_KEY.format(queue), job_id)


def schedule(pipe: Any, queue: str, job_id: str, func: str, args: tuple[Any, ...], when: datetime) -> None:
    """Leave the job to RQ's scheduler, which queues it in ``queue`` at ``when`` (aware).

    RQ's scheduler counts whole seconds and may fire up to a second early; a step run early is
    refused by its compare-and-set and would wait for the watchdog. So the time is rounded up to
    the next whole second.
    """
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    pipe.sadd(QUEUES_KEY, QUEUE_KEY.format(queue))
    pipe.hset(JOB_KEY.format(job_id), mapping=job_fields(func, args, queue, SCHEDULED, _rq_now()))
    pipe.zadd(SCHEDULED_KEY.format(queue), {job_id: calendar.timegm(when.utctimetuple())})
