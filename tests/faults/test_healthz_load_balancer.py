"""/healthz's status is the load balancer's answer to "does this node take callers?" (README, *Logs*).

A Redis outage and a watchdog that does not run (every `hotline worker` stopped or restarting) leave intake whole:
each caller is taken and recorded in SQL, and a watchdog runs due work from SQL while Redis is down. Both answered
503 "degraded", so a load balancer took every web host out at once (one Redis and one watchdog lease serve them all)
and callers reached no hotline at all, during a Redis failover or `systemctl restart hotline-worker` (measured with
`hotline serve` and `hotline worker`: Redis stopped, /healthz 503 while a call was taken whole and its rep paged).
They are warnings now, for monitoring; the database and the schema, without which nothing is recorded, stay a 503.
"""

from __future__ import annotations

from redis import Redis

from app import worker_presence
from app.health import NO_WATCHDOG, REDIS_DOWN
from app.queue import JobQueue
from workers import watchdog

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused, like a killed Redis


def _health(client) -> tuple[int, dict]:
    answer = client.get("/healthz")
    return answer.status_code, answer.get_json()


def test_redis_down_is_a_warning_while_the_node_still_takes_callers(desk, client):
    watchdog.tick(desk.hotline, "a")
    alive = desk.hotline.jobs
    desk.hotline.jobs = JobQueue(Redis.from_url(DEAD_REDIS, socket_connect_timeout=0.2), alive.name)  # Redis killed
    status, body = _health(client)
    assert status == 200 and body["status"] == "ok", body
    assert body["checks"]["redis"] == "error: ConnectionError" and REDIS_DOWN in body["warnings"]
    incident = desk.open_incident()  # the node does take the caller: the incident is in SQL
    assert incident.reference and incident.callback_due_at is not None
    desk.hotline.jobs = alive
    status, body = _health(client)
    assert status == 200 and body["checks"]["redis"] == "ok" and REDIS_DOWN not in body["warnings"]


def test_no_watchdog_running_is_a_warning_while_the_node_still_takes_callers(desk, client):
    status, body = _health(client)  # no `hotline worker` runs (stopped, or restarting)
    assert status == 200 and body["status"] == "ok", body
    assert body["checks"]["watchdog"] == "not running" and NO_WATCHDOG in body["warnings"]
    assert desk.open_incident().reference
    watchdog.tick(desk.hotline, "a")
    status, body = _health(client)
    assert status == 200 and body["checks"]["watchdog"] == "ok" and NO_WATCHDOG not in body["warnings"]


def test_a_watchdog_whose_worker_is_no_longer_alive_is_not_running_though_its_lease_lasts(desk, client):
    """Outside probe (session 43): both workers killed, /healthz said "watchdog": "ok" for 45 s (the lease lasts 30 s
    after the last pass, and RQ's registrations of the killed workers counted as listeners). A worker not heard of
    within ``worker_presence.FRESH`` is dead; another alive takes the lease over when it lapses (changing hands)."""
    redis, queue, now = desk.hotline.jobs.redis, desk.hotline.jobs.name, desk.clock.now().timestamp()
    watchdog.tick(desk.hotline, "host:1")  # holds the lease for 30 s
    worker_presence.announce(redis, queue, "host:1", now)
    status, body = _health(client)
    assert body["checks"]["watchdog"] == "ok" and body["watchdog"]["workers_alive"] == ["host:1"]
    worker_presence.announce(redis, queue, "host:1", now - worker_presence.FRESH - 1)  # killed since
    status, body = _health(client)
    assert status == 200 and body["checks"]["watchdog"] == "not running" and NO_WATCHDOG in body["warnings"]
    assert body["watchdog"]["alive"] is True and body["watchdog"]["workers_alive"] == []  # its lease still lasts
    assert body["watchdog"]["worker_last_heard_seconds"] == worker_presence.FRESH + 1
    worker_presence.announce(redis, queue, "host:2", now)  # another worker lives: it takes the lease over
    status, body = _health(client)
    assert body["checks"]["watchdog"] == "ok" and body["watchdog"]["workers_alive"] == ["host:2"]
    worker_presence.withdraw(redis, queue, "host:2")  # it stopped
    assert _health(client)[1]["checks"]["watchdog"] == "not running"
