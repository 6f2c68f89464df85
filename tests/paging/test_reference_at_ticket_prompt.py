"""A customer calling about their open incident from another phone keys its reference at the ticket prompt: that
proves it, as at the repeat-caller menu, and they reach their incident (its status, adding to it).

Outside probe (session 43): the receipt and the intake call the six digits a "reference", and the ticket prompt is
the only place such a caller can key anything; they heard "I could not find ticket 9, 8, 1, 3, 1, 2", and a new,
unlinked incident was opened and paged as a new Sev-1 with a promise of its own.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Incident, IncidentEvent
from hotline_sim.phone import SimulatedCall, flask_transport
from ivr_flows.prompts import say_digits
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER

OTHER_PHONE = "+14155550198"


def _call(desk, caller: str) -> SimulatedCall:
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=caller)
    call.dial()
    return call


def test_the_reference_keyed_at_the_ticket_prompt_reaches_the_callers_incident(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    call = _call(desk, OTHER_PHONE)
    call.press("1")  # English
    call.press("1")  # API calls failing
    heard = " ".join(call.press(f"{incident.reference}#").said)
    assert "could not find ticket" not in heard
    assert say_digits(incident.reference) in heard  # proven: its reference and status are said
    call.press("1")  # add to it
    alice.expect_sms("the customer called again and added: \"Please call my mobile")  # texted to the reps paged
    call.say("Please call my mobile, plus one four one five five five five zero one nine eight, instead.")
    call.hang_up()
    desk.settle()
    with desk.hotline.db.session() as s:
        assert s.scalar(select(func.count(Incident.id))) == 1  # no new incident, no new promise
        added = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                      IncidentEvent.kind == "information_added")).all()
        verified = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.call_sid == call.call_sid,
                                                                IncidentEvent.kind == "caller_verified")).all()
    assert [e.detail["text"] for e in added] == [
        "Please call my mobile, plus one four one five five five five zero one nine eight, instead."]
    assert verified == [{"how": "reference_at_ticket_prompt"}]
    assert alice.unmet == []


def test_six_digits_that_are_no_open_incidents_reference_are_still_a_ticket_not_found(desk, network):
    call = _call(desk, OTHER_PHONE)
    call.press("1")
    call.press("1")
    assert "I could not find ticket 9, 8, 1, 3, 1, 2." in " ".join(call.press("981312#").said)


def test_a_caller_on_another_phone_hears_which_phone_the_callback_rings_never_the_whole_number(desk, network):
    # an outside probe's customer, calling from another phone, heard "An engineer will call you back by ..." and
    # could wait by the phone in their hand: the callback rings the number the intake took, +1 415 555 0100
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    call = _call(desk, OTHER_PHONE)
    call.press("1")
    call.press("1")
    heard = " ".join(call.press(f"{incident.reference}#").said)
    assert "will call you back by" in heard
    assert "We will call the number ending in 0, 1, 0, 0, not the phone you are calling from." in heard
    assert "5, 5, 5" not in heard and "5 5 5" not in heard  # its last digits only: a reference is no PIN
    call.press("1")  # add to it
    alice.expect_sms("the customer called again and added")
    closing = " ".join(call.say("The backup MX fails too.").said + call.record(seconds=0).said)
    assert "We will call the number ending in 0, 1, 0, 0, not the phone you are calling from." in closing
    call.hang_up()
    desk.settle()

    mine = _call(desk, CUSTOMER)  # from the number it rings: said so
    mine.press("1")
    mine.press("1")  # hear its status
    assert "We will call the number you are calling from." in " ".join(mine.press(f"{incident.reference}#").said)
    mine.hang_up()
    desk.settle()
    assert alice.unmet == []
