"""A repeat caller who was already called back hears so, never "we will call you back" or an apology for not calling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr_flows import IncidentInfo

from .flow_driver import NOW, Call, round_trip


@pytest.mark.parametrize("due_in", [timedelta(minutes=9), timedelta(minutes=-30)])
def test_repeat_caller_already_called_back_hears_it_in_english(due_in):
    incident = IncidentInfo(reference="123456", callback_due_at=NOW + due_in, acknowledged=True, called_back=True)
    call = Call(open_incident=incident)
    call.press("1")
    assert "open incident for the number you are calling from" in call.said and "called you back" not in call.said
    call.press("1")
    call.press("123456#")  # its status after proof
    assert "sorry we haven't called you back" not in call.said and "will call you back" not in call.said
    assert "We have called you back, and our team is working on it" in call.said


def test_repeat_caller_already_called_back_hears_it_in_german():
    incident = IncidentInfo(reference="123456", callback_due_at=NOW - timedelta(minutes=30), acknowledged=True,
                            called_back=True)
    call = Call(open_incident=incident)
    call.press("2")
    assert "zurückgerufen" not in call.said
    call.press("1")
    call.press("123456#")  # its status after proof
    assert "noch nicht zurückgerufen" not in call.said and "ruft Sie" not in call.said
    assert "Wir haben Sie bereits zurückgerufen" in call.said


def test_called_back_survives_the_call_state_round_trip():
    call = Call(open_incident=IncidentInfo("123456", NOW, acknowledged=True, called_back=True))
    call.press("1")
    assert round_trip(call.state).incident.called_back is True


def _verified_adds_info(incident: IncidentInfo, saved_due) -> Call:
    call = Call(open_incident=incident)
    call.press("1")  # English
    call.press("1")  # add information
    call.press("123456#")  # the reference from the receipt SMS
    call.speak("Now SMTP fails too.")
    call.record("https://api.twilio.com/rec/RE7", 12)
    call.saved("123456", saved_due)
    return call


def test_information_added_after_the_deadline_is_never_told_a_past_callback_time():
    due = NOW - timedelta(minutes=20)
    call = _verified_adds_info(IncidentInfo("123456", due), due)
    assert "we added this to incident" in call.said
    assert "will call you back by" not in call.said.split("we added this to incident")[1]
    assert "sorry we haven't called you back yet" in call.said.split("we added this to incident")[1]


def test_information_added_after_the_callback_is_never_promised_another():
    due = NOW + timedelta(minutes=5)
    call = _verified_adds_info(IncidentInfo("123456", due, acknowledged=True, called_back=True), due)
    closing = call.said.split("we added this to incident")[1]
    assert "will call you back" not in closing and "We have called you back" in closing


def _status(incident: IncidentInfo, language: str = "1") -> str:
    call = Call(open_incident=incident)
    call.press(language)
    call.press("1")
    call.press("123456#")  # its status after proof
    return call.said


def test_a_reached_customer_hears_when_their_next_update_comes_and_never_a_time_past():
    reached = IncidentInfo("123456", NOW - timedelta(minutes=30), acknowledged=True, called_back=True,
                           next_update_at=NOW + timedelta(minutes=40))
    assert "We have called you back, and our team is working on it. Your next update will come by" in _status(reached)
    assert "Das nächste Update erhalten Sie spätestens" in _status(reached, "2")
    overdue = IncidentInfo("123456", NOW - timedelta(minutes=30), acknowledged=True, called_back=True,
                           next_update_at=NOW - timedelta(minutes=1))
    assert "next update" not in _status(overdue)


def test_a_customer_reached_by_email_is_never_told_they_were_called():
    reached = IncidentInfo("123456", NOW - timedelta(minutes=30), acknowledged=True, called_back=True, by_email=True)
    said = _status(reached)
    assert "We have been in touch with you, and our team is working on it." in said and "called you" not in said


def test_the_next_update_survives_the_call_state_round_trip():
    due = NOW + timedelta(minutes=40)
    call = Call(open_incident=IncidentInfo("123456", NOW, acknowledged=True, called_back=True, next_update_at=due))
    call.press("1")
    assert round_trip(call.state).incident.next_update_at == due
