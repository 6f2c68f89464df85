"""A page or alert call answered by voicemail says what the page says for its purpose and state (which alert, the
deadline on the rep's clock or that it passed, the reference digit by digit) and how to act by SMS, pointing to the
page's SMS only when that SMS went. Until session 44 every voicemail said "Severity 1 page for incident ... Please
reply to the text message, or open the link in it.": to a rep called because that very SMS was undelivered, of an
at-risk alert whose SMS has no link, and to the owner who had already acknowledged (outside probe H, F1)."""

from __future__ import annotations

from app.services.page_text import spoken_number, spoken_time
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_angle_bracket_words import _timeline
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, LANDLINE, _policy, _work

TEXT_HOTLINE = f"Text the hotline's number, {spoken_number(HOTLINE_NUMBER)}, with"



def _last_four(number: str) -> str:
    """The callback number's last four digits as the voice page says them (after its own fields)."""
    return ", ".join(number[-4:])

def test_the_fallback_call_of_an_undelivered_page_sms_never_points_to_that_sms(desk, network):
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(machine=True)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    [call] = alice.calls
    ref = ", ".join(incident.reference)
    due = spoken_time(incident.callback_due_at, "America/Los_Angeles")
    assert call.heard == (
        f"Severity 1 page. Incident {ref}, for Acme Mail: API calls failing. The customer must be called back by "
        f"{due}. The number to call back ends in {_last_four(LANDLINE)}. The text message of this page has not reached "
        f"you. This page is not acknowledged. {TEXT_HOTLINE} "
        "ACK and the reference to acknowledge it, or CALL and the reference to be connected to the customer now.")
    assert "Reply to the text message" not in call.heard and "link" not in call.heard
    assert desk.incident(incident.id).acknowledged_at is None
    # and the rep acts on it as told: texting the hotline's number
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()


def test_an_undelivered_at_risk_alert_reaches_the_owner_s_voicemail_as_an_at_risk_alert(desk, network):
    # the probe's Alice: she had acknowledged; her at-risk SMS was undelivered, the call reached her voicemail
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_sms("AT RISK", fail="undelivered").expect_call(machine=True)
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    call = alice.calls[-1]
    ref = ", ".join(incident.reference)
    due = spoken_time(incident.callback_due_at, "America/Los_Angeles")
    acked = spoken_time(desk.t0, "America/Los_Angeles")
    assert call.answered_by.startswith("machine")
    assert call.heard == (
        f"Severity 1 page. Incident {ref}, for Acme Mail: API calls failing. The customer must be called back by "
        f"{due}. The number to call back ends in {_last_four(CUSTOMER)}. This is an at-risk alert: the deadline is "
        "near and no callback has reached the customer. The text "
        f"message of this page has not reached you. You acknowledged it at {acked}. {TEXT_HOTLINE} CALL and the "
        "reference to be connected to the customer now.")
    assert "ACK" not in call.heard and "to acknowledge" not in call.heard and "Reply to the text" not in call.heard


def test_a_breach_alert_on_a_manager_s_voicemail_says_breached_who_has_it_and_how_to_take_it_over(desk, network):
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    maria = network.phone(MARIA).expect_sms("BREACHED").expect_call(machine=True)
    network.phone(CUSTOMER).expect_sms("have not reached you")
    desk.at(minutes=15)
    call = maria.calls[-1]
    ref = ", ".join(incident.reference)
    assert call.heard == (
        f"Severity 1 page. Incident {ref}, for Acme Mail: API calls failing. The callback deadline, "
        f"{spoken_time(incident.callback_due_at)}, has passed: the customer must be called back now. The number to "
        f"call back ends in {_last_four(CUSTOMER)}. This is a breach alert: the deadline has passed and no callback has reached the customer. It was acknowledged by Alice Primary at "
        f"{spoken_time(desk.t0)}. Reply to the text message with CALL and the reference to take it over and be "
        "connected to the customer now.")


def test_the_owner_s_own_page_on_voicemail_after_she_acknowledged_is_not_asked_to_acknowledge(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(machine=True)
    incident = desk.open_incident()
    _work(desk)  # the page call rings while she acknowledges by SMS
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()
    [call] = alice.calls
    at = spoken_time(desk.clock.now(), "America/Los_Angeles")
    assert call.heard.endswith(f"You acknowledged it at {at}. Reply to the text message with CALL and the reference "
                               "to be connected to the customer now.")
    assert "not acknowledged" not in call.heard and "ACK" not in call.heard and "link" not in call.heard


def test_a_voicemail_for_a_customer_without_a_number_points_to_the_board_when_the_sms_failed(desk, network):
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(machine=True)
    desk.email_only_incident()
    desk.settle()
    [call] = alice.calls
    assert "The customer left no callback number: reach them in writing by" in call.heard
    assert "the e-mail address is on the board" in call.heard and "in the text message" not in call.heard
    assert call.heard.endswith(f"{TEXT_HOTLINE} ACK and the reference to acknowledge it.")
    assert "CALL" not in call.heard


def test_a_page_call_leaves_its_message_after_the_voicemail_greeting_and_the_timeline_says_it_was_left(
        desk, network, twilio, client):
    # probe Q2: with MachineDetection=Enable the message was said as soon as the greeting was recognised, over it
    _policy(desk, "sms")
    alice = network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(machine=True)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    [page_call] = [c for c in twilio.calls if "/twilio/page/voice" in c.url]
    assert page_call.machine_detection == "DetectMessageEnd"  # Twilio answers a machine after its greeting (the beep)
    assert alice.calls[-1].answered_by == "machine_end_beep" and "Severity 1 page" in alice.calls[-1].heard
    lines, _ = _timeline(desk, client, incident.reference)
    assert any("reached voicemail; its message was left after the greeting" in line for line in lines)


def test_a_page_message_said_over_a_voicemail_greeting_is_not_claimed_left(desk, network, client):
    # a machine_start answer (detection that did not wait for the greeting's end): what was said may be lost
    _policy(desk, "sms")
    network.phone(ALICE).expect_sms("SEV1", fail="undelivered").expect_call(machine=True, answered_by="machine_start")
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    lines, _ = _timeline(desk, client, incident.reference)
    [line] = [line for line in lines if "reached voicemail" in line]
    assert "while its greeting played; no message is known to have been recorded" in line and "left after" not in line
