"""Every job kind lives in workers.jobs: the watchdog runs any kind there when Redis is down."""

from __future__ import annotations

from app.queue import JOB_FUNCTIONS
from workers import jobs


def test_every_job_kind_is_a_function_of_workers_jobs():
    for kind, path in JOB_FUNCTIONS.items():
        module, name = path.rsplit(".", 1)
        assert module == "workers.jobs", kind
        assert callable(getattr(jobs, name, None)), kind
    assert "delivery" in JOB_FUNCTIONS  # issue 11: customer updates, proposals, reminders
