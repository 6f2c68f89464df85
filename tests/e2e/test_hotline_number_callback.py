"""The hotline's own number (TWILIO_NUMBER) is never a callback number: keyed, spoofed as caller ID, or rescued."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Incident, IncidentEvent, MissedCall, Notice

HOTLINE = "+14155550000"  # a fixed-line number, so only the own-number rule can refuse it
CUSTOMER = "+14155550100"


@pytest.fixture
def settings(settings):
    """A hotline whose Twilio number is an ordinary (fixed-line) US number."""
    return settings.with_overrides(twilio_number=HOTLINE)


@pytest.fixture
def call_from(phone):
    """A call from ``caller`` to the hotline, through triage and the ticket question to the company question."""

    def make(caller: str):
        call = phone(caller, to=HOTLINE)
        call.dial()
        call.press("1")  # English
        call.press("1")  # API calls failing
        call.press("#")  # no ticket
        return call

    return make


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _incidents(hotline) -> list[Incident]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Incident)))


def test_the_hotline_number_keyed_is_refused_and_another_asked_for(call_from, hotline):
    call = call_from("anonymous")
    call.say("Evil Corp")
    call.say("Mallory")
    refused = call.press("4155550000")
    assert refused.kind == "gather"
    assert refused.said[0] == "That number can't be used for a callback: it's this hotline's own number."
    assert "enter the number" in _said(refused)
    assert "plus 1, 4 1 5, 5 5 5, 0 1 0 0" in _said(call.press("14155550100"))
    call.press("1")
    call.hang_up()
    [incident] = _incidents(hotline)
    assert incident.callback_phone == CUSTOMER


def test_a_caller_id_spoofed_as_the_hotline_number_is_not_offered(call_from, hotline):
    call = call_from(HOTLINE)
    call.say("Evil Corp")
    entry = call.say("Mallory")
    assert entry.kind == "gather" and "Can we call you back" not in _said(entry)
    assert "4 1 5, 5 5 5, 0 0 0 0" not in _said(entry)
    assert _said(entry).startswith("Please enter the number we should call you back on")
    assert "plus 1, 4 1 5, 5 5 5, 0 1 0 0" in _said(call.press("14155550100"))
    call.press("1")
    call.hang_up()
    [incident] = _incidents(hotline)
    assert (incident.callback_phone, incident.caller_id) == (CUSTOMER, HOTLINE)


def test_a_spoofed_hotline_caller_id_who_hangs_up_is_never_called_back(call_from, hotline):
    call = call_from(HOTLINE)
    call.say("Evil Corp")
    call.say("Mallory")  # asked for a number; hangs up instead
    call.hang_up()
    assert _incidents(hotline) == []  # not rescued with the hotline as its callback number
    with hotline.db.session() as s:
        kinds = list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.call_sid == call.call_sid)
                                  .order_by(IncidentEvent.id)))
    assert kinds[-1] == "missed_call"  # what they said stays on the missed-calls page; nobody is paged
    with hotline.db.session() as s:
        [missed] = s.scalars(select(MissedCall)).all()
    assert missed.said["company"] == "Evil Corp" and missed.notice_id is None  # the hotline is not texted


def test_a_missed_call_from_the_hotline_number_gets_no_sms(phone, hotline):
    for caller in (HOTLINE, CUSTOMER):
        call = phone(caller, to=HOTLINE)
        call.dial()
        call.hang_up()  # before triage: a missed call
    with hotline.db.session() as s:
        missed = sorted(s.scalars(select(MissedCall.caller_id)))
        texted = list(s.scalars(select(Notice.to_number).where(Notice.purpose == "missed_call")))
    assert missed == [HOTLINE, CUSTOMER]
    assert texted == [CUSTOMER]  # the customer is invited back; the hotline is not texted
