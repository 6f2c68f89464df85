"""A rep's CALL reply says "no hotline worker is running" by the rule /healthz and the IVR's live-connect offer follow
(``app.watchdog_state``: the watchdog's lease in SQL and the workers that announce themselves in Redis), not by the
lease alone: a worker killed 20 s ago still holds a live lease (the hint was missing), and a lease lapsed moments ago
while a live worker takes it over is a running hotline (the hint was wrong)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from app import worker_presence
from app.services import leases
from app.watchdog_state import watchdog_state
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_sms_replies import _callbacks, _one_open_page, _sms_from

HINT = "no hotline worker is running right now"


def _reply(desk, body: str) -> str:
    """The one SMS the TwiML answer sends back."""
    response = _sms_from(desk, ALICE, body)
    assert response.status_code == 200
    [message] = ET.fromstring(response.get_data(as_text=True)).findall("Message")
    return message.text or ""


def _killed_worker_holding_the_lease(desk) -> None:
    """Worker-1 holds the watchdog lease for 30 s more, but last announced itself 20 s ago: it is gone."""
    now = desk.clock.now()
    with desk.hotline.db.transaction() as s:
        assert leases.hold(s, leases.WATCHDOG, "worker-1", now, timedelta(seconds=30))
    worker_presence.announce(desk.hotline.jobs.redis, desk.hotline.jobs.name, "worker-1", now.timestamp() - 20)


def _live_worker_taking_over_a_lapsed_lease(desk) -> None:
    """Worker-1's lease lapsed 5 s ago (within ``leases.HANDOVER``); worker-2 announced itself just now and takes the
    lease at its next pass."""
    now = desk.clock.now()
    with desk.hotline.db.transaction() as s:
        assert leases.hold(s, leases.WATCHDOG, "worker-1", now - timedelta(seconds=35), timedelta(seconds=30))
    worker_presence.announce(desk.hotline.jobs.redis, desk.hotline.jobs.name, "worker-2", now.timestamp())


@pytest.mark.parametrize("state", ["lease_alive_worker_gone", "lease_lapsed_worker_alive"])
def test_the_call_replys_hint_follows_the_rule_healthz_reports(desk, network, state):
    incident = _one_open_page(desk, network)
    if state == "lease_alive_worker_gone":
        _killed_worker_holding_the_lease(desk)
    else:
        _live_worker_taking_over_a_lapsed_lease(desk)
    with desk.hotline.db.session() as s:  # what /healthz and the live-connect offer read
        running = watchdog_state(s, desk.hotline.jobs, desk.clock.now()).running
    assert running is (state == "lease_lapsed_worker_alive")

    reply = _reply(desk, f"CALL {incident.reference}")

    assert f"Calling you now on {ALICE} to connect you to Acme Mail ({incident.reference})." in reply
    told = HINT in reply and f"call the customer yourself on {CUSTOMER}" in reply
    assert told is not running
    [callback] = _callbacks(desk)  # asked for either way: it leaves once a worker runs
    assert callback.incident_id == incident.id
