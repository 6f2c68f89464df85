"""Twilio failing while we page: throttling, 5xx, time-outs, rejections, failed SMS, late or repeated callbacks.

The customer calls from a landline (no receipt SMS), so the first request the hotline makes
to Twilio is the level-0 page SMS to the primary on call; the fault injected with
``twilio.fail_next``/``hang_next``/``accept_then_timeout_next`` hits exactly that request,
which each test checks on ``twilio.requests`` rather than assumes.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from app.models import Channel, DueStep, Incident, IncidentEvent, Page, Rep
from app.oncall.contactable import Contactable
from app.services.acks import Actor, resolve
from app.services.failure_log import COVERED
from app.services.oncall_admin import save_policy
from app.services.page_status import call_status, sms_status
from app.services.pages import (
    FALL_BACK_AFTER,
    PAGE_WAITS_FOR_RETRY_AFTER_AT_MOST,
    RETRY_FOR,
    RETRY_WHILE_OPEN_FOR,
    UNANSWERED_GRACE,
    backoff,
    queue_page,
)
from app.telephony.protocol import OutcomeUnknown
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from workers import watchdog
from workers.consuming import StoppableWorker

LANDLINE = "+442079460958"  # a fixed line: the customer gets no receipt SMS
HOTLINE_NUMBER = "+15005550006"


# ------------------------------------------------------------------ helpers


def _policy(desk, *channels: str) -> None:
    """One level: the primary on call, on ``channels`` only (so a fall-back call is not hidden by the step's own)."""
    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary", "channels": list(channels)}]}]
    with desk.hotline.db.transaction() as s:
        save_policy(s, "test-policy", levels, is_default=True)


def _expect_page(phone, channel: str) -> None:
    """The page on ``channel`` reaches ``phone`` (a call rings out unanswered)."""
    if channel == "sms":
        phone.expect_sms("SEV1")
    else:
        phone.expect_call(answer=False)


def _pages(desk, incident_id: int) -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))


def _page(desk, incident_id: int, to: str, channel: str, level: int = 0) -> Page:
    """The escalation page of ``level`` to ``to`` on ``channel``."""
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).join(DueStep, DueStep.id == Page.step_id).where(
            Page.incident_id == incident_id, Page.to_number == to, Page.channel == channel, Page.purpose == "page",
            DueStep.level == level)).one()


def _events(desk, incident_id: int, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _messages(twilio, to: str, contains: str) -> list:
    """Messages Twilio accepted from the hotline to ``to`` whose body contains ``contains``."""
    return [m for m in twilio.messages if m.to == to and m.from_ == HOTLINE_NUMBER and contains in m.body]


def _calls(twilio, to: str) -> list:
    return [c for c in twilio.calls if c.to == to and c.direction == "outbound-api"]


def _requests(twilio) -> list[tuple[str, str, str]]:
    """(method, resource, To) of every request Twilio received, faulted ones included."""
    return [(r.method, r.path.rsplit("/", 1)[-1], (r.params.get("To") or [""])[0]) for r in twilio.requests]


def _work(desk) -> None:
    """The back office without the phone network: watchdog and worker only (Twilio sends no callbacks)."""
    for _ in range(10):
        handed = watchdog.sweep(desk.hotline)
        queued = desk.hotline.jobs.waiting()
        StoppableWorker(desk.hotline.jobs.queues, connection=desk.hotline.jobs.redis).work(
            burst=True, logging_level="WARNING")
        if not handed and not queued:
            return
    raise AssertionError("the worker did not settle")


def _signed_post(desk, url: str, params: dict[str, str]):
    """POST ``params`` to ``url`` (a full public URL) signed like Twilio."""
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    response = desk.client.post(url.removeprefix(PUBLIC_BASE_URL), data=params,
                                headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _sms_status(desk, page: Page, status: str) -> None:
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/sms/status?page={page.id}", {
        "MessageSid": page.twilio_sid, "SmsSid": page.twilio_sid, "MessageStatus": status, "SmsStatus": status,
        "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": page.to_number, "ApiVersion": "2010-04-01"})


def _call_status(desk, page: Page, status: str) -> None:
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/status?page={page.id}", {
        "CallSid": page.twilio_sid, "CallStatus": status, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER,
        "To": page.to_number, "Direction": "outbound-api", "ApiVersion": "2010-04-01"})


def _at(desk, delta: timedelta) -> None:
    desk.at(seconds=delta.total_seconds())


# ------------------------------------------------------------------ 1. throttled


def test_throttled_page_sms_is_retried_after_the_backoff_and_delays_nothing_else(desk, network, twilio):
    alice, bob = network.phone(ALICE), network.phone(BOB)
    alice.expect_sms("SEV1").expect_call(answer=False)
    twilio.fail_next(1, status=429)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert _requests(twilio) == [("POST", "Messages.json", ALICE), ("POST", "Calls.json", ALICE)]
    sms, voice = _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")
    assert (sms.status, sms.attempts, sms.sent_at, sms.twilio_sid) == ("queued", 1, None, "")
    assert sms.last_error.startswith("Throttled") and "429" in sms.last_error
    assert sms.next_attempt_at == desk.t0 + backoff(1)
    assert voice.sent_at == desk.t0 and len(alice.calls) == 1  # the call did not wait for the SMS retry
    assert _messages(twilio, ALICE, incident.reference) == []

    _at(desk, backoff(1) - timedelta(milliseconds=1))  # not before the back-off
    assert _messages(twilio, ALICE, incident.reference) == []
    _at(desk, backoff(1))
    [message] = _messages(twilio, ALICE, incident.reference)
    sms = _page(desk, incident.id, ALICE, "sms")
    assert (sms.attempts, sms.sent_at, sms.twilio_sid, sms.last_error) == (2, desk.t0 + backoff(1), message.sid, "")
    assert sms.status == "delivered" and len(alice.sms) == 1

    alice.expect_call(answer=False)
    bob.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    level1 = [(p.to_number, p.channel, p.sent_at) for p in _pages(desk, incident.id) if p.sent_at
              and p.sent_at >= desk.t0 + timedelta(minutes=3)]
    three = desk.t0 + timedelta(minutes=3)
    assert sorted(level1) == [(ALICE, "voice", three), (BOB, "sms", three), (BOB, "voice", three)]
    assert len(_messages(twilio, ALICE, incident.reference)) == 1  # still one page SMS to Alice


@pytest.mark.parametrize(("asked", "waited"), [
    ("20", timedelta(seconds=20)),  # as asked: Twilio refuses again before then
    ("600", PAGE_WAITS_FOR_RETRY_AFTER_AT_MOST),  # a page waits at most this long, whatever is asked
])
def test_a_page_refused_with_retry_after_waits_as_asked_up_to_its_bound(desk, network, twilio, asked, waited):
    # an outside probe's 429 with "Retry-After: 20" was tried again after 4 and 9 s (the header was never read)
    alice = network.phone(ALICE)
    alice.expect_sms("SEV1").expect_call(answer=False)
    twilio.fail_next(1, status=429, retry_after=asked)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    sms = _page(desk, incident.id, ALICE, "sms")
    assert (sms.status, sms.attempts) == ("queued", 1) and f"Retry-After {asked} s" in sms.last_error
    assert sms.next_attempt_at == desk.t0 + waited

    _at(desk, waited - timedelta(milliseconds=1))  # not before the wait asked for
    assert _messages(twilio, ALICE, incident.reference) == []
    _at(desk, waited)
    [message] = _messages(twilio, ALICE, incident.reference)
    assert _page(desk, incident.id, ALICE, "sms").twilio_sid == message.sid


# ------------------------------------------------------------------ 2. 5xx and time-out


@pytest.mark.parametrize("channel", ["sms", "voice"])
@pytest.mark.parametrize("fault", ["http_500", "hang"])
def test_server_error_or_timeout_is_retried_and_the_page_goes_out_once(desk, network, twilio, fault, channel):
    _policy(desk, channel)
    alice = network.phone(ALICE)
    _expect_page(alice, channel)
    resource = "Messages.json" if channel == "sms" else "Calls.json"
    if fault == "hang":
        twilio.hang_next(1)
    else:
        twilio.fail_next(1, status=500)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    twilio.release()
    assert _requests(twilio) == [("POST", resource, ALICE)]
    page = _page(desk, incident.id, ALICE, channel)
    assert (page.status, page.attempts, page.sent_at) == ("queued", 1, None)
    expected_error = "500" if fault == "http_500" else "Timeout"
    assert page.last_error.startswith("OutcomeUnknown") and expected_error in page.last_error
    [failed] = _events(desk, incident.id, "page_send_failed")
    assert failed.detail["page_id"] == page.id and failed.detail["attempt"] == 1 and not failed.detail["final"]
    assert expected_error in failed.detail["error"]

    # a 5xx was an answer: looked up after the back-off; a time-out may still be under way at Twilio: once it cannot
    retry = UNANSWERED_GRACE if fault == "hang" else backoff(1)
    assert page.next_attempt_at == desk.t0 + retry
    _at(desk, retry)
    # the outcome was unknown: Twilio's records are looked up first (an SMS by its own text, a call by its number),
    # and they show nothing was created: the page is sent, and it is no second copy of anything
    assert _requests(twilio)[1:] == [("GET", resource, ALICE), ("POST", resource, ALICE)]
    [sent] = _messages(twilio, ALICE, incident.reference) if channel == "sms" else _calls(twilio, ALICE)
    page = _page(desk, incident.id, ALICE, channel)
    assert (page.attempts, page.twilio_sid, page.sent_at) == (2, sent.sid, desk.t0 + retry)
    assert page.status == ("delivered" if channel == "sms" else "no-answer")
    [ok] = _events(desk, incident.id, "page_sent")
    assert ok.detail["attempt"] == 2 and ok.detail["adopted"] is False and ok.detail["possible_duplicate"] is False
    desk.at(minutes=2)  # nothing more goes out
    assert len(twilio.messages) + len(twilio.calls) == 1


# ------------------------------------------------------------------ 3. accepted, then the answer timed out


@pytest.mark.parametrize("channel", ["sms"])
def test_accepted_then_timed_out_page_is_found_and_adopted_not_sent_again(desk, network, twilio, channel):
    _policy(desk, channel)
    alice = network.phone(ALICE)
    _expect_page(alice, channel)
    resource = "Messages.json" if channel == "sms" else "Calls.json"
    twilio.accept_then_timeout_next(1)
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)  # the retry runs before Twilio's first status callback arrives
    twilio.release()
    accepted = twilio.messages if channel == "sms" else twilio.calls
    assert len(accepted) == 1  # Twilio has it ...
    page = _page(desk, incident.id, ALICE, channel)
    assert (page.status, page.attempts, page.twilio_sid) == ("queued", 1, "")  # ... the hotline does not know
    assert page.last_error.startswith("OutcomeUnknown")

    desk.clock.set(desk.t0 + UNANSWERED_GRACE)
    _work(desk)
    assert _requests(twilio) == [("POST", resource, ALICE), ("GET", resource, ALICE)]  # looked up, not sent again
    page = _page(desk, incident.id, ALICE, channel)
    assert (page.status, page.attempts, page.twilio_sid) == ("sent", 2, accepted[0].sid)
    assert page.sent_at == desk.t0 + UNANSWERED_GRACE
    [ok] = _events(desk, incident.id, "page_sent")
    assert ok.detail["adopted"] is True

    desk.settle()  # now the phone network delivers it: once
    received = alice.sms if channel == "sms" else alice.calls
    assert len(received) == 1
    assert len(twilio.messages if channel == "sms" else twilio.calls) == 1


def test_accepted_then_timed_out_voice_page_without_its_callback_is_placed_again_as_a_possible_duplicate(
        desk, network, twilio):
    """A call found at Twilio cannot be shown to be this page's: the page calls again and says so."""
    _policy(desk, "voice")
    alice = network.phone(ALICE)
    alice.expect_call(answer=False).expect_call(answer=False)
    twilio.accept_then_timeout_next(1)
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)  # the retry runs before Twilio's first status callback arrives
    twilio.release()
    [first] = twilio.calls
    desk.clock.set(desk.t0 + UNANSWERED_GRACE)
    _work(desk)
    # looked up: a call to Alice is there, but nothing shows it is this page's (never adopted), so it may be one
    assert _requests(twilio) == [("POST", "Calls.json", ALICE), ("GET", "Calls.json", ALICE),
                                 ("POST", "Calls.json", ALICE)]
    page = _page(desk, incident.id, ALICE, "voice")
    [_, second] = twilio.calls
    assert (page.status, page.attempts, page.twilio_sid) == ("sent", 2, second.sid)
    [ok] = _events(desk, incident.id, "page_sent")
    assert ok.detail["adopted"] is False and ok.detail["possible_duplicate"] is True
    desk.settle()
    assert len(alice.calls) == 2 and first.sid != second.sid


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_accepted_then_timed_out_page_whose_callbacks_came_first_keeps_its_sid(desk, network, twilio, channel):
    _policy(desk, channel)
    alice = network.phone(ALICE)
    _expect_page(alice, channel)
    twilio.accept_then_timeout_next(1)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()  # Twilio delivers and calls back before the retry is due
    twilio.release()
    [accepted] = twilio.messages if channel == "sms" else twilio.calls
    desk.at(minutes=2)
    assert len(twilio.messages if channel == "sms" else twilio.calls) == 1
    page = _page(desk, incident.id, ALICE, channel)
    assert page.status == ("delivered" if channel == "sms" else "no-answer")
    assert page.twilio_sid == accepted.sid and page.sent_at == desk.t0


class CallbacksBeforeTheTimeout:
    """The real Twilio client, but Twilio's status callbacks reach the hotline before the client gives up.

    That is the usual order in production (callbacks come within a second, the client waits 10 s);
    the harness runs the network only after the worker, so this seam puts it in between.
    """

    def __init__(self, telephony, network) -> None:
        self.telephony, self.network = telephony, network
        self.find_sms, self.find_call = telephony.find_sms, telephony.find_call

    def send_sms(self, **kwargs):
        return self._callbacks_first(self.telephony.send_sms, kwargs)

    def place_call(self, **kwargs):
        return self._callbacks_first(self.telephony.place_call, kwargs)

    def _callbacks_first(self, send, kwargs):
        try:
            return send(**kwargs)
        except OutcomeUnknown:
            self.network.run()
            raise


@pytest.mark.parametrize("outcome", ["delivered", "failed"])
def test_status_callback_during_a_timed_out_send_is_not_undone(desk, network, twilio, outcome):
    _policy(desk, "sms")
    alice = network.phone(ALICE)
    if outcome == "failed":
        alice.expect_sms("SEV1", fail="failed").expect_call(answer=False)
    else:
        alice.expect_sms("SEV1")
    desk.hotline.telephony = CallbacksBeforeTheTimeout(desk.hotline.telephony, network)
    twilio.accept_then_timeout_next(1)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    twilio.release()
    [message] = _messages(twilio, ALICE, incident.reference)
    sms = _page(desk, incident.id, ALICE, "sms")
    assert (sms.status, sms.twilio_sid, sms.sent_at, sms.attempts) == (outcome, message.sid, desk.t0, 1)
    desk.at(minutes=2)  # no retry turns it back into "sent", and nothing is sent twice
    assert _page(desk, incident.id, ALICE, "sms").status == outcome
    assert len(twilio.messages) == 1 and len(twilio.calls) == (1 if outcome == "failed" else 0)
    assert [e.detail["final"] for e in _events(desk, incident.id, "page_send_failed")] == [True]


def test_page_created_mid_second_is_still_found_after_a_timeout(desk, network, twilio):
    """Twilio's date_created has whole seconds; a page row created at x.5 s must still find its SMS."""
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_sms("SEV1")
    twilio.accept_then_timeout_next(1)
    desk.clock.set(desk.t0 + timedelta(milliseconds=500))
    incident = desk.open_incident(caller=LANDLINE)  # its first page step runs at the opening, at x.5 s
    _work(desk)
    twilio.release()
    assert _page(desk, incident.id, ALICE, "sms").created_at == desk.t0 + timedelta(milliseconds=500)
    desk.clock.set(desk.t0 + timedelta(milliseconds=500) + UNANSWERED_GRACE)
    _work(desk)
    desk.settle()
    [message] = _messages(twilio, ALICE, incident.reference)
    assert _page(desk, incident.id, ALICE, "sms").twilio_sid == message.sid
    assert len(alice.sms) == 1


# ------------------------------------------------------------------ 4. rejected for good


def test_rejected_page_sms_fails_at_once_and_calls_the_rep_without_waiting(desk, network, twilio):
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_call(answer=False)
    twilio.fail_next(1, status=400)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert _requests(twilio) == [("POST", "Messages.json", ALICE), ("POST", "Calls.json", ALICE)]
    sms, voice = _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")
    assert (sms.status, sms.attempts, sms.sent_at) == ("failed", 1, None)
    assert sms.last_error.startswith("Twilio answered HTTP 400")
    assert voice.sent_at == desk.t0 and voice.twilio_sid == _calls(twilio, ALICE)[0].sid
    assert len(alice.calls) == 1
    [failed] = _events(desk, incident.id, "page_send_failed")
    assert failed.detail["final"] is True
    [fallback] = _events(desk, incident.id, "page_sms_failed_calling")
    assert fallback.detail == {"page_id": sms.id, "voice_page_id": voice.id}
    desk.at(minutes=2)  # a rejection is not retried
    assert len(twilio.requests) == 2 and _page(desk, incident.id, ALICE, "sms").attempts == 1


def test_page_sms_twilio_created_already_failed_is_never_logged_sent_and_calls_the_rep(desk, network, twilio):
    """A 201 whose ``status`` is failed: Twilio kept a record of the request and sent nothing (no callback
    follows here). The page is failed at once and the rep is called, never "accepted by Twilio"."""
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_call(answer=False)
    twilio.accept_as_next("failed", 30007)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    assert _requests(twilio) == [("POST", "Messages.json", ALICE), ("POST", "Calls.json", ALICE)]
    sms, voice = _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")
    assert sms.status == "failed" and "failed" in sms.last_error and "30007" in sms.last_error
    assert [e.detail["page_id"] for e in _events(desk, incident.id, "page_sent")] == [voice.id]
    [failed] = _events(desk, incident.id, "page_send_failed")
    assert failed.detail["final"] is True
    assert voice.twilio_sid == _calls(twilio, ALICE)[0].sid and len(alice.calls) == 1
    desk.at(minutes=2)  # not retried: Twilio said what became of it
    assert len(twilio.requests) == 2


# ------------------------------------------------------------------ 5. failed / undelivered SMS


@pytest.mark.parametrize("outcome", ["failed", "undelivered"])
def test_failed_or_undelivered_page_sms_calls_the_same_rep_at_once(desk, network, twilio, outcome):
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_sms("SEV1", fail=outcome).expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    sms, voice = _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")
    assert sms.status == outcome and sms.sent_at == desk.t0
    assert (voice.rep_id, voice.step_id, voice.sent_at) == (sms.rep_id, sms.step_id, desk.t0)
    assert alice.sms == [] and len(alice.calls) == 1 and alice.calls[0].sid == voice.twilio_sid
    [fallback] = _events(desk, incident.id, "page_sms_failed_calling")
    assert fallback.detail == {"page_id": sms.id, "voice_page_id": voice.id}


# ------------------------------------------------------------------ 6. repeated and late callbacks


def test_the_same_status_callback_delivered_twice_is_recorded_once(desk, network, twilio):
    network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    sms = _page(desk, incident.id, ALICE, "sms")
    [undelivered] = [w for w in network.webhooks if w.params.get("MessageStatus") == "undelivered"]
    _signed_post(desk, undelivered.url, undelivered.params)  # Twilio's retry of the very same request
    statuses = [e.detail["status"] for e in _events(desk, incident.id, "page_status") if e.detail["page_id"] == sms.id]
    assert statuses == ["sent", "undelivered"]
    assert _page(desk, incident.id, ALICE, "sms").status == "undelivered"
    assert len(twilio.calls) == 1  # no second call either


def test_a_signed_request_replayed_with_a_value_repeated_finds_the_first_answer(desk, network, twilio):
    # Twilio signs each parameter's set of values: "X=a&X=a" validates as "X=a", so it is the same delivery
    network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    [undelivered] = [w for w in network.webhooks if w.params.get("MessageStatus") == "undelivered"]
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(undelivered.url, undelivered.params)
    for repeated in ("MessageStatus", "MessageSid", "To"):
        form = MultiDict(list(undelivered.params.items()) + [(repeated, undelivered.params[repeated])])
        replay = desk.client.post(undelivered.url.removeprefix(PUBLIC_BASE_URL), data=form,
                                  headers={"X-Twilio-Signature": signature})
        assert replay.status_code == 200  # signed as the original: answered with the original's answer
    sms = _page(desk, incident.id, ALICE, "sms")
    statuses = [e.detail["status"] for e in _events(desk, incident.id, "page_status") if e.detail["page_id"] == sms.id]
    assert statuses == ["sent", "undelivered"]
    assert len(twilio.calls) == 1


def test_late_sms_status_never_moves_the_page_back(desk, network, twilio):
    _policy(desk, "sms")
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)  # sent; the network stays silent, the callbacks below stand in for it
    sms = _page(desk, incident.id, ALICE, "sms")
    assert sms.status == "sent" and sms.twilio_sid
    _sms_status(desk, sms, "delivered")
    _sms_status(desk, sms, "sent")
    _sms_status(desk, sms, "queued")
    assert _page(desk, incident.id, ALICE, "sms").status == "delivered"
    applied = [(e.detail["status"], e.detail["applied"]) for e in _events(desk, incident.id, "page_status")]
    assert applied == [("delivered", True), ("sent", False), ("queued", False)]
    # issue 7: a late "failed" after "delivered" moved the page back to failed (and could re-page by voice)
    _sms_status(desk, sms, "failed")
    _sms_status(desk, sms, "undelivered")
    assert _page(desk, incident.id, ALICE, "sms").status == "delivered"
    applied = [(e.detail["status"], e.detail["applied"]) for e in _events(desk, incident.id, "page_status")]
    assert applied[-2:] == [("failed", False), ("undelivered", False)]
    assert _events(desk, incident.id, "page_sms_failed_calling") == []


def test_an_answered_page_call_stays_answered(desk, network, twilio):
    _policy(desk, "voice")
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    voice = _page(desk, incident.id, ALICE, "voice")
    _call_status(desk, voice, "in-progress")
    _call_status(desk, voice, "no-answer")
    _call_status(desk, voice, "failed")
    assert _page(desk, incident.id, ALICE, "voice").status == "answered"


@pytest.mark.parametrize("final", ["in-progress", "answered", "completed"])
def test_late_call_status_never_moves_the_page_back(desk, network, twilio, final):
    _policy(desk, "voice")
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    voice = _page(desk, incident.id, ALICE, "voice")
    assert voice.status == "sent" and voice.twilio_sid
    _call_status(desk, voice, final)
    _call_status(desk, voice, "ringing")
    _call_status(desk, voice, "initiated")
    assert _page(desk, incident.id, ALICE, "voice").status == "answered"
    applied = [(e.detail["status"], e.detail["applied"]) for e in _events(desk, incident.id, "page_status")]
    assert applied == [(final, True), ("ringing", False), ("initiated", False)]


@pytest.mark.parametrize("answered_by", ["machine_end_beep", "fax"])
def test_a_page_call_whose_status_says_a_machine_or_fax_answered_is_no_answered_page(desk, network, twilio,
                                                                                      answered_by):
    # the status callback alone (its TwiML fetch was answered elsewhere, or lost): a fax is no person either
    _policy(desk, "voice")
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    voice = _page(desk, incident.id, ALICE, "voice")
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/status?page={voice.id}", {
        "CallSid": voice.twilio_sid, "CallStatus": "completed", "AnsweredBy": answered_by,
        "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": voice.to_number, "Direction": "outbound-api",
        "ApiVersion": "2010-04-01"})
    assert _page(desk, incident.id, ALICE, "voice").status == "machine"


# ------------------------------------------------------------------ 7. retries while wanted


def test_an_sms_page_failing_15_tries_also_calls_its_rep_and_is_sent_once_twilio_answers(desk, network, twilio):
    """Until session 33 the 15th failure was the last: the SMS (reference, callback number, ACK link) never left."""
    _policy(desk, "sms")
    alice = network.phone(ALICE)
    twilio.fail_next(FALL_BACK_AFTER, status=500)  # every attempt fails at its first request
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    elapsed = timedelta(0)
    for attempt in range(1, FALL_BACK_AFTER + 1):
        page = _page(desk, incident.id, ALICE, "sms")
        assert (page.status, page.attempts) == ("queued", attempt)
        elapsed += backoff(attempt)
        assert page.next_attempt_at == desk.t0 + elapsed
        if attempt == FALL_BACK_AFTER - 1:
            alice.expect_call(answer=False)  # the 15th failure calls Alice meanwhile
        if attempt == FALL_BACK_AFTER:
            alice.expect_sms(incident.reference)  # Twilio answers again: the SMS leaves after all
        _at(desk, elapsed)
    page = _page(desk, incident.id, ALICE, "sms")
    assert (page.status, page.attempts, page.sent_at) == ("delivered", FALL_BACK_AFTER + 1, desk.t0 + elapsed)
    failures = _events(desk, incident.id, "page_send_failed")
    # each of the first tries, then the one that called Alice, standing for the 12 in between (session 34: no
    # line per attempt; every attempt still counted on the page)
    assert [(e.detail["attempt"], e.detail["final"], e.detail.get(COVERED)) for e in failures] == [
        (1, False, None), (2, False, None), (3, False, None), (FALL_BACK_AFTER, False, FALL_BACK_AFTER - 3)]
    assert failures[-1].detail["last_logged_at"] == failures[-2].at.isoformat()
    assert len(_messages(twilio, ALICE, incident.reference)) == 1
    voice = _page(desk, incident.id, ALICE, "voice")
    assert voice.sent_at is not None and len(alice.calls) == 1


def _customer_page(desk, incident_id: int, purpose: str) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).where(Page.incident_id == incident_id, Page.role == "customer",
                                            Page.purpose == purpose)).one()


def test_a_receipt_twilio_keeps_failing_is_retried_while_the_incident_is_open_then_not_sent(desk, network, twilio):
    twilio.fail_until(desk.t0 + timedelta(hours=1), status=503)  # nothing reaches anyone: no phone is expecting
    incident = desk.open_incident()  # a mobile caller: a receipt SMS
    for second in range(2, 121, 2):  # past the 15 tries after which the receipt used to fail for good
        desk.at(seconds=second)
    receipt = _customer_page(desk, incident.id, "receipt")
    assert receipt.status == "queued" and receipt.attempts > 15
    with desk.hotline.db.transaction() as s:
        maria = s.scalars(select(Rep).where(Rep.phone == MARIA)).one()
        assert resolve(s, s.get(Incident, incident.id), Actor(maria.name, "dashboard", maria, True), desk.clock.now(),
                       reason="duplicate of an incident being worked").outcome == "resolved_by_manager"
    desk.at(minutes=2, seconds=10)
    receipt = _customer_page(desk, incident.id, "receipt")
    assert (receipt.status, receipt.sent_at) == ("canceled", None)
    [canceled] = [e.detail for e in _events(desk, incident.id, "page_canceled") if e.detail["page_id"] == receipt.id]
    assert canceled["reason"] == "resolved"
    assert [m for m in twilio.messages if m.to == CUSTOMER] == []


def test_a_notice_without_an_end_of_its_own_is_retried_for_an_hour_then_given_up(desk, network, twilio):
    """A notice (here: a previous owner told of a take-over) waits on no state of the incident: RETRY_FOR bounds it."""
    _policy(desk, "sms")
    network.phone(ALICE).expect_sms("SEV1")
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    twilio.fail_until(desk.t0 + timedelta(hours=2), status=503)
    bob = Contactable(rep_id=None, name="Bob", phone=BOB, channels=("sms",), role="previous_owner")
    page_id = desk.run(lambda s, now: queue_page(s, s.get(Incident, incident.id), bob, Channel.SMS, "taken_over",
                                                 now).id)
    with desk.hotline.db.session() as s:
        page = s.get(Page, page_id)
        assert (page.status, page.attempts) == ("queued", 1)  # Twilio failing for now: tried again
    with desk.hotline.db.transaction() as s:  # as if it had been failing since an hour ago
        s.get(Page, page_id).created_at = desk.clock.now() - RETRY_FOR
    _at(desk, backoff(1))
    with desk.hotline.db.session() as s:
        page = s.get(Page, page_id)
        assert (page.status, page.attempts, page.sent_at) == ("failed", 2, None)
    assert [e.detail["final"] for e in _events(desk, incident.id, "page_send_failed")
            if e.detail["page_id"] == page_id] == [False, True]


def test_a_rep_page_of_an_incident_left_open_is_retried_for_a_day_at_most(desk, network, twilio):
    """A rep's page is retried while its incident needs it, but not for ever: an incident nobody closed would
    otherwise keep a job and a log line every 6 s going for as long as Twilio refused the send."""
    _policy(desk, "sms")
    twilio.fail_until(desk.t0 + timedelta(days=3), status=503)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    with desk.hotline.db.session() as s:
        [page] = s.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "page")).all()
        assert (page.status, page.attempts) == ("queued", 1)  # Twilio failing for now: tried again
    with desk.hotline.db.transaction() as s:  # as if it had been failing for a day
        s.get(Page, page.id).created_at = desk.clock.now() - RETRY_WHILE_OPEN_FOR
    _at(desk, backoff(1))
    with desk.hotline.db.session() as s:
        assert (s.get(Page, page.id).status, s.get(Page, page.id).sent_at) == ("failed", None)
    assert [e.detail["final"] for e in _events(desk, incident.id, "page_send_failed")
            if e.detail["page_id"] == page.id][-1] is True


# ------------------------------------------------------------------ a level whose last page to fail is its SMS


def _alice_paged_on_both_channels(desk, network) -> tuple[Incident, Page, Page]:
    """The first level's SMS and call to Alice, both taken by Twilio; the network stays silent (the tests post
    their fates), so Twilio's own later reports of them reach pages that failed already and move nothing."""
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    return incident, _page(desk, incident.id, ALICE, "sms"), _page(desk, incident.id, ALICE, "voice")


def test_a_level_whose_call_fails_before_its_sms_pages_the_managers_when_the_sms_fails(desk, network, twilio):
    """An outside probe's voice page failed, then its SMS was undelivered (30003): nothing was logged, and the managers
    were paged only at the third level's minute (T+6 of a 15-minute promise). Whichever page of the level fails last
    says it reached nobody."""
    incident, sms, voice = _alice_paged_on_both_channels(desk, network)
    _call_status(desk, voice, "failed")
    assert _events(desk, incident.id, "level_unreached") == []  # her SMS is still alive
    assert [p.to_number for p in _pages(desk, incident.id)] == [ALICE, ALICE]
    _sms_status(desk, sms, "undelivered")
    [line] = _events(desk, incident.id, "level_unreached")
    assert line.at == desk.t0 and line.detail["page_id"] == sms.id
    assert _events(desk, incident.id, "page_sms_failed_calling") == []  # her call failed already: not placed again
    maria = network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.settle()
    assert maria.unmet == [] and len(maria.sms) == 1 and len(_calls(twilio, ALICE)) == 1
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    network.phone(ALICE).expect_call(answer=False)  # the second level calls the primary again
    desk.at(minutes=3)  # the next level pages as before; the managers are paged no more
    assert len(maria.sms) == 1 and network.phone(BOB).unmet == []


@pytest.mark.every_database  # PostgreSQL's row locks; SQLite skips it
def test_a_levels_two_pages_failing_at_once_page_the_managers_once(desk, network, twilio):
    """An outside probe's Twilio refused both of the level's pages (21211) to two page threads at the same moment:
    each failure saw the other page alive, not yet committed, and nobody was paged until the next level. The
    level's failures now take turns: the later one reads the earlier one's once it committed. PostgreSQL only
    (SQLite's one write lock orders the writers); every wait is bounded."""
    if desk.hotline.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its one write lock orders the writers")
    incident, sms, voice = _alice_paged_on_both_channels(desk, network)
    now = desk.clock.now()

    def voice_fails() -> None:
        with desk.hotline.db.transaction() as s:
            s.execute(text("SET LOCAL lock_timeout = '20s'"))
            call_status(s, voice.id, "failed", "", voice.twilio_sid, now)

    with ThreadPoolExecutor(1) as pool:
        with desk.hotline.db.transaction() as first:
            sms_status(first, sms.id, "undelivered", sms.twilio_sid, "30003", now)  # not yet committed
            second = pool.submit(voice_fails)
            waited = _waits_for_a_lock(desk, second)
        second.result(timeout=30)
    assert waited  # the call's failure waited for the SMS's
    [line] = _events(desk, incident.id, "level_unreached")
    assert line.detail["page_id"] == voice.id
    maria = network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.settle()
    assert maria.unmet == [] and len(maria.sms) == 1


def _waits_for_a_lock(desk, job) -> bool:
    """Whether ``job``'s transaction comes to wait for a lock before it ends (bounded: 20 s)."""
    deadline = time.monotonic() + 20
    with desk.hotline.db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            if job.done():
                return False
            waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                           "AND datname = current_database()")).scalar()
            # PostgreSQL keeps one snapshot of pg_stat_activity per transaction: each poll reads in one of its own
            # (polling in one transaction never saw a wait that began after its first poll, and the job's lock
            # timeout failed the test on a loaded machine)
            watcher.rollback()
            if waiting:
                return True
            wait([job], timeout=0.05)
    return False


@pytest.mark.parametrize("outcome", ["failed", "undelivered"])
def test_an_at_risk_sms_that_fails_calls_the_same_person_with_the_alert(desk, network, twilio, outcome):
    """Outside probe (session 43): the secondary's at-risk SMS came back undelivered (30003: the phone off or out of
    coverage, which is when a paged rep does not answer) and nothing followed until the breach. They are called
    with the alert at once, as for a page SMS, once; the others' alerts are as before."""
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    bob = network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    alice.expect_call(answer=False)
    desk.at(minutes=3)
    maria = network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)  # the managers' level at T+6
    desk.at(minutes=6)
    alice.expect_sms("AT RISK")
    maria.expect_sms("AT RISK")
    bob.expect_sms("AT RISK", fail=outcome).expect_call()
    desk.at(minutes=10)
    assert bob.unmet == [] and "This is an at-risk alert" in bob.calls[-1].heard
    sms, call = (_page_of(desk, incident.id, BOB, "at_risk", channel) for channel in ("sms", "voice"))
    assert sms.status == outcome and call.step_id == sms.step_id
    [fallback] = [e for e in _events(desk, incident.id, "page_sms_failed_calling") if e.detail["page_id"] == sms.id]
    assert fallback.detail["voice_page_id"] == call.id
    assert len(alice.calls) == 2 and len(maria.calls) == 1  # nobody else is called for it


def _page_of(desk, incident_id: int, number: str, purpose: str, channel: str) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).where(Page.incident_id == incident_id, Page.to_number == number,
                                            Page.purpose == purpose, Page.channel == channel)).one()
