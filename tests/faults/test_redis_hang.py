"""A Redis that stops answering (frozen, not down): webhooks answer, the watchdog runs due work, nothing waits for good.

Before this, ``hotline worker``'s RQ worker shared the application's Redis client, and RQ raises its
client's socket time-out to 415 s for its BLPOP: the watchdog's PING on that client waited minutes,
so with Redis frozen no due step or first page ran (measured: no page within 70 s of the call).
A webhook's hand-over waited redis-py's default (5 s from redis-py 6 on; none before), each time.
Now RQ's workers talk to Redis on connection pools of their own, the application's commands give
up after REDIS_TIMEOUT_SECONDS (app/queue.py), and hand-overs pause after a failure.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.models import DueStep, Incident
from app.queue import REDIS_TIMEOUT_SECONDS, JobQueue, PendingJob, connect_redis
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, REDIS_URL, TEST_AUTH_TOKEN
from tests.faults.freezable_proxy import FreezableProxy
from workers import watchdog
from workers.consuming import ReportingWorker

SLACK = 3.0  # beyond the time-outs under test: a busy machine


@pytest.fixture
def frozen_redis(settings, clock):
    """(a hotline whose Redis is reached through a FreezableProxy, the proxy); the real Redis behind it."""
    from redis.connection import parse_url

    target = parse_url(REDIS_URL)
    proxy = FreezableProxy((target.get("host", "127.0.0.1"), target.get("port", 6379)))
    url = f"redis://127.0.0.1:{proxy.port}/{target.get('db', 0)}"
    through = settings.with_overrides(redis_url=url)
    hotline = Hotline.build(through, clock=clock, jobs=JobQueue(connect_redis(through), through.queue_name))
    yield hotline, proxy
    proxy.thaw()
    hotline.db.dispose()
    proxy.close()


def _intake_to_the_opening(hotline) -> tuple[SimulatedCall, float]:
    """A caller up to the confirmed callback number, the step that opens the incident; (call, that step's seconds)."""
    call = SimulatedCall(transport=flask_transport(create_app(hotline).test_client()), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller="+14155550177")
    call.dial()
    call.press("1")  # English
    call.press("3")  # both API and SMTP failing
    call.press("#")  # no ticket
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    started = time.monotonic()
    prompt = call.press("1")  # the caller ID is the callback number: the incident opens, its steps are written
    took = time.monotonic() - started
    assert prompt.kind in ("gather", "record"), prompt
    return call, took


def _steps(hotline) -> list[DueStep]:
    with hotline.db.session() as s:
        incident = s.scalars(select(Incident)).one()
        return list(s.scalars(select(DueStep).where(DueStep.incident_id == incident.id).order_by(DueStep.due_at)))


def test_a_webhook_that_hands_jobs_over_answers_when_redis_stops_answering(frozen_redis):
    hotline, proxy = frozen_redis
    proxy.freeze()
    _call, took = _intake_to_the_opening(hotline)
    assert took < REDIS_TIMEOUT_SECONDS + SLACK
    steps = _steps(hotline)
    assert len(steps) >= 4 and any(step.status == "pending" for step in steps)  # SQL holds the promise

    started = time.monotonic()  # the next hand-over does not wait on a Redis that just failed
    assert hotline.jobs.dispatch([PendingJob("step", steps[-1].id, steps[-1].due_at)], hotline.clock.now()) == 0
    assert time.monotonic() - started < 1.0

    proxy.thaw()
    assert hotline.jobs.scheduled_ids() == [] and hotline.jobs.job_ids() == []  # nothing reached Redis ...
    first = [step for step in _steps(hotline) if step.status == "pending"][0]
    hotline.clock.set(first.due_at + timedelta(seconds=1))  # ... until the watchdog hands each due row over
    watchdog.sweep(hotline)
    assert f"step-{first.id}" in hotline.jobs.job_ids()  # Redis answered its PING: the pause is over


def test_the_watchdog_runs_due_work_itself_when_redis_stops_answering(frozen_redis):
    hotline, proxy = frozen_redis
    _intake_to_the_opening(hotline)
    proxy.freeze()
    due = [step for step in _steps(hotline) if step.status == "pending"][0]
    hotline.clock.set(due.due_at + timedelta(seconds=1))

    started = time.monotonic()
    assert not watchdog.redis_up(hotline)
    assert time.monotonic() - started < REDIS_TIMEOUT_SECONDS + SLACK
    watchdog.sweep(hotline, replay_spool=False)
    took = time.monotonic() - started

    ran = {step.id: step for step in _steps(hotline)}[due.id]
    assert ran.status == "done" and ran.runs == 1  # run here, not left waiting for Redis
    assert took < 3 * REDIS_TIMEOUT_SECONDS + SLACK


def test_rq_workers_talk_to_redis_on_a_connection_pool_of_their_own(frozen_redis):
    """RQ sets minutes of socket time-out on its worker's pool: never on the one webhooks and the watchdog use."""
    hotline, _proxy = frozen_redis
    shared = hotline.jobs.redis.connection_pool.connection_kwargs
    worker = ReportingWorker(hotline.jobs.queues, connection=hotline.jobs.worker_connection())
    assert worker.connection.connection_pool.connection_kwargs["socket_timeout"] >= 60  # RQ's, for its BLPOP
    assert shared["socket_timeout"] == REDIS_TIMEOUT_SECONDS
    assert shared["socket_connect_timeout"] == REDIS_TIMEOUT_SECONDS
