"""A bridged callback that rang the customer's phone without a person pressing the key: the customer, who only
saw a missed call, gets one SMS saying who tried, from which number, and how to reach the hotline now. A customer
leg that never rang (Twilio: failed, canceled) texts nothing: nobody tried to call them that they could see."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from app.models import Callback, Incident, IncidentEvent, IncidentFactsRow, Page, Rep
from app.services.callbacks import open_callback
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_twilio_failures import _signed_post

HOTLINE = "+15005550006"
MISSED = "tried to call you"


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _missed_pages(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "callback_missed")
                              .order_by(Page.id)))


@pytest.mark.parametrize(("leg", "outcome"), [({"answer": False}, "attempted"), ({"busy": True}, "attempted"),
                                              ({"machine": True}, "voicemail")])
def test_a_callback_nobody_picks_up_texts_the_customer_exactly_once(desk, network, leg, outcome):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(**leg).expect_sms(MISSED)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()

    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == outcome and callback.person_confirmed_at is None
    [missed] = [body for body in customer.sms if MISSED in body]  # one SMS for the one attempt
    assert incident.reference in missed and HOTLINE in missed and "call you again" in missed
    assert "reply to this SMS" in missed and "PST" in missed  # on the customer's clock, like the receipt
    assert [p.role for p in _missed_pages(desk, incident.id)] == ["customer"]
    # the rep hears why: a busy line is no "did not answer" (the customer may be on the phone to the hotline)
    heard = network.phone(ALICE).calls[-1].heard
    assert ("The customer's line is busy" in heard) == bool(leg.get("busy"))
    assert ("The customer did not answer" in heard) == bool("answer" in leg)
    network.verify()


def test_each_missed_attempt_is_told_and_a_callback_answered_with_a_key_is_not(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answer=False).expect_sms(MISSED).expect_call(press="1", answered=True)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "1"])  # 1: try the customer again
    incident = desk.open_incident()
    desk.settle()

    first, second = _callbacks(desk, incident.id)
    assert first.outcome == "attempted" and second.outcome == "met"
    assert len([body for body in customer.sms if MISSED in body]) == 1  # the met second attempt texts nothing
    assert len(_missed_pages(desk, incident.id)) == 1
    network.verify()


def test_a_callback_answered_with_a_key_sends_no_missed_call_sms(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()

    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "met"
    assert not [body for body in customer.sms if MISSED in body] and _missed_pages(desk, incident.id) == []
    network.verify()


def test_a_customer_who_picks_up_but_presses_nothing_is_told_too(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answered=True).expect_sms(MISSED)  # answered, no key: never counted, told instead
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()

    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome in ("attempted", "voicemail") and callback.person_confirmed_at is None
    assert len(_missed_pages(desk, incident.id)) == 1
    network.verify()


REP_LEG, CUSTOMER_LEG = "CA" + "4" * 32, "CA" + "5" * 32


def _alice_dials_the_customer(desk, network) -> tuple[Incident, int]:
    """Alice acknowledges at T0 and asks for the callback: the hotline's call to her is up, and her <Dial> places
    the customer's leg. Returns the incident and the callback's id."""
    incident, _ = desk.acknowledged_by_alice(network)
    with desk.hotline.db.transaction() as s:
        alice = s.scalars(select(Rep.id).where(Rep.phone == ALICE)).one()
        callback = open_callback(s, s.get(Incident, incident.id), alice, desk.clock.now(), rep_call_sid=REP_LEG)
        return incident, callback.id


def _twilio_ends_the_customer_leg(desk, callback_id: int, status: str, dial_done_first: bool,
                                  rang: bool | None = None) -> str:
    """Twilio's webhooks for a customer leg that ended ``status`` before anyone answered: the leg's status callbacks
    (a leg that failed or was canceled never rang) and the rep's <Dial action>, in either order. Returns what the
    rep was told (the <Dial action>'s TwiML)."""
    bridge = f"{PUBLIC_BASE_URL}/twilio/bridge"
    leg = {"CallSid": CUSTOMER_LEG, "AccountSid": TEST_ACCOUNT_SID, "Timestamp": format_datetime(desk.clock.now())}
    rang = status not in ("failed", "canceled") if rang is None else rang  # ``rang``: a leg canceled as it rang
    progress = ["initiated"] + (["ringing"] if rang else [])
    for step in progress:
        _signed_post(desk, f"{bridge}/customer-status?callback={callback_id}", {**leg, "CallStatus": step})
    ended = [(f"{bridge}/customer-status?callback={callback_id}", {**leg, "CallStatus": status}),
             (f"{bridge}/dial-done?callback={callback_id}", {"CallSid": REP_LEG, "AccountSid": TEST_ACCOUNT_SID,
                                                               "DialCallStatus": status, "DialCallSid": CUSTOMER_LEG})]
    answers = {url: _signed_post(desk, url, params).get_data(as_text=True)
               for url, params in (reversed(ended) if dial_done_first else ended)}
    return answers[ended[1][0]]


@pytest.mark.parametrize("dial_done_first", [False, True])
@pytest.mark.parametrize(("status", "told"), [("failed", False), ("canceled", False), ("no-answer", True),
                                              ("busy", True)])
def test_only_a_callback_that_rang_the_customer_tells_them_we_tried_to_call(desk, network, status, told,
                                                                            dial_done_first):
    incident, callback_id = _alice_dials_the_customer(desk, network)
    if told:
        network.phone(CUSTOMER).expect_sms(MISSED)  # any other SMS to the customer fails the test
    rep_heard = ET.fromstring(_twilio_ends_the_customer_leg(desk, callback_id, status, dial_done_first))
    desk.settle()

    said = " ".join(s.text for s in rep_heard.iter("Say"))
    placed = status != "failed"  # a call Twilio could not place: the rep checks the number, no "did not answer"
    unanswered = "line is busy" if status == "busy" else "did not answer"  # busy: maybe on the phone to the hotline
    assert ("could not be placed" in said, unanswered in said) == (not placed, placed)
    assert rep_heard.find("Gather").get("action").startswith("/twilio/bridge/retry")  # a retry is offered either way

    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "attempted" and callback.ended_at is not None  # the attempt stands either way
    with desk.hotline.db.session() as s:
        attempted = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "callback_attempted"))]
    assert [d["status"] for d in attempted] == [status]
    with desk.hotline.db.session() as s:  # the compliance report's reading: only a phone that rang was unreachable
        facts = s.get(IncidentFactsRow, incident.id)
        assert (facts.outcome, facts.breach_reason) == (
            ("attempted", "customer unreachable") if told else ("no_callback", "call to the customer failed"))
    assert len(_missed_pages(desk, incident.id)) == len(
        [body for body in network.phone(CUSTOMER).sms if MISSED in body]) == (1 if told else 0)
    network.verify()


@pytest.mark.parametrize("dial_done_first", [False, True])
def test_a_leg_canceled_after_it_rang_tells_the_customer_we_tried_to_call(desk, network, dial_done_first):
    # probe A F8 a: the rep hung up while the customer's phone rang (Twilio: ringing, then canceled); every canceled
    # leg was read as one that never rang, and the customer saw a missed call from the hotline with no text
    incident, callback_id = _alice_dials_the_customer(desk, network)
    network.phone(CUSTOMER).expect_sms(MISSED)
    _twilio_ends_the_customer_leg(desk, callback_id, "canceled", dial_done_first, rang=True)
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "attempted"
    assert [p.role for p in _missed_pages(desk, incident.id)] == ["customer"]
    with desk.hotline.db.session() as s:  # the report reads it as a call that rang, not one never placed
        facts = s.get(IncidentFactsRow, incident.id)
        assert (facts.outcome, facts.breach_reason) == ("attempted", "customer unreachable")
    network.verify()
