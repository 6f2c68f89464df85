"""The 15-minute promise survives lost Redis data, workers killed mid-job and a dead RQ scheduler.

SQL is the truth: every due step is a row, and the watchdog re-derives RQ jobs from
rows each pass. These tests break the infrastructure on purpose, move the fake clock
in steps no longer than the watchdog interval (one settle = one watchdog pass), and
check outcomes: when each step ran, how often, and what reached the phones.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, update

from app.db import registered
from app.models import DueStep, IncidentEvent, Page, PageStatus, StepKind, StepStatus
from app.queue import PendingJob
from app.services import steps
from app.services.page_urls import PageUrls
from app.services.pages import SMS_VALIDITY_SECONDS, STALE_SENDING
from hotline_sim.twilio_records import ApiMessage, new_sid
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from workers import watchdog
from workers.consuming import StoppableWorker

STEP = watchdog.INTERVAL_SECONDS  # how far the clock moves between two watchdog passes
CUSTOMERS = [f"+1415555020{n}" for n in range(10)]
CLAIMED_AFTER = timedelta(seconds=3)  # when the doomed worker claims a page (between two passes)


# ---------------------------------------------------------------- helpers


def _steps(desk, incident_id=None):
    with desk.hotline.db.session() as s:
        stmt = select(DueStep).order_by(DueStep.id)
        if incident_id is not None:
            stmt = stmt.where(DueStep.incident_id == incident_id)
        return list(s.scalars(stmt))


def _step(desk, incident_id, kind, level=0):
    return next(st for st in _steps(desk, incident_id) if st.kind == kind and st.level == level)


def _pages(desk, **where):
    with desk.hotline.db.session() as s:
        stmt = select(Page).order_by(Page.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(Page, name) == value)
        return list(s.scalars(stmt))


def _events(desk, kind):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _accepted(twilio) -> Counter:
    """How often Twilio accepted each distinct page: SMS by (to, body), calls by (to, TwiML URL)."""
    sent = Counter(("sms", m.to, m.body) for m in twilio.messages if m.direction == "outbound-api")
    sent.update(("voice", c.to, c.url) for c in twilio.calls if c.direction == "outbound-api")
    return sent


def _lateness(step: DueStep) -> float:
    return (step.done_at - step.due_at).total_seconds()


def _run_jobs(desk, max_jobs=None) -> None:
    """One RQ worker burst over the hotline's queues (no scheduler, as in the harness); with ``max_jobs``, the steps only."""
    queues = [desk.hotline.jobs.queue] if max_jobs is not None else desk.hotline.jobs.queues
    StoppableWorker(queues, connection=desk.hotline.jobs.redis).work(
        burst=True, max_jobs=max_jobs, logging_level="WARNING")


def _first_pass_at_or_after(due, passes):
    return min(p for p in passes if p >= due)


# ---------------------------------------------------------------- 1. Redis flushed


def _expect_phase(network, minute, ref, customer):
    """What the phones receive for one unacknowledged incident when the clock reaches T+minute."""
    alice, bob, maria = (network.phone(n) for n in (ALICE, BOB, MARIA))
    if minute == 0:
        network.phone(customer).expect_sms(f"we have your report, reference {ref}")
        alice.expect_sms(f"SEV1 {ref} Acme Mail: API calls failing").expect_call(answer=False)
    elif minute == 3:
        alice.expect_call(answer=False)
        bob.expect_sms(f"SEV1 {ref} Acme Mail: API calls failing").expect_call(answer=False)
    elif minute == 6:
        maria.expect_sms(f"SEV1 {ref} Acme Mail: API calls failing").expect_call(answer=False)
    elif minute == 10:
        for phone in (alice, bob, maria):
            phone.expect_sms(f"SEV1 {ref} Acme Mail: AT RISK")
    elif minute == 15:
        maria.expect_sms(f"SEV1 {ref} Acme Mail: callback deadline").expect_call(answer=False)
        network.phone(customer).expect_sms(f"reference {ref}: we promised to call you back by")  # the apology


def test_redis_flushed_with_ten_incidents_pending_every_step_fires_within_one_watchdog_pass(desk, network, twilio):
    hotline = desk.hotline
    incidents = [desk.open_incident(caller=number) for number in CUSTOMERS]
    assert hotline.jobs.waiting() > 0 and hotline.jobs.scheduled_ids()
    hotline.jobs.redis.flushdb()  # every queued and scheduled job of the ten incidents is gone
    assert hotline.jobs.waiting() == 0 and not hotline.jobs.scheduled_ids()

    # Passes fall 4 s after each 10 s mark, so every step is late by a visible, bounded amount.
    # At the first pass of each phase Redis is flushed again between the step runs and their
    # page sends: the queued pages are lost too and must come back from their rows.
    phases = [0, 3, 6, 10, 15]
    passes: list[float] = []
    lost_page_jobs = 0
    t = 4.0
    for i, minute in enumerate(phases):
        for incident, customer in zip(incidents, CUSTOMERS, strict=True):
            _expect_phase(network, minute, incident.reference, customer)
        first = True
        end = phases[i + 1] * 60 if i + 1 < len(phases) else 16 * 60
        while t < end:
            if first:
                desk.clock.set(desk.t0 + timedelta(seconds=t))
                handed = watchdog.sweep(hotline)
                _run_jobs(desk, max_jobs=handed)  # the due steps run and queue their pages ...
                hotline.jobs.redis.flushdb()  # ... and Redis loses the page jobs
                lost_page_jobs += len(_pages(desk, status=PageStatus.QUEUED))  # rows that only SQL remembers
                first = False
            desk.at(seconds=t)
            passes.append(t)
            t += STEP
    assert lost_page_jobs == 10 * (3 + 3 + 2 + 3 + 3)  # every page of every phase lost its job once
    assert all(b - a <= watchdog.INTERVAL_SECONDS for a, b in zip(passes, passes[1:], strict=False))

    ran = [st for st in _steps(desk) if st.status == StepStatus.DONE]
    assert len(ran) == 10 * 6  # receipt, three page levels, at-risk, breach: for each incident
    assert all(st.runs == 1 for st in ran)
    at_opening = [st for st in ran if (st.kind, st.level) == ("page", 0)]
    assert len(at_opening) == 10 and all(st.done_at == st.due_at for st in at_opening)  # run by the opening
    for st in ran:
        if st in at_opening:
            continue
        offset = (st.due_at - desk.t0).total_seconds()
        assert (st.done_at - desk.t0).total_seconds() == _first_pass_at_or_after(offset, passes)
        assert 0 <= _lateness(st) <= watchdog.INTERVAL_SECONDS
    assert max(_lateness(st) for st in ran) == 4.0
    pending = [st for st in _steps(desk) if st.status == StepStatus.PENDING]
    assert [(st.kind, st.level) for st in pending] == [("repage", 0)] * 10  # due at T+20, after the run

    accepted = _accepted(twilio)
    assert max(accepted.values()) == 1, [k for k, n in accepted.items() if n > 1]
    # receipt, three pages, three at-risk alerts, the breach alert and the customer's breach notice
    assert sum(1 for kind, _to, _what in accepted if kind == "sms") == 10 * (1 + 1 + 1 + 1 + 3 + 1 + 1)
    assert sum(1 for kind, _to, _what in accepted if kind == "voice") == 10 * (1 + 2 + 1 + 1)
    pages = _pages(desk)
    assert len(pages) == sum(accepted.values())
    assert all(p.attempts == 1 and p.twilio_sid and p.sent_at for p in pages)


# ---------------------------------------------------------------- 2. a worker killed mid-job


def test_worker_killed_mid_step_rolls_back_and_the_watchdog_runs_the_step_once(desk, network, twilio):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice, bob = network.phone(ALICE), network.phone(BOB)
    alice.expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    level1 = _step(desk, incident.id, StepKind.PAGE, level=1)
    due = desk.t0 + timedelta(minutes=3)
    assert level1.due_at == due

    # A worker picks the step up at T+3, claims it, queues its pages, and dies before COMMIT.
    desk.clock.set(due)
    with desk.hotline.db.session() as session:
        assert steps.run_step(session, level1.id, desk.clock.now()) is True
        assert len(registered(session)) == 3  # Alice by voice, Bob by SMS and voice, on the unit of work
        session.rollback()
        assert registered(session) == []  # a rolled-back transaction dispatches nothing
    after_crash = _step(desk, incident.id, StepKind.PAGE, level=1)
    assert (after_crash.status, after_crash.runs, after_crash.done_at) == (StepStatus.PENDING, 0, None)
    assert _pages(desk, step_id=level1.id) == []

    alice.expect_call(answer=False)
    bob.expect_sms("SEV1").expect_call(answer=False)
    for seconds in (0, STEP, 2 * STEP):  # the watchdog's pass at T+3 fires it; later passes do nothing
        desk.at(minutes=3, seconds=seconds)
    fired = _step(desk, incident.id, StepKind.PAGE, level=1)
    assert (fired.status, fired.runs, fired.done_at) == (StepStatus.DONE, 1, due)
    pages = _pages(desk, step_id=level1.id)
    assert sorted((p.to_number, p.channel) for p in pages) == [(ALICE, "voice"), (BOB, "sms"), (BOB, "voice")]
    assert all(p.attempts == 1 and p.sent_at == due for p in pages)
    assert max(_accepted(twilio).values()) == 1
    assert [e.detail["step_id"] for e in _events(desk, "step_page")].count(level1.id) == 1


def _die_after_claiming_alices_sms(desk, incident):
    """At T0+3s leave Alice's SMS page of the level-0 page step (run by the opening) as a dead worker's claim."""
    desk.clock.set(desk.t0 + CLAIMED_AFTER)
    level0 = _step(desk, incident.id, StepKind.PAGE, level=0)
    assert level0.status == StepStatus.DONE
    [page] = _pages(desk, step_id=level0.id, to_number=ALICE, channel="sms")
    claimed_at = desk.clock.now()
    with desk.hotline.db.transaction() as s:
        s.execute(update(Page).where(Page.id == page.id).values(
            status=PageStatus.SENDING, sending_since=claimed_at, attempts=1, updated_at=claimed_at))
    return page


def _tick_until(desk, limit: timedelta, start: timedelta = timedelta(seconds=STEP)) -> list[timedelta]:
    """One watchdog pass every STEP seconds from T0+``start`` up to T0+``limit``; returns the pass times."""
    passes, at = [], start
    while at <= limit:
        desk.clock.set(desk.t0 + at)
        desk.settle()
        passes.append(at)
        at += timedelta(seconds=STEP)
    return passes


def test_worker_killed_between_claim_and_twilio_the_page_is_sent_once_after_stale_sending(desk, network, twilio):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_call(answer=False)  # the voice page goes out as usual
    incident = desk.open_incident()
    page = _die_after_claiming_alices_sms(desk, incident)
    stale_at = CLAIMED_AFTER + STALE_SENDING

    _tick_until(desk, stale_at)  # the claim is not stale yet: nobody may send the page meanwhile
    assert alice.sms == [] and _pages(desk, id=page.id)[0].status == PageStatus.SENDING

    alice.expect_sms(f"SEV1 {incident.reference}")
    passes = _tick_until(desk, stale_at + timedelta(seconds=5 * STEP), start=stale_at + timedelta(seconds=STEP))
    [resent] = _pages(desk, id=page.id)
    assert resent.status == PageStatus.DELIVERED and resent.attempts == 2
    first_stale_pass = min(p for p in passes if p > stale_at)
    assert resent.sent_at == desk.t0 + first_stale_pass
    assert first_stale_pass - stale_at <= timedelta(seconds=watchdog.INTERVAL_SECONDS)
    assert len(alice.sms) == 1 and max(_accepted(twilio).values()) == 1
    [message] = [m for m in twilio.messages if m.to == ALICE]
    assert resent.twilio_sid == message.sid
    [sent] = [e for e in _events(desk, "page_sent") if e.detail["page_id"] == page.id]
    assert sent.detail["adopted"] is False  # looked up first, found nothing, then sent


@pytest.mark.parametrize("callbacks", ["lost", "delivered"])
def test_worker_killed_after_twilio_accepted_the_page_is_adopted_not_sent_twice(desk, network, twilio, callbacks):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_call(answer=False)
    incident = desk.open_incident()
    page = _die_after_claiming_alices_sms(desk, incident)
    with desk.hotline.db.session() as s:  # the dead worker had sent this request, and Twilio took it
        request = PageUrls(desk.hotline.settings).request_for(s.get(Page, page.id), incident)
    if callbacks == "delivered":
        accepted = desk.hotline.telephony.send_sms(to=request.to, body=request.body, validity_seconds=SMS_VALIDITY_SECONDS,
                                                   status_callback=request.status_callback)
    else:  # Twilio took it, but none of its status callbacks will ever reach the hotline
        accepted = twilio.add_message(ApiMessage(sid=new_sid("SM"), to=request.to, body=request.body,
                                                 from_=desk.hotline.settings.twilio_number,
                                                 date_created=desk.clock.now()))
    alice.expect_sms(f"SEV1 {incident.reference}")  # exactly once

    _tick_until(desk, CLAIMED_AFTER + STALE_SENDING + timedelta(seconds=5 * STEP))
    assert alice.sms == [request.body] and max(_accepted(twilio).values()) == 1
    [after] = _pages(desk, id=page.id)
    if callbacks == "lost":  # only the watchdog's lookup can tell that Twilio has it
        assert (after.status, after.twilio_sid, after.attempts) == (PageStatus.SENT, accepted.sid, 2)
        [sent] = [e for e in _events(desk, "page_sent") if e.detail["page_id"] == page.id]
        assert sent.detail["adopted"] is True and sent.detail["sid"] == accepted.sid
    else:  # Twilio's status callbacks moved the row on and named the SID: never stale, never resent
        assert (after.status, after.twilio_sid, after.attempts) == (PageStatus.DELIVERED, accepted.sid, 1)
        # and the log says it was sent, once, from the first callback that named it
        [sent] = [e for e in _events(desk, "page_sent") if e.detail["page_id"] == page.id]
        assert sent.detail["adopted"] is True and sent.detail["sid"] == accepted.sid
        assert sent.detail["via"] == "status_callback"


# ---------------------------------------------------------------- 3. a dead RQ scheduler


def test_dead_scheduler_the_watchdog_fires_scheduled_steps_on_time_exactly_once(desk, network, twilio):
    hotline = desk.hotline
    customer, alice, bob, maria = (network.phone(n) for n in (CUSTOMER, ALICE, BOB, MARIA))
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    scheduled = ScheduledJobRegistry(queue=hotline.jobs.queue)
    future = [st for st in _steps(desk, incident.id) if st.due_at > desk.t0]
    job_ids = {PendingJob("step", st.id, st.due_at).job_id for st in future}
    assert len(future) == 4 and set(scheduled.get_job_ids()) == job_ids  # page 1 and 2, at-risk, breach

    # No scheduler runs: the passes alone move the clock through the escalation, 7 s off the minute.
    due = {
        3: lambda: (alice.expect_call(answer=False), bob.expect_sms("SEV1").expect_call(answer=False)),
        6: lambda: maria.expect_sms("SEV1").expect_call(answer=False),
        10: lambda: [p.expect_sms("AT RISK") for p in (alice, bob, maria)],
        15: lambda: (maria.expect_sms("BREACHED").expect_call(answer=False),
                     customer.expect_sms("have not reached you")),
    }
    desk.settle()
    passes = [timedelta(0)]
    at = timedelta(seconds=7)
    while at <= timedelta(minutes=16):
        for minute, expect in due.items():
            if passes[-1] < timedelta(minutes=minute) <= at:  # this pass is the first one after it
                expect()
        desk.clock.set(desk.t0 + at)
        desk.settle()
        passes.append(at)
        at += timedelta(seconds=STEP)
    [repage] = [st for st in _steps(desk, incident.id) if st.kind == StepKind.REPAGE]  # written by the breach
    # Nobody moved them (the scheduler is dead): the watchdog handed each over when due, which
    # also took it out of the scheduled set; only the repage, not yet due, still waits there.
    assert scheduled.get_job_ids() == [PendingJob("step", repage.id, repage.due_at).job_id]

    for st in future:
        done = _step(desk, incident.id, st.kind, st.level)
        assert done.status == StepStatus.DONE and done.runs == 1
        assert 0 <= _lateness(done) <= watchdog.INTERVAL_SECONDS
        assert done.done_at - desk.t0 == min(p for p in passes if desk.t0 + p >= done.due_at)

    # A scheduler that comes back late and hands over the steps it once held: they run, and do nothing.
    before = _accepted(twilio)
    for job in Job.fetch_many(sorted(job_ids), connection=hotline.jobs.redis):
        hotline.jobs.queue.enqueue_job(job)  # steps: their own queue
    desk.settle()
    assert _accepted(twilio) == before
    assert all(_step(desk, incident.id, st.kind, st.level).runs == 1 for st in future)
    assert _step(desk, incident.id, StepKind.REPAGE).status == StepStatus.PENDING  # early: it waits for T+20


def test_a_status_callback_naming_the_page_before_its_sender_commits_logs_it_sent_once(desk, network, twilio,
                                                                                         monkeypatch):
    """Twilio's first status callback can overtake the sender's own commit: the callback adopts the SID and logs
    the page sent; the sender, committing after it, adds no second line."""
    from app.services.page_status import sms_status
    from app.services.pages import PageSender

    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    deliver = PageSender._deliver
    overtaken = []

    def callback_first(self, request):
        sent = deliver(self, request)
        if request.to == ALICE and sent.sid.startswith("SM"):
            with desk.hotline.db.transaction() as s:
                [page_id] = s.scalars(select(Page.id).where(Page.to_number == ALICE, Page.channel == "sms"))
                sms_status(s, page_id, "sent", sent.sid, "", desk.clock.now())
            overtaken.append(page_id)
        return sent

    monkeypatch.setattr(PageSender, "_deliver", callback_first)
    desk.open_incident()
    desk.settle()
    [page_id] = overtaken
    [page] = _pages(desk, id=page_id)
    [sent] = [e for e in _events(desk, "page_sent") if e.detail["page_id"] == page_id]
    assert sent.detail["sid"] == page.twilio_sid and sent.detail["via"] == "status_callback"


class _LockWait:
    """The worker's clock, read again once the step holds its incident's row: 30 s went by waiting for it."""

    def __init__(self, clock, waited: timedelta) -> None:
        self.clock, self.waited = clock, waited

    def now(self):
        return self.clock.now() + self.waited


def test_a_step_that_waited_on_its_incidents_lock_is_stamped_when_it_ran_and_says_how_late(desk, network):
    # a probe held the incidents table locked for 40 s across a level's due time: the step's line said lateness
    # 0.9 s, stamped before the wait, while its pages left 30 s late
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    level1 = _step(desk, incident.id, StepKind.PAGE, 1)
    desk.clock.set(level1.due_at + timedelta(seconds=1))
    with desk.hotline.db.transaction() as session:
        assert steps.run_step(session, level1.id, desk.clock.now(),
                              clock=_LockWait(desk.clock, timedelta(seconds=30)))
    [line] = [e for e in _events(desk, "step_page") if e.detail["step_id"] == level1.id]
    assert line.at == level1.due_at + timedelta(seconds=31) and line.detail["lateness_seconds"] == 31.0
    assert _step(desk, incident.id, StepKind.PAGE, 1).done_at == line.at
