"""A keyed ticket's open incident and its support PIN: a caller is a repeat caller of an incident only when it is
theirs, and a Sev-1 caller who keys a ticket is never dropped.

Two HIGH defects an outside probe found (real processes, a signed Twilio stand-in):

- F3: two strangers keyed ticket 4800, failed its PIN and hung up (two rescued incidents, their own callbacks).
  The customer then keyed 4800 and the right PIN and heard "You already have an open incident, reference <the
  second stranger's>. An engineer will call you back by ...", added to it, and got no incident or callback of
  their own: the reps were texted the customer's words on the stranger's incident.
- F1: a caller who keyed ticket 4713 (which has a PIN and an open incident of another customer's) and hung up at
  the PIN prompt was dropped: no incident, no page, no missed call, no SMS; only ``repeat_call_ended`` on the other
  customer's incident.

Through the signed IVR webhooks, the simulated Twilio and scripted phones that fail the test on any SMS or call
nobody expected.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Account, Incident, IncidentEvent, MissedCall
from app.services.tickets import parse_ticket_input, upsert_ticket
from hotline_sim.phone import SimulatedCall, flask_transport
from ivr_flows.prompts import say_digits
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")

INITECH = {"number": "4800", "company": "Initech", "contact_name": "Peter Gibbons",
           "contact_email": "peter@initech.example", "contact_phone": "+14155550180", "support_pin": "11112222"}
ACME = {"number": "4713", "company": "Acme Mail Inc", "contact_name": "Dana Smith",
        "contact_email": "dana@acme.example", "contact_phone": "+14155550181", "support_pin": "424242"}
NO_PIN = {"number": "4714", "company": "Hooli", "contact_name": "Gavin Belson",
          "contact_email": "gavin@hooli.example", "contact_phone": "+14155550182", "support_pin": "-"}
STRANGER_A, STRANGER_B, CUSTOMER = "+14155550172", "+14155550173", "+14155550175"
ACME_CUSTOMER, CALLER = "+14155550184", "+14155550153"


def _tickets(desk, *tickets: dict) -> None:
    with desk.hotline.db.transaction() as s:
        for ticket in tickets:
            upsert_ticket(s, parse_ticket_input(ticket), desk.clock.now())


def _call(desk, caller: str) -> SimulatedCall:
    return SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=caller)


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _expect_paged(network, caller: str) -> None:
    """A new incident: its receipt to the caller, the first page (SMS and call) to Alice."""
    network.phone(caller).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)


def _stranger_fails_the_pin(desk, caller: str, pins: tuple[str, str]) -> Incident:
    """F3's strangers: English, API calls failing, ticket 4800, two wrong PINs; hang up; rescued."""
    desk.clock.advance(seconds=20)  # one after the other: the newest is the last
    call = _call(desk, caller)
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing
    assert "support PIN" in _said(call.press("4800"))
    assert "not correct" in _said(call.press(pins[0]))
    assert "continue without it" in _said(call.press(pins[1]))
    call.hang_up()
    desk.settle()
    return _incident_of(desk, call)


def _incident_of(desk, call: SimulatedCall) -> Incident:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()


def _kinds(desk, incident_id: int) -> list[str]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)))


def _events(desk, incident_id: int, kind: str) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id))]


def _sms_to(desk, to: str) -> list[str]:
    return [m.body for m in desk.network.twilio.messages if m.to == to]


def test_the_right_pin_is_no_proof_for_a_strangers_incident_the_customer_gets_their_own(desk, network):
    _tickets(desk, INITECH)
    _expect_paged(network, STRANGER_A)
    a = _stranger_fails_the_pin(desk, STRANGER_A, ("00000000", "12345678"))
    _expect_paged(network, STRANGER_B)
    b = _stranger_fails_the_pin(desk, STRANGER_B, ("11111111", "22222222"))
    assert (a.callback_phone, a.caller_verified, b.callback_phone, b.caller_verified, b.pin_account_id) == (
        STRANGER_A, "", STRANGER_B, "", None)

    # The customer keys the ticket and its right PIN: no incident of the ticket was proved with it, so none is
    # theirs; they are neither told of the stranger's (reference, deadline) nor joined to it.
    _expect_paged(network, CUSTOMER)
    call = _call(desk, CUSTOMER)
    call.dial()
    call.press("1")
    call.press("2")  # SMTP injection failing
    assert "support PIN" in _said(call.press("4800"))
    proven = _said(call.press("11112222"))
    assert "PIN is correct" in proven and "Is this about Initech?" in proven, proven
    assert "open incident" not in proven and say_digits(b.reference) not in proven
    assert say_digits(a.reference) not in proven
    for _ in range(4):  # company, name, the number they call from, e-mail: all confirmed
        call.press("1")
    call.say("Our SMTP relays all fail, please call me on this number")
    call.record(seconds=5)
    closing = _said(call.press("1"))
    call.hang_up()
    desk.settle()

    theirs = _incident_of(desk, call)
    assert say_digits(theirs.reference) in closing and say_digits(b.reference) not in closing
    assert (theirs.callback_phone, theirs.caller_verified, theirs.ticket_number) == (CUSTOMER, "pin", "4800")
    with desk.hotline.db.session() as s:
        initech = s.scalars(select(Account).where(Account.name == "Initech")).one()
        by_callback = {i.callback_phone: i.reference for i in s.scalars(select(Incident))}
    assert theirs.pin_account_id == initech.id
    assert by_callback == {STRANGER_A: a.reference, STRANGER_B: b.reference, CUSTOMER: theirs.reference}
    # linked to the stranger's as possibly related, both ways; nothing added to the stranger's incident
    assert theirs.related_incident_id == b.id
    assert [e["reference"] for e in _events(desk, b.id, "possibly_related")] == [a.reference, theirs.reference]
    [why] = {e["why"] for e in _events(desk, theirs.id, "possibly_related")}
    assert why == "same ticket, another caller; each has its own callback"
    kinds_b = _kinds(desk, b.id)
    assert "information_added" not in kinds_b and "repeat_call_ended" not in kinds_b
    assert "call_joined" not in kinds_b and "report_joined" not in kinds_b
    # the customer's own incident is paged, named from the ticket they proved, with their own number to call
    pages = [body for body in _sms_to(desk, ALICE) if body.startswith(f"SEV1 {theirs.reference} ")]
    assert len(pages) == 1 and f"Call back {CUSTOMER}" in pages[0], _sms_to(desk, ALICE)
    assert not [body for body in _sms_to(desk, ALICE) if "called again" in body]
    [receipt] = _sms_to(desk, CUSTOMER)
    assert theirs.reference in receipt


def _pin_proved_intake(desk, caller: str, ticket: str, pin: str, company: str) -> Incident:
    """``caller`` keys ``ticket`` and its account's ``pin`` (asked "Is this about <company>?"), confirms the ticket's
    details and their own number, and reports; returns their incident."""
    call = _call(desk, caller)
    call.dial()
    call.press("1")
    call.press("1")
    call.press(ticket)
    assert f"Is this about {company}?" in _said(call.press(pin))
    for _ in range(4):
        call.press("1")
    call.say("Every API call fails.")
    call.record(seconds=5)
    call.press("1")
    call.hang_up()
    desk.settle()
    return _incident_of(desk, call)


def test_a_colleague_with_the_pin_then_reaches_the_customers_proved_incident_not_the_strangers(desk, network):
    _tickets(desk, INITECH)
    _expect_paged(network, STRANGER_B)
    b = _stranger_fails_the_pin(desk, STRANGER_B, ("11111111", "22222222"))
    _expect_paged(network, CUSTOMER)
    theirs = _pin_proved_intake(desk, CUSTOMER, "4800", "11112222", "Initech")

    # A colleague of the customer's, from another phone, keys the ticket and the PIN: the customer's incident,
    # proved with it, is theirs; the stranger's (older) is neither named nor added to.
    colleague = _call(desk, "+14155550188")
    colleague.dial()
    colleague.press("1")
    colleague.press("1")
    colleague.press("4800")
    heard = _said(colleague.press("11112222"))
    assert "PIN is correct" in heard and say_digits(theirs.reference) in heard, heard
    assert say_digits(b.reference) not in heard
    network.phone(ALICE).expect_sms("the customer called again and added")
    colleague.press("1")  # add information to it
    colleague.say("The relay in Frankfurt fails too.")
    added = _said(colleague.record(seconds=3))
    desk.settle()
    assert f"we added this to incident {say_digits(theirs.reference)}" in added
    assert [e["text"] for e in _events(desk, theirs.id, "information_added")] == ["The relay in Frankfurt fails too."]
    assert _events(desk, b.id, "information_added") == []


def _acme_customers_incident(desk, network) -> Incident:
    """Ticket 4713's open incident: its customer keyed the ticket and the PIN, and gave their own number."""
    _tickets(desk, ACME)
    _expect_paged(network, ACME_CUSTOMER)
    incident = _pin_proved_intake(desk, ACME_CUSTOMER, "4713", "424242", "Acme Mail Inc")
    assert (incident.caller_verified, incident.callback_phone) == ("pin", ACME_CUSTOMER)
    return incident


def test_a_caller_who_hangs_up_at_the_pin_prompt_of_a_ticket_with_an_open_incident_is_rescued(desk, network):
    open_one = _acme_customers_incident(desk, network)
    _expect_paged(network, CALLER)
    call = _call(desk, CALLER)
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing: a Sev-1
    asked = _said(call.press("4713"))
    assert "I found ticket 4, 7, 1, 3" in asked and "support PIN" in asked
    call.hang_up()
    desk.settle()

    rescued = _incident_of(desk, call)  # an incident of their own, not a note on the other customer's
    assert (rescued.callback_phone, rescued.caller_verified, rescued.ticket_number) == (CALLER, "", "4713")
    # the number is the caller ID (they gave none): ``unproven_reports``
    assert _events(desk, rescued.id, "incident_rescued") == [{"reason": "caller_hung_up", "stage": "pin_entry",
                                                               "callback": "caller_id"}]
    assert rescued.related_incident_id == open_one.id
    assert [e["reference"] for e in _events(desk, open_one.id, "possibly_related")] == [rescued.reference]
    assert "repeat_call_ended" not in _kinds(desk, open_one.id)
    [page] = [body for body in _sms_to(desk, ALICE) if body.startswith(f"SEV1 {rescued.reference} ")]
    assert f"Call back {CALLER}" in page and "Acme Mail" not in page  # the PIN was not proved: nobody named
    [receipt] = _sms_to(desk, CALLER)
    assert rescued.reference in receipt
    with desk.hotline.db.session() as s:
        assert s.scalars(select(MissedCall)).all() == []


def test_a_sev1_caller_who_hangs_up_at_a_keyed_tickets_incident_menu_is_rescued(desk, network):
    # A ticket of an account without a PIN, whose open incident calls another number back: the caller, past
    # triage, hears only that the ticket has an open incident and hangs up at its menu.
    _tickets(desk, NO_PIN)
    _expect_paged(network, ACME_CUSTOMER)
    first = _call(desk, ACME_CUSTOMER)
    first.dial()
    first.press("1")
    first.press("1")
    assert "company" in _said(first.press("4714"))
    first.hang_up()
    desk.settle()
    open_one = _incident_of(desk, first)

    _expect_paged(network, CALLER)
    call = _call(desk, CALLER)
    call.dial()
    call.press("1")
    call.press("2")
    menu = _said(call.press("4714"))
    assert "There is an open incident for this ticket." in menu and say_digits(open_one.reference) not in menu
    call.hang_up()
    desk.settle()

    rescued = _incident_of(desk, call)
    assert (rescued.callback_phone, rescued.related_incident_id) == (CALLER, open_one.id)
    # the number is the caller ID (they gave none): ``unproven_reports``
    assert _events(desk, rescued.id, "incident_rescued") == [{"reason": "caller_hung_up", "stage": "repeat_caller",
                                                               "callback": "caller_id"}]
    assert "repeat_call_ended" not in _kinds(desk, open_one.id)
    [receipt] = _sms_to(desk, CALLER)
    assert rescued.reference in receipt and "call us again" not in receipt
    with desk.hotline.db.session() as s:
        assert s.scalars(select(MissedCall)).all() == []


def test_the_customer_who_proved_their_incident_and_hangs_up_at_its_menu_opens_nothing_new(desk, network):
    open_one = _acme_customers_incident(desk, network)
    again = _call(desk, "+14155550188")  # from another phone: the PIN proves the incident theirs
    again.dial()
    again.press("1")
    again.press("1")
    again.press("4713")
    heard = _said(again.press("424242"))
    assert say_digits(open_one.reference) in heard
    again.hang_up()
    desk.settle()
    with desk.hotline.db.session() as s:
        assert [i.id for i in s.scalars(select(Incident))] == [open_one.id]
    assert _events(desk, open_one.id, "repeat_call_ended") == [{"stage": "repeat_caller", "verified": "pin"}]
