"""Live connect: the two end reports of a bridge reach the app at the same moment, as Twilio sends them.

When the conversation ends Twilio asks the caller's ``<Enqueue action>`` (``/twilio/live/left``) and the rep's
``<Dial action>`` (``/twilio/live/dial-done``) at once. On PostgreSQL the two locked the incident's rows in opposite
orders (the wait and a log line, then the callback; the callback, then the incident) and one died of a deadlock
after a second: the rep who had just talked to the customer heard "Sorry, something went wrong with this callback".
``LockStep`` makes the interleaving that shows it happen every time: each request, before its second row lock,
waits until the other asks for its second as well (at most ``LOCK_STEP_WAIT``: a request held on the other's first
lock never asks). On SQLite (no row locks; one write lock) both wait their turn, and neither says "database is
locked".
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from flask import has_request_context, request
from sqlalchemy import event

from app.prompts import text
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_live_connect import _callbacks, _events, _incident_id, _intake, _step, _waits

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = [pytest.mark.usefixtures("worker_runs"), pytest.mark.every_database]  # end reports forced to interleave on row locks

END_REPORTS = ("/twilio/live/left", "/twilio/live/dial-done")
ROW_LOCK = re.compile(r"\bFOR (NO KEY )?UPDATE\b")
LOCK_STEP_WAIT = 2.0  # seconds; PostgreSQL's deadlock_timeout is 1 s


class LockStep:
    """Holds each end report before its second row lock until the other has asked for its second too."""

    def __init__(self) -> None:
        self.asked: dict[str, int] = {}
        self.changed = threading.Condition()

    def before_execute(self, _conn, _cursor, statement: str, *_args) -> None:
        if not ROW_LOCK.search(statement) or not has_request_context() or request.path not in END_REPORTS:
            return
        with self.changed:
            self.asked[request.path] = asked = self.asked.get(request.path, 0) + 1
            self.changed.notify_all()
            if asked == 2:
                self.changed.wait_for(lambda: all(self.asked.get(p, 0) >= 2 for p in END_REPORTS),
                                      timeout=LOCK_STEP_WAIT)


def _answer(network, path: str) -> ET.Element:
    [report] = [w for w in network.webhooks if urlsplit(w.url).path == path]
    assert report.status == 200
    return ET.fromstring(report.body)


def _said(twiml: ET.Element) -> str:
    return " ".join((s.text or "").strip() for s in twiml.iter("Say"))


def test_the_two_end_reports_of_a_live_bridge_at_once_are_both_answered_and_counted_once(desk, network, app):
    """The caller hears the goodbye, the rep the update-interval offer, and the callback is met once."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=60)
    # the caller's requests on a client of their own: two requests at once, as two web workers take them
    call = SimulatedCall(transport=flask_transport(app.test_client()), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER, queues=network.queues)
    call.bridge_end_reported = "together"
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    lock_step = LockStep()
    event.listen(desk.hotline.db.engine, "before_cursor_execute", lock_step.before_execute)
    try:
        assert _step(desk, call, lambda c: c.press("1")).kind == "queue"
    finally:
        event.remove(desk.hotline.db.engine, "before_cursor_execute", lock_step.before_execute)

    if desk.hotline.db.url.startswith("postgresql"):  # the interleaving was forced: both asked for row locks
        assert set(lock_step.asked) == set(END_REPORTS)
    left = _answer(network, "/twilio/live/left")
    assert _said(left) == text("live_ended", "en-US") and [v.tag for v in left] == ["Say", "Hangup"]
    dial_done = _answer(network, "/twilio/live/dial-done")
    assert text("bridge_error") not in _said(dial_done)
    [gather] = dial_done.iter("Gather")  # the update interval agreed with the customer: issue 11
    assert "update interval" in _said(gather)
    rep_leg = alice.calls[-1]
    assert f"[connected to {CUSTOMER}]" in rep_leg.heard and "update interval" in rep_leg.heard
    assert "something went wrong" not in rep_leg.heard
    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert callback.outcome == "met" and wait.result == "bridged" and callback.ended_at is not None
    kinds = [e.kind for e in _events(desk, incident_id)]
    assert kinds.count("callback_met") == 1 and "callback_late" not in kinds and "callback_withdrawn" not in kinds
    assert desk.incident(incident_id).callback_answered_at == callback.answered_at
