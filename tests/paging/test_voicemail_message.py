"""A voicemail took the bridged callback and the rep pressed 2 to leave a short message there. That message call is
no callback attempt: it is not logged or counted as one (log, API, facts), and it sends the customer no second
"we tried to call you" SMS (the missed call before it was told; the message speaks for itself). The rep hears that
a message is being left, and the incident page says one was, not that the customer answered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Callback, Incident, IncidentEvent, IncidentFactsRow, Rep
from app.models.user import Role
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_early_paging import _api

# the customer's missed-call SMS and the words of the first two SMS, per language
WORDS = {"en-US": ("tried to call you", "we have your report", "has taken your incident"),
         "de-DE": ("versucht, Sie", "Wir haben Ihre Meldung", "Ihren Vorfall übernommen")}


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _kinds(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)
                              .order_by(IncidentEvent.id)))


def _voicemail_then_message(desk, network, language, message_leg):
    missed, receipt, taken = WORDS[language]
    customer = network.phone(CUSTOMER).expect_sms(receipt).expect_sms(taken)
    customer.expect_call(machine=True).expect_sms(missed)  # the callback: a voicemail, told once
    customer.expect_call(**message_leg)  # the message call: no SMS of its own
    alice = network.phone(ALICE).expect_sms("SEV1")
    incident = desk.open_incident()
    with desk.hotline.db.transaction() as s:  # as if the caller had chosen the language in the intake
        s.get(Incident, incident.id).language = language
    alice.expect_call(press=["2", "2"])  # 2: call the customer; then 2: leave a short message on their voicemail
    desk.settle()
    return incident, customer, alice


@pytest.mark.parametrize("language", ["en-US", "de-DE"])
def test_a_message_left_on_the_voicemail_is_no_second_attempt_and_no_second_sms(desk, network, language):
    incident, customer, alice = _voicemail_then_message(desk, network, language, {"machine": True})

    missed = [body for body in customer.sms if WORDS[language][0] in body]
    assert len(missed) == 1  # before: the same SMS twice, seconds apart
    first, message = _callbacks(desk, incident.id)
    assert (first.outcome, message.outcome) == ("voicemail", "message_left")
    assert "[connected to" in " ".join(customer.calls[1].said)  # put through to the voicemail after its beep
    kinds = _kinds(desk, incident.id)
    assert kinds.count("callback_attempted") == 1 and kinds.count("callback_message_left") == 1
    assert _api(desk, incident.reference)["callback"]["attempts"] == 1  # before: 2
    heard = alice.calls[0].heard
    assert "Leaving a message for the customer now" in heard and "Trying the customer again" not in heard
    assert "Your message was left" in heard
    with desk.hotline.db.session() as s:
        facts = s.get(IncidentFactsRow, incident.id)
        alice_id = s.scalar(select(Rep.id).where(Rep.phone == ALICE))
    assert (facts.outcome, facts.called_rep_id) == ("attempted", alice_id)
    assert desk.incident(incident.id).callback_answered_at is None

    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    page = parse(desk.client.get(f"/incidents/{incident.reference}"))
    assert "Message left on the customer's voicemail by the rep" in page.find(id="timeline").text()
    rows = [row.text() for row in page.find(id="callbacks").find_all("tr")[1:]]
    assert len(rows) == 2 and all("Voicemail" in row for row in rows)  # before: "Answered 23:43" of a machine
    network.verify()


def test_a_message_call_no_voicemail_takes_leaves_nothing_and_says_so(desk, network):
    incident, customer, alice = _voicemail_then_message(desk, network, "en-US", {"answer": False})

    assert len([body for body in customer.sms if "tried to call you" in body]) == 1
    first, message = _callbacks(desk, incident.id)
    assert (first.outcome, message.outcome) == ("voicemail", "no_message")
    kinds = _kinds(desk, incident.id)
    assert kinds.count("callback_attempted") == 1 and kinds.count("callback_message_not_left") == 1
    assert _api(desk, incident.reference)["callback"]["attempts"] == 1
    heard = alice.calls[0].heard
    assert "no message was left" in heard and "Your message was left" not in heard  # before: claimed it was
    network.verify()
