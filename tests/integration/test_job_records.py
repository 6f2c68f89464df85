"""A job handed over without RQ (app/job_records.py) is the job RQ itself writes, and RQ runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.scheduler import RQScheduler

from app import job_records
from app.queue import JobQueue, PendingJob

TIMES = ("created_at", "enqueued_at")  # when each was written: the only fields allowed to differ


class _RQWorker(SimpleWorker):
    """RQ's own SimpleWorker, without its command channel (nothing here sends it a command): RQ's listening
    thread polls 60 s at a time, and a burst whose thread read the channel's leave before RQ stopped it waited
    that poll out at its end (a minute of one test in CI; ``workers.consuming.StoppableWorker.unsubscribe``)."""

    def subscribe(self) -> None:
        pass


def _hashes(redis, ours: str, rqs: str) -> tuple[dict, dict]:
    return ({k: v for k, v in redis.hgetall(f"rq:job:{ours}").items() if k.decode() not in TIMES},
            {k: v for k, v in redis.hgetall(f"rq:job:{rqs}").items() if k.decode() not in TIMES})


def _same_time_format(redis, ours: str, rqs: str) -> None:
    mine, theirs = redis.hgetall(f"rq:job:{ours}"), redis.hgetall(f"rq:job:{rqs}")
    assert sorted(k for k in mine if k.decode() in TIMES) == sorted(k for k in theirs if k.decode() in TIMES)
    for key in (k for k in mine if k.decode() in TIMES):
        assert datetime.strptime(mine[key].decode(), "%Y-%m-%dT%H:%M:%S.%fZ")
        assert len(mine[key]) == len(theirs[key])


def test_a_queued_job_is_field_for_field_the_one_rq_writes(redis_conn):
    queue = Queue("records", connection=redis_conn)
    with redis_conn.pipeline() as pipe:
        job_records.put_in_queue(pipe, "records", "ours", "workers.jobs.run_step", (42,))
        pipe.execute()
    queue.enqueue("workers.jobs.run_step", 42, job_id="rqs", result_ttl=3600, failure_ttl=86400)

    mine, theirs = _hashes(redis_conn, "ours", "rqs")
    assert mine == theirs
    assert mine[b"status"] == b"queued"
    _same_time_format(redis_conn, "ours", "rqs")
    assert queue.job_ids == ["ours", "rqs"]
    assert redis_conn.smembers("rq:queues") == {b"rq:queue:records"}
    assert redis_conn.ttl("rq:job:ours") == redis_conn.ttl("rq:job:rqs") == -1  # kept until run, as RQ keeps it


def test_a_scheduled_job_is_field_for_field_the_one_rq_writes_at_the_same_whole_second(redis_conn):
    queue = Queue("records", connection=redis_conn)
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    with redis_conn.pipeline() as pipe:
        job_records.schedule(pipe, "records", "ours", "workers.jobs.send_page", (7,), when + timedelta(microseconds=1))
        pipe.execute()
    queue.enqueue_at(when + timedelta(seconds=1), "workers.jobs.send_page", 7, job_id="rqs", result_ttl=3600,
                     failure_ttl=86400)

    mine, theirs = _hashes(redis_conn, "ours", "rqs")
    assert mine == theirs
    assert mine[b"status"] == b"scheduled"
    _same_time_format(redis_conn, "ours", "rqs")
    assert queue.job_ids == []
    # a time within a second is rounded up: RQ's scheduler may fire up to a second early
    assert queue.scheduled_job_registry.get_scheduled_time("ours") == when + timedelta(seconds=1)
    assert redis_conn.zrange("rq:scheduled:records", 0, -1, withscores=True) == [(b"ours", 1893553446.0),
                                                                                 (b"rqs", 1893553446.0)]


def test_rq_reads_the_job_and_a_worker_runs_it(redis_conn):
    with redis_conn.pipeline() as pipe:
        job_records.put_in_queue(pipe, "records", "negate", "operator.neg", (42,))
        pipe.execute()

    job = Job.fetch("negate", connection=redis_conn)
    assert (job.func_name, job.args, job.kwargs, job.origin) == ("operator.neg", (42,), {}, "records")
    assert (job.get_status(), job.timeout, job.result_ttl, job.failure_ttl) == (JobStatus.QUEUED, 180, 3600, 86400)
    assert job.description == "operator.neg(42)"

    queue = Queue("records", connection=redis_conn)
    _RQWorker([queue], connection=redis_conn).work(burst=True)
    job = Job.fetch("negate", connection=redis_conn)
    assert (job.get_status(), job.return_value()) == (JobStatus.FINISHED, -42)


def test_rqs_scheduler_queues_a_scheduled_job_when_due_and_a_worker_runs_it(redis_conn):
    with redis_conn.pipeline() as pipe:
        job_records.schedule(pipe, "records", "later", "operator.neg", (5,), datetime.now(UTC) - timedelta(seconds=2))
        job_records.schedule(pipe, "records", "not-yet", "operator.neg", (6,), datetime.now(UTC) + timedelta(hours=1))
        pipe.execute()
    queue = Queue("records", connection=redis_conn)

    scheduler = RQScheduler([queue], connection=redis_conn)
    scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()
    scheduler.release_locks()
    assert queue.job_ids == ["later"]
    assert queue.scheduled_job_registry.get_job_ids() == ["not-yet"]

    _RQWorker([queue], connection=redis_conn).work(burst=True)
    assert Job.fetch("later", connection=redis_conn).return_value() == -5
    assert Job.fetch("not-yet", connection=redis_conn).get_status() == JobStatus.SCHEDULED


def test_queueing_a_scheduled_job_at_once_takes_it_out_of_the_schedule(redis_conn):
    """A step put off and then due at once (a rep acknowledged, a retry came early) runs once, not twice."""
    with redis_conn.pipeline() as pipe:
        job_records.schedule(pipe, "records", "step-1", "operator.neg", (1,), datetime.now(UTC) + timedelta(hours=1))
        job_records.put_in_queue(pipe, "records", "step-1", "operator.neg", (1,))
        pipe.execute()
    queue = Queue("records", connection=redis_conn)
    assert (queue.job_ids, queue.scheduled_job_registry.get_job_ids()) == (["step-1"], [])
    assert Job.fetch("step-1", connection=redis_conn).get_status() == JobStatus.QUEUED


@pytest.mark.parametrize("due_in", [timedelta(0), timedelta(minutes=5)], ids=["queued", "scheduled"])
def test_a_hand_over_whose_transaction_never_ran_leaves_nothing_behind(redis_conn, due_in):
    """RQ's own enqueue_at put the job in its schedule at once, outside the pipeline: a hand-over that failed
    before EXEC left an id RQ's scheduler would find without a job. Here nothing reaches Redis before EXEC."""
    now = datetime.now(UTC)
    jobs = JobQueue(redis_conn, "records")
    with redis_conn.pipeline() as pipe:
        if due_in:
            job_records.schedule(pipe, "records", "a", "operator.neg", (1,), now + due_in)
        else:
            job_records.put_in_queue(pipe, "records", "a", "operator.neg", (1,))
        pipe.reset()  # the connection dropped before EXEC
    assert redis_conn.keys("*") == []

    assert jobs.dispatch([PendingJob("step", 1, now + due_in)], now) == 1
    where = b"rq:scheduled:records" if due_in else b"rq:queue:records"
    assert set(redis_conn.keys("*")) == {b"rq:job:step-1", b"rq:queues", where}
