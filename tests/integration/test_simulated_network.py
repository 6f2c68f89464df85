"""The simulated phone network: signed webhooks, scripted phones, <Gather>, <Dial> bridging.

The "hotline" here is a tiny Flask app of the test's own that checks every
signature with twilio's RequestValidator; the pages are sent by the real
TwilioTelephony through the simulated Twilio REST API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask, abort, request
from twilio.request_validator import RequestValidator

from app.settings import Settings
from app.telephony.twilio import TwilioTelephony
from hotline_sim.network import PhoneNetwork
from hotline_sim.phone import flask_transport
from hotline_sim.scripted_phone import UnexpectedPage, WebhookFailed
from hotline_sim.twilio_api import SimulatedTwilio
from hotline_sim.twilio_records import rfc2822
from tests.integration.twilio_support import twilio_spec_path

PUBLIC = "https://hotline.example.com"
HOTLINE = "+15005550006"
REP = "+14155550111"
CUSTOMER = "+15555550123"
SMS_STATUS = f"{PUBLIC}/twilio/sms/status"
CALL_STATUS = f"{PUBLIC}/twilio/voice/status"
CUSTOMER_STATUS = f"{PUBLIC}/twilio/voice/customer-status"


def tiny_hotline(auth_token: str) -> tuple[Flask, list[tuple[str, dict[str, str]]]]:
    """A stand-in hotline: verifies signatures, records every webhook, answers a small paging script."""
    app = Flask("tiny_hotline")
    seen: list[tuple[str, dict[str, str]]] = []

    @app.before_request
    def verify_signature() -> None:
        query = request.query_string.decode()
        url = PUBLIC + request.path + (f"?{query}" if query else "")
        if not RequestValidator(auth_token).validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        seen.append((request.path, request.form.to_dict()))

    @app.post("/twilio/sms/status")
    @app.post("/twilio/voice/status")
    @app.post("/twilio/voice/customer-status")
    def status() -> str:
        return ""

    @app.post("/twilio/sms")
    def inbound_sms() -> str:
        if request.form["Body"].strip().upper() == "ACK":
            return "<Response><Message>Thanks, INC-42 acknowledged.</Message></Response>"
        return "<Response/>"

    @app.post("/page/call")
    def page_call() -> str:
        if request.form.get("AnsweredBy", "").startswith("machine"):
            return "<Response><Say>Sev-1 incident INC-42. Call the hotline back.</Say><Hangup/></Response>"
        return ('<Response><Gather numDigits="1" action="/page/keys"><Say>Sev-1 incident INC-42. Press 1 to '
                "acknowledge, 2 to call the customer now.</Say></Gather><Say>No input.</Say><Hangup/></Response>")

    @app.post("/page/keys")
    def page_keys() -> str:
        if request.form["Digits"] == "2":
            return (f'<Response><Say>Connecting you.</Say><Dial action="/page/dialed" callerId="{HOTLINE}">'
                    f'<Number url="/page/whisper" statusCallback="{CUSTOMER_STATUS}" '
                    f'statusCallbackEvent="initiated ringing answered completed">{CUSTOMER}</Number></Dial>'
                    "</Response>")
        return "<Response><Say>Acknowledged.</Say><Hangup/></Response>"

    @app.post("/page/whisper")
    def whisper() -> str:
        return "<Response><Say>Sev-1 hotline: connecting you to your engineer.</Say></Response>"

    @app.post("/page/dialed")
    def dialed() -> str:
        return "<Response><Say>The customer call has ended.</Say><Hangup/></Response>"

    return app, seen


@pytest.fixture
def twilio(clock) -> Iterator[SimulatedTwilio]:
    """The simulated Twilio REST API."""
    with SimulatedTwilio(spec_path=twilio_spec_path(), clock=clock) as sim:
        yield sim
        assert sim.spec_violations == []


@pytest.fixture
def hotline(twilio):
    """The tiny hotline app and the webhooks it received."""
    return tiny_hotline(twilio.auth_token)


@pytest.fixture
def network(twilio, hotline, clock) -> PhoneNetwork:
    """The network, delivering to the tiny hotline through its test client."""
    app, _ = hotline
    return PhoneNetwork(twilio, flask_transport(app.test_client()), twilio.auth_token, app_base_url=PUBLIC,
                        clock=clock)


@pytest.fixture
def telephony(twilio) -> TwilioTelephony:
    """The production telephony pointed at the simulated API."""
    return TwilioTelephony(twilio.configure(Settings(), number=HOTLINE), timeout_seconds=2)


def webhooks(seen, path: str) -> list[dict[str, str]]:
    return [form for p, form in seen if p == path]


def page_by_call(telephony: TwilioTelephony, **kwargs) -> str:
    return telephony.place_call(to=REP, url=f"{PUBLIC}/page/call", status_callback=CALL_STATUS, **kwargs).sid


def test_sms_status_callbacks_are_signed_and_the_reply_reaches_the_hotline(network, telephony, hotline, twilio):
    _, seen = hotline
    rep = network.phone(REP).expect_sms(contains="INC-42", reply="ACK").expect_sms(contains="acknowledged")

    sid = telephony.send_sms(to=REP, body="Sev-1 INC-42: ACME is down. Reply ACK.", status_callback=SMS_STATUS).sid
    network.run()

    statuses = webhooks(seen, "/twilio/sms/status")
    assert [(s["MessageSid"], s["MessageStatus"]) for s in statuses] == [(sid, "sent"), (sid, "delivered")]
    [inbound] = webhooks(seen, "/twilio/sms")
    assert (inbound["From"], inbound["To"], inbound["Body"]) == (REP, HOTLINE, "ACK")
    assert inbound["MessageSid"].startswith("SM") and inbound["MessageSid"] != sid
    assert rep.sms == ["Sev-1 INC-42: ACME is down. Reply ACK.", "Thanks, INC-42 acknowledged."]
    assert [m.status for m in twilio.messages if m.sid == sid] == ["delivered"]
    network.verify()


def test_an_undeliverable_sms_reports_the_error_code(network, telephony, hotline):
    _, seen = hotline
    rep = network.phone(REP).expect_sms(contains="INC-42", fail="undelivered", error_code=30005)

    telephony.send_sms(to=REP, body="Sev-1 INC-42", status_callback=SMS_STATUS)
    network.run()

    statuses = webhooks(seen, "/twilio/sms/status")
    assert [(s["MessageStatus"], s.get("ErrorCode")) for s in statuses] == [("sent", None), ("undelivered", "30005")]
    assert rep.sms == []


def test_gather_keys_reach_the_hotline(network, telephony, hotline, clock):
    _, seen = hotline
    rep = network.phone(REP).expect_call(press="1")

    sid = page_by_call(telephony)
    network.run()

    [fetch] = webhooks(seen, "/page/call")
    assert (fetch["CallSid"], fetch["CallStatus"], fetch["Direction"], fetch["To"]) == (
        sid, "in-progress", "outbound-api", REP)
    assert "AnsweredBy" not in fetch
    assert [k["Digits"] for k in webhooks(seen, "/page/keys")] == ["1"]
    statuses = webhooks(seen, "/twilio/voice/status")
    assert [s["CallStatus"] for s in statuses] == ["initiated", "ringing", "in-progress", "completed"]
    assert {s["Timestamp"] for s in statuses} == {rfc2822(clock.now())}
    [call] = rep.calls
    assert "INC-42" in call.heard and "Acknowledged." in call.heard and call.pressed == ["1"]
    network.verify()


def test_dial_bridges_the_customer_with_both_legs_reported(network, telephony, hotline, twilio, clock):
    _, seen = hotline
    start = clock.now()
    network.phone(REP).expect_call(press="2", ring_seconds=5, talk_seconds=30)
    customer = network.phone(CUSTOMER).expect_call(answered=True, ring_seconds=10, talk_seconds=120)

    parent_sid = page_by_call(telephony)
    network.run()

    at = [rfc2822(start + timedelta(seconds=s)) for s in (5, 15, 135, 165)]
    leg = webhooks(seen, "/twilio/voice/customer-status")
    assert [(s["CallStatus"], s["Timestamp"]) for s in leg] == [
        ("initiated", at[0]), ("ringing", at[0]), ("in-progress", at[1]), ("completed", at[2])]
    assert {(s["ParentCallSid"], s["Direction"], s["From"], s["To"]) for s in leg} == {
        (parent_sid, "outbound-dial", HOTLINE, CUSTOMER)}
    assert leg[-1]["CallDuration"] == "120"
    [dialed] = webhooks(seen, "/page/dialed")
    child_sid = leg[0]["CallSid"]
    assert (dialed["DialCallStatus"], dialed["DialCallSid"], dialed["CallSid"]) == ("completed", child_sid, parent_sid)
    parent = webhooks(seen, "/twilio/voice/status")
    assert [(s["CallStatus"], s["Timestamp"]) for s in parent][2:] == [("in-progress", at[0]), ("completed", at[3])]
    assert "connecting you to your engineer" in customer.calls[0].heard
    assert {c.sid: c.parent_call_sid for c in twilio.calls} == {parent_sid: None, child_sid: parent_sid}
    network.verify()


def test_a_machine_answer_is_reported_as_machine_start(network, telephony, hotline):
    _, seen = hotline
    rep = network.phone(REP).expect_call(machine=True)

    page_by_call(telephony, machine_detection="Enable")
    network.run()

    answered = [s for s in webhooks(seen, "/twilio/voice/status") if s["CallStatus"] == "in-progress"]
    assert [s["AnsweredBy"] for s in answered] == ["machine_start"]
    assert webhooks(seen, "/page/call")[0]["AnsweredBy"] == "machine_start"
    assert "Call the hotline back" in rep.calls[0].heard and rep.calls[0].pressed == []


def test_a_human_answer_is_reported_when_detection_was_asked_for(network, telephony, hotline):
    _, seen = hotline
    network.phone(REP).expect_call(press="1")

    page_by_call(telephony, machine_detection="Enable")
    network.run()

    assert webhooks(seen, "/page/call")[0]["AnsweredBy"] == "human"


@pytest.mark.parametrize(("script", "final"), [({"answer": False}, "no-answer"), ({"busy": True}, "busy")])
def test_a_phone_that_does_not_pick_up(network, telephony, hotline, script, final):
    _, seen = hotline
    rep = network.phone(REP).expect_call(**script)

    page_by_call(telephony)
    network.run()

    assert [s["CallStatus"] for s in webhooks(seen, "/twilio/voice/status")] == ["initiated", "ringing", final]
    assert webhooks(seen, "/page/call") == []
    assert rep.calls[0].status == final


def test_an_unexpected_sms_fails_the_test(network, telephony):
    telephony.send_sms(to=REP, body="Sev-1 INC-42", status_callback=SMS_STATUS)

    with pytest.raises(UnexpectedPage, match="unexpected SMS to \\+14155550111"):
        network.run()


def test_an_unexpected_call_fails_the_test(network, telephony):
    network.phone(REP).expect_sms(contains="INC-42")

    page_by_call(telephony)

    with pytest.raises(UnexpectedPage, match="unexpected call to \\+14155550111"):
        network.run()


def test_unmet_expectations_fail_verify(network):
    network.phone(REP).expect_call(press="1")

    network.run()
    with pytest.raises(UnexpectedPage, match="call"):
        network.verify()


def test_webhooks_signed_with_another_token_are_refused(twilio, hotline, telephony, clock):
    app, seen = hotline
    forged = PhoneNetwork(twilio, flask_transport(app.test_client()), "not-the-token", app_base_url=PUBLIC,
                          clock=clock)
    forged.phone(REP).expect_sms(contains="INC-42")

    telephony.send_sms(to=REP, body="Sev-1 INC-42", status_callback=SMS_STATUS)

    with pytest.raises(WebhookFailed, match="403"):
        forged.run()
    assert seen == []
