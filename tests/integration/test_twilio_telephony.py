"""The real TwilioTelephony (real twilio client, real HTTP) against the simulated Twilio REST API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from app.settings import Settings
from app.telephony import telephony_for
from app.telephony.protocol import OptedOut, OutcomeUnknown, Rejected, Reported, Throttled
from app.telephony.twilio import TwilioTelephony
from hotline_sim.outbox import SharedOutboxTelephony
from hotline_sim.twilio_api import SimulatedTwilio
from hotline_sim.twilio_spec import SpecNotFound, TwilioSpec
from tests.fakes import SimulatedTelephony
from tests.integration.twilio_support import twilio_spec_path

HOTLINE = "+15005550006"
REP = "+14155550111"
STATUS_URL = "https://hotline.example.com/twilio/sms/status"
CALL_URL = "https://hotline.example.com/twilio/page/call"
CALL_STATUS_URL = "https://hotline.example.com/twilio/voice/status"
# long enough for a loaded CI machine (0.5 s timed out an ordinary request there), short of the sim's hang
CLIENT_TIMEOUT = 2.0


@pytest.fixture
def twilio(clock) -> Iterator[SimulatedTwilio]:
    """The simulated Twilio REST API over HTTP on an ephemeral port."""
    with SimulatedTwilio(spec_path=twilio_spec_path(), clock=clock, hang_seconds=6.0) as sim:
        yield sim


@pytest.fixture
def telephony(twilio) -> TwilioTelephony:
    """The production telephony, pointed at the simulated API with a short time-out."""
    return TwilioTelephony(twilio.configure(Settings(), number=HOTLINE), timeout_seconds=CLIENT_TIMEOUT)


def send_page(telephony: TwilioTelephony, body: str = "Sev-1 INC-42: customer ACME is down") -> object:
    return telephony.send_sms(to=REP, body=body, status_callback=STATUS_URL, validity_seconds=600)


def test_send_sms_is_accepted_as_twilio_documents_it(telephony, twilio):
    sent = send_page(telephony)

    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert sent.status == "queued"
    [message] = twilio.messages
    assert (message.sid, message.to, message.from_, message.status_callback) == (sent.sid, REP, HOTLINE, STATUS_URL)
    assert message.params["ValidityPeriod"] == ["600"]
    assert twilio.spec_violations == []


def test_place_call_is_accepted_as_twilio_documents_it(telephony, twilio):
    sent = telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL, machine_detection="Enable",
                                timeout_seconds=25)

    assert sent.sid.startswith("CA") and sent.status == "queued"
    [call] = twilio.calls
    assert call.params["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert {k: call.params[k] for k in ("Url", "Method", "StatusCallbackMethod", "MachineDetection", "Timeout")} == {
        "Url": [CALL_URL], "Method": ["POST"], "StatusCallbackMethod": ["POST"], "MachineDetection": ["Enable"],
        "Timeout": ["25"],
    }
    assert twilio.spec_violations == []


def test_a_call_asking_to_wait_for_a_greetings_end_says_so_to_twilio(telephony, twilio):
    telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL, machine_detection="DetectMessageEnd")

    assert twilio.calls[0].params["MachineDetection"] == ["DetectMessageEnd"]
    assert twilio.spec_violations == []


def test_call_without_machine_detection_does_not_ask_for_it(telephony, twilio):
    telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL)

    assert "MachineDetection" not in twilio.calls[0].params
    assert twilio.spec_violations == []


def test_429_is_throttled_and_nothing_is_sent(telephony, twilio):
    twilio.fail_next(status=429)

    with pytest.raises(Throttled):
        send_page(telephony)
    assert twilio.messages == []
    assert send_page(telephony).sid == twilio.messages[0].sid  # the next attempt goes through


@pytest.mark.parametrize(("header", "seconds"), [("20", 20.0), ("0", 0.0), ("", None), ("soon", None)])
def test_a_429_keeps_the_wait_its_retry_after_header_asks_for(telephony, twilio, header, seconds):
    # an outside probe's 429 with "Retry-After: 20" was tried again after 4 and 9 s: the header was never read
    twilio.fail_next(status=429, retry_after=header)

    with pytest.raises(Throttled) as refused:
        send_page(telephony)
    assert refused.value.retry_after == seconds
    assert twilio.messages == []


def test_a_retry_after_given_as_an_http_date_is_read_as_seconds_from_now():
    from app.telephony.twilio_rest import retry_after_seconds

    now = datetime(2026, 12, 7, 15, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Mon, 07 Dec 2026 15:00:45 GMT", now) == 45.0
    assert retry_after_seconds("Mon, 07 Dec 2026 14:59:00 GMT", now) == 0.0  # a date gone by: at once


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_leave_the_outcome_unknown(telephony, twilio, status):
    twilio.fail_next(status=status)

    with pytest.raises(OutcomeUnknown):
        telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL)


@pytest.mark.parametrize(("status", "code", "error"), [
    (400, 21611, Throttled),  # the number's SMS queue is full: it drains (the probe's page given up after one try)
    (429, 20429, Throttled),
    (400, 20429, Throttled),  # the code says "too many requests" whatever the status
    (400, 14107, Throttled),
    (400, 20500, OutcomeUnknown),  # Twilio's internal error: it may have acted, so it is looked up first
    (403, 20503, OutcomeUnknown),
    (400, 21610, OptedOut),
    (400, 21211, Rejected),  # an invalid 'To' number: sending again changes nothing
    (400, 21614, Rejected),
    (400, 21408, Rejected),
    (401, 20003, Throttled),  # the account's credentials refused (a token rotated, ...): every request, not this one
    (401, 20005, Throttled),  # the account not active (suspended for a while)
    (403, 20005, Throttled),
    (400, 99999, Rejected),  # a code we do not know on a 4xx stays refused for good (app/telephony/twilio_errors.py)
])
def test_twilio_error_code_decides_before_the_http_status(telephony, twilio, status, code, error):
    twilio.fail_next(status=status, code=code)

    with pytest.raises(error) as raised:
        send_page(telephony)
    assert type(raised.value) is error and f"HTTP {status} (code {code})" in str(raised.value)
    assert twilio.messages == []
    assert send_page(telephony).sid == twilio.messages[0].sid  # the fault was for one request


def test_a_hanging_twilio_is_given_up_on_within_the_client_timeout(telephony, twilio):
    twilio.hang_next()

    started = time.monotonic()
    with pytest.raises(OutcomeUnknown):
        send_page(telephony)
    assert time.monotonic() - started < twilio.hang_seconds
    assert twilio.messages == []


def test_an_accepted_page_whose_answer_was_lost_is_found_not_resent(telephony, twilio, clock):
    since = clock.now()
    twilio.accept_then_timeout_next()

    with pytest.raises(OutcomeUnknown):
        send_page(telephony)
    found = telephony.find_sms(to=REP, since=since, marker="INC-42")

    [message] = twilio.messages
    assert found is not None and found.sid == message.sid  # so the caller does not send it again
    assert twilio.spec_violations == []


def test_an_accepted_call_whose_answer_was_lost_is_found(telephony, twilio, clock):
    since = clock.now()
    twilio.accept_then_timeout_next()

    with pytest.raises(OutcomeUnknown):
        telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL)

    found = telephony.find_call(to=REP, since=since)
    assert found is not None and found.sid == twilio.calls[0].sid


def test_find_looks_only_at_recent_pages_with_the_marker(telephony, twilio, clock):
    send_page(telephony, body="Sev-1 INC-41: older")
    clock.advance(minutes=5)
    since = clock.now()
    send_page(telephony, body="Sev-1 INC-43: other incident")

    assert telephony.find_sms(to=REP, since=since, marker="INC-41") is None
    assert telephony.find_sms(to=REP, since=since, marker="INC-42") is None
    assert telephony.find_sms(to="+14155550999", since=since - timedelta(hours=1), marker="INC") is None
    assert telephony.find_call(to=REP, since=since) is None


def test_invalid_number_is_rejected(telephony, twilio):
    with pytest.raises(Rejected, match="21211"):
        telephony.send_sms(to="12345", body="Sev-1", status_callback=STATUS_URL)
    assert twilio.messages == []


def test_wrong_credentials_are_refused_for_now_not_for_good(twilio):
    """A 401 is the account's, not the request's (a token rotated under a running worker, which ``hotline check``
    and the worker's start refuse): the page waits for credentials that work, as for a 429."""
    settings = twilio.configure(Settings(), number=HOTLINE).with_overrides(twilio_auth_token="not-the-token")

    with pytest.raises(Throttled, match="401"):
        send_page(TwilioTelephony(settings, timeout_seconds=CLIENT_TIMEOUT))
    assert twilio.messages == []


def test_unreachable_twilio_leaves_the_outcome_unknown(clock):
    with SimulatedTwilio(spec_path=twilio_spec_path(), clock=clock) as sim:
        settings = sim.configure(Settings(), number=HOTLINE)
    telephony = TwilioTelephony(settings, timeout_seconds=CLIENT_TIMEOUT)  # nothing listens there any more

    with pytest.raises(OutcomeUnknown):
        send_page(telephony)
    with pytest.raises(OutcomeUnknown):
        telephony.find_sms(to=REP, since=clock.now(), marker="INC-42")


def test_the_spec_check_catches_requests_twilio_does_not_document(twilio):
    url = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/Calls.json"
    data = {"To": REP, "From": HOTLINE, "Url": "/relative", "Method": "PUT", "Colour": "red"}

    requests.post(url, data=data, auth=(twilio.account_sid, twilio.auth_token), timeout=5)

    problems = "\n".join(twilio.spec_violations)
    assert "unknown parameter Colour" in problems
    assert "Method='PUT'" in problems
    assert "Url='/relative': not an absolute http(s) URL" in problems


def test_a_missing_spec_file_is_a_clear_error(tmp_path):
    with pytest.raises(SpecNotFound, match="shared/twilio/twilio_api_v2010.json"):
        TwilioSpec.load(tmp_path / "missing.json")


def test_telephony_for_uses_twilio_only_when_an_account_is_configured(twilio, tmp_path):
    assert isinstance(telephony_for(Settings(data_dir=tmp_path)), SharedOutboxTelephony)
    assert telephony_for(Settings(data_dir=tmp_path)) is not telephony_for(Settings(data_dir=tmp_path))
    assert isinstance(telephony_for(twilio.configure(Settings(), number=HOTLINE)), TwilioTelephony)


def test_simulated_telephony_keeps_an_outbox(clock):
    telephony = SimulatedTelephony(clock)
    since = clock.now()

    sent = telephony.send_sms(to=REP, body="Sev-1 INC-42", status_callback=STATUS_URL)
    call = telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL)
    telephony.fail_next(Throttled("simulated"))

    with pytest.raises(Throttled):
        telephony.send_sms(to=REP, body="again", status_callback=STATUS_URL)
    assert telephony.find_sms(to=REP, since=since, marker="INC-42").sid == sent.sid
    assert telephony.find_call(to=REP, since=since).sid == call.sid
    assert [item.sid for item in telephony.outbox] == [sent.sid, call.sid]


@pytest.mark.parametrize(("status", "code", "error"), [("failed", 30007, Rejected), ("canceled", None, Rejected),
                                                       ("failed", 21610, OptedOut), ("failed", 14107, Throttled)])
def test_a_message_created_already_failed_or_canceled_is_not_sent(telephony, twilio, status, code, error):
    """A 201 is Twilio's record of the request, not a send: its ``status`` failed or canceled means nothing left."""
    twilio.accept_as_next(status, code)
    with pytest.raises(error, match=status):
        send_page(telephony)
    [message] = twilio.messages
    assert message.status == status


def test_a_call_created_already_failed_is_not_placed(telephony, twilio):
    twilio.accept_as_next("failed")
    with pytest.raises(Rejected, match="failed"):
        telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL, machine_detection="Enable")


def test_a_message_and_a_call_are_fetched_by_sid_as_twilio_reports_them(telephony, twilio, clock):
    sms = send_page(telephony)
    call = telephony.place_call(to=REP, url=CALL_URL, status_callback=CALL_STATUS_URL, machine_detection="Enable")
    assert telephony.fetch_sms(sms.sid) == Reported(sid=sms.sid, status="queued")
    [message], [placed] = twilio.messages, twilio.calls
    twilio.update(message, status="undelivered", error_code=30003)
    twilio.update(placed, status="completed", answered_by="machine_start", end_time=clock.now())
    assert telephony.fetch_sms(sms.sid) == Reported(sid=sms.sid, status="undelivered", error_code="30003")
    assert telephony.fetch_call(call.sid) == Reported(sid=call.sid, status="completed", answered_by="machine_start",
                                                      ended_at=clock.now().replace(microsecond=0))
    assert telephony.child_calls(call.sid) == []
    assert twilio.spec_violations == []


@pytest.mark.parametrize(("status", "error"), [(404, Rejected), (429, Throttled), (503, OutcomeUnknown)])
def test_a_lookup_twilio_fails_raises_the_seams_errors(telephony, twilio, status, error):
    sms = send_page(telephony)
    twilio.fail_next(1, status=status)
    with pytest.raises(error):
        telephony.fetch_sms(sms.sid)
    with pytest.raises(Rejected):  # no such message
        telephony.fetch_sms("SM" + "f" * 32)
    with pytest.raises(Rejected):  # never a path of its own
        telephony.fetch_call("../Messages")
