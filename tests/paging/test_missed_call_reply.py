"""A caller who hung up before triage gets one SMS: "call us again, or reply to this message with your company and
what is failing". A reply is a report: their missed call becomes an incident, paged and promised a callback like
any other, with their words as its problem (an outside probe's missed caller replied as asked and read "This number
is not registered for Sev-1 pages": no incident, no page, the words shown nowhere)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import Role
from app.dashboard.timeline import WORDS as TIMELINE_WORDS
from app.models import Incident, IncidentEvent, MissedCall, SmsOptOut
from app.services.events import events_of
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import login_as
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

    assert _text_hotline(desk, WORDS) == []  # no stranger's answer: the receipt answers them
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


def test_a_stranger_never_invited_is_still_a_stranger_and_opens_nothing(desk, network):
    [answer] = _text_hotline(desk, WORDS)
    assert answer.startswith("Sev-1 hotline: your number matches no open incident")
    assert _incidents(desk) == []


def test_a_reply_after_the_invitations_day_is_over_opens_nothing(desk, network):
    network.phone(CUSTOMER).expect_sms(INVITED)
    _hang_up_at_the_greeting(desk)
    desk.clock.set(desk.t0 + timedelta(hours=25))
    [answer] = _text_hotline(desk, WORDS)
    assert answer.startswith("Sev-1 hotline: your number matches no open incident")
    assert _incidents(desk) == []


# a pocket dial or a spoofed caller ID: the number's owner never called, and says so
NOT_THEIRS = "Who is this? I never called you, wrong number"
SORRY = ("Sev-1 hotline: sorry for our message. Nothing was opened and nobody will call you. If your e-mail sending "
         "is down, please call this number.")
ENTSCHULDIGUNG = ("Severity-1-Hotline: Entschuldigen Sie bitte unsere SMS. Es wurde nichts angelegt, niemand wird Sie "
                  "anrufen. Wenn Ihr E-Mail-Versand ausgefallen ist, rufen Sie bitte diese Nummer an.")
DE_MOBILE = "+491701234567"


def _not_theirs_lines(desk) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "missed_call_not_theirs")
                              .order_by(IncidentEvent.id)))


def _sent(desk) -> list[tuple[str, str]]:
    """Every SMS and call the hotline asked Twilio for: (to, body) and (to, "call")."""
    twilio = desk.network.twilio
    return ([(m.to, m.body) for m in twilio.messages if m.direction != "inbound"]
            + [(c.to, "call") for c in twilio.calls if c.direction == "outbound-api"])


@pytest.mark.parametrize("reply", [NOT_THEIRS, "wrong #", "Not me", "I didn’t call", "stop texting me"])
def test_a_reply_saying_the_call_was_not_theirs_opens_nothing_pages_nobody_and_is_answered(desk, network, reply):
    network.phone(CUSTOMER).expect_sms(INVITED)  # no receipt; nobody else is texted or called (network.verify)
    call_sid = _hang_up_at_the_greeting(desk)
    [invitation] = _sent(desk)

    assert _text_hotline(desk, reply) == [SORRY]
    desk.settle()

    assert _incidents(desk) == [] and _sent(desk) == [invitation]
    with desk.hotline.db.session() as s:
        [missed] = s.scalars(select(MissedCall)).all()
        rescued = list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "incident_rescued")))
    assert missed.incident_id is None and rescued == []
    [line] = _not_theirs_lines(desk)
    assert line.call_sid == call_sid and line.incident_id is None and line.actor == "unknown"
    assert line.detail == {"missed_call_id": missed.id, "text": reply, "answered": True, "language": "en-US"}
    assert TIMELINE_WORDS[line.kind](line.detail, "")[0] == (
        f'A reply to the missed-call SMS said the call was not theirs: "{reply}"; nothing was opened or paged')


def test_the_owner_of_the_number_is_answered_once_and_each_reply_is_logged(desk, network):
    network.phone(CUSTOMER).expect_sms(INVITED)
    _hang_up_at_the_greeting(desk)
    assert _text_hotline(desk, NOT_THEIRS) == [SORRY]
    assert _text_hotline(desk, "STOP TEXTING ME. WRONG NUMBER!") == []  # no SMS exchange with a stranger
    desk.settle()
    assert _incidents(desk) == []
    assert [(e.detail["text"], e.detail["answered"]) for e in _not_theirs_lines(desk)] == [
        (NOT_THEIRS, True), ("STOP TEXTING ME. WRONG NUMBER!", False)]
    login_as(desk.client, desk.hotline, Role.REP)
    page = desk.client.get("/missed-calls").get_data(as_text=True)  # why nothing was opened, for the reps
    assert "Replied it was not their call: &ldquo;STOP TEXTING ME. WRONG NUMBER!&rdquo;; nothing opened" in page


def test_a_report_after_a_wrong_number_reply_still_opens_the_incident_and_shows_that_reply(desk, network):
    network.phone(CUSTOMER).expect_sms(INVITED).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_sms(f"the customer texted: {WORDS}").expect_call(answer=False)
    call_sid = _hang_up_at_the_greeting(desk)
    assert _text_hotline(desk, "not me") == [SORRY]
    desk.clock.set(desk.t0 + timedelta(minutes=5))  # a colleague of theirs did call: they ask, and report
    assert _text_hotline(desk, WORDS) == []  # the receipt answers them
    desk.settle()

    [incident] = _incidents(desk)
    assert incident.call_sid == call_sid and incident.problem_text == WORDS and incident.source == "rescued"
    assert incident.callback_due_at == desk.t0 + timedelta(minutes=20)
    with desk.hotline.db.session() as s:
        kinds = [e.kind for e in events_of(s, incident)]
    assert "missed_call_not_theirs" in kinds and "incident_rescued" in kinds and "step_page" in kinds


@pytest.mark.parametrize("report", ["Acme Mail, SMTP down, wrong number of messages delivered",
                                    "Wrong number? No, Globex here, our outbound email is failing"])
def test_a_report_that_says_wrong_number_is_still_a_report(desk, network, report):
    network.phone(CUSTOMER).expect_sms(INVITED).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_sms(f"the customer texted: {report}").expect_call(answer=False)
    _hang_up_at_the_greeting(desk)
    assert _text_hotline(desk, report) == []
    desk.settle()
    [incident] = _incidents(desk)
    assert incident.problem_text == report and _not_theirs_lines(desk) == []


def test_a_german_number_invited_in_german_is_answered_in_german(desk, network):
    network.phone(DE_MOBILE).expect_sms("Ihr Anruf wurde beendet")
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=DE_MOBILE)
    call.dial()
    call.hang_up()  # at the language prompt: the invitation's language is the number's country's
    desk.settle()
    assert _text_hotline(desk, "Falsche Nummer, wer ist da?", sender=DE_MOBILE) == [ENTSCHULDIGUNG]
    desk.settle()
    assert _incidents(desk) == []
    [line] = _not_theirs_lines(desk)
    assert line.detail["language"] == "de-DE" and line.detail["text"] == "Falsche Nummer, wer ist da?"


def test_a_caller_who_chose_german_is_answered_in_german_whatever_the_reply_language(desk, network):
    network.phone(CUSTOMER).expect_sms("Ihr Anruf wurde beendet")
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    call.press("2")  # Deutsch, then nothing: hung up at triage
    call.hang_up()
    desk.settle()
    assert _text_hotline(desk, "wrong number") == [ENTSCHULDIGUNG]
    assert _incidents(desk) == []


def test_stop_after_the_invitation_is_still_an_opt_out_not_a_wrong_number(desk, network):
    network.phone(CUSTOMER).expect_sms(INVITED)
    _hang_up_at_the_greeting(desk)
    assert _text_hotline(desk, "STOP") == []  # Twilio answers its own keyword
    desk.settle()
    with desk.hotline.db.session() as s:
        opted_out = list(s.scalars(select(SmsOptOut.phone)))
    assert opted_out == [CUSTOMER] and _incidents(desk) == [] and _not_theirs_lines(desk) == []
