"""/healthz says whether anyone can be paged now: a warning for monitoring, never a 503 for the load balancer."""

from __future__ import annotations

from rq import Worker

from app.health import NO_LISTENER, NOBODY_TO_PAGE
from app.models import Rep
from app.queue import WORKERS_BY_QUEUE_KEY, JobQueue, queue_names
from workers import watchdog


def test_nobody_to_page_is_a_warning_and_a_manager_clears_it(hotline, client, rq_listening):
    watchdog.tick(hotline, "a")  # a live watchdog: the answer is 200 unless something else fails
    answer = client.get("/healthz")
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "ok"  # callers are still taken and recorded
    assert body["on_call"] == {"pageable_now": False, "rota_paged": True, "sms_opted_out": 0} and body["warnings"] == [NOBODY_TO_PAGE]

    with hotline.db.transaction() as s:  # an active manager: the level that reaches nobody alerts them
        s.add(Rep(name="Morgan Manager", phone="+14155550199", is_manager=True))
    body = client.get("/healthz").get_json()
    assert body["on_call"] == {"pageable_now": True, "rota_paged": True, "sms_opted_out": 0} and body["warnings"] == []


def test_an_inactive_manager_does_not_count(hotline, client):
    with hotline.db.transaction() as s:
        s.add(Rep(name="Morgan Manager", phone="+14155550199", is_manager=True, active=False))
    body = client.get("/healthz").get_json()
    assert body["on_call"] == {"pageable_now": False, "rota_paged": True, "sms_opted_out": 0} and NOBODY_TO_PAGE in body["warnings"]


def test_a_worker_on_another_queue_is_a_warning_naming_the_queue(hotline, client):
    """A `hotline worker` with another QUEUE_NAME (or REDIS_URL) runs the watchdog, so /healthz said "ok" while every
    page this web process queued waited for the watchdog's takeover."""
    with hotline.db.transaction() as s:
        s.add(Rep(name="Morgan Manager", phone="+14155550199", is_manager=True))
    watchdog.tick(hotline, "a")
    other = JobQueue(hotline.jobs.redis, "elsewhere")
    Worker(other.queues, connection=hotline.jobs.redis).register_birth()
    answer = client.get("/healthz")
    body = answer.get_json()
    first = queue_names(hotline.jobs.name)["first"]
    assert answer.status_code == 200 and body["warnings"] == [NO_LISTENER.format(queue=first)]

    Worker(hotline.jobs.queues, connection=hotline.jobs.redis).register_birth()  # one on this process's queues
    assert client.get("/healthz").get_json()["warnings"] == []


def test_the_listeners_key_is_rqs():
    from rq.worker_registration import WORKERS_BY_QUEUE_KEY as RQ_KEY

    assert WORKERS_BY_QUEUE_KEY.format("q") == RQ_KEY % "q"


def test_a_policy_paging_only_the_tam_and_managers_is_a_warning(hotline, client, rq_listening):
    """Probe G F1: a default policy paging only the TAM left /healthz pageable and silent, while every incident
    paged the managers alone and never the on-call reps."""
    from app.health import ROTA_NOT_PAGED
    from app.models import EscalationPolicy

    watchdog.tick(hotline, "a")
    with hotline.db.transaction() as s:
        s.add(Rep(name="Morgan Manager", phone="+14155550199", is_manager=True))
        s.add(EscalationPolicy(name="default", is_default=True, levels=[
            {"delay_minutes": 0, "targets": [{"type": "tam", "channels": ["sms", "voice"]}]},
            {"delay_minutes": 3, "targets": [{"type": "managers"}]}]))
    body = client.get("/healthz").get_json()
    assert body["on_call"] == {"pageable_now": True, "rota_paged": False, "sms_opted_out": 0}
    assert body["warnings"] == [ROTA_NOT_PAGED]

    with hotline.db.transaction() as s:  # the rota first: the warning goes
        policy = s.query(EscalationPolicy).one()
        policy.levels = [{"delay_minutes": 0, "targets": [{"type": "rep", "rep": "Morgan Manager"}]}]
    body = client.get("/healthz").get_json()
    assert body["on_call"]["rota_paged"] is True and body["warnings"] == []
