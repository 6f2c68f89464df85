"""Issue 12: inside ``hotline worker``, page sends run on threads of their own queue, and RQ's scheduler is a thread."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from rq import Worker
from sqlalchemy import select

from app.models import Page, PageStatus
from app.queue import PendingJob
from tests.paging.test_send_rate import NUMBERS, _voice_pages
from workers.consuming import StoppableWorker
from workers.page_threads import PageThreads, thread_count
from workers.scheduler import start_scheduler
from workers.stop_signals import StopSignals

pytestmark = pytest.mark.every_database  # page threads beside the main worker, writing at once


def _until(predicate, seconds: float = 60.0) -> bool:
    """Poll (bounded) for something other threads do; no timing is asserted."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_page_threads_serve_the_page_queues_alone_and_send_every_page(desk, twilio):
    hotline = desk.hotline
    page_ids = _voice_pages(desk, 6)
    now = desk.clock.now()
    hotline.jobs.dispatch([PendingJob("page", pid, now) for pid in page_ids], now)
    # the incident's first page step waits with the pages; its other due steps (the receipt) do not
    assert hotline.jobs.page_queue.job_ids[-6:] == [f"page-{pid}" for pid in page_ids]
    steps_waiting = len(hotline.jobs.queue)  # not the threads' to run

    threads = PageThreads(hotline, 3).start()
    try:  # one thread serves the first pages alone, two serve them and then every other page
        assert _until(lambda: len(Worker.all(queue=hotline.jobs.page_queue)) == 2)
        assert _until(lambda: len(Worker.all(queue=hotline.jobs.first_queue)) == 3)
        assert _until(lambda: len({c.to for c in twilio.calls if c.to in NUMBERS}) == 6)
    finally:
        threads.stop()
    with hotline.db.session() as s:
        assert set(s.scalars(select(Page.status).where(Page.id.in_(page_ids)))) == {PageStatus.SENT}
    assert len(hotline.jobs.queue) == steps_waiting and steps_waiting > 0
    assert len([c for c in twilio.calls if c.to in NUMBERS]) == 6  # each page once


def test_the_scheduler_thread_moves_due_jobs_to_their_queues(hotline, clock):
    jobs = hotline.jobs
    jobs.dispatch([PendingJob("page", 41, clock.now() + timedelta(seconds=1)),
                   PendingJob("step", 42, clock.now() + timedelta(seconds=1))], clock.now())
    assert sorted(jobs.scheduled_ids()) == ["page-41", "step-42"]
    clock.advance(seconds=1)  # the scheduler keeps the hotline's clock (the reference's, in production)
    stop = threading.Event()
    thread = start_scheduler(hotline, stop)
    try:
        assert _until(lambda: jobs.page_queue.job_ids == ["page-41"] and jobs.queue.job_ids == ["step-42"])
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and jobs.scheduled_ids() == []


def test_page_thread_count_is_read_from_the_environment():
    assert thread_count({}) == 4 and thread_count({"HOTLINE_PAGE_THREADS": "0"}) == 0
    for bad in ("many", "33", "-1"):
        try:
            thread_count({"HOTLINE_PAGE_THREADS": bad})
        except ValueError as exc:
            assert "HOTLINE_PAGE_THREADS" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_the_main_worker_starts_again_when_rqs_loop_ends_by_itself_and_stops_on_a_signal(hotline, monkeypatch):
    from workers import runner

    started: list[list[str]] = []

    class EndsByItself(runner.MainWorker):
        def work(self, **kwargs) -> bool:
            started.append([q.name for q in self.queues])
            if len(started) == 2:  # the second loop is the one a SIGTERM ends
                os.kill(os.getpid(), signal.SIGTERM)
            return False  # as RQ does after "found an unhandled exception, quitting..."

    monkeypatch.setattr(runner, "MainWorker", EndsByItself)
    monkeypatch.setattr(runner, "REDIS_RETRY_SECONDS", 0)
    signals = StopSignals()
    with signals.installed():
        runner._work(hotline, False, signals)
    assert signals.requested
    names = [q.name for q in hotline.jobs.queues]
    assert started == [names, names] and names[0].endswith("-first") and names[1].endswith("-pages") and names[-1].endswith("-slow")


def test_an_incidents_first_page_step_runs_at_its_opening_and_its_first_pages_wait_ahead_of_every_other_page(desk):
    """Issue 12's burst: the level-0 step runs in the transaction that opens the incident (no job to wait
    for a worker); each person's SMS from it goes to the FIRST queue, the voice page (held by the
    account's call rate) to the page queue, and every other step waits in its own queue."""
    from app.models import DueStep, StepKind

    jobs = desk.hotline.jobs
    incident = desk.open_incident()
    with desk.hotline.db.session() as s:
        steps = {(st.kind, st.level): st for st in s.scalars(select(DueStep).where(DueStep.incident_id == incident.id))}
        pages = list(s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "page")))
    first_step = steps[(StepKind.PAGE, 0)]
    assert first_step.status == "done" and first_step.runs == 1
    sms = [f"page-{p.id}" for p in pages if p.channel == "sms"]
    voice = [f"page-{p.id}" for p in pages if p.channel == "voice"]
    assert sms and voice and {p.step_id for p in pages} == {first_step.id}  # the primary, on both channels
    assert jobs.first_queue.job_ids == sms  # first in, first out
    assert set(voice) <= set(jobs.page_queue.job_ids) and not set(sms) & set(jobs.page_queue.job_ids)
    waiting = set(jobs.job_ids()) | set(jobs.scheduled_ids())
    assert f"step-{first_step.id}" not in waiting
    assert {f"step-{st.id}" for key, st in steps.items() if key != (StepKind.PAGE, 0)} <= waiting
    assert [q.name for q in jobs.sending_queues] == [jobs.first_queue.name, jobs.page_queue.name]

    later = desk.open_incident(caller="+14155550177")  # first in, first out: a burst's earliest first pages leave first
    with desk.hotline.db.session() as s:
        later_sms = [f"page-{p.id}" for p in s.scalars(select(Page).where(
            Page.incident_id == later.id, Page.channel == "sms").order_by(Page.id))]
    assert later_sms and jobs.first_queue.job_ids == [*sms, *later_sms]


def test_a_first_page_step_that_fails_at_the_opening_is_left_to_a_worker_in_the_first_queue(desk, monkeypatch):
    """The opening never fails on its first page: the step's run is rolled back to its savepoint, the
    incident opens, and the step's job waits in the FIRST queue for a worker, which pages."""
    from app.models import DueStep, Incident, StepKind
    from app.services import escalation_steps
    from workers.jobs import run_step

    real = escalation_steps.run_due_step
    monkeypatch.setattr(escalation_steps, "run_due_step", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    from app.services import steps as steps_module
    monkeypatch.setattr(steps_module, "run_due_step", escalation_steps.run_due_step)
    jobs = desk.hotline.jobs
    incident = desk.open_incident()
    with desk.hotline.db.session() as s:
        assert s.get(Incident, incident.id) is not None
        step = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id, DueStep.kind == StepKind.PAGE,
                                               DueStep.level == 0)).one()
        assert step.status == "pending" and step.runs == 0
        assert not s.scalars(select(Page).where(Page.incident_id == incident.id)).all()
    assert jobs.first_queue.job_ids == [f"step-{step.id}"]

    monkeypatch.setattr(steps_module, "run_due_step", real)
    assert run_step(step.id)
    with desk.hotline.db.session() as s:
        pages = list(s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "page")))
    sms = [f"page-{p.id}" for p in pages if p.channel == "sms"]
    # behind what waited before (here this step's own job, which the test ran directly)
    assert sms and jobs.first_queue.job_ids == [f"step-{step.id}", *sms]


def test_a_persons_first_page_is_the_sms_when_they_have_one():
    from app.services.escalation import first_channel

    assert first_channel(("voice", "sms")) == "sms" and first_channel(("sms",)) == "sms"
    assert first_channel(("voice",)) == "voice"


def test_the_main_worker_and_the_page_threads_tell_the_watchdog_they_finish_jobs(hotline, clock):
    from workers import consuming
    from workers.runner import MainWorker

    jobs = hotline.jobs
    jobs.dispatch([PendingJob("step", 987654, clock.now())], clock.now())  # no such step: a quick no-op run
    assert not consuming.recently(jobs.queue.name, 60)
    MainWorker(jobs.queues, connection=jobs.redis).work(burst=True, logging_level="WARNING")
    assert consuming.recently(jobs.queue.name, 60) and jobs.waiting() == 0
    assert not consuming.recently(jobs.first_queue.name, 60)  # per queue: nothing was taken from this one

    jobs.dispatch([PendingJob("page", 987655, clock.now(), first=True)], clock.now())
    threads = PageThreads(hotline, 1).start()
    try:
        assert _until(lambda: consuming.recently(jobs.first_queue.name, 60))
    finally:
        threads.stop()
    assert jobs.waiting() == 0


def test_a_sigterm_in_the_middle_of_a_job_lets_the_job_finish_and_then_stops_the_main_worker(hotline, clock):
    """The runner's handler (workers.stop_signals) is a warm stop, as RQ's was: the job in hand is not cut off."""
    from workers import runner

    jobs = hotline.jobs
    jobs.dispatch([PendingJob("step", 987654, clock.now()), PendingJob("step", 987655, clock.now())], clock.now())
    finished: list[str] = []

    class SignalledMidJob(runner.MainWorker):
        def perform_job(self, job, queue) -> bool:
            os.kill(os.getpid(), signal.SIGTERM)  # lands while the job runs (RQ's state is "busy")
            done = super().perform_job(job, queue)
            finished.append(job.id)
            return done

    signals = StopSignals()
    with signals.installed():
        worker = SignalledMidJob(jobs.queues, connection=jobs.redis)
        with signals.serving(worker):
            worker.work(logging_level="WARNING")  # not burst: only the signal ends it
    assert signals.requested and finished == ["step-987654"]
    assert jobs.queue.job_ids == ["step-987655"]  # the next job waits for the next worker


def test_hotline_worker_limits_its_database_work_while_it_runs_and_lifts_it_after(hotline, monkeypatch):
    """Every thread of ``hotline worker`` (RQ's, the watchdog, the page threads) gets db_time_limit's WORKER_SECONDS
    on each connection it checks out; a caller that goes on in the same process (a burst run, a test) does not."""
    from app import db_time_limit
    from workers import runner

    seen = []
    monkeypatch.setattr(runner, "_work",
                        lambda _hotline, _burst, _signals: seen.append(db_time_limit.background_seconds()))
    runner.run_worker(hotline, burst=True)
    assert seen == [db_time_limit.WORKER_SECONDS]
    assert db_time_limit.background_seconds() is None


def test_a_worker_whose_command_thread_saw_the_channel_left_first_still_stops_within_seconds(desk):
    """RQ leaves its command channel at the end of work, then stops the thread listening on it. A thread
    that read the leave first waited RQ's 60 s for a new subscription, and redis-py joins it without a
    limit: ``hotline worker`` told to stop, and each burst of the simulated back office (the demo, the
    tests) that lost this race, stood still for a minute."""
    worker = StoppableWorker(desk.hotline.jobs.queues, connection=desk.hotline.jobs.redis)
    worker.subscribe()
    worker.pubsub.unsubscribe()  # the first half of RQ's ``unsubscribe``, as the end of ``work`` runs it
    assert _until(lambda: not worker.pubsub.subscribed, 10)  # the thread has read the leave
    started = time.monotonic()
    worker.unsubscribe()  # RQ's: leave again, stop the thread, close
    assert time.monotonic() - started < 10  # a minute with RQ's own listening thread
    assert not worker.pubsub_thread.is_alive()


def test_a_worker_leaving_its_command_channel_does_not_wait_out_a_poll_of_its_listening_thread(desk, monkeypatch):
    """RQ left the channel, then stopped the thread: woken by the leave's reply before the stop, the thread
    polled again, and the worker's end waited that poll out (up to a second per burst of the simulated back
    office, a third of the updates tests' wall time). With a poll of 60 s, the leave must not wait for it."""
    from workers import consuming

    monkeypatch.setattr(consuming, "COMMAND_POLL_SECONDS", 60.0)
    worker = StoppableWorker(desk.hotline.jobs.queues, connection=desk.hotline.jobs.redis)
    worker.subscribe()
    assert _until(lambda: worker.pubsub_thread.is_alive(), 10)
    leave = worker.pubsub.unsubscribe

    def leave_read_by_the_thread_first():  # the race the thread sometimes won (about one burst in seven)
        leave()
        assert _until(lambda: not worker.pubsub.subscribed or not worker.pubsub_thread.is_alive(), 10)

    monkeypatch.setattr(worker.pubsub, "unsubscribe", leave_read_by_the_thread_first)
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 10  # up to 60 s when the thread is told after the leave
    assert not worker.pubsub_thread.is_alive()
    assert desk.hotline.jobs.redis.pubsub_numsub(worker.pubsub_channel_name)[0][1] == 0


def test_a_page_thread_that_starts_its_worker_as_the_process_stops_still_stops(hotline):
    """A page thread that checked the stop flag just before ``stop`` set it made its next RQ worker after
    ``stop`` had told the existing ones: nobody told that one, and it waited for pages until the 10 s join
    gave up (the process outlived its signal; with Redis down it never ended its wait at all)."""
    from workers import page_threads

    threads = PageThreads(hotline, 1)

    class MadeAsTheStopArrives(page_threads.ThreadWorker):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            threads.request_stop()  # the stop lands between the thread's look at the flag and its worker

    real = page_threads.ThreadWorker
    page_threads.ThreadWorker = MadeAsTheStopArrives
    try:
        threads.start()
        assert _until(lambda: threads.workers[0] is not None, 10)
    finally:
        page_threads.ThreadWorker = real
    threads.stop(wait_seconds=8)
    assert not any(thread.is_alive() for thread in threads.threads)
