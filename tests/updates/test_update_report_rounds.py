"""The updates report counts the rounds the customer was owed by policy, not only the rounds someone wrote:
a round whose due time passed before a proposal paused the schedule, before the incident closed, or before a
proposal that never reached the customer ran out is a missed round; each round escalated to the managers counts
once however often they were told. Driven through the services on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.db import Database
from app.models import DueStep, Incident, ProposalKind, StepKind
from app.reports.updates import update_figures
from app.services.acks import Actor, resolve
from app.services.resolution import decide, expire, pending_proposal, propose
from app.services.updates import start_follow_up, update_overdue, withdraw_follow_up, write_update
from app.settings import Settings
from tests.updates.conftest import verified_callback

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = Settings()


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _incident(session, n: int) -> Incident:
    incident = Incident(reference=f"RND{n}", received_at=T0, captured_at=T0, callback_due_at=_at(15),
                        callback_phone="+14155550100", email="dana@acme.example", contact_name="Dana")
    session.add(incident)
    session.flush()
    verified_callback(session, incident, _at(5))
    start_follow_up(session, incident, _at(5), minutes=60)  # (or the callback's own): round 1 due at 65
    return incident


def _write(session, incident, minutes: float) -> None:
    assert write_update(session, incident, what_is_wrong="queues", by="Alice", via="dashboard", now=_at(minutes)).ok


def _overdue(session, incident, round_: int, minutes: float) -> None:
    step = session.scalars(select(DueStep).where(DueStep.incident_id == incident.id, DueStep.level == round_,
                                                 DueStep.kind == StepKind.UPDATE_DUE)).one()
    assert update_overdue(session, incident, step, _at(minutes)).startswith("escalated")


def _figures(db: Database):
    with db.session() as session:
        return update_figures(session, T0, T0 + timedelta(days=5))


def test_a_round_overdue_when_a_proposal_paused_the_updates_is_missed_one_not_yet_due_is_excused(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as s:
            incident = _incident(s, 1)
            _write(s, incident, 60)  # round 1 (due 65) on time; round 2 due at 120
            assert propose(s, incident, ProposalKind.RESOLVED, summary="drained", by="Alice", now=_at(200),
                           settings=SETTINGS).ok  # round 2 was 80 minutes overdue: the customer missed it
            assert decide(s, pending_proposal(s, incident), confirmed=False, via="sms", who="Dana", now=_at(210)).ok
            _write(s, incident, 260)  # round 3 (due 270) on time
            assert propose(s, incident, ProposalKind.RESOLVED, summary="drained", by="Alice", now=_at(300),
                           settings=SETTINGS).ok  # round 4, due 320, not yet due: the pause excuses it
            assert decide(s, pending_proposal(s, incident), confirmed=True, via="sms", who="Dana", now=_at(310)).ok
        f = _figures(db)
    finally:
        db.dispose()
    assert (f.updates_owed, f.on_time, f.late, f.missed, f.escalated) == (3, 2, 0, 1, 0)
    assert f.punctuality_percent == 66.7


def test_a_round_never_written_nor_escalated_before_the_incident_closed_is_missed(database_url):
    """The worker was down: no step ran, no alert was logged, and a manager closed the incident."""
    db = Database(database_url)
    try:
        with db.transaction() as s:
            incident = _incident(s, 2)
            answer = resolve(s, incident, Actor(name="Maria", via="dashboard", is_manager=True), _at(150),
                             reason="customer left for the weekend")
            assert answer.ok, answer.outcome
            closed_early = _incident(s, 3)  # closed before its first round was due (65): nothing was owed
            assert resolve(s, closed_early, Actor(name="Maria", via="dashboard", is_manager=True), _at(40),
                           reason="duplicate").ok
        f = _figures(db)
    finally:
        db.dispose()
    assert (f.updates_owed, f.on_time, f.late, f.missed) == (1, 0, 0, 1)
    assert f.punctuality_percent == 0.0


def test_a_proposal_that_never_reached_the_customer_excuses_no_round(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as s:
            incident = _incident(s, 4)
            assert propose(s, incident, ProposalKind.RESOLVED, summary="drained", by="Alice", now=_at(30),
                           settings=SETTINGS).ok  # round 1 (due 65) paused; its messages are never sent
            step = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                                   DueStep.kind == StepKind.RESOLUTION_EXPIRY)).one()
            assert expire(s, incident, step, _at(30 + 72 * 60)) == "kept_open_undelivered"
            _write(s, incident, 30 + 72 * 60 + 5)  # the round owed at once, 5 minutes late
        f = _figures(db)
    finally:
        db.dispose()
    assert (f.updates_owed, f.on_time, f.late, f.missed) == (2, 0, 1, 1)


def test_a_round_escalated_three_times_counts_once(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as s:
            incident = _incident(s, 5)
            for minutes in (70, 130, 190):  # the managers are told at the due time and every interval after
                _overdue(s, incident, 1, minutes)
            _write(s, incident, 200)  # round 1, 135 minutes late
            other = _incident(s, 6)
            _overdue(s, other, 1, 70)
            _overdue(s, other, 1, 130)
            assert resolve(s, other, Actor(name="Maria", via="dashboard", is_manager=True), _at(140),
                           reason="customer unreachable").ok  # round 1 of the other was never written
        f = _figures(db)
    finally:
        db.dispose()
    assert (f.escalated, f.updates_owed, f.late, f.missed) == (2, 2, 1, 1)
    assert f.lateness.maximum == 135 * 60


def test_the_writer_reads_an_update_late_by_seconds_as_the_report_counts_it(database_url):
    """Round 1 is due at 65 min: written 21 s after, the writer reads "21 s late" (it said "0 min late" while the
    updates report counted it late by 21 s); at 67:30, whole minutes."""
    db = Database(database_url)
    try:
        with db.transaction() as s:
            incident = _incident(s, 1)
            first = write_update(s, incident, what_is_wrong="queues", by="Alice", via="dashboard",
                                 now=_at(65) + timedelta(seconds=21))
            second = write_update(s, incident, what_is_wrong="queues drain", by="Alice", via="dashboard",
                                  now=_at(65 + 60 + 2.5))
        assert first.ok and first.message.startswith("Update 1 for RND1 sent (21 s late)")
        assert second.ok and second.message.startswith("Update 2 for RND1 sent (2 min late)")
        figures = _figures(db)
        assert (figures.on_time, figures.late) == (0, 2)
    finally:
        db.dispose()


def test_a_schedule_stopped_with_a_withdrawn_answer_owes_no_round_when_the_incident_closes(database_url):
    """The answer that started the updates was withdrawn (a bridge too short to count) and a manager closed the
    incident long after round 1 would have been due: nothing was owed, so nothing was missed."""
    db = Database(database_url)
    try:
        with db.transaction() as s:
            incident = _incident(s, 9)  # round 1 due at 65
            withdraw_follow_up(s, incident, _at(6))
            assert resolve(s, incident, Actor(name="Maria", via="dashboard", is_manager=True), _at(150),
                           reason="customer fixed it themselves").ok
        f = _figures(db)
    finally:
        db.dispose()
    assert (f.updates_owed, f.on_time, f.late, f.missed, f.escalated) == (0, 0, 0, 0, 0)
