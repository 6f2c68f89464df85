"""Words texted from the phone an open incident's call came from (its caller ID), when the callback number given
was another: logged on that incident as the customer's words, marked as from the caller ID, and texted to whoever
works it, as words from the callback number are. An outside probe's customer read "This number is not registered
for Sev-1 pages. Nothing was changed." and their words reached nobody. A stranger's SMS is answered in words a
customer understands."""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import WORDS as TIMELINE_WORDS
from app.models import IncidentEvent
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.test_customer_sms import _text_hotline

MOBILE = "+14155550188"  # the phone the customer calls from; they give CUSTOMER as the callback number
MARK = "[from the number they called from, not the callback number: unverified]"


def _lines(desk, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _incident_called_from_mobile(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.intake(caller=MOBILE, callback_number="415-555-0100")[0]
    desk.settle()
    assert (incident.caller_id, incident.callback_phone) == (MOBILE, CUSTOMER)
    return incident, alice


def test_words_from_the_caller_id_reach_the_incident_and_the_rep_paged_for_it(desk, network):
    incident, alice = _incident_called_from_mobile(desk, network)
    words = f"This is Gavin from Hooli, ref {incident.reference}, please call my mobile instead"
    alice.expect_sms(f"the customer texted: {MARK} {words}")

    [answer] = _text_hotline(desk, words, sender=MOBILE)
    desk.settle()

    assert answer == (f"Thank you. We added your message to incident {incident.reference}. Our texts about it go to "
                      "the callback number you gave us: please answer them from that number.")
    [line] = _lines(desk, "customer_sms_message")
    assert line.incident_id == incident.id and line.actor == "customer"
    assert line.detail["text"] == words and line.detail["from"] == "caller_id" and line.detail["owner_told"]
    shown, _tone = TIMELINE_WORDS["customer_sms_message"](line.detail, "")
    assert shown.startswith("Customer texted from the number they called from, not the callback number (unverified)")
    assert _lines(desk, "sms_from_unknown_sender") == []
    [to_alice] = [m for m in desk.network.twilio.messages if m.to == ALICE and MARK in m.body]
    assert words in to_alice.body


def test_words_from_the_caller_id_naming_no_reference_are_added_and_answered_without_it(desk, network):
    incident, alice = _incident_called_from_mobile(desk, network)
    alice.expect_sms(f"{MARK} Also SMTP is down now")
    [answer] = _text_hotline(desk, "Also SMTP is down now", sender=MOBILE)
    desk.settle()
    assert incident.reference not in answer  # a caller ID is no identity: the reference is texted to no one who
    assert answer.startswith("Thank you. We added your message to your open incident.")  # did not name it
    [line] = _lines(desk, "customer_sms_message")
    assert line.incident_id == incident.id and line.detail["from"] == "caller_id"


def test_a_strangers_sms_is_answered_in_customer_words_and_in_german_for_a_german_number(desk, network):
    [answer] = _text_hotline(desk, "Hello, our mail is down", sender="+14155559999")
    assert "not registered" not in answer
    assert answer.startswith("Sev-1 hotline: your number matches no open incident, so your message paged nobody "
                             "(our staff see it only in a list). To report a critical outage or add to your incident, call this number.")
    [german] = _text_hotline(desk, "Hallo, unsere Mails gehen nicht raus", sender="+491701234567")
    assert german.startswith("Sev-1-Hotline: Ihre Nummer gehört zu keinem offenen Vorfall")
    assert len(_lines(desk, "sms_from_unknown_sender")) == 2
