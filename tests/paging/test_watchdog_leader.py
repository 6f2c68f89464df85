"""One active watchdog at a time: a SQL lease elects the leader, a standby takes over, /healthz shows it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import DueStep, StepStatus
from app.services import leases
from tests.paging.conftest import ALICE, CUSTOMER
from workers import watchdog


def _release(hotline, holder):
    with hotline.db.transaction() as s:
        leases.release(s, leases.WATCHDOG, holder, hotline.clock.now())


def _health(client):
    answer = client.get("/healthz")
    return answer.status_code, answer.get_json()


def test_only_the_lease_holder_sweeps_and_a_standby_takes_over_when_it_stops_renewing(desk, network, clock):
    hotline = desk.hotline
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    desk.open_incident()
    hotline.jobs.redis.flushdb()  # the receipt and first pages are due now and only a sweep can bring them back

    assert watchdog.tick(hotline, "b") == 2  # b is first: it leads and hands over the two due steps
    assert watchdog.tick(hotline, "a") is None  # a is a standby: it sweeps nothing
    assert len(hotline.jobs.queue) == 2
    clock.advance(seconds=watchdog.INTERVAL_SECONDS)
    assert watchdog.tick(hotline, "a") is None and isinstance(watchdog.tick(hotline, "b"), int)  # b renews

    # b dies: it stops renewing. Until its lease runs out a stays standby, then a leads.
    last_renewal = clock.now()
    clock.set(last_renewal + watchdog.LEASE_TTL - timedelta(seconds=1))
    assert watchdog.tick(hotline, "a") is None  # the lease is live until its expiry instant
    clock.set(last_renewal + watchdog.LEASE_TTL)
    assert watchdog.tick(hotline, "a") == 2  # a took over, and sweeps (the steps are still pending)
    assert watchdog.tick(hotline, "b") is None  # b came back: now it is the standby
    desk.settle()
    with hotline.db.session() as s:
        assert set(s.scalars(select(DueStep.status).where(DueStep.due_at <= clock.now()))) == {StepStatus.DONE}


def test_instances_starting_together_elect_exactly_one_leader(hotline):
    holders = [f"host-{n}" for n in range(6)]
    start = threading.Barrier(len(holders))

    def first_tick(holder):
        start.wait()
        return watchdog.tick(hotline, holder)

    with ThreadPoolExecutor(len(holders)) as pool:
        results = dict(zip(holders, pool.map(first_tick, holders), strict=True))
    leaders = [h for h, swept in results.items() if swept is not None]
    assert len(leaders) == 1 and results[leaders[0]] == 0
    with hotline.db.session() as s:
        assert leases.status(s, leases.WATCHDOG, hotline.clock.now())["holder"] == leaders[0]


def test_release_hands_the_lease_over_at_once(hotline, clock):
    assert watchdog.tick(hotline, "a") == 0
    assert watchdog.tick(hotline, "b") is None
    _release(hotline, "b")  # releasing a lease one does not hold changes nothing
    assert watchdog.tick(hotline, "b") is None
    _release(hotline, "a")  # a clean shutdown: no waiting for LEASE_TTL
    assert watchdog.tick(hotline, "b") == 0
    assert watchdog.tick(hotline, "a") is None


def test_healthz_reports_the_watchdog_heartbeat_and_when_it_stops(hotline, client, clock):
    status, body = _health(client)
    assert status == 503 and body["checks"]["watchdog"] == "not running" and body["watchdog"]["holder"] is None

    watchdog.tick(hotline, "a")
    clock.advance(seconds=4)
    status, body = _health(client)
    assert status == 200 and body["status"] == "ok" and body["checks"]["watchdog"] == "ok"
    assert body["watchdog"]["holder"] == "a" and body["watchdog"]["alive"] is True
    assert body["watchdog"]["heartbeat_age_seconds"] == 4.0

    clock.advance(seconds=6)
    watchdog.tick(hotline, "a")  # the next pass renews the heartbeat
    assert _health(client)[1]["watchdog"]["heartbeat_age_seconds"] == 0.0

    clock.advance(seconds=watchdog.LEASE_TTL.total_seconds() - 1)
    assert _health(client)[1]["checks"]["watchdog"] == "ok"
    clock.advance(seconds=1)  # no pass for LEASE_TTL: the leader is gone
    status, body = _health(client)
    assert status == 503 and body["status"] == "degraded" and body["checks"]["watchdog"] == "not running"
    assert body["watchdog"]["alive"] is False and body["watchdog"]["heartbeat_age_seconds"] == 30.0


def test_healthz_shows_not_running_right_after_a_release(hotline, client, clock):
    watchdog.tick(hotline, "a")
    assert _health(client)[1]["checks"]["watchdog"] == "ok"
    _release(hotline, "a")
    status, body = _health(client)
    assert status == 503 and body["checks"]["watchdog"] == "not running"


@pytest.mark.parametrize(("raw", "expected"), [("", 10.0), ("2", 2.0), ("0.5", 0.5), ("15", 15.0)])
def test_interval_comes_from_the_environment(raw, expected):
    assert watchdog.interval_seconds({watchdog.INTERVAL_ENV: raw}) == expected
    assert watchdog.lease_ttl(expected) >= timedelta(seconds=3 * expected)
    assert watchdog.lease_ttl(expected) >= watchdog.LEASE_TTL


@pytest.mark.parametrize("raw", ["0", "-1", "16", "ten"])
def test_an_interval_that_breaks_the_promise_is_refused(raw):
    with pytest.raises(ValueError):
        watchdog.interval_seconds({watchdog.INTERVAL_ENV: raw})
