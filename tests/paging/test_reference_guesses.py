"""Guessing incident references (and ticket numbers) at the ticket prompt is limited, per caller ID and overall.

Outside probe M (M5): 15 calls from one caller ID keyed 30 random six-digit numbers in one second, nothing stopped
them, and a hit heard the incident's deadline and the last digits of its callback number, could add words the reps
read as the customer's, and be bridged live to a rep announced as the customer. Now wrong numbers count like wrong
PINs: past the limit a keyed number is not looked up, and the caller goes on to report as a new caller.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import IncidentEvent
from app.services.reference_guesses import WRONG_OVERALL, WRONG_PER_CALLER, note_wrong
from ivr_flows.prompts import say_digits
from tests.paging.test_reference_at_ticket_prompt import _call
from tests.paging.test_sms_replies import _one_open_page

GUESSER = "+19175550123"


def _key(desk, caller: str, *numbers: str) -> str:
    """A call from ``caller`` keying ``numbers`` at the ticket prompt (two at most: the prompt asks twice); what it
    heard after the last."""
    call = _call(desk, caller)
    call.press("1")  # English
    call.press("1")  # API calls failing
    heard = ""
    for number in numbers:
        heard = " ".join(call.press(f"{number}#").said)
    return heard


def _guess(desk, caller: str, wrong: int) -> None:
    for first in range(0, wrong, 2):
        _key(desk, caller, *[f"{100000 + n:06d}" for n in range(first, min(first + 2, wrong))])


def _lines(desk, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind)))




def test_a_caller_past_the_limit_of_wrong_numbers_is_not_looked_up_and_goes_on_as_a_new_caller(desk, network):
    incident = _one_open_page(desk, network)
    _guess(desk, GUESSER, WRONG_PER_CALLER)
    wrong = _lines(desk, "keyed_number_not_found")
    assert len(wrong) == WRONG_PER_CALLER  # each logged, its digits never
    assert all(set(line.detail) == {"caller", "digits"} and line.detail["digits"] == 6 for line in wrong)
    heard = _key(desk, GUESSER, incident.reference)  # a hit, but past the limit
    assert say_digits(incident.reference) not in heard and "open incident" not in heard
    assert "continue without it" in heard and "name of your company" in heard  # never turned away
    assert len(_lines(desk, "ticket_lookup_refused")) == 1
    # another caller ID has its own count; and an hour later the guesser's is spent
    assert say_digits(incident.reference) in _key(desk, "+19175550124", incident.reference)
    desk.clock.advance(minutes=61)
    assert say_digits(incident.reference) in _key(desk, GUESSER, incident.reference)


def test_wrong_numbers_from_many_caller_ids_together_reach_a_limit_too(desk, network):
    incident = _one_open_page(desk, network)
    with desk.hotline.db.transaction() as s:  # earlier in the hour: one wrong number each from many caller IDs
        for n in range(WRONG_OVERALL - 1):
            note_wrong(s, f"CA{n:032d}", f"+1917555{n:04d}", "100000", desk.clock.now() - timedelta(minutes=30))
    _guess(desk, "+19175558888", 1)  # the last one the hour takes
    assert len(_lines(desk, "keyed_number_not_found")) == WRONG_OVERALL
    heard = _key(desk, "+19175559999", incident.reference)  # a new caller ID: its first number, not looked up
    assert say_digits(incident.reference) not in heard and "name of your company" in heard
