"""A whole call as the speech recognizer writes what a caller says: numbers with "+", dashes, extensions."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident
from app.services.events import events_of


def _said(prompt) -> str:
    return " ".join(prompt.said)


def test_a_withheld_caller_speaks_a_uk_number_with_extension_and_an_email(phone, hotline):
    call = phone("anonymous")
    call.dial()
    call.press("1")
    call.say("API")
    call.press("#")  # no ticket
    call.say("Smith & Jones 24 Ltd")
    assert "enter the number" in _said(call.say("Dana Smith"))
    confirm = call.say("+44 20 7946 0000 extension 204")  # the "+44" was dropped: a number in Maine
    assert "plus 4 4, 2 0, 7 9 4 6, 0 0 0 0" in _said(confirm)
    call.press("1")
    heard = call.say("My email is dana dot smith at smith jones dot co dot uk.")
    assert ("dana dot smith at smithjones dot co dot uk, spelled: D A N A, dot, S M I T H, at, "
            "S M I T H J O N E S, dot, C O, dot, U K.") in _said(heard)
    call.press("1")
    call.say("Every API call answers 500 since 2:40.")
    call.record(seconds=20)
    offer_or_done = call.press("1")
    closing = _said(offer_or_done)
    # the extension read back with the number; the deadline on the caller's clock (was "UTC")
    assert "plus 4 4, 2 0, 7 9 4 6, 0 0 0 0, extension 2, 0, 4 within 15 minutes, by 3:15 a.m. GMT" in closing
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        extension = [e.detail for e in events_of(s, incident) if e.kind == "callback_extension"]
    assert incident.callback_phone == "+442079460000" and incident.email == "dana.smith@smithjones.co.uk"
    assert incident.company == "Smith & Jones 24 Ltd" and incident.caller_id == "anonymous"
    assert extension == [{"extension": "204"}]


def test_an_extension_after_the_hash_key_is_read_back_and_kept_for_the_rep(phone, hotline):
    """The recognizer writes a spoken "hash" as "#": "#204" used to be glued onto the number and refused."""
    call = phone("anonymous")
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("Acme Mail")
    assert "enter the number" in _said(call.say("Dana Smith"))
    confirm = call.say("+1 415 555 0100 #204")
    assert "can't be used" not in _said(confirm)
    assert "plus 1, 4 1 5, 5 5 5, 0 1 0 0, extension 2, 0, 4" in _said(confirm)
    call.press("1")
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        extension = [e.detail for e in events_of(s, incident) if e.kind == "callback_extension"]
    assert incident.callback_phone == "+14155550100" and extension == [{"extension": "204"}]


def test_a_caller_who_says_the_menu_digits_instead_of_pressing_them_is_understood(phone, hotline):
    """'Press 1' menus listen for speech too: 'one' (or '1.', as the recognizer writes it) is the key."""
    call = phone("+14155550100")
    call.dial()
    assert "Is your e-mail sending down?" in _said(call.say("1."))
    ticket = call.say("One.")  # API calls failing
    assert "Sorry" not in _said(ticket) and "ticket number" in _said(ticket)
    call.press("#")
    call.say("Acme Mail")
    call.say("Dana Smith")
    call.say("yes")  # the caller ID
    call.say("dana at acme dot com")
    call.say("yes")
    call.say("Every API call answers 500.")
    readback = call.record(seconds=5)
    fix = call.say("two")  # correct the company
    assert "name of your company" in _said(fix)
    call.say("Acme Mail Incorporated")
    done = call.say("one")
    assert "Sorry" not in _said(done) and "within 15 minutes" in _said(done), _said(readback)
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        kinds = [e.kind for e in events_of(s, incident)]
    assert incident.affected_service == "api" and incident.company == "Acme Mail Incorporated"
    assert "incident_opened_early" in kinds and "readback_confirmed" in kinds


def test_a_hesitation_at_the_company_question_is_asked_again_not_recorded(phone, hotline):
    call = phone("+14155550100")
    call.dial()
    call.press("1")
    call.press("1")
    call.press("#")
    again = call.say("Uh.")  # was recorded as the company "Uh." and never marked missing
    assert "didn't get that" in _said(again) and "name of your company" in _said(again)
    call.say("Acme Mail")
    call.say("Dana Smith")
    call.press("1")
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert incident.company == "Acme Mail"
