"""The customer's words held by the quarter-hour rule: never dropped by the SMS of their answer, and never held
past a callback still owed.

Through the signed SMS webhook, a repeat call's keypad, the simulated Twilio and scripted phones that fail the test
on any SMS nobody expected.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import Delivery, IncidentEvent
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.test_customer_sms import _called_back, _propose, _rows, _text_hotline

AT_ONCE_WHILE_OWED = 5  # the bound of texts that go at once while the callback is owed (README)
NEW_CONTACT = "Also our SMTP relay smtp2 is down, contact me at jon@acme-mail.example instead"
# words the quarter-hour rule holds (naming no number or address: those go at once, K1)
MORE_DOWN = "Also our SMTP relay smtp2 is down now, the queue is growing"


def _confirm_on_the_keypad(desk, ref: str) -> str:
    """A repeat call: the customer keys their reference, hears the proposal and presses 1; what they heard."""
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    call.press("1")  # English
    call.press("1")  # add information: the reference
    assert "Press 1 to confirm" in " ".join(call.press(ref).said)
    said = " ".join(call.press("1").said)
    call.hang_up()
    return said


@pytest.mark.parametrize("how", ["keypad", "sms_yes", "sms_no"])
def test_words_held_before_the_proposal_come_with_the_answer_and_are_never_dropped(desk, network, smtp, how):
    """An outside probe (F6): the customer's new contact address, held by the quarter-hour rule before the proposal,
    was withdrawn ("quoted_with_answer") when they confirmed on a repeat call's keypad, though the owner's SMS quoted
    only a typo texted after the proposal. It reached nobody."""
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    start = desk.clock.now()
    alice = network.phone(ALICE).expect_sms("the customer texted: Any news?")
    _text_hotline(desk, "Any news?")
    desk.settle()
    _text_hotline(desk, MORE_DOWN)  # within the quarter hour: held for Alice
    desk.settle()
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert held.status == "queued"
    desk.clock.set(start + timedelta(minutes=1))
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "Gateway fixed")
    assert _text_hotline(desk, "YES 999999")[0].startswith("To answer")  # a typo: asked for the reference
    desk.settle()
    desk.clock.set(start + timedelta(minutes=2))
    if how == "keypad":
        alice.expect_sms("confirmed it is resolved")
        assert "closed" in _confirm_on_the_keypad(desk, ref)
    elif how == "sms_yes":
        alice.expect_sms("confirmed it is resolved")
        _text_hotline(desk, f"YES {ref}")
    else:
        alice.expect_sms("NOT resolved")
        _text_hotline(desk, f"NO {ref}")
    desk.settle()
    [answer] = [m for m in alice.sms if "confirmed it is resolved" in m or "NOT resolved" in m]
    assert answer.endswith(f'Before that they texted: "{MORE_DOWN}" / "YES 999999"')
    desk.clock.set(start + timedelta(minutes=20))  # past the quarter hour: no second copy (Alice's phone would fail)
    desk.settle()
    assert alice.unmet == []
    assert sum(MORE_DOWN in m for m in alice.sms) == 1
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert (held.status, held.sent_at) == ("skipped", None)


def test_a_held_sms_whose_words_the_answer_could_not_quote_in_full_still_goes(desk, network, smtp):
    """More held words than one SMS quotes: the answer's SMS quotes what it can, and the held SMS is not withdrawn
    (until this change every held SMS was withdrawn once anything was quoted)."""
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    start = desk.clock.now()
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "Gateway fixed")
    alice = network.phone(ALICE).expect_sms("the customer texted: Checking")
    _text_hotline(desk, "Checking")
    desk.settle()
    long_words = [f"Detail {n}: " + "the relay logs show deferred mail for many domains " * 5 for n in range(4)]
    for words in long_words:
        _text_hotline(desk, words)
        desk.settle()
    alice.expect_sms("confirmed it is resolved")
    _text_hotline(desk, f"YES {ref}")
    desk.settle()
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert held.status == "queued"
    alice.expect_sms("the customer texted since the last SMS")
    desk.clock.set(start + timedelta(minutes=16))
    desk.settle()
    assert alice.unmet == []
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert held.status in ("sent", "delivered")


def test_while_the_callback_is_owed_the_customers_words_go_at_once_up_to_a_bound_never_past_the_deadline(
        desk, network, smtp):
    """An outside probe (F8): the customer's second text during the callback window (a new contact address) was held
    for a quarter hour, past the callback deadline, so it reached the engineer after the call it concerned."""
    incident, alice = desk.acknowledged_by_alice(network)
    start = desk.clock.now()
    words = ["Any news? When will someone call?", NEW_CONTACT] + [f"Update {n}" for n in range(AT_ONCE_WHILE_OWED)]
    for n, said in enumerate(words):
        desk.clock.set(start + timedelta(seconds=20 * (n + 1)))
        if n < AT_ONCE_WHILE_OWED:
            alice.expect_sms(f"the customer texted: {said}")
        _text_hotline(desk, said)
        desk.settle()
        assert alice.unmet == []
    lines = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert [d["owner_told"] for d in lines] == [True] * AT_ONCE_WHILE_OWED + [False] * (len(words) - AT_ONCE_WHILE_OWED)
    # past the bound they are held, but only until the deadline (the quarter hour would end after it)
    due = desk.incident(incident.id).callback_due_at
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert held.next_attempt_at == due and lines[-1]["held_until"] == due.isoformat()
    assert held.body.endswith(" / ".join(f'"{w}"' for w in words[AT_ONCE_WHILE_OWED:]))


NEW_NUMBER = "URGENT: this phone is dying, please call me back on +1 212 555 0199 instead"


def _past_the_bound(desk, incident, alice) -> None:
    """While the callback is owed the customer texts the bound's worth (each to Alice at once), then one more: held."""
    start = desk.clock.now()
    for n in range(AT_ONCE_WHILE_OWED):
        desk.clock.set(start + timedelta(seconds=10 * (n + 1)))
        alice.expect_sms(f"the customer texted: text {n}")
        _text_hotline(desk, f"text {n}")
        desk.settle()
    desk.clock.set(start + timedelta(seconds=70))
    _text_hotline(desk, "any news?")
    desk.settle()
    assert alice.unmet == []
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert held.status == "queued" and held.next_attempt_at == desk.incident(incident.id).callback_due_at


def test_a_text_naming_a_new_number_or_address_goes_at_once_past_the_bound(desk, network, smtp):
    """An outside probe (K1): the customer's tenth text while owed gave a new callback number; it was held until the
    callback deadline, the rep called the dying number, and the customer read "We added your message"."""
    incident, alice = desk.acknowledged_by_alice(network)
    _past_the_bound(desk, incident, alice)
    for said in (NEW_NUMBER, NEW_CONTACT):
        alice.expect_sms(f"the customer texted: {said}")
        _text_hotline(desk, said)
        desk.settle()
        assert alice.unmet == []
    lines = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="customer_sms_message")]
    assert [d["owner_told"] for d in lines[-2:]] == [True, True] and "held_until" not in lines[-1]


def test_a_callback_starting_sends_the_held_words_to_the_rep_at_once(desk, network, smtp):
    """An outside probe (K1): the rep's CALL rang while the customer's words were held until the deadline; the rep
    read them only after the callback it concerned."""
    from tests.paging.test_callback_rep_leg import _sms_from

    incident, alice = desk.acknowledged_by_alice(network)
    _past_the_bound(desk, incident, alice)
    alice.expect_sms('the customer texted since the last SMS: "any news?"').expect_call(answer=False)
    alice.expect_sms("could not reach you")
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    assert alice.unmet == []
    [held] = _rows(desk, Delivery, incident_id=incident.id, purpose="customer_sms_held")
    assert held.status in ("sent", "delivered") and held.next_attempt_at < incident.callback_due_at
    assert "held_words_released" in [e.kind for e in _rows(desk, IncidentEvent, incident_id=incident.id)]
