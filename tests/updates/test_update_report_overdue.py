"""Probe V (V5): rounds overdue and still unwritten show on the updates report, beside owed, late and missed. Three
customers agreed updates, nobody wrote one, the managers were alerted: the page read "Updates owed 0 | Written on
time 0 (no update was owed) | ... | Missed 0 | Escalated to managers 3", because a round still unwritten is counted
only once it is answered or ended. Driven through the services on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.db import Database
from app.models import DueStep, Incident, ProposalKind, Role, StepKind
from app.reports.updates import update_figures
from app.services.acks import Actor, resolve
from app.services.resolution import propose
from app.services.updates import start_follow_up, update_overdue, withdraw_follow_up, write_update
from app.settings import Settings
from tests.integration.dashboard_support import login_as
from tests.updates.conftest import verified_callback

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = (T0, T0 + timedelta(days=1))


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _incident(session, n: int) -> Incident:
    """Reached at 5 minutes; updates every 60 minutes: round 1 due at 65."""
    incident = Incident(reference=f"OVD{n}", received_at=T0, captured_at=T0, callback_due_at=_at(15),
                        callback_phone="+14155550100", email="dana@acme.example", contact_name="Dana")
    session.add(incident)
    session.flush()
    verified_callback(session, incident, _at(5))
    start_follow_up(session, incident, _at(5), minutes=60)
    return incident


def _alert(session, incident, minutes: float) -> None:
    """The worker's step for round 1: the managers are told it is late."""
    step = session.scalars(select(DueStep).where(DueStep.incident_id == incident.id, DueStep.level == 1,
                                                 DueStep.kind == StepKind.UPDATE_DUE)).one()
    assert update_overdue(session, incident, step, _at(minutes)).startswith("escalated")


def _write(session, incident, minutes: float) -> None:
    assert write_update(session, incident, what_is_wrong="queues", by="Alice", via="dashboard", now=_at(minutes)).ok


def _never_written(session) -> list[Incident]:
    """Three customers owed round 1 at 65; nobody writes; two of them escalated at 70 (the third's worker was down)."""
    silent = [_incident(session, n) for n in range(3)]
    for incident in silent[:2]:
        _alert(session, incident, 70)
    return silent


def test_rounds_overdue_and_unwritten_are_counted_at_the_ranges_end_and_settled_ones_are_not(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as s:
            silent = _never_written(s)
            _write(s, _incident(s, 3), 60)  # on time; round 2 due at 120: not overdue at 100
            closed = _incident(s, 4)
            assert resolve(s, closed, Actor(name="Maria", via="dashboard", is_manager=True), _at(80),
                           reason="customer left").ok  # round 1 was due: missed, settled, not overdue
            assert propose(s, _incident(s, 5), ProposalKind.RESOLVED, summary="drained", by="Alice", now=_at(30),
                           settings=Settings()).ok  # a proposal waits: round 1 does not fall due
            withdraw_follow_up(s, _incident(s, 6), _at(6))  # nothing owed
        with db.session() as s:
            at_100 = update_figures(s, *DAY, _at(100))
            before_due = update_figures(s, *DAY, _at(64))
            past_range = update_figures(s, T0, _at(100))  # a range that ended: judged at its end
        with db.transaction() as s:
            _write(s, s.merge(silent[0]), 130)  # round 1, 65 minutes late; round 2 due at 190
        with db.session() as s:
            at_140 = update_figures(s, *DAY, _at(140))
            at_200 = update_figures(s, *DAY, _at(200))
    finally:
        db.dispose()
    assert (at_100.overdue_unwritten, at_100.updates_owed, at_100.on_time, at_100.missed, at_100.escalated) == \
        (3, 2, 1, 1, 2)
    assert before_due.overdue_unwritten == 0
    assert past_range.overdue_unwritten == 3
    # the late one is counted late now, no longer overdue; the on-time one's round 2 (due 120) is overdue instead
    assert (at_140.overdue_unwritten, at_140.late, at_140.updates_owed) == (3, 1, 3)
    assert at_200.overdue_unwritten == 4  # and the late one's round 2, due at 190


def test_the_page_and_its_json_show_the_overdue_rounds_and_never_say_no_update_was_owed(hotline, client, clock):
    with hotline.db.transaction() as s:
        _never_written(s)
    clock.set(_at(100))
    login_as(client, hotline, Role.MANAGER)
    asked = {"from": "2026-03-02 00:00", "to": "2026-03-03 00:00"}
    html = client.get("/reports/updates", query_string=asked).get_data(as_text=True)
    assert re.search(r'<td id="overdue-unwritten">3</td>', html)
    on_time = re.search(r'<td id="on-time">([^<]*)</td>', html).group(1)
    assert "no update was owed" not in on_time and "3 overdue, not written yet" in on_time
    assert "due before 2026-03-02 10:40 UTC, now" in html
    body = client.get("/reports/updates.json", query_string=asked).get_json()
    figures = body["updates"]
    assert (figures["overdue_unwritten"], figures["updates_owed"], figures["missed"], figures["escalated"]) == \
        (3, 0, 0, 2)
    assert figures["punctuality_percent"] is None  # no round settled: no share, but not "nothing owed"
    assert body["range"]["overdue_at"] == "2026-03-02T10:40:00Z"
