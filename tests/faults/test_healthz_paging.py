"""/healthz while Twilio fails every page: still 200 (callers are still taken and recorded, so a load balancer keeps
every web node), but monitoring sees that no page reaches Twilio (``paging``, and a warning), until one is accepted.

The workers run on the fake clock (``Backoffice``); the simulated Twilio refuses or ignores every request for a
minute, as in the chaos run's Twilio faults.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.health import PAGES_FAILING
from tests.faults.backoffice import Backoffice
from tests.faults.test_watchdog_faults import _expect_minutes


@pytest.mark.parametrize("status", [500, 0], ids=["500", "timeout"])
def test_healthz_says_pages_fail_while_twilio_does_not_take_them_and_clears_once_one_is_accepted(
        desk, network, clock, twilio, client, rq_listening, status):
    twilio.hang_seconds = 0.6  # longer than the harness client's 0.5 s time-out
    outage_end = desk.t0 + timedelta(seconds=60)
    twilio.fail_until(outage_end, status=status)
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0])
    office = Backoffice(desk.hotline, network, clock)
    office.run_until(desk.t0 + timedelta(seconds=40))

    answer = client.get("/healthz")
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "ok"  # a load balancer keeps this node
    paging = body["paging"]
    assert paging["state"] == "failing" and paging["failed_attempts"] >= 3 and paging["last_accepted_at"] is None
    assert paging["failing_since"] == desk.t0.isoformat()  # the first attempt, the receipt's and Alice's pages
    assert body["warnings"] == [PAGES_FAILING.format(count=paging["failed_attempts"], since="03:00:00 UTC",
                                                  follows="each page is sent once Twilio answers again")]

    office.run_until(desk.t0 + timedelta(seconds=100))  # Twilio answers again: the pages leave
    twilio.release()
    body = client.get("/healthz").get_json()
    assert body["paging"]["state"] == "ok" and body["paging"]["failed_attempts"] == 0
    assert body["paging"]["last_accepted_at"] is not None and body["warnings"] == []


def test_one_failed_attempt_retried_at_once_is_no_alarm(desk, network, clock, twilio, client, rq_listening):
    """A single 500 followed by an accepted retry (Twilio's everyday blip) leaves /healthz quiet."""
    twilio.fail_next(1, status=500)
    incident = desk.open_incident()
    _expect_minutes(desk, network, incident, [0])
    Backoffice(desk.hotline, network, clock).run_until(desk.t0 + timedelta(seconds=20))
    body = client.get("/healthz").get_json()
    assert body["paging"]["state"] == "ok" and body["warnings"] == []
