"""Issue 12: the IVR hot path's round trips — one database connection per webhook, one Redis round trip per commit."""

from __future__ import annotations

from datetime import timedelta

from redis import Redis
from sqlalchemy import event
from twilio.request_validator import RequestValidator

from app.queue import JobQueue, PendingJob
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

CALL = {"CallSid": "CA" + "7" * 32, "From": "+14155550100", "To": "+15005550006"}


def _post(client, path: str, params: dict):
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_a_webhook_and_its_duplicate_check_use_one_connection(client, hotline):
    client.get("/board")  # the first request of a process checks the schema once; not the hot path
    checkouts = []
    event.listen(hotline.db.engine, "checkout", lambda *a: checkouts.append(1))
    first = _post(client, "/twilio/voice", CALL)
    assert first.status_code == 200 and b"<Gather" in first.data
    assert len(checkouts) == 1  # the duplicate lookup used to open a session of its own: 2
    again = _post(client, "/twilio/voice", CALL)  # Twilio's retry: the stored answer, same single checkout
    assert again.data == first.data
    assert len(checkouts) == 2


def test_an_ordinary_ivr_step_is_one_read_and_one_write_without_begin_or_commit(client, hotline, database_url):
    """The lean step: the call, its incident and any stored answer in one SELECT, then one write (PostgreSQL: a
    CTE in autocommit, so no BEGIN/COMMIT round trips; SQLite: three statements in one transaction)."""
    _post(client, "/twilio/voice", CALL)
    checkouts, statements = [], []
    event.listen(hotline.db.engine, "checkout", lambda *a: checkouts.append(1))

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement.split()[0].upper(), conn.connection.dbapi_connection.autocommit
                           if database_url.startswith("postgresql") else None))

    event.listen(hotline.db.engine, "before_cursor_execute", seen)
    step = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})
    assert step.status_code == 200 and b'action="/twilio/voice/step?seq=2&amp;token=' in step.data
    assert len(checkouts) == 1
    if database_url.startswith("postgresql"):
        assert statements == [("SELECT", True), ("WITH", True)]  # was 5 statements + pre-ping, BEGIN, COMMIT
    else:
        assert [kind for kind, _ in statements] == ["SELECT", "UPDATE", "INSERT", "INSERT"]
    statements.clear()
    again = _post(client, "/twilio/voice/step?seq=1", {**CALL, "Digits": "1"})  # Twilio's retry: the read alone
    assert again.data == step.data and [kind for kind, _ in statements] == ["SELECT"]


class _CountingRedis(Redis):
    """A real Redis client that counts network round trips (single commands and pipeline executions)."""

    round_trips = 0

    def execute_command(self, *args, **options):
        type(self).round_trips += 1
        return super().execute_command(*args, **options)

    def pipeline(self, transaction=True, shard_hint=None):
        pipe = super().pipeline(transaction, shard_hint)
        execute = pipe.execute

        def counted(*a, **k):
            type(self).round_trips += 1
            return execute(*a, **k)

        pipe.execute = counted
        return pipe


def test_dispatch_hands_a_transactions_jobs_to_redis_in_one_round_trip(redis_conn, settings, clock):
    conn = _CountingRedis(connection_pool=redis_conn.connection_pool)
    jobs = JobQueue(conn, settings.queue_name)
    now = clock.now()
    pending = [PendingJob("step", 1, now), PendingJob("page", 2, now), PendingJob("notice", 3, now),
               PendingJob("step", 4, now + timedelta(minutes=5)), PendingJob("step", 5, now + timedelta(minutes=10)),
               PendingJob("webhook", 6, now + timedelta(seconds=30), attempt=2)]
    _CountingRedis.round_trips = 0
    assert jobs.dispatch(pending, now) == 6
    # One pipeline (app.job_records). Through RQ it was one more per process (INFO) and one ZADD per scheduled
    # job (RQ 2.12's ScheduledJobRegistry.schedule ignores the pipeline it is given); one by one, 9.
    assert _CountingRedis.round_trips == 1
    assert sorted(jobs.job_ids()) == ["notice-3", "page-2", "step-1"]
    assert sorted(jobs.scheduled_ids()) == ["step-4", "step-5", "webhook-6-2"]
    assert jobs.page_queue.job_ids == ["page-2", "notice-3"] and jobs.queue.job_ids == ["step-1"]


def test_dispatch_takes_a_job_due_now_after_a_scheduled_one(redis_conn, settings, clock):
    """A transaction that moves a step later and another to now (issue 13's deadline) hands over both."""
    jobs = JobQueue(redis_conn, settings.queue_name)
    now = clock.now()
    assert jobs.dispatch([PendingJob("step", 8, now + timedelta(minutes=5))], now) == 1  # first planned later
    pending = [PendingJob("step", 7, now + timedelta(minutes=15)), PendingJob("step", 8, now)]
    assert jobs.dispatch(pending, now) == 2
    assert jobs.queue.job_ids == ["step-8"]
    # the step moved to now is no longer also waiting for its old time
    assert jobs.scheduled_ids() == ["step-7"]
