"""A Redis that answers but refuses writes (full under noeviction, a read-only replica) is a Redis that is down.

Seen by an outside tester: PING works on such a Redis, so ``/healthz`` said ``"redis": "ok"``, the watchdog handed
its due work to RQ (refused), and ``hotline worker`` exited: RQ's loop took the ``OOM``/``READONLY`` of its
heartbeat as "an unhandled exception, quitting", its sign-off was refused too, and the error reached the top of
the command, watchdog and all, so no page left; restarted, it died again. Now the worker waits it out like a dead
Redis, its watchdog runs due steps and pages from SQL, the refusal is logged once with its fix, RQ resumes when
Redis takes writes again, and ``/healthz`` and ``hotline check`` say what Redis said. Every test here runs a
redis-server of its own and makes it refuse writes for real.
"""

from __future__ import annotations

import logging
import threading

import pytest
from redis import Redis
from redis.exceptions import ResponseError
from rq import Queue
from rq.job import JobStatus
from sqlalchemy import select

from app import create_app
from app.clock import SystemClock
from app.config_check import redis_problems
from app.config_report import CheckReport
from app.models import Page
from app.oncall.records import parse_rep, parse_schedule
from app.queue import JobQueue, connect_redis
from app.redis_refusal import NOTICE, Notice
from app.services.incidents import rescue_call
from app.services.intake import policy_from
from app.services.oncall_admin import create_rep, save_schedule
from app.settings import Settings
from app.telephony.twilio import TwilioTelephony
from app.wiring import Hotline
from hotline_sim.outbox import FILE_NAME, SharedOutbox
from tests.faults.own_processes import wait_for
from tests.faults.test_worker_signals import Worker
from tests.paging.conftest import ALICE, CUSTOMER, REPS, SCHEDULES
from tests.paging.test_resilience import _expect_phase
from workers import context, watchdog
from workers.runner import MainWorker

HOW = pytest.mark.parametrize("how", ["full", "replica"])
REFUSES = "Redis refuses writes:"  # the worker's one line for it (app.redis_refusal.Notice)


@pytest.fixture(autouse=True)
def _no_refusal_told_yet(monkeypatch):
    """This process's notice starts clear: each test sees its own refusal told."""
    monkeypatch.setattr(NOTICE, "current", None)


@pytest.fixture
def hotline(settings, clock, twilio, redis_server_of_its_own):
    """The paging harness's hotline (simulated Twilio, scripted phones' reps), on a redis-server of the test's own."""
    configured = twilio.configure(settings).with_overrides(redis_url=redis_server_of_its_own.url)
    h = Hotline.build(configured, clock=clock, jobs=JobQueue(connect_redis(configured), configured.queue_name),
                      telephony=TwilioTelephony(configured, timeout_seconds=0.5))
    _seed_reps(h)
    context.use(h)
    yield h
    context.use(None)
    h.db.dispose()
    h.jobs.redis.close()


def _seed_reps(hotline: Hotline) -> None:
    with hotline.db.transaction() as session:
        for rep in REPS:
            create_rep(session, parse_rep(rep))
        for schedule in SCHEDULES:
            save_schedule(session, parse_schedule(schedule), hotline.clock.now())


def _health(client) -> tuple[int, dict]:
    answer = client.get("/healthz")
    return answer.status_code, answer.get_json()


@HOW
def test_a_webhook_answers_healthz_tells_and_the_watchdog_pages_from_sql_while_redis_refuses_writes(
        desk, network, client, redis_server_of_its_own, how, caplog):
    hotline, redis = desk.hotline, redis_server_of_its_own
    redis.refuse_writes(how)

    incident = desk.open_incident()  # every webhook of the intake answered TwiML (SimulatedCall checks each)
    assert hotline.jobs.job_ids() == [] and hotline.jobs.scheduled_ids() == []  # nothing reached RQ
    assert caplog.text.count(REFUSES) == 1 and [r for r in caplog.records if r.exc_info] == []  # a line, no traceback
    status, body = _health(client)
    assert status == 200 and body["status"] == "ok", body  # callers are still taken, as with Redis down
    expected = "OOM" if how == "full" else "READONLY"
    assert body["checks"]["redis"].startswith("error: refuses writes: ") and expected in body["checks"]["redis"]
    assert any(w.startswith("Redis answers but refuses writes") for w in body["warnings"]), body["warnings"]

    _expect_phase(network, 0, incident.reference, CUSTOMER)
    watchdog.sweep(hotline, replay_spool=False)  # at the pages' due time: not 6 s later, as for RQ merely late
    network.run()
    with hotline.db.session() as s:
        pages = list(s.scalars(select(Page).where(Page.incident_id == incident.id)))
    assert {(p.to_number, p.channel) for p in pages if p.sent_at is not None} >= {(ALICE, "sms"), (ALICE, "voice")}

    redis.take_writes()
    assert watchdog.redis_up(hotline)
    status, body = _health(client)
    assert status == 200 and body["checks"]["redis"] == "ok", body
    assert not any(w.startswith("Redis answers but refuses writes") for w in body["warnings"])


@HOW
def test_hotline_check_reports_a_redis_that_refuses_writes_and_serve_and_worker_start_with_a_warning(
        redis_server_of_its_own, how):
    redis = redis_server_of_its_own
    settings = Settings(redis_url=redis.url)
    redis.refuse_writes(how)
    for strict in (True, False):
        report = CheckReport()
        assert redis_problems(settings, report, strict=strict)  # it answers: the checks that read it still run
        found = report.errors if strict else report.warnings
        assert [p.where for p in found] == ["REDIS_URL"], report.text(show_passed=False)
        assert "refuses writes" in found[0].message and ("maxmemory" if how == "full" else "primary") in found[0].fix
    redis.take_writes()
    report = CheckReport()
    assert redis_problems(settings, report, strict=True) and report.errors == [] and report.warnings == []


@HOW
def test_an_rq_worker_waits_out_a_redis_that_refuses_writes_and_takes_the_next_job_but_a_bug_still_surfaces(
        hotline, redis_server_of_its_own, how, caplog):
    redis = redis_server_of_its_own
    connection = Redis.from_url(redis.url)
    queues = [Queue(q.name, connection=connection) for q in hotline.jobs.queues]
    worker = MainWorker(queues, connection=connection)
    worker.register_birth()
    redis.refuse_writes(how)
    outcome: list[object] = []

    def wait_for_a_job() -> None:
        try:
            outcome.append(worker.dequeue_job_and_maintain_ttl(405))
        except BaseException as exc:  # noqa: BLE001 - the test reads what ended the wait
            outcome.append(exc)

    waiting = threading.Thread(target=wait_for_a_job, daemon=True)
    waiting.start()
    wait_for(lambda: REFUSES in caplog.text or outcome, "the worker to meet the refusal")
    assert outcome == [], f"the wait ended on the refusing Redis: {outcome}"
    redis.take_writes()
    job = queues[-1].enqueue("os.getcwd")
    waiting.join(timeout=10)
    assert not waiting.is_alive(), "still waiting 10 s after Redis took writes again with a job queued"
    assert len(outcome) == 1 and isinstance(outcome[0], tuple), outcome
    assert outcome[0][0].id == job.id
    assert caplog.text.count(REFUSES) == 1 and [r for r in caplog.records if r.exc_info] == []

    redis.client.delete(worker.key)
    redis.client.rpush(worker.key, "not a hash")  # a bug's WRONGTYPE: not Redis refusing writes
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        worker.dequeue_job_and_maintain_ttl(405)
    connection.close()


def test_the_refusal_is_told_once_until_redis_takes_writes_again(caplog):
    from redis.exceptions import OutOfMemoryError, ReadOnlyError

    from app.redis_refusal import refusal

    notice = Notice(logging.getLogger("test.refusal"))
    oom = refusal(OutOfMemoryError("Command # 1 (SREM rq:workers rq:worker:abc) of pipeline caused error: "
                                   "command not allowed when used memory > 'maxmemory'."))
    assert oom is not None and oom.code == "OOM" and "SREM" not in oom.describe()  # no keys of ours on /healthz
    notice.refused(refusal(ResponseError("UNBLOCKED force unblock from blocking operation, instance state changed "
                                         "(master -> replica?)", status_code="UNBLOCKED")))  # READONLY follows it
    for _ in range(3):
        notice.refused(oom)
    notice.refused(refusal(ReadOnlyError("You can't write against a read only replica.")))
    notice.took_writes()
    notice.took_writes()
    told = [r for r in caplog.records if r.name == "test.refusal"]
    assert [r.levelname for r in told] == ["ERROR", "WARNING"] and "OOM" in told[0].getMessage()
    assert refusal(ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")) is None
    assert refusal(ResponseError("ERR unknown command 'FOO'")) is None


@pytest.mark.parametrize("empty_database_url,how,when", [
    pytest.param(db, how, when, id=f"{db}-{how}-{when}") for db, how, when in (
        ("sqlite", "full", "while it runs"),
        ("sqlite", "replica", "before it starts"),
        ("postgresql", "full", "before it starts"),
        ("postgresql", "replica", "while it runs"),
    )], indirect=["empty_database_url"])
def test_a_worker_process_survives_a_redis_that_refuses_writes_pages_from_sql_and_resumes_rq(
        tmp_path, empty_database_url, redis_server_of_its_own, how, when):
    """"Before it starts": the tester's restart, which passed its start-up checks and died after one watchdog pass.

    Pairwise runs (4, not the 8 of database x how x when): every two of them meet in a run. How Redis refuses
    (OOM or READONLY, both read by ``app.redis_refusal``) and when (at start-up or under a running worker) bear on
    Redis's side only, and the database only on where the page is sent from; the in-process tests above run each
    ``how`` on both databases."""
    redis = redis_server_of_its_own
    if when == "before it starts":
        redis.refuse_writes(how)
    worker = Worker(tmp_path, empty_database_url, redis.url)
    settings = Settings(data_dir=tmp_path / "data", database_url=empty_database_url, redis_url=redis.url)
    outbox = SharedOutbox(tmp_path / "data" / FILE_NAME)
    web: Hotline | None = None
    try:
        worker.wait_watching()  # started, its schema migrated
        web = Hotline.build(settings, clock=SystemClock())  # a web process beside it, on the same SQL and Redis
        _seed_reps(web)
        if when == "while it runs":
            redis.refuse_writes(how)
        wait_for(lambda: REFUSES in worker.log() or worker.proc.poll() is not None, "the worker to meet the refusal")

        with web.db.transaction() as session:  # a caller saved; the hand-over of its jobs after commit is refused
            incident = rescue_call(session, call_sid="CA" + "7" * 32, from_number=CUSTOMER, now=web.clock.now(),
                                   reason="caller_hung_up", policy=policy_from(settings))
            reference = incident.reference
        assert web.jobs.job_ids() == [] and web.jobs.scheduled_ids() == []

        def paged() -> bool:
            return any(item.kind == "sms" and reference in item.body and "SEV1" in item.body
                       for item in outbox.items(ALICE))

        wait_for(lambda: paged() or worker.proc.poll() is not None, "the rep's page, sent from SQL")
        assert worker.proc.poll() is None, worker.log()[-3000:]
        status, body = _health(create_app(web).test_client())
        assert status == 200 and body["checks"]["redis"].startswith("error: refuses writes: "), body

        redis.take_writes()
        wait_for(lambda: "Redis takes writes again" in worker.log(), "the worker to see Redis take writes")
        job = Queue("hotline", connection=redis.client).enqueue("os.getcwd")  # QUEUE_NAME's default: the steps
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, "RQ to run a job again")
        assert worker.proc.poll() is None, worker.log()[-3000:]
        log = worker.log()
        assert log.count(REFUSES) == 1, log[-3000:]  # once, with its fix; not a line per loop of each RQ worker
        assert "Traceback" not in log and "unhandled exception" not in log, log[-3000:]
    finally:
        worker.stop()
        if web is not None:
            web.db.dispose()
            web.jobs.redis.close()
