"""Twilio's error code, not the HTTP status alone, decides whether a refused page is sent again.

An outside probe's Twilio answered the Messages API ``400 {"code": 21611}`` (the number's send queue is full:
it clears as the queue drains). The worker logged "giving up" after one try, and the rep's SMS page and the
customer's receipt stayed failed: the caller had been told they would get a text.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.models import IncidentEvent, Page, Rep
from app.services.pages import backoff
from tests.integration.board_support import login_as, parse
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA

QUEUE_FULL = 21611


def _pages(desk, incident_id: int) -> dict[tuple[str, str, str], Page]:
    with desk.hotline.db.session() as s:
        rows = s.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id))
        return {(p.to_number, p.channel, p.purpose): p for p in rows}


def _sms(twilio, to: str, contains: str) -> list:
    return [m for m in twilio.messages if m.to == to and m.direction != "inbound" and contains in m.body]


def test_a_full_send_queue_21611_is_retried_and_the_page_and_receipt_arrive_once(desk, network, twilio, caplog):
    customer, alice = network.phone(CUSTOMER), network.phone(ALICE)
    twilio.fail_next(2, status=400, code=QUEUE_FULL, resource="Messages")  # both first SMS meet the full queue
    with caplog.at_level(logging.WARNING, logger="app.services.pages"):
        alice.expect_call(answer=False)  # the voice page is not held up: 21611 is for messages alone
        incident = desk.open_incident()
        desk.settle()
    refused = [r for r in twilio.requests if r.method == "POST" and r.path.endswith("/Messages.json")][:2]
    assert sorted(r.params["To"][0] for r in refused) == sorted([CUSTOMER, ALICE])
    pages = _pages(desk, incident.id)
    sms_page, receipt = pages[(ALICE, "sms", "page")], pages[(CUSTOMER, "sms", "receipt")]
    for page in (sms_page, receipt):
        assert (page.status, page.attempts, page.sent_at) == ("queued", 1, None)
        assert page.last_error.startswith("Throttled: Twilio answered HTTP 400 (code 21611)")
        assert page.next_attempt_at == desk.t0 + backoff(1)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.services.pages"]
    assert len(lines) == 2 and all("failed, attempt 1, will retry" in line and "21611" in line for line in lines)
    assert not any("giving up" in line for line in lines)

    customer.expect_sms("we have your report")  # the queue has drained: the retries go through
    alice.expect_sms("SEV1")
    desk.at(seconds=backoff(1).total_seconds())
    pages = _pages(desk, incident.id)
    for key in ((ALICE, "sms", "page"), (CUSTOMER, "sms", "receipt")):
        assert pages[key].attempts == 2 and pages[key].sent_at == desk.t0 + backoff(1) and pages[key].twilio_sid
        assert pages[key].status in ("sent", "delivered") and pages[key].last_error == ""
    assert len(_sms(twilio, ALICE, incident.reference)) == 1 and len(alice.sms) == 1
    assert len(_sms(twilio, CUSTOMER, incident.reference)) == 1 and len(customer.sms) == 1
    desk.at(minutes=2)  # nothing is sent again
    assert len(alice.sms) == 1 and len(customer.sms) == 1


def test_an_invalid_to_number_21211_is_still_refused_for_good(desk, network, twilio):
    alice = network.phone(ALICE).expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("we have your report")
    twilio.fail_next(1, status=400, code=21211, resource="Messages")
    incident = desk.open_incident()
    desk.settle()
    failed = [p for p in _pages(desk, incident.id).values() if p.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 1
    assert failed[0].last_error.startswith("Twilio answered HTTP 400 (code 21211)")
    desk.at(minutes=1)
    assert _pages(desk, incident.id)[(failed[0].to_number, "sms", failed[0].purpose)].attempts == 1
    assert len(alice.calls) >= 1


def test_twilio_refusing_the_accounts_credentials_20003_is_waited_out_and_every_page_arrives_once(desk, network, twilio):
    """An outside probe's Twilio answered every request ``401 {"code": 20003}`` for 40 s (an auth token rotated
    under a running worker, an account suspended for a while): the rep's pages, the customer's receipt and a breach
    notice were tried once and given up for good. The account refuses every request, not this one: they wait."""
    customer, alice = network.phone(CUSTOMER), network.phone(ALICE)
    twilio.fail_next(3, status=401, code=20003)  # the SMS page, the voice page, the receipt: all refused
    incident = desk.open_incident()
    desk.settle()
    pages = _pages(desk, incident.id)
    waiting = [pages[key] for key in ((ALICE, "sms", "page"), (ALICE, "voice", "page"), (CUSTOMER, "sms", "receipt"))]
    for page in waiting:
        assert (page.status, page.sent_at) == ("queued", None), page.last_error
        assert page.last_error.startswith("Throttled: Twilio answered HTTP 401 (code 20003)")

    customer.expect_sms("we have your report")  # the credentials work again: each goes out, once
    alice.expect_sms("SEV1").expect_call(answer=False)
    desk.at(seconds=30)
    pages = _pages(desk, incident.id)
    for key in ((ALICE, "sms", "page"), (ALICE, "voice", "page"), (CUSTOMER, "sms", "receipt")):
        assert pages[key].sent_at is not None and pages[key].twilio_sid and pages[key].last_error == ""
    assert len(_sms(twilio, ALICE, incident.reference)) == 1 and len(_sms(twilio, CUSTOMER, incident.reference)) == 1
    assert len([c for c in twilio.calls if c.to == ALICE]) == 1


def test_a_level_whose_every_page_twilio_refuses_pages_the_managers_at_once(desk, network, twilio, client):
    """An outside probe's Twilio refused every page to the primary for good (21211): nothing was paged until the next
    level's minute (the secondary at T+3, the managers at T+6 of a 15-minute promise), and the board said "Page not
    sent yet". A level whose every page failed reached nobody, as a level with nobody on call: the managers are paged
    at once, once, and the board says the pages failed."""
    twilio.refuse_to(ALICE, code=21211)
    network.phone(CUSTOMER).expect_sms("we have your report")
    maria = network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    pages = _pages(desk, incident.id)
    assert pages[(ALICE, "sms", "page")].status == pages[(ALICE, "voice", "page")].status == "failed"
    assert maria.unmet == [] and len(maria.sms) == 1  # at T+0, not at the third level's minute
    with desk.hotline.db.session() as s:
        lines = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                           IncidentEvent.kind == "level_unreached")))
    assert len(lines) == 1 and lines[0].at == desk.t0
    login_as(client, desk.hotline)
    board = parse(client.get("/board"))
    assert board.find("tr", id=f"inc-{incident.reference}").find(cls="state").text() == "Paged, not acknowledged"
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # the next level pages on; Alice's refused pages page the managers no more
    assert len(maria.sms) == 1 and network.phone(BOB).unmet == []


def test_a_board_row_whose_every_page_failed_says_so(desk, network, twilio, client):
    """With no manager to page either, the row says the pages failed, never that they are not sent yet."""
    with desk.hotline.db.transaction() as s:
        s.scalars(select(Rep).where(Rep.phone == MARIA)).one().is_manager = False
    twilio.refuse_to(ALICE, code=21211)
    network.phone(CUSTOMER).expect_sms("we have your report")
    incident = desk.open_incident()
    desk.settle()
    login_as(client, desk.hotline)
    board = parse(client.get("/board"))
    assert board.find("tr", id=f"inc-{incident.reference}").find(cls="state").text() == "Pages failed: nobody reached"


def test_healthz_and_the_board_say_pages_refused_for_good_are_not_sent_again(desk, network, twilio, client):
    """An outside probe's three pages refused for good (21211) read "each page is retried" on /healthz: an operator
    would have waited for Twilio to come back instead of fixing the rep's number."""
    with desk.hotline.db.transaction() as s:  # no manager either: every page of the incident is refused
        s.scalars(select(Rep).where(Rep.phone == MARIA)).one().is_manager = False
    twilio.refuse_to(ALICE, code=21211)
    twilio.refuse_to(CUSTOMER, code=21211)  # the receipt too: three pages, each given up at its first attempt
    desk.open_incident()
    desk.settle()
    [warning] = [w for w in client.get("/healthz").get_json()["warnings"] if w.startswith("no page reached Twilio")]
    assert "the last 3 attempts failed" in warning
    assert ("3 of those pages were given up and are not sent again: Twilio refused them for good (a number it does "
            "not take, say error 21211)") in warning
    assert "retried" not in warning and "once Twilio answers again" not in warning
    login_as(client, desk.hotline)
    banner = parse(client.get("/board")).find(id="paging-failing").text()
    assert "3 of those pages were given up and are not sent again" in banner
    assert "once Twilio answers again" not in banner
