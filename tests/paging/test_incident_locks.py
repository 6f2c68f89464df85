"""An incident's row lock (``row_locks.incident_lock``) excludes other incident lockers, never a row written about it.

On PostgreSQL a row with a foreign key to an incident (a log line, a page) takes a KEY SHARE lock on the incident
for the key's check. The incident was locked ``FOR UPDATE``, which that KEY SHARE waits for: a page's claim that
held the page and logged what it did with it (held, superseded, canceled) waited for an acknowledgement holding the
incident, while the acknowledgement waited for the page, to cancel the queued pages -- a deadlock, one of the two
ended by PostgreSQL after its deadlock_timeout. ``FOR NO KEY UPDATE`` lets the line be written. SQLite has no row
locks (its one write lock orders the writers): these tests are PostgreSQL's. Each wait is bounded by a
``lock_timeout``: a wait that should not happen fails the test instead of hanging it.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from queue import Queue

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app.event_kind import EventKind
from app.models import Callback, CallbackKind, DueStep, Incident, IncidentEvent, Page, PageStatus, Rep, StepStatus
from app.queue import PendingJob
from app.services import steps
from app.services.acks import Actor, acknowledge, lock_incident
from app.services.events import log_event
from app.services.pages import _cancel
from app.services.row_locks import lock_callback
from app.services.row_locks import lock_incident as lock_incident_by_id
from tests.paging.conftest import ALICE
from workers import jobs as jobs_module
from workers import watchdog

pytestmark = pytest.mark.every_database  # row locks taken by threads at once: each database orders writers its own way

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout reached


def _postgresql_only(hotline) -> None:
    if hotline.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its one write lock orders the writers")


def _bounded(session, timeout: str) -> None:
    """Wait at most ``timeout`` for any lock in this session's transaction (then fail with 55P03)."""
    session.execute(text(f"SET LOCAL lock_timeout = '{timeout}'"))


def _sqlstate(error: OperationalError) -> str:
    orig = error.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or ""


def _lines(hotline, incident_id: int, kind: str) -> list[IncidentEvent]:
    with hotline.db.session() as session:
        return list(session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id,
                                                                IncidentEvent.kind == kind)))


def test_a_log_line_is_written_while_the_incident_is_locked_and_a_second_locker_waits(desk, hotline, clock):
    _postgresql_only(hotline)
    incident = desk.open_incident()
    with hotline.db.transaction() as holder:
        assert lock_incident_by_id(holder, incident.id).id == incident.id
        # a page's claim logging a hold, from its own connection: not held up by the incident's lock
        with hotline.db.transaction() as writer:
            _bounded(writer, "2s")
            log_event(writer, at=clock.now(), actor="system", kind=EventKind.PAGE_HELD, incident_id=incident.id,
                      detail={"page_id": 0, "rep_id": None})
        assert len(_lines(hotline, incident.id, EventKind.PAGE_HELD)) == 1  # committed while the lock is held
        # a second locker of the same incident waits for the first (here until its lock_timeout)
        with pytest.raises(OperationalError) as waited:
            with hotline.db.transaction() as locker:
                _bounded(locker, "2s")
                lock_incident_by_id(locker, incident.id)
        assert _sqlstate(waited.value) == LOCK_NOT_AVAILABLE
        # and so does one by reference (the SMS, dashboard and live-connect paths)
        with pytest.raises(OperationalError) as waited:
            with hotline.db.transaction() as locker:
                _bounded(locker, "2s")
                lock_incident(locker, incident.reference)
        assert _sqlstate(waited.value) == LOCK_NOT_AVAILABLE
    with hotline.db.transaction() as locker:  # the first lock ended with its transaction
        _bounded(locker, "2s")
        assert lock_incident_by_id(locker, incident.id) is not None


def test_a_page_claim_logging_its_cancel_while_an_acknowledgement_cancels_the_pages_both_commit(
        desk, hotline, clock):
    """The acknowledgement holds the incident and waits for the page the claim holds; the claim's line goes in."""
    _postgresql_only(hotline)
    incident = desk.open_incident()  # its first page step ran at the opening: Alice's pages are queued
    with hotline.db.session() as session:
        queued = list(session.scalars(select(Page.id).where(Page.incident_id == incident.id,
                                                           Page.status == PageStatus.QUEUED, Page.purpose == "page")))
        alice_id = session.scalars(select(Rep.id).where(Rep.phone == ALICE)).one()
    assert queued, "the opening queued Alice's pages"
    claimed_id, now = queued[0], clock.now()
    with hotline.db.transaction() as acking:
        _bounded(acking, "10s")
        locked = lock_incident(acking, incident.reference)  # as the SMS "ACK" and the dashboard take it
        alice = acking.get(Rep, alice_id)
        with ThreadPoolExecutor(1) as pool:
            with hotline.db.transaction() as claiming:
                _bounded(claiming, "10s")
                page = claiming.get(Page, claimed_id, with_for_update=True)  # as PageSender._claim takes it
                # the acknowledgement cancels the queued pages: it waits for this one
                acked = pool.submit(acknowledge, acking, locked, Actor(name=alice.name, via="sms", rep=alice), now)
                _cancel(claiming, page, "rep_deactivated", uncertain=False, now=now)  # its page_canceled line
            answer = acked.result(timeout=60)
    assert answer.ok and answer.outcome == "acknowledged"
    assert desk.incident(incident.id).acknowledged_by == alice_id
    with hotline.db.session() as session:
        statuses = {page_id: status for page_id, status in session.execute(select(Page.id, Page.status)
                                                                         .where(Page.id.in_(queued)))}
    assert set(statuses.values()) == {PageStatus.CANCELED}
    [line] = [e for e in _lines(hotline, incident.id, "page_canceled") if e.detail["page_id"] == claimed_id]
    assert line.detail["reason"] == "rep_deactivated"


def _backend_waits_for_a_lock(hotline, pid: int, job) -> bool:
    """Whether the PostgreSQL backend ``pid`` (``job``'s) comes to wait for a lock before ``job`` ends (bounded)."""
    deadline = time.monotonic() + 20
    with hotline.db.engine.connect() as watcher:
        while time.monotonic() < deadline and not job.done():
            state = watcher.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                    {"pid": pid}).scalar()
            if state == "Lock":
                return True
            wait([job], timeout=0.05)
    return False


def test_callbacks_counting_on_two_linked_incidents_at_once_take_turns_instead_of_deadlocking(desk, hotline, clock):
    """A dropped call's A and its redial's B are linked; a callback counted on either also counts on the other
    (``related_callbacks.reach_related``: it locks the other incident). Two at the same instant, one on A and one on
    B, each locked its own incident, then the other's: PostgreSQL ended one with a deadlock, and its webhook failed.
    Each now locks both, in id order: the second waits for the first, then goes on."""
    _postgresql_only(hotline)
    first, second = desk.open_incident(), desk.open_incident(caller="+14155550177")
    with hotline.db.transaction() as session:
        session.get(Incident, second.id).related_incident_id = first.id  # linked as a redial's is
        callbacks = [Callback(incident_id=one.id, kind=CallbackKind.BRIDGED, requested_at=clock.now())
                     for one in (first, second)]
        session.add_all(callbacks)
        session.flush()
        on_first, on_second = (callback.id for callback in callbacks)
    started: Queue[int] = Queue()

    def count_on_second() -> int:
        with hotline.db.transaction() as session:
            _bounded(session, "20s")
            started.put(session.execute(text("SELECT pg_backend_pid()")).scalar())
            _, incident = lock_callback(session, on_second)  # B's callback, as its status webhook locks it
            assert lock_incident_by_id(session, first.id) is not None  # counting on A too (reach_related)
            return incident.id

    with ThreadPoolExecutor(1) as pool:
        with hotline.db.transaction() as session:
            _bounded(session, "20s")
            _, incident = lock_callback(session, on_first)  # A's callback, at the same instant
            assert incident.id == first.id
            job = pool.submit(count_on_second)
            assert _backend_waits_for_a_lock(hotline, started.get(timeout=20), job)  # B's request waits ...
            assert lock_incident_by_id(session, second.id) is not None  # ... and A's counts on B without waiting
        assert job.result(timeout=60) == second.id  # then B's goes on


def _holds_on(holder) -> bool:
    """Whether ``holder``'s transaction (and the lock it took) still stands: its session was not ended under it."""
    try:
        holder.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False


def _steps(hotline, incident_id: int, now) -> list[DueStep]:
    with hotline.db.session() as session:
        return list(session.scalars(select(DueStep).where(DueStep.incident_id == incident_id, DueStep.due_at <= now)
                                    .order_by(DueStep.due_at, DueStep.id)))


def _pages_of(hotline, step_ids: list[int]) -> list[int]:
    with hotline.db.session() as session:
        return list(session.scalars(select(Page.id).where(Page.step_id.in_(step_ids))))


def test_a_step_whose_incident_is_locked_elsewhere_holds_up_no_other_incidents_steps(desk, hotline, clock, caplog):
    """An outside probe (D2) held one incident's row ``FOR UPDATE`` from psql: that incident's step waited for the
    lock, and every other incident's steps (breach, pages, receipts) waited behind it, up to the worker's 30 s
    connection limit in each wave, for as long as the lock was held. Now the locked incident's step is put off (still
    pending, its job again ``LOCKED_RETRY`` later, said once naming the incident), the others run at once, and the
    put-off step runs once the lock is gone, once. The holder's session ends after 10 s idle: a runner that waits for
    its lock frees it that way, and the test fails on the holder's lost transaction instead of hanging."""
    _postgresql_only(hotline)
    caplog.set_level(logging.INFO, logger=steps.__name__)
    locked, other = desk.open_incident(), desk.open_incident(caller="+14155550177")
    clock.set(desk.t0 + timedelta(minutes=3))  # the second level's page step (and the repage) of each is due
    now = clock.now()
    locked_steps = [s for s in _steps(hotline, locked.id, now) if s.status == StepStatus.PENDING]
    other_steps = [s for s in _steps(hotline, other.id, now) if s.status == StepStatus.PENDING]
    assert locked_steps and other_steps
    jobs = [PendingJob("step", s.id, s.due_at) for s in locked_steps + other_steps]
    assert min(jobs, key=lambda j: (j.due_at, j.target_id)).target_id == locked_steps[0].id  # the locked one first
    with hotline.db.engine.connect() as holder:
        holder.execute(text("SET LOCAL idle_in_transaction_session_timeout = '10s'"))
        holder.execute(text("SELECT id FROM incidents WHERE id = :id FOR UPDATE"), {"id": locked.id})  # the probe's
        watchdog.run_here(hotline, jobs)  # the take-over, in due order: the locked incident's step first
        assert _holds_on(holder), "the steps waited for the locked incident's row lock"
        assert _pages_of(hotline, [s.id for s in other_steps]), "the other incident's steps wrote no page"
        assert {s.status for s in _steps(hotline, other.id, now)} == {StepStatus.DONE}
        assert [(s.status, s.runs) for s in _steps(hotline, locked.id, now) if s.id in {t.id for t in locked_steps}] \
            == [(StepStatus.PENDING, 0)] * len(locked_steps)  # its claim rolled back: not lost
        assert not _pages_of(hotline, [s.id for s in locked_steps])
        assert {f"step-{s.id}-locked" for s in locked_steps} <= set(hotline.jobs.scheduled_ids())  # tried again
        put_off = [r for r in caplog.records if r.levelno == logging.WARNING and "put off" in r.getMessage()]
        assert len(put_off) == len(locked_steps) and all(f"incident {locked.id}" in r.getMessage() for r in put_off)
        assert not jobs_module.run_step(locked_steps[0].id)  # its job again, the lock still held: put off again ...
        assert len([r for r in caplog.records if "put off" in r.getMessage()]) == len(locked_steps)  # ... said once
        holder.commit()  # the lock is released
    clock.set(now + steps.LOCKED_RETRY)
    assert [jobs_module.run_step(s.id) for s in locked_steps] == [True] * len(locked_steps)  # the re-armed jobs
    assert [jobs_module.run_step(s.id) for s in locked_steps] == [False] * len(locked_steps)  # once
    assert [(s.status, s.runs) for s in _steps(hotline, locked.id, now) if s.id in {t.id for t in locked_steps}] \
        == [(StepStatus.DONE, 1)] * len(locked_steps)
    assert _pages_of(hotline, [s.id for s in locked_steps])
