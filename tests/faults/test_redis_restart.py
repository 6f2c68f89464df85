"""Redis restarted empty under a running ``hotline worker``: its RQ workers sign up again, so `hotline check` is right.

RQ registers a worker once, when its work loop starts (``register_birth``). A Redis that restarts without its data
(no persistence, a failover to an empty replica, a FLUSHALL) loses that registration, and RQ's own loop reconnects
and goes on taking jobs without ever registering again: the worker kept running every job, while `hotline check`
reported "no RQ worker listens on queue ...: pages would wait" as an error for as long as the process lived
(measured with `hotline serve` and `hotline worker` on PostgreSQL: steps fired 3 s after their time, and the
check still said ERROR minutes later). An operator told that restarts healthy workers, and a monitor of
`hotline check` stays red.
"""

from __future__ import annotations

from rq import Worker

from app.config_check import liveness_problems
from app.config_report import CheckReport
from tests.conftest import REDIS_URL
from workers.consuming import ReportingWorker
from workers.page_threads import ThreadWorker


def _rq_worker_problems(hotline) -> list[str]:
    report = CheckReport()
    liveness_problems(hotline.settings.with_overrides(redis_url=REDIS_URL), report, hotline.clock.now(), strict=True)
    return [problem.where for problem in report.errors if problem.where == "QUEUE_NAME"]


def test_a_worker_signs_up_again_after_redis_restarted_empty_and_check_sees_it(hotline):
    worker = ReportingWorker(hotline.jobs.queues, connection=hotline.jobs.worker_connection())
    worker.register_birth()
    try:
        assert _rq_worker_problems(hotline) == []

        hotline.jobs.redis.flushdb()  # Redis came back without its data: every registration is gone
        assert _rq_worker_problems(hotline) == ["QUEUE_NAME"]

        assert worker.dequeue_job_and_maintain_ttl(1, 1) is None  # the next turn of the worker's own loop
        assert _rq_worker_problems(hotline) == []
        found = {w.name for w in Worker.all(queue=hotline.jobs.queue)}
        assert worker.name in found
    finally:
        worker.register_death()


def test_a_page_thread_signs_up_again_on_its_queues_after_redis_restarted_empty(hotline):
    worker = ThreadWorker(hotline.jobs.sending_queues, connection=hotline.jobs.worker_connection())
    worker.register_birth()
    try:
        hotline.jobs.redis.flushdb()
        worker.heartbeat()  # what its dequeue loop does each second
        for queue in hotline.jobs.sending_queues:
            assert worker.name in {w.name for w in Worker.all(queue=queue)}, queue.name
    finally:
        worker.register_death()


def test_a_worker_that_registered_its_death_is_not_signed_up_again_by_a_late_heartbeat(hotline):
    worker = ReportingWorker(hotline.jobs.queues, connection=hotline.jobs.worker_connection())
    worker.register_birth()
    worker.register_death()
    worker.heartbeat()
    assert worker.name not in {w.name for w in Worker.all(queue=hotline.jobs.queue)}
