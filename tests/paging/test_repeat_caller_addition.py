"""A verified repeat caller who adds to their open incident by phone: what they said (and that they left a recording)
is texted at once to whoever works it, as the same words sent by SMS are (``customer_sms``).

An outside probe's caller keyed the reference, said "please call me on my mobile instead, ..." and heard "Thank you,
we added this to incident ..."; the addition was only logged, and the engineer about to call them never knew.

Through the signed IVR webhooks, the simulated Twilio (which takes the SMS) and scripted phones that fail the test
on any SMS nobody expected (the customer's own phone included: their words never go back to them).
"""

from __future__ import annotations

from sqlalchemy import select, update

from app.models import Delivery, IncidentEvent, Rep
from app.models.user import Role
from app.services.update_text import QUOTE_LIMIT
from hotline_sim.phone import SimulatedCall, flask_transport
from ivr_flows.model import FlowPolicy
from ivr_flows.prompts import say_digits
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA

SMTP_WORDS = "update: our SMTP relays now also get 421 errors, please call my colleague on plus 44 20 7946 0000"
MOBILE_WORDS = "please call me on my mobile instead, plus 1 415 555 0188, the desk phone is being moved"
RECORDING = " They also left a recording: listen on the incident page."


def _call_again(desk, incident) -> SimulatedCall:
    """The customer calls again, chooses "add to my incident" and keys its reference; the call waits for their words."""
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    assert "open incident" in " ".join(call.press("1").said)  # English
    assert "reference number" in " ".join(call.press("1").said)  # add to my incident: proof first
    asked = call.press(incident.reference)
    assert asked.kind == "gather" and say_digits(incident.reference) in " ".join(asked.said)
    return call


def _added(desk, incident_id: int) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "information_added")
            .order_by(IncidentEvent.id))]


def _relayed(desk, incident_id: int) -> list[tuple[str, str, str]]:
    """The readers' SMS of the addition: (to, recipient, status)."""
    with desk.hotline.db.session() as s:
        return [(d.to_address, d.recipient, d.status) for d in s.scalars(select(Delivery).where(
            Delivery.incident_id == incident_id, Delivery.purpose == "caller_added").order_by(Delivery.id))]


def _rep_id(desk, phone: str) -> int:
    with desk.hotline.db.session() as s:
        return s.scalar(select(Rep.id).where(Rep.phone == phone))


def test_words_and_a_recording_added_by_phone_reach_the_owner_at_once(desk, network, client):
    incident, alice = desk.acknowledged_by_alice(network)
    ref = incident.reference
    expected = f'SEV1 {ref} Acme Mail: the customer called again and added: "{SMTP_WORDS}"{RECORDING}'
    alice.expect_sms(expected)
    call = _call_again(desk, incident)
    assert call.say(SMTP_WORDS).kind == "record"
    closing = " ".join(call.record(seconds=8).said)
    assert f"we added this to incident {say_digits(ref)}" in closing and "An engineer has taken it" in closing
    desk.settle()
    assert alice.unmet == [] and alice.sms[-1] == expected
    assert _relayed(desk, incident.id) == [(ALICE, "owner", "delivered")]
    [line] = _added(desk, incident.id)
    assert line["text"] == SMTP_WORDS and line["recording_url"].startswith("https://api.twilio.com/")
    assert line["recording_url"] not in alice.sms[-1]  # the dashboard plays it; the SMS only says where
    alice_id = _rep_id(desk, ALICE)
    assert (line["owner_told"], line["owner_rep_id"], line["told_rep_ids"], line["told"]) == (
        True, alice_id, [alice_id], ["owner"])
    login_as(client, desk.hotline, Role.REP, name="Rita Rep")
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert f"Caller added information: {SMTP_WORDS} (with a recording); texted to the owner" in page
    assert f'href="{line["recording_url"]}"' in page  # "listen on the incident page" is true


def test_words_added_before_anyone_acknowledged_reach_the_reps_paged_so_far(desk, network):
    incident, _customer = desk.unanswered_until_minute_3(network)  # Alice and Bob paged, nobody acknowledged
    ref = incident.reference
    expected = f'SEV1 {ref} Acme Mail: the customer called again and added: "{MOBILE_WORDS}"'
    alice, bob = network.phone(ALICE).expect_sms(expected), network.phone(BOB).expect_sms(expected)
    call = _call_again(desk, incident)
    assert call.say(MOBILE_WORDS).kind == "record"
    assert "we added this to incident" in " ".join(call.silence().said)  # no recording: the words alone
    desk.settle()
    assert alice.unmet == [] and bob.unmet == []
    assert alice.sms[-1] == bob.sms[-1] == expected  # no recording: nothing said of one
    assert _relayed(desk, incident.id) == [(ALICE, "rep", "delivered"), (BOB, "rep", "delivered")]
    [line] = _added(desk, incident.id)
    assert (line["text"], line["recording_url"]) == (MOBILE_WORDS, "")
    assert (line["owner_told"], line["owner_rep_id"], line["told_rep_ids"], line["told"]) == (
        True, None, sorted([_rep_id(desk, ALICE), _rep_id(desk, BOB)]), ["rep"])


def test_a_recording_without_words_tells_the_owner_a_recording_was_left(desk, network):
    incident, alice = desk.acknowledged_by_alice(network)
    expected = (f"SEV1 {incident.reference} Acme Mail: the customer called again and left a recording: listen on "
                "the incident page.")
    alice.expect_sms(expected)
    call = _call_again(desk, incident)
    asked = [call.silence() for _ in range(FlowPolicy().max_tries)]  # nothing said, ever
    assert [p.kind for p in asked][-2:] == ["gather", "record"]  # asked again, then for the recording
    call.record(seconds=20)
    desk.settle()
    assert alice.unmet == [] and alice.sms[-1] == expected
    [line] = _added(desk, incident.id)
    assert line["text"] == "" and line["recording_url"] and line["told"] == ["owner"]


def test_words_left_by_a_caller_who_hangs_up_at_the_recording_reach_the_owner(desk, network):
    incident, alice = desk.acknowledged_by_alice(network)
    expected = f'SEV1 {incident.reference} Acme Mail: the customer called again and added: "{MOBILE_WORDS}"'
    alice.expect_sms(expected)
    call = _call_again(desk, incident)
    assert call.say(MOBILE_WORDS).kind == "record"
    call.hang_up()  # the optional recording never comes: what they said is still added (``capture.hung_up``)
    desk.settle()
    assert alice.unmet == [] and alice.sms[-1] == expected
    [line] = _added(desk, incident.id)
    assert line["text"] == MOBILE_WORDS and line["told_rep_ids"] == [_rep_id(desk, ALICE)]


def test_an_addition_nobody_can_be_texted_says_so_on_its_line(desk, network, client):
    # everyone who could read it left the team (the owner, and every manager): the line says nobody was texted, and
    # no SMS goes anywhere (the scripted phones fail the test on any)
    incident, _alice = desk.acknowledged_by_alice(network)
    with desk.hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone.in_((ALICE, BOB, MARIA))).values(active=False))
    call = _call_again(desk, incident)
    call.say(SMTP_WORDS)
    call.record(seconds=5)
    desk.settle()
    assert _relayed(desk, incident.id) == []
    [line] = _added(desk, incident.id)
    assert (line["owner_told"], line["told_rep_ids"], line["told"]) == (False, [], [])
    login_as(client, desk.hotline, Role.REP, name="Rita Rep")
    page = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "(with a recording); nobody could be texted it" in page


def test_a_long_addition_is_quoted_to_the_owner_as_a_long_sms_of_theirs_would_be(desk, network):
    incident, alice = desk.acknowledged_by_alice(network)
    words = " ".join(f"relay {n} answers 421 too." for n in range(40))  # about 1000 characters said
    quoted = words[:QUOTE_LIMIT]
    expected = f'SEV1 {incident.reference} Acme Mail: the customer called again and added: "{quoted}"'
    alice.expect_sms(expected)
    call = _call_again(desk, incident)
    call.say(words)
    call.silence()  # no recording
    desk.settle()
    assert alice.unmet == [] and alice.sms[-1] == expected and len(words) > len(quoted) == QUOTE_LIMIT
    [line] = _added(desk, incident.id)
    assert line["text"] == words  # the incident keeps every word
