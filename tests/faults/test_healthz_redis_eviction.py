"""/healthz warns, as ``hotline check`` does, while Redis evicts keys once full (README, *Deployment* 3).

Outside probe (session 46): ``CONFIG SET maxmemory-policy allkeys-lru`` on the running deployment's Redis, which then
evicted 58,133 keys (RQ's scheduler lock among them); /healthz said ``"redis": "ok"`` with no warning, and only a
``hotline check`` run by hand told. The policy can change under a running deployment (a managed Redis's parameter
group, a CONFIG SET). Each test runs a redis-server of its own: CONFIG SET is server-wide.
"""

from __future__ import annotations

import pytest
from redis import Redis

from app import create_app
from app.config_check import redis_problems
from app.config_report import CheckReport
from app.queue import JobQueue
from app.settings import Settings
from app.wiring import Hotline

EVICTS = "Redis evicts keys when it is full"


@pytest.fixture
def own_redis_client(settings, clock, redis_server_of_its_own):
    """A test client of a hotline on a redis-server of the test's own, and that server."""
    server = redis_server_of_its_own
    hotline = Hotline.build(settings.with_overrides(redis_url=server.url), clock=clock,
                            jobs=JobQueue(Redis.from_url(server.url, socket_timeout=5), settings.queue_name))
    yield create_app(hotline).test_client(), server
    hotline.db.dispose()
    hotline.jobs.redis.close()


def _evicting(body: dict) -> list[str]:
    return [w for w in body["warnings"] if EVICTS in w]


def test_healthz_warns_with_checks_words_while_redis_evicts_keys(own_redis_client):
    client, server = own_redis_client
    assert _evicting(client.get("/healthz").get_json()) == []  # noeviction, no maxmemory: every key kept

    server.client.config_set("maxmemory", 64 * 2 ** 20)  # at run time, under the running hotline
    server.client.config_set("maxmemory-policy", "allkeys-lru")
    answer = client.get("/healthz")
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "ok" and body["checks"]["redis"] == "ok", body
    [warning] = _evicting(body)
    report = CheckReport()
    redis_problems(Settings(redis_url=server.url), report)
    [checked] = [p for p in report.warnings if EVICTS in p.message]  # check's words and fix, not a copy of them
    assert checked.message in warning and checked.fix in warning
    assert "(maxmemory-policy allkeys-lru, maxmemory 64 MB)" in warning and "queued pages" in warning

    server.client.config_set("maxmemory-policy", "noeviction")
    assert _evicting(client.get("/healthz").get_json()) == []


def test_a_redis_that_refuses_info_is_taken_at_its_word_by_healthz_and_check(settings, clock, redis_server_of_its_own):
    """A managed Redis may refuse INFO (and CONFIG) to the hotline's user: nothing to warn of, nothing fails."""
    server = redis_server_of_its_own
    server.client.config_set("maxmemory", 64 * 2 ** 20)
    server.client.config_set("maxmemory-policy", "allkeys-lru")
    server.client.acl_setuser("hotline", enabled=True, passwords=["+pw"], keys=["*"], channels=["*"],
                              commands=["+@all", "-info", "-config"])
    url = f"redis://hotline:pw@127.0.0.1:{server.port}/0"
    hotline = Hotline.build(settings.with_overrides(redis_url=url), clock=clock,
                            jobs=JobQueue(Redis.from_url(url, socket_timeout=5), settings.queue_name))
    try:
        answer = create_app(hotline).test_client().get("/healthz")
    finally:
        hotline.db.dispose()
        hotline.jobs.redis.close()
    body = answer.get_json()
    assert answer.status_code == 200 and body["checks"]["redis"] == "ok" and _evicting(body) == [], body
    report = CheckReport()
    redis_problems(Settings(redis_url=url), report)
    assert [p for p in report.warnings if EVICTS in p.message] == []
    report = CheckReport()
    redis_problems(Settings(redis_url=server.url), report)  # the same Redis asked by its admin: it does evict
    assert [p for p in report.warnings if EVICTS in p.message]
