"""The change feed (``/api/v1/events``) hands a helpdesk every line of an incident's log, also the intake lines
its call logged before the incident opened mid-call (issue 13): those carry the call's SID, no incident id."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Incident
from app.services.api_tokens import create_token
from app.services.events import events_of
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER

pytestmark = pytest.mark.usefixtures("worker_runs")  # the call ends at the live-connect offer, made while a worker runs


def _drain(desk, auth, cursor: str | None, limit: int) -> tuple[list[dict], str]:
    """Every line the feed has after ``cursor``, page by page, and the cursor after them."""
    seen = []
    while True:
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = desk.client.get("/api/v1/events", headers=auth, query_string=query).get_json()
        seen += body["events"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor


def _step(desk, call, action) -> None:
    desk.clock.advance(seconds=5)
    action(call)
    desk.settle()


def test_the_feed_delivers_the_intake_lines_logged_before_the_incident_opened_mid_call(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    with desk.hotline.db.transaction() as s:
        auth = {"Authorization": "Bearer " + create_token(s, "helpdesk", desk.clock.now(), ("incidents:read",))}
    seen, cursor = _drain(desk, auth, None, 100)  # the helpdesk polls all along, also during the call
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    for action in (lambda c: c.press("1"), lambda c: c.press("1"), lambda c: c.press("#"),
                   lambda c: c.say("Acme Mail"), lambda c: c.say("Dana Smith")):
        _step(desk, call, action)
        more, cursor = _drain(desk, auth, cursor, 2)  # small pages: the cursor's middle-of-a-page state too
        seen += more
    _step(desk, call, lambda c: c.press("1"))  # call back on this number: the incident opens mid-call
    for action in (lambda c: c.say("dana at acme dot example"), lambda c: c.press("1"),
                   lambda c: c.say("Every API call returns 500."), lambda c: c.record(seconds=15),
                   lambda c: c.press("1"), lambda c: c.silence()):
        more, cursor = _drain(desk, auth, cursor, 2)
        seen += more
        _step(desk, call, action)
    more, cursor = _drain(desk, auth, cursor, 2)
    seen += more
    with desk.hotline.db.session() as s:
        incident = s.scalars(select(Incident)).one()
        log = [(e.id, e.kind) for e in events_of(s, incident)]
    opening = next(i for i, kind in log if kind == "incident_opened")
    before = [kind for i, kind in log if i < opening]
    assert {"call_received", "field_captured", "incident_opened_early"} <= set(before)  # no incident id: the call's
    fed = [(e["id"], e["kind"]) for e in seen if e["incident_reference"] == incident.reference]
    assert sorted(set(log) - set(fed)) == []  # every line of its log ...
    assert sorted(fed) == sorted(log)  # ... each once
    assert len(seen) == len({e["id"] for e in seen})  # nothing handed out twice

