"""A stranger who keys a guessed ticket number of an account without a support PIN, from a number that is not the
ticket's, and hangs up at "Please say the name of your company": every page names the ticket's company "(from the
ticket)" and says the caller is unverified and their number not the ticket's (an outside probe's reps were paged
"SEV1 556087 Soylent Corp 4713: API calls failing. Call back <the stranger>", and the voice page said "for Soylent
Corp 4713"). The account's TAM, who is told of it, reads the same. A caller who proved who they are with the PIN, or
calls from the ticket contact's number, reads no such warning (``app/services/company_label.py``)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Delivery, Incident, IncidentEvent
from app.services.page_text import hhmm
from app.services.tickets import parse_ticket_input, upsert_ticket
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_ack_guards import _ticket_with_a_tam_at_work
from tests.paging.test_company_from_ticket import _shown
from tests.paging.test_policy import TAM, _call_about_ticket

CONTACT = "+14155550166"  # ticket 7788's contact (Hank Scorpio); CUSTOMER, the stranger, is another number
WARNED = "Globex Mailers (from the ticket), UNVERIFIED caller, number not the ticket's"
ALICE_ZONE = "America/Los_Angeles"  # the clock Alice reads deadlines on
CAUTION = "The caller has not proved who they are, and the number to call back is not on the ticket."


def _without_a_pin(desk) -> None:
    """Ticket 7788 of Globex Mailers, whose TAM is at work, with no support PIN: anyone keying 7788 names it."""
    _ticket_with_a_tam_at_work(desk)
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({"number": "7788", "company": "Globex Mailers", "support_pin": "-"}),
                      desk.clock.now())


def _keys_the_ticket_and_hangs_up(desk, caller: str) -> Incident:
    """English, SMTP down, ticket 7788 keyed; hangs up when asked for the company."""
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=caller)
    call.dial()
    call.press("1")
    call.press("2")  # SMTP injection failing
    asked = " ".join(call.press("7788").said)
    assert "I found ticket" in asked and "company" in asked, asked  # "Please say the name of your company"
    call.hang_up()
    with desk.hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()


def _sms_taken_by_twilio(desk, to: str) -> list[str]:
    return [m.body for m in desk.network.twilio.messages if m.to == to]


def test_a_stranger_with_a_guessed_ticket_is_paged_as_unverified_by_sms_and_voice(desk, network):
    _without_a_pin(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()  # answers the page call, presses nothing
    network.phone(TAM).expect_sms("SEV1")
    incident = _keys_the_ticket_and_hangs_up(desk, CUSTOMER)
    desk.settle()
    with desk.hotline.db.session() as s:
        checked = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                        IncidentEvent.kind == "caller_details_checked")).one()
    assert checked.detail["verified"] == "no" and checked.detail["callback_phone"] == "differs"
    ref, due = incident.reference, hhmm(incident.callback_due_at, ALICE_ZONE)
    [page] = _sms_taken_by_twilio(desk, ALICE)
    assert page.startswith(f"SEV1 {ref} {WARNED}: SMTP injection failing. Call back {CUSTOMER} by {due}. "
                           f"Reply ACK {ref} or CALL {ref}. "), page
    [call] = alice.calls
    spoken_ref = ", ".join(ref)
    assert call.said[0].startswith(
        f"Severity 1 page. Incident {spoken_ref}, for Globex Mailers, according to the ticket: SMTP injection "
        f"failing. {CAUTION} The customer must be called back by "), call.said[0]
    # the acknowledgement link's page says it too
    [link] = re.findall(r"/ack/\S+", page)
    shown = desk.client.get(link).get_data(as_text=True)
    assert "Globex Mailers (from the ticket), UNVERIFIED caller, number not the ticket&#39;s: call back" in shown
    # and the board's row, where a rep picks the incident to call back
    assert _shown(desk, incident)[0] == WARNED


def test_the_tam_told_of_a_strangers_incident_reads_and_hears_that_the_caller_is_unverified(desk, network):
    _without_a_pin(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1", fail="undelivered").expect_call()  # the SMS fails: called at once
    incident = _keys_the_ticket_and_hangs_up(desk, CUSTOMER)
    desk.settle()
    [sms] = _sms_taken_by_twilio(desk, TAM)
    assert sms.startswith(f"SEV1 {incident.reference} {WARNED}: SMTP injection failing. For your information as "
                          f"the account's TAM"), sms
    [call] = tam.calls
    assert call.heard.startswith(f"Severity 1 incident {', '.join(incident.reference)}, for Globex Mailers, "
                                 f"according to the ticket: SMTP injection failing. {CAUTION} You are told as the "
                                 f"account's technical account manager"), call.heard


def test_the_at_risk_and_breach_alerts_of_a_strangers_incident_say_so_too(desk, network):
    _without_a_pin(desk)
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1")
    incident = _keys_the_ticket_and_hangs_up(desk, CUSTOMER)
    desk.settle()
    alice.expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    for number in (ALICE, BOB, MARIA):
        network.phone(number).expect_sms("AT RISK")
    tam.expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    tam.expect_sms("BREACHED")
    customer.expect_sms("have not reached you")
    desk.at(minutes=15)
    taken = [m for m in desk.network.twilio.messages if m.to != CUSTOMER]
    alerts = [m.body for m in taken if "AT RISK" in m.body or "BREACHED" in m.body]
    assert len(alerts) == 6, alerts  # Alice, Bob, Maria and the TAM at risk; Maria and the TAM breached
    assert all(body.startswith(f"SEV1 {incident.reference} {WARNED}: ") for body in [m.body for m in taken]), taken


def test_a_caller_from_the_tickets_own_number_is_named_from_the_ticket_without_the_warning(desk, network):
    _without_a_pin(desk)
    network.phone(CONTACT).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    network.phone(TAM).expect_sms("SEV1")
    incident = _keys_the_ticket_and_hangs_up(desk, CONTACT)
    desk.settle()
    [page] = _sms_taken_by_twilio(desk, ALICE)
    assert page.startswith(f"SEV1 {incident.reference} Globex Mailers (from the ticket): SMTP injection failing. "
                           f"Call back {CONTACT} by "), page
    assert "UNVERIFIED" not in page
    [call] = alice.calls
    assert "for Globex Mailers, according to the ticket: SMTP injection failing. The customer must be called back" \
        in call.said[0] and "not proved" not in call.heard
    assert _shown(desk, incident)[0] == "Globex Mailers (from the ticket)"


def test_a_caller_who_proved_the_ticket_with_its_pin_is_paged_as_before(desk, network):
    _ticket_with_a_tam_at_work(desk)  # PIN 2468
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call()
    network.phone(TAM).expect_sms("SEV1")
    incident = _call_about_ticket(desk)  # keys 7788 and its PIN, confirms the company, gives the details
    desk.settle()
    assert incident.caller_verified == "pin" and incident.company == "Globex Mailers"
    ref, due = incident.reference, hhmm(incident.callback_due_at, ALICE_ZONE)
    [page] = _sms_taken_by_twilio(desk, ALICE)
    assert page.startswith(f"SEV1 {ref} Globex Mailers: SMTP injection failing. Call back {CUSTOMER} by {due}. "
                           f"Reply ACK {ref} or CALL {ref}. "), page
    [call] = alice.calls
    assert call.said[0].startswith(f"Severity 1 page. Incident {', '.join(ref)}, for Globex Mailers: SMTP injection "
                                   f"failing. The customer must be called back by "), call.said[0]


def test_the_tams_email_about_a_strangers_incident_says_the_caller_is_unverified(desk, network):
    with desk.hotline.db.transaction() as s:  # a TAM with an address and no phone is told by e-mail
        upsert_ticket(s, parse_ticket_input({
            "number": "7788", "company": "Globex Mailers", "contact_name": "Hank Scorpio",
            "contact_phone": CONTACT, "tam_name": "Terry TAM", "tam_email": "terry@globex.example"}), desk.clock.now())
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = _keys_the_ticket_and_hangs_up(desk, CUSTOMER)
    desk.settle()
    with desk.hotline.db.session() as s:
        [mail] = s.scalars(select(Delivery).where(Delivery.incident_id == incident.id, Delivery.recipient == "tam"))
    assert mail.to_address == "terry@globex.example"
    assert mail.subject.startswith(f"SEV1 {incident.reference} {WARNED}: Severity 1 incident"), mail.subject
    assert mail.body.startswith(f"SEV1 {incident.reference} {WARNED}: SMTP injection failing."), mail.body
