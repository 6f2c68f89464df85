"""One active watchdog at a time: a SQL lease elects the leader, a standby takes over, /healthz shows it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.health import NO_WATCHDOG
from app.models import Incident
from app.services import leases
from app.services.spool import spool
from tests.paging.conftest import CUSTOMER
from workers import watchdog

pytestmark = pytest.mark.every_database  # instances racing for the lease in threads


def _release(hotline, holder):
    with hotline.db.transaction() as s:
        leases.release(s, leases.WATCHDOG, holder, hotline.clock.now())


def _health(client):
    answer = client.get("/healthz")
    return answer.status_code, answer.get_json()


def _spool_one(hotline, call_sid: str) -> None:
    spool(hotline.settings.data_dir, "rescue", {"call_sid": call_sid, "from": CUSTOMER, "reason": "db down",
                                                "at": hotline.clock.now().isoformat()})


def _incidents(hotline) -> int:
    with hotline.db.session() as s:
        return len(list(s.scalars(select(Incident.id))))


def test_every_instance_sweeps_and_only_the_lease_holder_replays_the_spool(desk, network, clock):
    """No standby waits for a lease to expire: a worker's death delays nothing beyond the next pass."""
    hotline = desk.hotline
    desk.open_incident()
    hotline.jobs.redis.flushdb()  # the receipt and first pages are due now and only a sweep can bring them back

    # b leads and hands over the due receipt and the two pages the opening's first page step wrote
    assert watchdog.tick(hotline, "b") == 3
    _spool_one(hotline, "CA" + "1" * 32)
    assert watchdog.tick(hotline, "a") == 3  # a is not the leader, and sweeps all the same ...
    assert _incidents(hotline) == 1  # ... but leaves the spool to the leader
    assert watchdog.tick(hotline, "b") > 3  # b replays it and hands over the rescued incident's steps too
    assert _incidents(hotline) == 2
    queued = hotline.jobs.job_ids()
    assert len(set(queued)) == len(queued)  # deterministic ids: the two sweeps queued each job once


def test_a_standby_replays_the_spool_once_the_leaders_lease_ran_out(hotline, clock):
    assert watchdog.tick(hotline, "b") == 0
    _spool_one(hotline, "CA" + "2" * 32)
    last_renewal = clock.now()
    clock.set(last_renewal + watchdog.LEASE_TTL - timedelta(seconds=1))
    watchdog.tick(hotline, "a")
    assert _incidents(hotline) == 0  # the lease is live until its expiry instant
    clock.set(last_renewal + watchdog.LEASE_TTL)
    watchdog.tick(hotline, "a")  # b stopped renewing: a leads now
    assert _incidents(hotline) == 1
    with hotline.db.session() as s:
        assert leases.status(s, leases.WATCHDOG, clock.now())["holder"] == "a"


def test_instances_starting_together_elect_exactly_one_leader(hotline):
    holders = [f"host-{n}" for n in range(6)]
    start = threading.Barrier(len(holders))

    def first_hold(holder):
        start.wait()
        with hotline.db.transaction() as s:
            return leases.hold(s, leases.WATCHDOG, holder, hotline.clock.now(), watchdog.LEASE_TTL)

    with ThreadPoolExecutor(len(holders)) as pool:
        results = dict(zip(holders, pool.map(first_hold, holders), strict=True))
    leaders = [h for h, won in results.items() if won]
    assert len(leaders) == 1
    with hotline.db.session() as s:
        assert leases.status(s, leases.WATCHDOG, hotline.clock.now())["holder"] == leaders[0]


def _holder(hotline):
    with hotline.db.session() as s:
        return leases.status(s, leases.WATCHDOG, hotline.clock.now())["holder"]


def test_release_hands_the_lease_over_at_once(hotline, clock):
    watchdog.tick(hotline, "a")
    watchdog.tick(hotline, "b")
    assert _holder(hotline) == "a"
    _release(hotline, "b")  # releasing a lease one does not hold changes nothing
    watchdog.tick(hotline, "b")
    assert _holder(hotline) == "a"
    _release(hotline, "a")  # a clean shutdown: no waiting for LEASE_TTL
    watchdog.tick(hotline, "b")
    assert _holder(hotline) == "b"


def test_healthz_reports_the_watchdog_heartbeat_and_when_it_stops(hotline, client, clock):
    status, body = _health(client)
    assert status == 200 and body["checks"]["watchdog"] == "not running" and body["watchdog"]["holder"] is None
    assert NO_WATCHDOG in body["warnings"]  # a warning: the node still takes callers (test_healthz_load_balancer)

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
    assert status == 200 and body["checks"]["watchdog"] == "not running" and NO_WATCHDOG in body["warnings"]
    assert body["watchdog"]["alive"] is False and body["watchdog"]["heartbeat_age_seconds"] == 30.0


def test_healthz_shows_not_running_right_after_a_release(hotline, client, clock):
    watchdog.tick(hotline, "a")
    assert _health(client)[1]["checks"]["watchdog"] == "ok"
    _release(hotline, "a")
    status, body = _health(client)
    assert status == 200 and body["checks"]["watchdog"] == "not running" and NO_WATCHDOG in body["warnings"]


@pytest.mark.parametrize(("raw", "expected"), [("", 10.0), ("2", 2.0), ("1.5", 1.5), ("15", 15.0)])
def test_interval_comes_from_the_environment(raw, expected):
    assert watchdog.interval_seconds({watchdog.INTERVAL_ENV: raw}) == expected
    assert watchdog.lease_ttl(expected) >= timedelta(seconds=3 * expected)
    assert watchdog.lease_ttl(expected) >= watchdog.LEASE_TTL


@pytest.mark.parametrize("raw", ["0", "-1", "0.5", "16", "ten", "10s"])
def test_an_interval_that_breaks_the_promise_is_refused(raw):
    with pytest.raises(ValueError):
        watchdog.interval_seconds({watchdog.INTERVAL_ENV: raw})


def test_healthz_does_not_say_no_watchdog_runs_while_the_lapsed_lease_changes_hands(hotline, client, clock):
    """An outside probe froze the lease holder: for a few seconds /healthz said no page or escalation leaves while
    the other worker (whose watchdog sweeps too, and takes the lease at its next pass) sent them. A lapsed lease with a
    worker listening is changing hands for one watchdog interval; beyond it, or with no worker, it is gone."""
    from app.queue import WORKERS_BY_QUEUE_KEY

    watchdog.tick(hotline, "a")
    hotline.jobs.redis.sadd(WORKERS_BY_QUEUE_KEY.format(hotline.jobs.first_name), "rq:worker:b")  # b's RQ worker
    clock.advance(seconds=watchdog.LEASE_TTL.total_seconds() + 10)  # a's lease lapsed 10 s ago
    status, body = _health(client)
    assert status == 200 and body["checks"]["watchdog"] == "ok" and NO_WATCHDOG not in body["warnings"]
    assert body["watchdog"]["alive"] is False and body["watchdog"]["lapsed_seconds"] == 10.0
    clock.advance(seconds=6)  # no worker took it within an interval: gone
    status, body = _health(client)
    assert body["checks"]["watchdog"] == "not running" and NO_WATCHDOG in body["warnings"]
    hotline.jobs.redis.delete(WORKERS_BY_QUEUE_KEY.format(hotline.jobs.first_name))
    clock.advance(seconds=-6)  # lapsed 10 s ago again, but no worker listens: gone
    assert NO_WATCHDOG in _health(client)[1]["warnings"]
