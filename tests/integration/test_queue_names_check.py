"""RQ workers of another QUEUE_NAME in the same Redis are named by `hotline check` and at the start of serve and worker.

A `hotline worker` started with another QUEUE_NAME than the rest (a typo in one host's env file) takes jobs only
from web processes of its own name, and keeps the Twilio account's call and SMS rates apart from the others
(``SendRate``'s scope is QUEUE_NAME and account): together they send faster than the account allows. `hotline
check` counted only the workers of its own queue and said nothing (measured: two `hotline worker` processes on
PostgreSQL and one Redis, QUEUE_NAME hotline and hotlin: 0 errors, 0 warnings with either name).
"""

from __future__ import annotations

from rq import Worker

from app.config_check import CheckReport, Role, run_checks
from app.queue import JobQueue
from tests.conftest import REDIS_URL


def _lines(report: CheckReport) -> list[str]:
    return ["\n".join(p.lines()) for p in report.problems if p.where == "QUEUE_NAME"]


def _check(hotline, role: Role) -> CheckReport:
    settings = hotline.settings
    env = {"HOTLINE_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url, "REDIS_URL": REDIS_URL,
           "QUEUE_NAME": settings.queue_name}
    return run_checks(env, role=role, clock=hotline.clock, probe_twilio=False)


def test_workers_listening_on_the_queues_of_another_queue_name_are_named(hotline):
    ours = Worker(hotline.jobs.queues, connection=hotline.jobs.redis)
    typo = Worker(JobQueue(hotline.jobs.redis, "hotlin").queues, connection=hotline.jobs.redis)
    page_thread = Worker(JobQueue(hotline.jobs.redis, "staging").sending_queues, connection=hotline.jobs.redis)
    for worker in (ours, typo, page_thread):
        worker.register_birth()
    for role in (Role.CHECK, Role.SERVE, Role.WORKER):
        report = _check(hotline, role)
        [line] = _lines(report)
        assert line.startswith("WARNING QUEUE_NAME: RQ workers in this Redis listen on the queues of QUEUE_NAME ")
        named = line.split(" not ")[0]  # the names before "not <ours>"
        assert "'hotlin'" in named and "'staging'" in named and repr(hotline.settings.queue_name) not in named
        assert f"not {hotline.settings.queue_name!r}:" in line
        assert "twice the account's rate" in line
        assert "fix: give every web process and worker of the deployment one QUEUE_NAME" in line
        assert not [p for p in report.errors if p.where == "QUEUE_NAME"]  # ours has a worker
    typo.register_death()
    page_thread.register_death()
    assert not [line for line in _lines(_check(hotline, Role.CHECK)) if "'hotlin'" in line or "'staging'" in line]
    ours.register_death()
