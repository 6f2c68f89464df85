"""A caller who hung up before triage gets one SMS: "call us again, or reply to this message with your company and
what is failing". A reply is a report: their missed call becomes an incident, paged and promised a callback like
any other, with their words as its problem (an outside probe's missed caller replied as asked and read "This number
is not registered for Sev-1 pages": no incident, no page, the words shown nowhere)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Incident, IncidentEvent, MissedCall
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.test_customer_sms import _text_hotline

INVITED = "your call ended before we could take your details"
WORDS = "Hooli Inc, Gavin. All SMTP injection fails with 421 since 10:00"


def _hang_up_at_the_greeting(desk) -> str:
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    call.hang_up()
    desk.settle()
    return call.call_sid


def _incidents(desk) -> list[Incident]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Incident).order_by(Incident.id)))


def test_a_missed_callers_reply_to_the_invitation_opens_an_incident_that_is_paged_and_promised(desk, network, client):
    customer = network.phone(CUSTOMER).expect_sms(INVITED)
    call_sid = _hang_up_at_the_greeting(desk)
    assert _incidents(desk) == []  # a hang-up before triage pages nobody
    customer.expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_sms(f"the customer texted: {WORDS}")
    alice.expect_call(answer=False)

    assert _text_hotline(desk, WORDS) == []  # no "not registered": the receipt answers them
    desk.settle()

    [incident] = _incidents(desk)
    assert incident.callback_phone == CUSTOMER and incident.problem_text == WORDS and incident.status == "open"
    assert incident.source == "rescued" and incident.call_sid == call_sid
    assert "problem_text" not in incident.missing_fields and "company" in incident.missing_fields
    assert incident.callback_due_at == desk.t0 + timedelta(minutes=15)
    [receipt] = [body for body in customer.sms if "we have your report" in body]
    assert incident.reference in receipt
    with desk.hotline.db.session() as s:
        [missed] = s.scalars(select(MissedCall)).all()
        lines = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)))
        strangers = list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "sms_from_unknown_sender")))
    assert missed.incident_id == incident.id and strangers == []
    assert {"reason": "missed_call_sms_reply", "stage": "language"} in [e.detail for e in lines
                                                                        if e.kind == "incident_rescued"]
    assert [e.detail["text"] for e in lines if e.kind == "customer_sms_message"] == [WORDS]
    assert "step_page" in [e.kind for e in lines]


def test_a_second_reply_is_the_customers_words_on_that_incident_not_a_second_one(desk, network):
    network.phone(CUSTOMER).expect_sms(INVITED).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_sms("the customer texted").expect_call(answer=False)
    _hang_up_at_the_greeting(desk)
    _text_hotline(desk, WORDS)
    desk.settle()
    [incident] = _incidents(desk)
    [answer] = _text_hotline(desk, "Also the API returns 503")
    assert answer.startswith(f"Thank you. We added your message to incident {incident.reference}.")
    assert len(_incidents(desk)) == 1


def test_a_stranger_never_invited_is_still_not_registered_and_opens_nothing(desk, network):
    [answer] = _text_hotline(desk, WORDS)
    assert answer.startswith("This number is not registered for Sev-1 pages.")
    assert _incidents(desk) == []


def test_a_reply_after_the_invitations_day_is_over_opens_nothing(desk, network):
    network.phone(CUSTOMER).expect_sms(INVITED)
    _hang_up_at_the_greeting(desk)
    desk.clock.set(desk.t0 + timedelta(hours=25))
    [answer] = _text_hotline(desk, WORDS)
    assert answer.startswith("This number is not registered for Sev-1 pages.")
    assert _incidents(desk) == []
