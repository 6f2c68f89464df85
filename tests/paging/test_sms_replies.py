"""Reps' SMS replies as real phones send them, through the signed webhook: what is acted on, what the rep is told,
and what the log says."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import Callback, IncidentEvent
from app.models.oncall import Rep
from app.services import leases
from tests.paging.conftest import ALICE, BOB, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from

ALICE_ALT = "+14155550199"
OTHER_CALLER = "+14155550177"


def _events(desk, kind):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _callbacks(desk):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback)))


def _answer(desk, sender, body):
    response = _sms_from(desk, sender, body)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _one_open_page(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    return incident


@pytest.mark.parametrize("typed", ["ACK 12345", "ack 1234567", "CALL 999 999", "Call 999-999"])
def test_a_mistyped_reference_is_refused_and_never_acts_on_the_only_open_page(desk, network, typed):
    incident = _one_open_page(desk, network)
    answer = _answer(desk, ALICE, typed)
    digits = "".join(c for c in typed if c.isdigit())
    assert f"No incident {digits}. Nothing was changed." in answer
    after = desk.incident(incident.id)
    assert after.acknowledged_at is None and after.acknowledged_by is None
    assert _callbacks(desk) == [] and _events(desk, "acknowledged") == []
    [logged] = _events(desk, "sms_unknown_reference")
    assert logged.detail["reference"] == digits and logged.actor == "Alice Primary"


def test_a_reference_typed_with_a_space_is_that_reference(desk, network):
    incident = _one_open_page(desk, network)
    ref = incident.reference
    answer = _answer(desk, ALICE, f"Ack {ref[:3]} {ref[3:]}")
    assert f"Acknowledged {ref}." in answer
    assert desk.incident(incident.id).acknowledged_by is not None


@pytest.mark.parametrize("body", ["“Ack”", "‘ack’", "ACK?", "ACK:{ref}", "ACK#{ref}", " \n ack!\n", "Ack {ref}!!",
                                  "ACK\n> SEV1 {ref} Acme Mail: Reply ACK {ref} or CALL {ref}."])
def test_punctuation_quotes_and_a_quoted_page_around_ack_acknowledge(desk, network, body):
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    incident = _one_open_page(desk, network)
    answer = _answer(desk, ALICE, body.format(ref=incident.reference))
    assert f"Acknowledged {incident.reference}." in answer
    assert desk.incident(incident.id).acknowledged_at == desk.t0
    [ack] = _events(desk, "acknowledged")
    assert ack.detail["via"] == "sms" and ack.incident_id == incident.id
    desk.settle()


def _digits_in(ref: str, zero: int) -> str:
    return "".join(chr(zero + int(d)) for d in ref)


@pytest.mark.parametrize("form", ["full-width", "arabic-indic"])
def test_an_ack_from_a_full_width_keyboard_or_in_other_digits_acknowledges(desk, network, form):
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    incident = _one_open_page(desk, network)
    ref = incident.reference
    body = "ＡＣＫ\u3000" + _digits_in(ref, 0xFF10) if form == "full-width" else "Ack " + _digits_in(ref, 0x0660)
    assert f"Acknowledged {ref}." in _answer(desk, ALICE, body)
    [ack] = _events(desk, "acknowledged")
    assert ack.incident_id == incident.id and desk.incident(incident.id).acknowledged_at == desk.t0
    desk.settle()


@pytest.mark.parametrize("body", ["2 min", "1 sec", "2 mins, in a meeting"])
def test_a_number_of_minutes_is_no_command(desk, network, body):
    incident = _one_open_page(desk, network)
    answer = _answer(desk, ALICE, body)
    assert "Your SMS was not understood. Nothing was changed." in answer  # not taken as ACK or CALL
    assert "Commands: ACK &lt;ref&gt;;" in answer
    after = desk.incident(incident.id)
    assert after.acknowledged_at is None and _callbacks(desk) == []


@pytest.mark.parametrize("body", ["Ja", "Ja, übernehme", "", "   \n ", "x" * 2000, "Sev1 is mine"])
def test_a_reply_that_is_no_command_says_nothing_was_changed_and_is_logged(desk, network, body):
    incident = _one_open_page(desk, network)
    answer = _answer(desk, ALICE, body)
    assert "Your SMS was not understood. Nothing was changed." in answer and "Commands: ACK" in answer
    assert desk.incident(incident.id).acknowledged_at is None and _callbacks(desk) == []
    [logged] = _events(desk, "sms_not_understood")
    assert logged.actor == "Alice Primary" and logged.detail["body"] == body[:160]


def _message(response: str) -> str:
    [message] = [m.text or "" for m in ET.fromstring(response).iter("Message")]
    return message


# every command a rep can text, and how they act (tests/updates/test_rep_update_sms.py, test_acknowledgement.py, ...)
REP_WORDS = ("ACK", "CALL", "CALLED", "UPDATE", "EVERY", "PROPOSE", "WORKAROUND")
GSM_7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
            "¿abcdefghijklmnopqrstuvwxyzäöñüà")


def test_help_lists_every_command_a_rep_can_text_in_one_sms_segment(desk, network):
    _one_open_page(desk, network)
    answer = _message(_answer(desk, ALICE, "help"))
    words = set(re.findall(r"\b[A-Z]{2,}\b", answer))
    assert [w for w in REP_WORDS if w not in words] == [] and "not understood" not in answer
    assert len(answer) <= 160 and set(answer) <= GSM_7  # one segment: 160 GSM-7 characters
    assert _events(desk, "sms_not_understood") == []
    # a reply that is no command gets the same list after "not understood"
    assert _message(_answer(desk, ALICE, "Sev1 is mine")).endswith(answer)


def test_the_page_keys_alone_still_work_by_sms(desk, network):
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    incident = _one_open_page(desk, network)
    assert f"Acknowledged {incident.reference}." in _answer(desk, ALICE, "1")
    desk.settle()


def _two_open_incidents(desk, network):
    """Two open incidents of two callers, both paged to Alice (who has not answered the calls)."""
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(OTHER_CALLER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False).expect_sms("SEV1").expect_call(answer=False)
    first = desk.open_incident()
    second = desk.open_incident(caller=OTHER_CALLER)
    desk.settle()
    return first, second


def test_two_references_in_one_sms_change_nothing_and_say_so(desk, network):
    first, second = _two_open_incidents(desk, network)
    answer = _answer(desk, ALICE, f"ACK {first.reference} CALL {second.reference}")
    assert (f"Your SMS names several incidents ({first.reference}, {second.reference}). Nothing was changed."
            in answer)
    assert desk.incident(first.id).acknowledged_at is None and desk.incident(second.id).acknowledged_at is None
    assert _callbacks(desk) == []
    [logged] = _events(desk, "sms_several_references")
    assert logged.detail["references"] == [first.reference, second.reference]


def test_call_from_the_alternate_phone_says_which_phone_the_hotline_rings(desk, network):
    with desk.hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone == ALICE).values(phone_alt=ALICE_ALT))
    incident = _one_open_page(desk, network)
    answer = _answer(desk, ALICE_ALT, "call")
    assert f"Calling you now on {ALICE} to connect you to Acme Mail ({incident.reference})." in answer
    [callback] = _callbacks(desk)
    assert callback.incident_id == incident.id and desk.incident(incident.id).acknowledged_by == callback.rep_id


def test_a_second_reps_called_is_not_noted_as_theirs_when_one_is_already_recorded(desk, network):
    incident = _one_open_page(desk, network)
    ref = incident.reference
    assert f"Noted: you called the customer of {ref}" in _answer(desk, ALICE, f"CALLED {ref}")
    assert f"Noted: you called the customer of {ref}" in _answer(desk, ALICE, f"CALLED {ref}")  # her own, again
    answer = _answer(desk, BOB, f"CALLED {ref}")  # on call (secondary): may act, but the record is Alice's
    assert "Noted" not in answer
    assert f"already recorded for {ref} by Alice Primary. Nothing was recorded for you." in answer
    [callback] = [c for c in _callbacks(desk) if c.kind == "self_reported"]
    assert callback.rep_id == desk.incident(incident.id).acknowledged_by
    [logged] = _events(desk, "self_report_not_recorded")
    assert logged.actor == "Bob Secondary" and logged.incident_id == incident.id
    desk.settle()


@pytest.mark.parametrize("body", ["ACK {a} {b}", "ack {a}, {b}", "ACK {a} and {b}", "CALLED {a} / {b}"])
def test_two_open_incidents_named_after_one_command_change_nothing(desk, network, body):
    first, second = _two_open_incidents(desk, network)
    answer = _answer(desk, ALICE, body.format(a=first.reference, b=second.reference))
    assert (f"Your SMS names several incidents ({first.reference}, {second.reference}). Nothing was changed."
            in answer)
    assert desk.incident(first.id).acknowledged_at is None and desk.incident(second.id).acknowledged_at is None
    assert _callbacks(desk) == []


def test_another_six_digit_number_that_is_no_incident_is_just_a_number(desk, network):
    incident = _one_open_page(desk, network)
    answer = _answer(desk, ALICE, f"CALLED {incident.reference} spoke to Dana, ticket 734512")
    assert f"Noted: you called the customer of {incident.reference}" in answer
    desk.settle()


def test_words_from_a_reps_number_that_is_also_an_open_incidents_callback_number_reach_that_incident(desk, network):
    incident = _one_open_page(desk, network)
    with desk.hotline.db.transaction() as s:  # the customer's number is also a rep's (a colleague reported it)
        s.execute(update(Rep).where(Rep.phone == ALICE).values(phone_alt=CUSTOMER))
    answer = _answer(desk, CUSTOMER, "The API is still down, please hurry")
    assert f"Thank you. We added your message to incident {incident.reference}." in answer
    assert "not understood" not in answer
    [logged] = _events(desk, "customer_sms_message")
    assert logged.incident_id == incident.id and logged.detail["text"] == "The API is still down, please hurry"
    assert _events(desk, "sms_not_understood") == []
    assert "Acknowledged" in _answer(desk, CUSTOMER, "ACK")  # a rep's command stays a rep's command


@pytest.mark.parametrize("body", ["ack", "Call", "CALLED", "1", "2"])
def test_a_bare_reply_to_a_page_another_rep_acknowledged_says_so_and_changes_nothing(desk, network, body):
    """Bob, paged at T+3, replies to his page a moment after Alice acknowledged it: he is told who has it and
    how to take it over (before: "You have no open Sev-1 page", about the page he had just received)."""
    incident, customer = desk.unanswered_until_minute_3(network)
    customer.expect_sms("has taken your incident")
    assert "Acknowledged" in _answer(desk, ALICE, f"ACK {incident.reference}")
    answer = _answer(desk, BOB, body)
    assert f"{incident.reference} was already acknowledged by Alice Primary at 03:03" in answer
    assert "Nothing was changed" in answer and f"CALL {incident.reference}" in answer
    after = desk.incident(incident.id)
    alice_id = after.acknowledged_by
    assert after.callback_started_at is None and _callbacks(desk) == []
    with desk.hotline.db.session() as s:
        assert s.get(Rep, alice_id).phone == ALICE
    assert len(_events(desk, "acknowledgement_refused")) == 1
    desk.settle()


@pytest.mark.parametrize("worker_runs", [True, False])
def test_call_says_when_no_hotline_worker_runs_to_place_the_call(desk, network, worker_runs):
    """An outside probe killed the worker and texted CALL: the reply said "Calling you now", and the call left only
    33 s later, when the worker was started again (with none, never). The reply says so and how to go on."""
    if worker_runs:  # a worker's watchdog holds its lease, as a running `hotline worker` does
        with desk.hotline.db.transaction() as s:
            assert leases.hold(s, leases.WATCHDOG, "worker-1", desk.clock.now(), timedelta(minutes=5))
    incident = _one_open_page(desk, network)
    answer = _answer(desk, ALICE, f"CALL {incident.reference}")
    assert f"Calling you now on {ALICE} to connect you to Acme Mail ({incident.reference})." in answer
    told = "no hotline worker is running right now" in answer and f"call the customer yourself on {CUSTOMER}" in answer
    assert told is not worker_runs
    [callback] = _callbacks(desk)  # asked for either way: it leaves once a worker runs
    assert callback.incident_id == incident.id


@pytest.mark.parametrize("body", ["Call", "ack"])
def test_a_bare_reply_to_a_new_page_another_rep_took_never_acts_on_the_reps_own_incident(desk, network, body):
    """An outside probe's Dave owned incident X; paged for a new incident Y, which Bob acknowledged first, he replied
    "Call" to Y's page and was connected to X's customer (his "only open page"). A page that recent is what a bare
    reply may answer: he is asked which incident, and nothing is done."""
    first, customer = desk.unanswered_until_minute_3(network)
    customer.expect_sms("has taken your incident")
    assert "Acknowledged" in _answer(desk, BOB, f"ACK {first.reference}")
    other = "+14155550177"
    second_customer = network.phone(other).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=4)
    second = desk.open_incident(caller=other)
    desk.settle()
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=7)  # Bob is paged for the second incident
    second_customer.expect_sms("has taken your incident")
    assert "Acknowledged" in _answer(desk, ALICE, f"ACK {second.reference}")
    answer = _answer(desk, BOB, body)
    assert "several open pages" in answer and first.reference in answer and second.reference in answer
    assert _callbacks(desk) == []  # nobody was dialled
    assert desk.incident(second.id).acknowledged_by != desk.incident(first.id).acknowledged_by
    desk.settle()
