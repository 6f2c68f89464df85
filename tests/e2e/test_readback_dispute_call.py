"""Whole calls: a caller who says the read-back is wrong, and a caller ID we may not dial, through the webhooks."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident
from app.services.events import events_of


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _to_readback(call, company: str = "Globex") -> None:
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say(company)
    call.say("Jane Doe")


def _incident(hotline) -> tuple[Incident, list[str]]:
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        return incident, [e.kind for e in events_of(s, incident)]


def test_that_is_not_correct_at_the_read_back_asks_what_to_correct_and_saves_nothing_yet(phone, hotline):
    call = phone("+14155550100")
    _to_readback(call, "Globe X")
    call.press("1")  # the caller ID
    call.say("jane at globex dot com")
    call.press("1")
    call.say("Every API call returns 500.")
    readback = call.record(seconds=5)
    assert "Company: Globe X." in _said(readback)
    disputed = call.say("That's not correct.")
    assert disputed.kind == "gather" and disputed.said[0] == "Which detail should I correct?"
    assert "If all of this is correct, press 1." in _said(disputed)
    _, kinds = _incident(hotline)  # opened at the confirmed number, but not completed as confirmed
    assert "readback_confirmed" not in kinds and "incident_completed" not in kinds
    assert "Please say the name of your company." in _said(call.press("2"))
    assert "Company: Globex." in _said(call.say("Globex"))
    closing = call.press("1")
    assert "Your incident reference is" in _said(closing)
    incident, kinds = _incident(hotline)
    assert incident.company == "Globex" and "readback_confirmed" in kinds


def test_a_premium_rate_caller_id_is_not_promised_a_call_back_on_it(phone, hotline):
    call = phone("+19005551234")
    _to_readback(call)
    for _ in range(3):
        call.press("#")  # no other number to give
    call.say("jane at globex dot com")
    call.press("1")
    call.say("Every API call returns 500.")
    call.record(seconds=5)
    closing = call.press("1")
    text = _said(closing)
    assert "the number you're calling from" not in text and "reach you by e-mail" in text
    incident, _ = _incident(hotline)
    assert incident.callback_phone == "" and incident.email == "jane@globex.com"
