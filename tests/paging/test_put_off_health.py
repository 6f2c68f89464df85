"""/healthz warns while a due step waits on its incident's row lock, counting; the board names the incident.

A step never waits for its incident's row lock: another transaction holding it (an operator's psql, a web process
frozen in a transaction) puts the step off, and it is tried again every ``LOCKED_RETRY`` (``steps._put_off``). Only
the worker's log said so, once: /healthz said "ok" for as long as the incident's pages, at-risk alert and breach
waited. The first put-off since its last run is kept on the step's row (``put_off_steps``); /healthz warns once that
is more than ``WARN_AFTER`` ago and the step is still pending, and says nothing more once it ran. /healthz answers
anyone, and a reference is what a repeat caller proves (SECURITY.md): until session 46 it named the incidents.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.models import DueStep, StepStatus
from app.queue import PendingJob
from app.services import steps
from app.services.put_off_steps import WARN_AFTER, note_put_off
from tests.integration.board_support import login_as, parse
from workers import jobs as jobs_module
from workers import watchdog


def _put_off_warnings(client) -> list[str]:
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"  # a warning: callers are still taken
    return [w for w in body["warnings"] if "put off for" in w]


def _board_names(client) -> str:
    """The board's warning of steps put off, as the logged-in rep reads it ("" when there is none)."""
    return " ".join(w.text() for w in parse(client.get("/board")).find_all(id="steps-put-off"))


def _pending_steps(hotline, incident_id: int, now) -> list[DueStep]:
    with hotline.db.session() as session:
        return list(session.scalars(select(DueStep).where(
            DueStep.incident_id == incident_id, DueStep.due_at <= now, DueStep.status == StepStatus.PENDING)
            .order_by(DueStep.due_at, DueStep.id)))


def test_a_step_put_off_for_more_than_a_few_seconds_is_a_healthz_warning_until_it_runs(desk, hotline, clock, client):
    """Both databases: the record a put-off leaves (``note_put_off``, what ``steps._put_off`` writes) is read by
    /healthz; a moment's lock is no news, a longer one names the incident; the step's run clears it."""
    incident = desk.open_incident()
    login_as(client, hotline)  # a rep on the board (/healthz answers with or without a login alike)
    clock.set(desk.t0 + timedelta(minutes=3))  # the second level's page step is due
    step = _pending_steps(hotline, incident.id, clock.now())[0]
    first_put_off = clock.now()
    with hotline.db.transaction() as session:
        note_put_off(session, step.id, first_put_off)
    assert _put_off_warnings(client) == []
    clock.advance(seconds=3)
    with hotline.db.transaction() as session:  # put off again: the first time is kept
        note_put_off(session, step.id, clock.now())
    clock.set(first_put_off + WARN_AFTER)
    [warning] = _put_off_warnings(client)
    assert f"{first_put_off:%H:%M:%S} UTC" in warning and "of 1 incident(s)" in warning
    health = client.get("/healthz")
    assert incident.reference not in health.get_data(as_text=True)  # counts for anyone; the board names it
    assert health.get_json()["steps_put_off"] == {"count": 1, "incidents": 1, "since": first_put_off.isoformat()}
    assert incident.reference in _board_names(client)
    assert jobs_module.run_step(step.id)  # the lock is gone: it runs, and the warning with it
    assert _put_off_warnings(client) == [] and _board_names(client) == ""
    with hotline.db.session() as session:
        assert session.get(DueStep, step.id).put_off_at is None


@pytest.mark.every_database  # PostgreSQL's row locks; SQLite skips it
def test_a_step_held_up_by_a_row_lock_from_psql_is_named_by_healthz_until_the_lock_goes(desk, hotline, clock, client):
    """PostgreSQL (SQLite takes no row locks): an outside probe held an incident's row ``FOR UPDATE``; its steps were
    put off again and again, and /healthz said "ok" throughout."""
    if hotline.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its one write lock orders the writers")
    locked, other = desk.open_incident(), desk.open_incident(caller="+14155550177")
    login_as(client, hotline)
    clock.set(desk.t0 + timedelta(minutes=3))
    now = clock.now()
    locked_steps = _pending_steps(hotline, locked.id, now)
    jobs = [PendingJob("step", s.id, s.due_at) for s in locked_steps + _pending_steps(hotline, other.id, now)]
    with hotline.db.engine.connect() as holder:
        holder.execute(text("SET LOCAL idle_in_transaction_session_timeout = '10s'"))
        holder.execute(text("SELECT id FROM incidents WHERE id = :id FOR UPDATE"), {"id": locked.id})
        watchdog.run_here(hotline, jobs)  # the other incident's steps run; the locked one's are put off
        assert _put_off_warnings(client) == []  # put off a moment ago: no news yet
        clock.set(now + steps.LOCKED_RETRY)
        assert not jobs_module.run_step(locked_steps[0].id)  # tried again: put off again
        clock.set(now + WARN_AFTER)
        [warning] = _put_off_warnings(client)
        assert locked.reference not in warning and f"{len(locked_steps)} due step(s)" in warning
        assert "of 1 incident(s)" in warning
        named = _board_names(client)
        assert locked.reference in named and other.reference not in named
        holder.commit()  # the lock is released
    assert [jobs_module.run_step(s.id) for s in locked_steps] == [True] * len(locked_steps)
    assert _put_off_warnings(client) == []
