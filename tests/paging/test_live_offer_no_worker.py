"""The live wait is offered only while a `hotline worker` runs (``app.watchdog_state``, the rule /healthz reports).

An outside probe killed both workers; /healthz said "no page, escalation or callback leaves until a `hotline worker`
runs", yet the caller at the end of the intake heard "No engineer is free yet. To wait on the line while we page one,
press 1", then "Please hold while we page an engineer" and hold music up to the limit while no page left.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import worker_presence
from app.models import IncidentEvent
from app.services import leases
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_live_connect import _ANSWERS, _call, _incident_id, _said, _step, _waits

KILLED_AGO = 20  # seconds since the worker last announced itself: killed, though its lease lasts 30 s


def _worker(desk, alive: bool) -> None:
    """Worker-1 holds the watchdog lease (live for 30 s more); it announced itself now (alive) or 20 s ago (killed)."""
    now = desk.clock.now()
    with desk.hotline.db.transaction() as s:
        assert leases.hold(s, leases.WATCHDOG, "worker-1", now, timedelta(seconds=30))
    at = now.timestamp() - (0 if alive else KILLED_AGO)
    worker_presence.announce(desk.hotline.jobs.redis, desk.hotline.jobs.name, "worker-1", at)


def _up_to_the_read_back(desk, call) -> None:
    call.dial()
    for move, value in _ANSWERS["en"]:
        if move == "record":
            _step(desk, call, lambda c, v=value: c.record(seconds=v))
        else:
            _step(desk, call, lambda c, m=move, v=value: getattr(c, m)(v))


def _kinds(desk, incident_id: int) -> list[str]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)))


@pytest.mark.parametrize("worker_alive", [True, False])
def test_the_live_wait_is_offered_only_while_a_worker_runs(desk, network, worker_alive):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _up_to_the_read_back(desk, call)
    _worker(desk, alive=worker_alive)
    offer = _step(desk, call, lambda c: c.press("1"))  # the read-back confirmed: the offer
    heard = _said(offer)
    kinds = _kinds(desk, _incident_id(desk, call))
    if worker_alive:
        assert offer.kind == "gather" and "To wait on the line while we page one, press 1" in heard
        assert "live_connect_offered" in kinds and "live_connect_withheld" not in kinds
        call.hang_up()
        return
    assert offer.kind == "hangup" and call.ended and "press 1" not in heard and "page one" not in heard
    assert "Our paging system is not running right now, so we cannot page an engineer while you hold." in heard
    assert "paging goes on as soon as the system runs again, and we will call you back by" in heard
    assert "live_connect_withheld" in kinds and "live_connect_offered" not in kinds
    assert _waits(desk) == []


def test_a_caller_on_hold_when_the_workers_stop_is_told_and_the_wait_ends(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _up_to_the_read_back(desk, call)
    _worker(desk, alive=True)
    _step(desk, call, lambda c: c.press("1"))
    queued = _step(desk, call, lambda c: c.press("1"), seconds=1)
    assert queued.kind == "queue"
    for _ in range(8):  # every 15 s; the worker announced itself last at the press: it is gone from 10 s on
        desk.clock.advance(seconds=15)
        desk.settle()
        if call.ended:
            break
    assert call.ended and call.prompt.kind == "hangup", "the wait goes on while nobody is paged"
    assert "Our paging system has stopped, so we cannot connect you on this call." in _said(call.prompt)
    [wait] = _waits(desk)
    assert wait.result == "leave" and wait.queue_seconds < 120
