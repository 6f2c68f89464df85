"""A callback is met on the board, the API and the helpdesk only when the compliance report counts it met: once the
customer has talked the minimum conversation (facts.MIN_CONVERSATION_SECONDS) after pressing the key, or the call
ended having lasted it (``reports.confirming``, the report's fold as of now). Until then it is "connected,
confirming"; a shorter call is withdrawn and was never met anywhere.

Before (left-out V1 of probe V): the board said "Met, called back in 2:33", the API ``outcome: met`` and the helpdesk
got ``callback.met`` at the key press, while the report counted the callback under way, and a 4-second call was then
withdrawn (``callback.withdrawn`` after a ``callback.met``). Alice replies CALL; the customer's leg is answered and
the key pressed by signed Twilio requests; the board and the pages are parsed, the API and the webhooks read as JSON.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

from sqlalchemy import select

from app.api.formats import iso_utc
from app.dashboard.display import clock as board_clock
from app.models import DeliveryStatus, HelpdeskDelivery
from app.models.user import Role
from app.reports.params import SETTLING
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.integration.test_helpdesk import Receiver, _configured
from tests.paging.test_at_risk_unproven_callback import _at, _callback_by_sms
from tests.paging.test_callback_proof import _dial_done, _leg_status
from tests.paging.test_early_paging import _api
from tests.paging.test_short_bridge import _keyed
from tests.paging.test_twilio_failures import _work

START = timedelta(minutes=2, seconds=30)  # the customer's leg answered then (Twilio's second); the key 4 s later


def _board(desk, reference: str) -> tuple[str, str, str]:
    """The board row's state, deadline word and deadline text."""
    row = parse(desk.client.get("/board")).find("tr", id=f"inc-{reference}")
    deadline = row.find(cls="deadline")
    return row.find(cls="state").text(), deadline.find(cls="word").text(), deadline.find(cls="countdown").text()


def _page(desk, reference: str) -> tuple[str, str]:
    """The incident page's state and deadline word."""
    page = parse(desk.client.get(f"/incidents/{reference}"))
    return page.find(id="state-box").text(), page.find(id="deadline-text").find(cls="word").text()


def _posted(helpdesk) -> list[tuple[str, dict]]:
    return [(headers["X-Hotline-Event"], json.loads(body)) for headers, body in helpdesk.received]


def test_the_board_the_page_and_the_api_say_confirming_until_the_minimum_conversation_then_met(desk, network):
    callback, incident, key = _key_pressed(desk, network)
    answered = desk.t0 + START + timedelta(seconds=1)  # Twilio's whole second, read as its latest instant
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")

    desk.clock.set(key + timedelta(seconds=2))  # the customer talks: not proven yet
    state, word, text = _board(desk, incident.reference)
    assert state == (f"Callback connected at {board_clock(answered)}, confirming: it counts once the customer has "
                     "talked 10 s")
    assert (word, text) == ("Confirming", f"connected after {_mmss(answered - incident.captured_at)}, counted after "
                                          "10 s of conversation")
    page_state, page_word = _page(desk, incident.reference)
    assert page_state.startswith(state) and page_word == "Confirming"
    api = _api(desk, incident.reference)["callback"]
    assert (api["outcome"], api["answered_at"]) == ("pending", None)
    assert api["confirming"] == {"answered_at": iso_utc(answered), "until": iso_utc(key + timedelta(seconds=10))}
    assert _api(desk, incident.reference)["breach"]["breached"] is False

    desk.clock.set(key + timedelta(seconds=10))  # still talking 10 s after the key: met, at Twilio's answer
    took = math.ceil((answered - incident.captured_at).total_seconds())  # once, from Twilio's time, to the second
    assert _board(desk, incident.reference) == (f"Callback connected at {board_clock(answered)}", "Met",
                                                f"called back in {took // 60}:{took % 60:02d}")
    page_state, page_word = _page(desk, incident.reference)
    assert page_state.startswith(f"Callback connected at {board_clock(answered)} Acknowledged") and page_word == "Met"
    api = _api(desk, incident.reference)["callback"]
    assert (api["outcome"], api["answered_at"], api["confirming"]) == ("met", iso_utc(answered), None)


def _key_pressed(desk, network):
    """A callback asked for by SMS whose customer pressed the key 4 s into the call: it, its incident, the key's
    instant."""
    callback = _callback_by_sms(desk, network)
    _keyed(desk, callback, START, 4)
    return callback, desk.incident(callback.incident_id), desk.clock.now()


def _mmss(span: timedelta) -> str:
    took = math.ceil(span.total_seconds())
    return f"{took // 60}:{took % 60:02d}"


def test_a_four_second_call_is_never_met_on_the_board_nor_posted_to_the_helpdesk(desk, network):
    with Receiver() as helpdesk:
        _configured(desk.hotline, helpdesk.url)
        callback, incident, key = _key_pressed(desk, network)
        desk.clock.set(key + timedelta(seconds=1))
        _work(desk)  # the watchdog collects the callback_met line: its webhook waits for the proof
        login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
        assert _board(desk, incident.reference)[1] == "Confirming"
        assert "callback.met" not in [event for event, _ in _posted(helpdesk)]

        desk.clock.set(key + timedelta(seconds=4))  # the customer hangs up: too short to count, withdrawn
        _leg_status(desk, callback, "completed", (START + timedelta(seconds=8)).total_seconds(), CallDuration="4")
        _dial_done(desk, callback, "completed", seconds="4")
        assert _board(desk, incident.reference)[0].startswith("Callback too short to count")
        _at(desk, 3)  # every webhook due is tried
        assert _api(desk, incident.reference)["callback"]["outcome"] == "attempted"
    events = [event for event, _ in _posted(helpdesk)]
    assert "callback.met" not in events and "callback.withdrawn" not in events
    with desk.hotline.db.session() as s:
        held = s.scalars(select(HelpdeskDelivery.status).where(
            HelpdeskDelivery.incident_id == incident.id,
            HelpdeskDelivery.kind.in_(("callback.met", "callback.withdrawn")))).all()
    assert sorted(held) == [DeliveryStatus.WITHDRAWN, DeliveryStatus.WITHDRAWN]


def test_callback_met_is_posted_once_the_conversation_has_lasted_the_minimum(desk, network):
    with Receiver() as helpdesk:
        _configured(desk.hotline, helpdesk.url)
        callback, incident, key = _key_pressed(desk, network)
        desk.clock.set(key + timedelta(seconds=9))
        _work(desk)
        assert "callback.met" not in [event for event, _ in _posted(helpdesk)]
        desk.clock.set(key + timedelta(seconds=10))
        _work(desk)
    [met] = [body for event, body in _posted(helpdesk) if event == "callback.met"]
    assert met["incident"]["reference"] == incident.reference
    assert (met["incident"]["callback"]["outcome"], met["incident"]["callback"]["confirming"]) == ("met", None)
    assert met["detail"]["answered_at"] == (desk.t0 + START + timedelta(seconds=1)).isoformat()


def test_a_report_with_a_callback_under_way_is_provisional_until_it_is_decided(desk, network):
    """The report as of 2 s after the key counts the callback under way; the page and both exports carry
    X-Report-Provisional-Until: the instant a report as of its decision (10 s after the key) is final, not only the
    minute a change being saved then may take to be written."""
    callback = _callback_by_sms(desk, network)
    _keyed(desk, callback, START, 4)
    key = desk.clock.now()
    as_of = key + timedelta(seconds=2)
    desk.clock.set(as_of)
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    query = {"start": desk.t0.date().isoformat(), "end": (desk.t0.date() + timedelta(days=1)).isoformat(),
             "tz": "UTC", "as_of": iso_utc(as_of)}
    until = iso_utc(key + timedelta(seconds=10) + SETTLING)
    for url in ("/reports/compliance", "/reports/compliance.csv", "/reports/compliance.json",
                "/reports/compliance.csv.sha256"):
        response = desk.client.get(url, query_string=query)
        assert response.status_code == 200
        assert response.headers.get("X-Report-Provisional-Until") == until, url
    # once decided and settled, no header: the figures can no longer change
    desk.clock.set(key + timedelta(seconds=10) + SETTLING)
    query["as_of"] = iso_utc(key + timedelta(seconds=10))
    assert "X-Report-Provisional-Until" not in desk.client.get("/reports/compliance.csv", query_string=query).headers
