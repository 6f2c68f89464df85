"""Issue 12's burst: the watchdog leaves a backlog to the workers that are working through it.

A job still not done ``TAKEOVER`` after it was due used to be run by every worker's watchdog as
well, even while it waited in a queue that RQ workers were emptying: in an outage's burst the
second runs lengthened the very backlog that made the jobs late. Now a late job still listed in
a queue is left to RQ while this process's workers keep finishing jobs; a lost job (in no list)
is still run here, and with no worker finishing anything the watchdog takes everything over
(tests/faults/test_watchdog_faults.py ``test_rq_not_taking_jobs_...``).
"""

from __future__ import annotations

from sqlalchemy import select

from app.models import DueStep, StepKind, StepStatus
from workers import consuming, watchdog
from workers.watchdog import TAKEOVER


def _receipt(desk, incident):
    """The incident's receipt step: due (and queued in the steps queue) once the intake ended."""
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                               DueStep.kind == StepKind.RECEIPT)).one()


def test_a_late_job_waiting_in_a_queue_the_workers_are_emptying_is_left_to_them(desk, clock):
    incident = desk.open_incident()
    step = _receipt(desk, incident)
    job_id, queue = f"step-{step.id}", desk.hotline.jobs.queue
    assert job_id in queue.job_ids
    clock.advance(seconds=TAKEOVER.total_seconds() + 1)
    consuming.finished(queue.name)  # a worker here just took another job from that queue

    watchdog.sweep(desk.hotline)

    assert _receipt(desk, incident).status == StepStatus.PENDING  # not run by the watchdog
    assert queue.job_ids.count(job_id) == 1  # and not queued twice


def test_a_late_job_lost_from_the_queues_is_run_by_the_watchdog_even_while_workers_are_busy(desk, clock):
    incident = desk.open_incident()
    step = _receipt(desk, incident)
    queue = desk.hotline.jobs.queue
    queue.remove(f"step-{step.id}")  # taken off the list by a worker that then died
    clock.advance(seconds=TAKEOVER.total_seconds() + 1)
    consuming.finished(queue.name)

    watchdog.sweep(desk.hotline)

    assert _receipt(desk, incident).status == StepStatus.DONE


def test_with_no_worker_finishing_jobs_the_watchdog_runs_a_late_queued_job_itself(desk, clock):
    incident = desk.open_incident()
    clock.advance(seconds=TAKEOVER.total_seconds() + 1)
    assert not consuming.recently(desk.hotline.jobs.queue.name, watchdog.GRACE.total_seconds())

    watchdog.sweep(desk.hotline)

    assert _receipt(desk, incident).status == StepStatus.DONE


def test_a_late_job_in_a_queue_that_does_not_move_is_run_by_the_watchdog(desk, clock):
    """The first queue moves, but nothing was taken from the one the late job waits in (the main worker,
    the only one serving the steps, held by a slow send): the watchdog runs it."""
    incident = desk.open_incident()
    step = _receipt(desk, incident)
    jobs = desk.hotline.jobs
    assert f"step-{step.id}" in jobs.queue.job_ids
    clock.advance(seconds=TAKEOVER.total_seconds() + 1)
    consuming.finished(jobs.first_queue.name)

    watchdog.sweep(desk.hotline)

    assert _receipt(desk, incident).status == StepStatus.DONE


def test_a_job_taken_off_its_list_is_handed_over_again_though_redis_still_says_queued(desk):
    """The hand-over looks at the queues' lists, not at the job's status: a worker killed between taking a job
    and starting it leaves the job marked queued, in no list."""
    incident = desk.open_incident()
    step = _receipt(desk, incident)
    jobs = desk.hotline.jobs
    jobs.queue.remove(f"step-{step.id}")
    assert f"step-{step.id}" not in jobs.job_ids()

    watchdog.sweep(desk.hotline)

    assert f"step-{step.id}" in jobs.job_ids()


def test_the_take_over_line_says_how_late_the_oldest_job_is_not_the_threshold(desk, clock, caplog):
    """A probe's worker, restarted, logged "4 jobs still not done 6.0s after they were due" of jobs 82 s late."""
    import logging

    incident = desk.open_incident()
    clock.advance(seconds=82)
    with caplog.at_level(logging.WARNING, logger="workers.watchdog"):
        watchdog.sweep(desk.hotline)
    assert _receipt(desk, incident).status == StepStatus.DONE
    [line] = [r.getMessage() for r in caplog.records if "still not done" in r.getMessage()]
    assert "the oldest 82.0s late" in line and "6.0s after they were due" not in line
