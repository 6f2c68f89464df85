"""Every due step fires, and every page leaves, within 15 s under each single fault (issue 8).

The workers run as ``workers.runner`` runs them, on a fake clock (``Backoffice``): each live
watchdog passes when ``watchdog.next_wake`` says, RQ works its queue in burst mode after each
pass (it has no scheduler here, as if RQ's scheduler were dead: the watchdog alone keeps time),
and the scripted phones fail the test on any page nobody expected, or one that never came.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import select, update

from app.models import DueStep, Page, PageStatus, StepStatus
from app.queue import JobQueue
from app.services.pages import STALE_SENDING
from tests.faults.backoffice import Backoffice
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_resilience import _expect_phase

PROMISE = timedelta(seconds=15)
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused, like a killed Redis


def _steps(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(DueStep).where(DueStep.incident_id == incident_id).order_by(DueStep.id)))


def _pages(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))


def _assert_on_time(desk, incident_id, until):
    """Every step due by ``until`` ran once within 15 s; every page left within 15 s of its step."""
    due = [st for st in _steps(desk, incident_id) if st.due_at <= until - PROMISE]
    assert due
    for st in due:
        assert st.status == StepStatus.DONE and st.runs == 1, (st.kind, st.level)
        assert timedelta(0) <= st.done_at - st.due_at <= PROMISE, (st.kind, st.level, st.done_at - st.due_at)
    by_step = {st.id: st for st in due}
    for page in _pages(desk, incident_id):
        if page.step_id in by_step:
            assert page.sent_at is not None, (page.to_number, page.channel, page.status)
            assert page.sent_at - by_step[page.step_id].due_at <= PROMISE, (page.to_number, page.channel)
    return due


def _expect_minutes(desk, network, incident, minutes):
    for minute in minutes:
        _expect_phase(network, minute, incident.reference, CUSTOMER)


def test_worker_sigkilled_while_sending_the_page_is_sent_again_within_15_s_of_its_step(desk, network, clock):
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0])
    level0 = next(st for st in _steps(desk, incident.id) if st.kind == "page" and st.level == 0)
    desk.hotline.jobs.redis.flushdb()  # the killed worker's jobs are gone with it
    assert level0.status == "done"  # the opening ran the step
    clock.set(desk.t0 + timedelta(seconds=1))  # a worker claims Alice's SMS and is killed
    claimed = clock.now()
    with desk.hotline.db.transaction() as s:
        s.execute(update(Page).where(Page.step_id == level0.id, Page.to_number == ALICE, Page.channel == "sms")
                  .values(status=PageStatus.SENDING, sending_since=claimed, attempts=1, updated_at=claimed))

    Backoffice(desk.hotline, network, clock).run_until(desk.t0 + timedelta(seconds=40))
    [sms] = [p for p in _pages(desk, incident.id) if p.to_number == ALICE and p.channel == "sms"]
    assert sms.status == PageStatus.DELIVERED and sms.attempts == 2
    assert claimed + STALE_SENDING <= sms.sent_at <= level0.due_at + PROMISE  # not 2 minutes later
    _assert_on_time(desk, incident.id, desk.t0 + timedelta(seconds=40))


def test_watchdog_leader_sigkilled_the_other_worker_keeps_every_step_on_time(desk, network, clock):
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0, 3])
    office = Backoffice(desk.hotline, network, clock, holders=["leader", "other"])
    office.run_until(desk.t0 + timedelta(minutes=2, seconds=50))
    desk.hotline.jobs.redis.flushdb()  # the T+3 step's scheduled job is lost ...
    office.holders = ["other"]  # ... and the leader is SIGKILLed: its lease stays live for 30 s
    office.run_until(desk.t0 + timedelta(minutes=4))
    _assert_on_time(desk, incident.id, desk.t0 + timedelta(minutes=4))


def test_redis_down_60_s_then_back_empty_steps_run_from_sql_and_scheduling_resumes(desk, network, clock):
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0, 3, 6])
    office = Backoffice(desk.hotline, network, clock)
    office.run_until(desk.t0 + timedelta(minutes=2, seconds=40))
    alive = desk.hotline.jobs
    desk.hotline.jobs = JobQueue(Redis.from_url(DEAD_REDIS), alive.queue.name)  # Redis is killed
    office.run_until(desk.t0 + timedelta(minutes=3, seconds=40))
    level1 = next(st for st in _steps(desk, incident.id) if st.kind == "page" and st.level == 1)
    assert level1.status == StepStatus.DONE  # run by a watchdog, from SQL, while Redis was down
    alive.redis.flushdb()
    desk.hotline.jobs = alive  # Redis is back, empty
    office.run_until(desk.t0 + timedelta(minutes=7))
    _assert_on_time(desk, incident.id, desk.t0 + timedelta(minutes=7))


def test_rq_not_taking_jobs_the_watchdog_runs_due_steps_itself(desk, network, clock):
    """A dead scheduler and workers stuck backing off: queued jobs go nowhere, the watchdog takes over."""
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0, 3, 6])
    Backoffice(desk.hotline, network, clock, rq_alive=False).run_until(desk.t0 + timedelta(minutes=7))
    _assert_on_time(desk, incident.id, desk.t0 + timedelta(minutes=7))


@pytest.mark.parametrize("status", [429, 500, 0], ids=["429", "500", "timeout"])
def test_twilio_failing_for_60_s_every_page_leaves_within_15_s_of_twilio_answering_again(
        desk, network, clock, twilio, status):
    twilio.hang_seconds = 0.6  # longer than the harness client's 0.5 s time-out
    outage_end = desk.t0 + timedelta(seconds=60)
    twilio.fail_until(outage_end, status=status)
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0])
    Backoffice(desk.hotline, network, clock).run_until(desk.t0 + timedelta(seconds=100))
    twilio.release()
    pages = [p for p in _pages(desk, incident.id) if p.created_at <= outage_end]
    assert len(pages) == 3  # receipt, Alice by SMS and by voice
    for page in pages:
        assert page.sent_at is not None and outage_end <= page.sent_at <= outage_end + PROMISE, page.channel
    accepted = [m.to for m in twilio.messages] + [c.to for c in twilio.calls if c.direction == "outbound-api"]
    assert sorted(accepted) == sorted([CUSTOMER, ALICE, ALICE])  # each page once


def test_twilio_failing_for_130_s_every_page_and_the_receipt_still_leave_once_it_answers_again(
        desk, network, clock, twilio):
    """The tester's outage (100 s there): longer than the 15 tries after which a page used to fail for good, so the
    rep's SMS and call and the customer's receipt were never sent although Twilio came back seconds later."""
    outage_end = desk.t0 + timedelta(seconds=130)
    twilio.fail_until(outage_end, status=503)
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0])
    Backoffice(desk.hotline, network, clock).run_until(outage_end + timedelta(seconds=30))  # before the T+3 step
    twilio.release()
    pages = [p for p in _pages(desk, incident.id) if p.created_at <= outage_end]
    assert sorted((p.role, p.channel) for p in pages) == [("customer", "sms"), ("oncall:primary", "sms"),
                                                          ("oncall:primary", "voice")]
    for page in pages:
        assert page.status != PageStatus.FAILED and page.attempts > 15, (page.channel, page.status, page.attempts)
        assert page.sent_at is not None and outage_end <= page.sent_at <= outage_end + PROMISE, page.channel
    accepted = [m.to for m in twilio.messages] + [c.to for c in twilio.calls if c.direction == "outbound-api"]
    assert sorted(accepted) == sorted([CUSTOMER, ALICE, ALICE])  # each page once, no voice fallback on top
