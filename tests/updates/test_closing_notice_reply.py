"""The notice of a close the customer never agreed to in writing tells them the one reply that reopens it ("reply NO
<ref> within 7 days"), and that reply, sent exactly as the notice words it, reopens it; a bare NO is answered with
that reply, never taken for it (a sending number is no identity).

Until this change a manager's close told the customer "If the problem persists, call us on ... or reply to this SMS":
a reply without the reference reopened nothing, and the customer was never told what would.

Through the signed SMS webhook, the real dashboard (CSRF), the simulated Twilio with scripted phones that fail the
test on any SMS nobody expected, and a fake clock.
"""

from __future__ import annotations

import re

import pytest

from app.models import IncidentEvent, Page
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.updates.test_breach_notice_by_email import HOTLINE_NUMBER, _through_the_breach
from tests.updates.test_closing_notice import _manager_resolves
from tests.updates.test_customer_sms import _german, _rows, _text_hotline


def _closed_by_the_manager(desk, network, client, language: str = "en-US"):
    """CUSTOMER's incident, breached and acknowledged by Alice, closed by Maria with a reason at T+21; returns it,
    the customer's phone and the closing notice they were texted."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_sms("have not reached you")
    incident = _through_the_breach(desk, network, desk.open_incident)
    if language == "de-DE":
        _german(desk, incident)
    customer.expect_sms(f"{incident.reference}")
    desk.at(minutes=21)
    _manager_resolves(desk, client, incident.reference)
    assert desk.incident(incident.id).status == "resolved"
    [notice] = [m.body for m in network.twilio.messages
                if m.to == CUSTOMER and ("support team" in m.body or "Support-Team" in m.body)]
    return incident, customer, notice


def _chased_again(network, alice):
    """Nobody had reached the customer: the reopen pages the owner and the managers again (tests/updates/
    test_reopen.py); returns Maria's phone."""
    alice.expect_sms("BREACHED").expect_call(answer=False)
    return network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)


def _reopens(desk, incident_id: int) -> list[dict]:
    return [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident_id, kind="incident_reopened")]


@pytest.mark.parametrize(("language", "notice_words", "reopened"), [
    ("en-US", "If it is not solved, reply NO {ref} within 7 days to reopen it, or call us on {number}.",
     "Incident {ref} is open again: we passed your message to the engineer, who will contact you."),
    ("de-DE", "Ist das Problem nicht gelöst, antworten Sie innerhalb von 7 Tagen NEIN {ref}, um ihn wieder zu "
              "öffnen, oder rufen Sie uns unter {number} an.",
     "Vorfall {ref} ist wieder offen: Wir haben Ihre Nachricht an den zuständigen Techniker weitergegeben, der sich "
     "bei Ihnen meldet."),
])
def test_the_reply_the_managers_closing_notice_asks_for_reopens_the_incident(
        desk, network, client, smtp, language, notice_words, reopened):
    incident, customer, notice = _closed_by_the_manager(desk, network, client, language)
    ref = incident.reference
    assert notice.endswith(notice_words.format(ref=ref, number=HOTLINE_NUMBER))
    assert "reply to this SMS" not in notice and "antworten Sie auf diese SMS" not in notice

    # the customer sends exactly what the notice told them to, two days later (within the 7)
    [asked] = re.findall(r"(?:reply|antworten Sie innerhalb von 7 Tagen) ((?:NO|NEIN) \d{6})", notice)
    desk.at(minutes=21 + 2 * 24 * 60)
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer, who says it is NOT "
                                            f"resolved (it was closed by a manager). They texted: {asked}.")
    maria = _chased_again(network, alice)
    assert _text_hotline(desk, asked) == [reopened.format(ref=ref)]
    desk.settle()

    assert desk.incident(incident.id).status == "open"
    assert [(d["by"], d["close"], d["words"]) for d in _reopens(desk, incident.id)] == [("customer", "manager", asked)]
    assert alice.unmet == [] and maria.unmet == [] and customer.unmet == []


def test_a_bare_no_to_the_notice_is_answered_with_the_reply_that_reopens_it(desk, network, client, smtp):
    incident, customer, _notice = _closed_by_the_manager(desk, network, client)
    ref = incident.reference
    desk.at(minutes=30)

    # a bare NO names no incident: it reopens nothing (the sending number is no identity), its words reach the owner,
    # and the customer reads the exact reply that does
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: the customer texted: No")
    [answer] = _text_hotline(desk, "No")
    desk.settle()
    assert answer == (f"Incident {ref} is closed. We passed your message to the engineer who worked on it. If it is "
                      f"not solved, reply NO {ref} to reopen it.")
    assert desk.incident(incident.id).status == "resolved" and _reopens(desk, incident.id) == []
    assert alice.unmet == []

    [asked] = re.findall(r"reply (NO \d{6}) to reopen it", answer)
    alice.expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer")
    maria = _chased_again(network, alice)
    [reply] = _text_hotline(desk, asked)
    desk.settle()
    assert reply.startswith(f"Incident {ref} is open again")
    assert desk.incident(incident.id).status == "open" and len(_reopens(desk, incident.id)) == 1
    assert alice.unmet == [] and maria.unmet == [] and customer.unmet == []


def test_words_after_the_window_are_passed_on_without_offering_a_reopen(desk, network, client, smtp):
    incident, customer, _notice = _closed_by_the_manager(desk, network, client)
    ref = incident.reference
    desk.at(minutes=21 + 7 * 24 * 60 + 1)  # the 7 days are over: a NO naming it reopens nothing
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: the customer texted: NO {ref} still broken")
    [answer] = _text_hotline(desk, f"NO {ref} still broken")
    desk.settle()
    assert answer == (f"Incident {ref} is closed. We passed your message to the engineer who worked on it. If the "
                      "problem is back, call this number to report it as a critical problem.")
    assert desk.incident(incident.id).status == "resolved" and _reopens(desk, incident.id) == []
    assert alice.unmet == [] and customer.unmet == []


@pytest.mark.parametrize("glued", ["NO{ref}", "no{ref} still broken", "Nein{ref}"])
def test_the_reply_typed_without_its_space_reopens_the_incident_too(desk, network, client, smtp, glued):
    # "NO123456": a phone's keyboard drops the space; it was words about a closed incident (no reference read)
    incident, customer, _notice = _closed_by_the_manager(desk, network, client)
    ref = incident.reference
    desk.at(minutes=30)
    words = glued.format(ref=ref)
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer, who says it is NOT "
                                            f"resolved (it was closed by a manager). They texted: {words}.")
    maria = _chased_again(network, alice)
    assert _text_hotline(desk, words) == [f"Incident {ref} is open again: we passed your message to the engineer, "
                                          "who will contact you."]
    desk.settle()
    assert desk.incident(incident.id).status == "open"
    assert [(d["by"], d["words"]) for d in _reopens(desk, incident.id)] == [("customer", words)]
    assert alice.unmet == [] and maria.unmet == [] and customer.unmet == []


def test_a_closing_notice_still_waiting_when_the_customer_reopens_is_never_sent(desk, network, client, smtp):
    """Probe W, W1: the customer's NO reopened the incident while its closing notice waited to go (here Twilio
    refused SMS to them for now; in the probe the notice left 7 ms after the reopen, on a free SMS slot), and the
    notice then told them "closed" after "open again". It is canceled, and the timeline says why."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_sms("have not reached you")
    incident = _through_the_breach(desk, network, desk.open_incident)
    ref = incident.reference
    desk.at(minutes=21)
    network.twilio.refuse_to(CUSTOMER, resource="Messages", status=429)  # Twilio throttles SMS to them
    _manager_resolves(desk, client, ref)
    assert desk.incident(incident.id).status == "resolved"
    [notice] = _rows(desk, Page, incident_id=incident.id, purpose="closing_notice")
    assert notice.status == "queued" and notice.attempts >= 1  # waiting for its retry

    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer")
    maria = _chased_again(network, alice)
    assert _text_hotline(desk, f"NO {ref} still broken") == [
        f"Incident {ref} is open again: we passed your message to the engineer, who will contact you."]
    desk.settle()
    assert desk.incident(incident.id).status == "open"

    network.twilio.stop_refusing(CUSTOMER)
    desk.at(minutes=30)  # well past the notice's next try
    [notice] = _rows(desk, Page, incident_id=incident.id, purpose="closing_notice")
    assert notice.status == "canceled"
    assert not [m for m in network.twilio.messages if m.to == CUSTOMER and "closed by our support team" in m.body]
    assert ("Closing SMS to the customer Dana Smith canceled (the incident was reopened before Twilio took it: "
            "\"closed\" was no longer true)") in _timeline_texts(desk, incident.id)
    assert alice.unmet == [] and maria.unmet == [] and customer.unmet == []


def _timeline_texts(desk, incident_id: int) -> list[str]:
    from app.dashboard.timeline import timeline

    return [line.text for line in timeline(_rows(desk, IncidentEvent, incident_id=incident_id),
                                           _rows(desk, Page, incident_id=incident_id))]


def test_of_two_closes_with_a_reopen_between_only_the_later_closes_notice_goes(desk, network, client, smtp):
    """The first close's notice still waiting when the customer reopened it and a manager closed it again: the
    customer reads one notice, the later close's (``pages._closing_outdated``: "closed_again")."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_sms("have not reached you")
    incident = _through_the_breach(desk, network, desk.open_incident)
    ref = incident.reference
    desk.at(minutes=21)
    network.twilio.refuse_to(CUSTOMER, resource="Messages", status=429)
    _manager_resolves(desk, client, ref)
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer")
    _text_hotline(desk, f"NO {ref} still broken")
    desk.settle()
    _manager_resolves(desk, client, ref)  # closed again, while the first notice still waits for Twilio
    assert desk.incident(incident.id).status == "resolved"

    network.twilio.stop_refusing(CUSTOMER)
    customer.expect_sms("was closed by our support team")
    desk.at(minutes=30)
    first, second = _rows(desk, Page, incident_id=incident.id, purpose="closing_notice")
    assert (first.status, second.status) == ("canceled", "delivered")
    assert len([m for m in network.twilio.messages if m.to == CUSTOMER and "support team" in m.body]) == 1
    assert ("Closing SMS to the customer Dana Smith canceled (the incident was reopened and closed again since: the "
            "later close's notice tells it)") in _timeline_texts(desk, incident.id)
    assert alice.unmet == [] and customer.unmet == []


def test_a_closing_notice_twilio_takes_after_the_customers_reopen_is_followed_by_a_correction(
        desk, network, client, smtp, monkeypatch):
    """Probe W, W1, the race itself: the customer's NO came while the closing notice was being sent (claimed before
    the reopen, so not canceled), and Twilio took the notice after the incident was open again: its "closed" is not
    left as their last word; a correction follows it."""
    from app.services.pages import PageSender

    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_sms("have not reached you")
    incident = _through_the_breach(desk, network, desk.open_incident)
    ref = incident.reference
    desk.at(minutes=21)
    alice = network.phone(ALICE).expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer")
    maria = _chased_again(network, alice)
    replies: list[list[str]] = []
    deliver = PageSender._deliver

    def customer_no_while_in_flight(sender, request):  # the NO reaches the hotline while Twilio has the notice
        if "support team" in request.body and not replies:
            replies.append(_text_hotline(desk, f"NO {ref} still broken"))
        return deliver(sender, request)

    monkeypatch.setattr(PageSender, "_deliver", customer_no_while_in_flight)
    customer.expect_sms("was closed by our support team")
    customer.expect_sms(f"please disregard our message that incident {ref} is closed")
    _manager_resolves(desk, client, ref)
    desk.at(minutes=30)

    assert replies == [[f"Incident {ref} is open again: we passed your message to the engineer, who will contact "
                        f"you."]]
    assert desk.incident(incident.id).status == "open"
    to_customer = [m.body for m in network.twilio.messages if m.to == CUSTOMER]
    assert "support team" in to_customer[-2] and to_customer[-1] == (
        f"Sev-1 hotline: please disregard our message that incident {ref} is closed: your reply reached us as it "
        "was being sent, and the incident is open again.")
    assert alice.unmet == [] and maria.unmet == [] and customer.unmet == []
