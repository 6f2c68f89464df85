"""A page whose earlier attempt may have reached Twilio stays "outcome unknown" until something proves otherwise.

- Reclaimed from a dead run after the incident was acknowledged, it is canceled, but never shown as
  a page that did not go out: the row, the log and the incident page say the earlier attempt's
  outcome is unknown.
- A later failure that proves nothing about that earlier attempt (Twilio throttling the retry) keeps
  the next retry looking the SMS up first and logging ``possible_duplicate``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import IncidentEvent, Page, PageStatus, Role
from app.services.pages import STALE_SENDING, UNANSWERED_GRACE, backoff
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_resilience import CLAIMED_AFTER, STEP, _die_after_claiming_alices_sms, _tick_until
from tests.paging.test_twilio_failures import LANDLINE, _calls, _messages, _page, _policy, _requests, _work


def _row(desk, page_id: int) -> Page:
    with desk.hotline.db.session() as s:
        return s.get(Page, page_id)


def _events(desk, incident_id: int, kind: str, page_id: int) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        events = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id,
                                                       IncidentEvent.kind == kind).order_by(IncidentEvent.id))
        return [e for e in events if (e.detail or {}).get("page_id") == page_id]


def _incident_page(desk, reference: str):
    login_as(desk.client, desk.hotline, Role.MANAGER)
    return parse(desk.client.get(f"/incidents/{reference}"))


# ------------------------------------------------------------------ 1. a dead send reclaimed after the acknowledgement


def test_a_dead_send_reclaimed_after_the_acknowledgement_that_twilio_shows_never_made_is_plainly_not_sent(
        desk, network, twilio):
    """The tester's incident page said "an earlier attempt may have been sent" although every look-up at Twilio had
    found nothing: before it is canceled the SMS is looked up, and Twilio's records showing none settle it."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE)
    incident = desk.open_incident()
    page = _die_after_claiming_alices_sms(desk, incident)
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)

    _tick_until(desk, CLAIMED_AFTER + STALE_SENDING + timedelta(seconds=3 * STEP))
    assert alice.sms == []
    after = _row(desk, page.id)
    assert (after.status, after.attempts, after.sent_at) == (PageStatus.CANCELED, 1, None)
    assert not after.last_error.startswith("OutcomeUnknown")
    [canceled] = _events(desk, incident.id, "page_canceled", page.id)
    assert canceled.detail == {"page_id": page.id, "reason": "acknowledged"}
    pages = [li.text() for li in _incident_page(desk, incident.reference).find(id="pages").find_all("li")]
    assert [p for p in pages if "Alice Primary, SMS" in p] == ["03:00 UTC · Alice Primary, SMS: canceled (page, "
                                                               "oncall:primary)"]


def test_a_dead_send_reclaimed_after_the_acknowledgement_is_canceled_with_its_outcome_unknown(desk, network, twilio):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE)
    incident = desk.open_incident()
    page = _die_after_claiming_alices_sms(desk, incident)  # the run died talking to Twilio: it may have sent it
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)

    desk.settle()  # the customer's acknowledgement notice leaves
    twilio.fail_next(1, status=500)  # the look-up before it is canceled fails: nothing proves either way
    _tick_until(desk, CLAIMED_AFTER + STALE_SENDING + timedelta(seconds=3 * STEP))  # the watchdog reclaims it
    assert alice.sms == []  # not sent again: nobody needs it now
    after = _row(desk, page.id)
    assert (after.status, after.attempts, after.sent_at) == (PageStatus.CANCELED, 1, None)
    assert after.last_error.startswith("OutcomeUnknown")  # the row itself keeps what is not known
    assert [r for r in _requests(twilio) if r[:2] == ("GET", "Messages.json")] == [("GET", "Messages.json", ALICE)]
    [canceled] = _events(desk, incident.id, "page_canceled", page.id)
    assert canceled.detail == {"page_id": page.id, "reason": "acknowledged", "earlier_attempt": "outcome_unknown"}

    doc = _incident_page(desk, incident.reference)
    [li] = [li for li in doc.find("ol", cls="timeline").find_all("li")
            if li.find(cls="what").text().startswith("SMS page to Alice Primary canceled")]
    assert li.find(cls="what").text() == ("SMS page to Alice Primary canceled (acknowledged); an earlier attempt's "
                                          "outcome is unknown: it may have been sent")
    assert "warn" in li.attrs["class"].split()
    pages = [li.text() for li in doc.find(id="pages").find_all("li")]
    assert "Alice Primary, SMS: canceled, an earlier attempt may have been sent (page, oncall:primary)" in pages[0]
    assert "Alice Primary, voice call: canceled (page, oncall:primary)" in pages[1]  # never tried: plainly not sent


@pytest.mark.parametrize(("twilio_status", "shown"), [
    (429, "canceled"),  # refused, nothing sent: the plain word
    (500, "canceled, an earlier attempt may have been sent"),  # Twilio may or may not have taken it
])
def test_a_page_canceled_by_the_acknowledgement_says_whether_an_earlier_attempt_may_have_been_sent(
        desk, network, twilio, twilio_status, shown):
    _policy(desk, "sms", "voice")
    alice = network.phone(ALICE).expect_call(answer=False)
    twilio.fail_next(1, status=twilio_status)  # the SMS page fails once; the call goes out
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.at(minutes=1)
    sms = _page(desk, incident.id, ALICE, "sms")
    assert (sms.status, sms.attempts, sms.sent_at) == (PageStatus.CANCELED, 1, None)
    assert alice.sms == []
    pages = [li.text() for li in _incident_page(desk, incident.reference).find(id="pages").find_all("li")]
    assert [p for p in pages if "Alice Primary, SMS" in p] == [f"03:00 UTC · Alice Primary, SMS: {shown} (page, oncall:primary)"]


# ------------------------------------------------------------------ 2. a throttled retry after an unknown outcome


def test_a_throttled_lookup_after_an_unknown_outcome_does_not_let_the_next_retry_send_a_duplicate(desk, network, twilio):
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_sms("SEV1")  # exactly once
    twilio.accept_then_timeout_next(1)  # attempt 1: Twilio takes the SMS, the answer never comes
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    twilio.release()
    [accepted] = twilio.messages

    desk.clock.set(desk.t0 + UNANSWERED_GRACE)
    twilio.fail_next(1, status=429)  # attempt 2: its lookup is throttled
    _work(desk)
    sms = _page(desk, incident.id, ALICE, "sms")
    assert (sms.status, sms.attempts) == ("queued", 2)
    assert sms.last_error.startswith("OutcomeUnknown") and "Throttled" in sms.last_error

    desk.clock.set(desk.t0 + UNANSWERED_GRACE + backoff(2))
    _work(desk)  # attempt 3 looks the SMS up again, finds it and adopts it
    assert _requests(twilio) == [("POST", "Messages.json", ALICE), ("GET", "Messages.json", ALICE),
                                 ("GET", "Messages.json", ALICE)]
    sms = _page(desk, incident.id, ALICE, "sms")
    assert (sms.status, sms.attempts, sms.twilio_sid, sms.last_error) == ("sent", 3, accepted.sid, "")
    [sent] = _events(desk, incident.id, "page_sent", sms.id)
    assert (sent.detail["adopted"], sent.detail["possible_duplicate"]) == (True, False)
    desk.settle()
    assert len(alice.sms) == 1 and len(_messages(twilio, ALICE, incident.reference)) == 1


def test_a_throttled_send_after_an_unknown_outcome_logs_the_next_send_as_a_possible_duplicate(desk, network, twilio):
    _policy(desk, "voice")
    alice = network.phone(ALICE).expect_call(answer=False).expect_call(answer=False)
    twilio.accept_then_timeout_next(1)  # attempt 1: Twilio places the call, the answer never comes
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    twilio.release()
    [first] = twilio.calls
    desk.clock.set(desk.t0 + UNANSWERED_GRACE)
    twilio.fail_next(1, status=429)  # attempt 2: its lookup is refused for now, which says nothing about attempt 1
    _work(desk)
    voice = _page(desk, incident.id, ALICE, "voice")
    assert (voice.status, voice.attempts) == ("queued", 2)
    assert voice.last_error.startswith("OutcomeUnknown") and "Throttled" in voice.last_error

    desk.clock.set(desk.t0 + UNANSWERED_GRACE + backoff(2))
    _work(desk)  # attempt 3 finds a call to Alice it cannot prove is this page's: it calls again, and says so
    assert _requests(twilio) == [("POST", "Calls.json", ALICE), ("GET", "Calls.json", ALICE),
                                 ("GET", "Calls.json", ALICE), ("POST", "Calls.json", ALICE)]
    [_, call] = _calls(twilio, ALICE)
    voice = _page(desk, incident.id, ALICE, "voice")
    assert (voice.status, voice.attempts, voice.twilio_sid) == ("sent", 3, call.sid) and call.sid != first.sid
    [sent] = _events(desk, incident.id, "page_sent", voice.id)
    assert (sent.detail["adopted"], sent.detail["possible_duplicate"]) == (False, True)
    desk.settle()
    assert len(alice.calls) == 2


def test_a_send_after_a_500_that_created_nothing_is_no_possible_duplicate_however_many_retries_between(
        desk, network, twilio):
    _policy(desk, "voice")
    alice = network.phone(ALICE).expect_call(answer=False)
    twilio.fail_next(1, status=500)  # attempt 1: a 5xx; Twilio in fact created nothing
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    desk.clock.set(desk.t0 + UNANSWERED_GRACE)
    twilio.fail_next(1, status=429)  # attempt 2: its lookup is refused for now: still unknown
    _work(desk)
    assert _page(desk, incident.id, ALICE, "voice").last_error.startswith("OutcomeUnknown")
    desk.clock.set(desk.t0 + UNANSWERED_GRACE + backoff(2))
    _work(desk)  # attempt 3: Twilio shows no call to Alice at all: the page goes, a first copy
    [call] = _calls(twilio, ALICE)
    voice = _page(desk, incident.id, ALICE, "voice")
    assert (voice.status, voice.attempts, voice.twilio_sid, voice.last_error) == ("sent", 3, call.sid, "")
    [sent] = _events(desk, incident.id, "page_sent", voice.id)
    assert (sent.detail["adopted"], sent.detail["possible_duplicate"]) == (False, False)
    desk.settle()
    assert len(alice.calls) == 1
