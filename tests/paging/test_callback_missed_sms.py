"""A bridged callback that rang the customer's phone without a person pressing the key: the customer, who only
saw a missed call, gets one SMS saying who tried, from which number, and how to reach the hotline now."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Callback, Page
from tests.paging.conftest import ALICE, CUSTOMER

HOTLINE = "+15005550006"
MISSED = "tried to call you"


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _missed_pages(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id,
                                                 Page.purpose == "callback_missed")))


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
