"""Two SMS answers an outside probe found telling a customer something false.

An empty SMS (no words, no picture) from the callback number of open incidents was answered as a stranger's ("your
number matches no open incident"); and a text from the phone the customer called from was answered "Our texts about
it go to the callback number you gave us: please answer them from that number" when that number was a landline no
text can reach (and no e-mail went), without a word of when they would hear next, which was their question.

Through the signed SMS webhook, the simulated Twilio with scripted phones, a fake clock and no SMTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services.customer_text import written_time
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_caller_id_sms import MOBILE, _incident_called_from_mobile, _lines
from tests.updates.test_customer_sms import _text_hotline

UK_LANDLINE = "+442079460123"  # takes calls, never an SMS
QUESTION = "what is the status? when is the next update"


@pytest.mark.parametrize("body", ["", "   "])
def test_an_empty_sms_from_a_customers_number_is_answered_as_theirs_and_notes_nothing(desk, network, body):
    incident, _alice = _incident_called_from_mobile(desk, network)

    [answer] = _text_hotline(desk, body, sender=CUSTOMER)
    assert answer == (f"We received an empty message, so nothing was added to incident {incident.reference}. To add "
                      "to it, reply with your words, or call this number.")
    [from_caller_id] = _text_hotline(desk, body, sender=MOBILE)  # never its reference: a caller ID is no identity
    assert from_caller_id == ("We received an empty message, so nothing was added to your open incident. To add to "
                              "it, reply with your words, or call this number.")
    desk.settle()
    assert _lines(desk, "customer_sms_message") == [] and _lines(desk, "sms_from_unknown_sender") == []


def _landline_incident(desk, network):
    """The customer calls from MOBILE and gives a UK landline as the callback number: no text can reach them."""
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    incident = desk.intake(caller=MOBILE, callback_number="+44 20 7946 0123")[0]
    desk.settle()
    assert (incident.caller_id, incident.callback_phone) == (MOBILE, UK_LANDLINE)
    return incident, alice


def test_a_text_from_the_caller_id_of_a_landline_customer_says_how_and_by_when_they_hear(desk, network):
    incident, alice = _landline_incident(desk, network)
    alice.expect_sms(QUESTION)
    desk.at(minutes=2)

    [answer] = _text_hotline(desk, QUESTION, sender=MOBILE)
    desk.settle()

    due = written_time(incident.callback_due_at, "Europe/London", "en-US", desk.clock.now(), at=True)
    assert answer == ("Thank you. We added your message to your open incident. An engineer will call you back on the "
                      f"callback number you gave us by {due}.")
    assert "texts" not in answer
    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []


def test_once_reached_a_landline_customer_texting_from_the_caller_id_hears_when_the_next_update_comes(desk, network):
    incident, alice = _landline_incident(desk, network)
    desk.at(minutes=5)
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {incident.reference}").get_data(as_text=True)
    desk.settle()
    desk.at(minutes=6)
    alice.expect_sms(QUESTION)

    [answer] = _text_hotline(desk, QUESTION, sender=MOBILE)
    desk.settle()

    next_update = desk.t0 + timedelta(minutes=5 + 60)  # CALLED starts updates at the default hour
    due = written_time(next_update, "Europe/London", "en-US", desk.clock.now(), at=True)
    assert answer == ("Thank you. We added your message to your open incident. An engineer will phone you with "
                      f"updates on the callback number you gave us. Your next update will come by {due}.")
