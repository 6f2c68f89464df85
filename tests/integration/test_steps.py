"""Due steps run exactly once, through real RQ on real Redis, and survive losing Redis."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.models import DueStep, IncidentEvent, StepStatus
from app.services.incidents import rescue_call
from app.services.intake import policy_from
from workers import context, watchdog


@pytest.fixture
def worker(hotline):
    context.use(hotline)
    yield SimpleWorker([hotline.jobs.queue], connection=hotline.jobs.redis)
    context.use(None)


def _open_incident(hotline, sid="CA" + "a" * 32):
    now = hotline.clock.now()
    with hotline.db.transaction() as s:
        incident, jobs = rescue_call(
            s, call_sid=sid, from_number="+14155550100", now=now, reason="test", policy=policy_from(hotline.settings)
        )
        ref = incident.reference
    return ref, jobs


def _announced(hotline) -> list[IncidentEvent]:
    with hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "incident_announced")))


def test_step_enqueued_after_commit_runs_once_even_if_delivered_twice(hotline, worker):
    _ref, jobs = _open_incident(hotline)
    assert hotline.jobs.dispatch(jobs, hotline.clock.now()) == 1
    hotline.jobs.queue.enqueue("workers.jobs.run_step", jobs[0].step_id, job_id="duplicate-run")
    worker.work(burst=True)
    assert len(_announced(hotline)) == 1
    with hotline.db.session() as s:
        step = s.get(DueStep, jobs[0].step_id)
        assert step.status == StepStatus.DONE and step.runs == 1


def test_redis_flushed_before_the_job_ran_the_watchdog_hands_the_step_over_again(hotline, worker):
    _ref, jobs = _open_incident(hotline)
    hotline.jobs.dispatch(jobs, hotline.clock.now())
    hotline.jobs.redis.flushdb()  # Redis loses everything
    worker.work(burst=True)
    assert _announced(hotline) == []
    assert watchdog.sweep(hotline) == 1
    worker.work(burst=True)
    assert len(_announced(hotline)) == 1
    assert watchdog.sweep(hotline) == 0  # nothing left owing


def test_a_step_not_yet_due_is_not_run_early(hotline, worker):
    _ref, jobs = _open_incident(hotline)
    with hotline.db.transaction() as s:
        s.get(DueStep, jobs[0].step_id).due_at = hotline.clock.now().replace(year=2027)
    hotline.jobs.queue.enqueue("workers.jobs.run_step", jobs[0].step_id, job_id="early")
    worker.work(burst=True)
    assert _announced(hotline) == []
