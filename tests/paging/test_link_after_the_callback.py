"""A link made after the conversation: the first call's end, heard late, links its incident to the redial's, whose
callback had already reached the customer. That conversation counts for the first incident too (an outside probe's
first incident breached, its customer was texted "we have not reached you" after talking with the engineer, and the
report counted a breach: the related-callback rule ran only when a callback was counted, never when a link came).

The customer's first two calls go silent mid-intake (their ends are never reported: each incident opened mid-call,
settled by the watchdog once the call is idle); the third call's full report is linked to the second; Alice calls it
back and the customer talks; then the second call's end links it to the first. Signed webhooks, the worker, the simulated Twilio and scripted phones that fail the test
on any SMS or call nobody expected; the fake clock moves, nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Callback, Incident, IncidentEvent
from app.reports.facts import Outcome
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_callback_proof import _facts
from tests.paging.test_redial_after_dropped_call import _redial


def _lines(desk, incident_id: int, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id,
                                                          IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _called_back(desk, customer, alice, incident) -> Callback:
    """At T+2 Alice replies CALL for ``incident``: the bridge calls her, then the customer, who presses the key and
    talks 30 s; the callback, met."""
    customer.expect_sms("has taken your incident").expect_call(press="1", answered=True, talk_seconds=30)
    alice.expect_call()  # the bridge: she is called first, then the customer
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    with desk.hotline.db.session() as s:
        callback = s.scalars(select(Callback).where(Callback.incident_id == incident.id)).one()
    assert callback.outcome == "met"
    return callback


def test_a_conversation_before_the_link_counts_for_the_incident_linked_after_it(desk, network):
    customer = network.phone(CUSTOMER)
    alice = network.phone(ALICE)
    alice.expect_sms("SEV1").expect_call(answer=False)  # each incident pages her as it opens; she lets it ring
    first = _redial(desk, silent_once_opened=True)
    desk.settle()
    alice.expect_sms("SEV1").expect_call(answer=False)
    desk.clock.set(desk.t0 + timedelta(seconds=30))
    second = _redial(desk, silent_once_opened=True)
    desk.settle()
    alice.expect_sms("SEV1").expect_call(answer=False)
    customer.expect_sms("we have your report")
    desk.clock.set(desk.t0 + timedelta(minutes=1))
    third = _redial(desk)
    desk.settle()
    assert desk.incident(third.id).related_incident_id == second.id
    assert desk.incident(second.id).related_incident_id is None  # not linked yet: its call may still go on

    callback = _called_back(desk, customer, alice, third)
    assert desk.incident(first.id).callback_answered_at is None

    desk.at(minutes=6)  # the first two calls are idle long enough to be taken for ended: settled, linked
    assert desk.incident(second.id).related_incident_id == first.id  # the second call's: it heard of the first
    one = desk.incident(first.id)
    assert (one.reached_on_callback_id, one.callback_answered_at) == (callback.id, callback.answered_at)
    # no receipt promising a callback by the deadline: they have talked with the engineer (its step says why)
    assert [e.detail["outcome"] for e in _lines(desk, first.id, "step_receipt")][-1] == "skipped_callback_done"
    [line] = _lines(desk, first.id, "callback_reached_on_related")
    assert (line.detail["outcome"], line.detail["related_reference"]) == ("met", third.reference)

    desk.at(minutes=16)  # past every deadline: nobody is alerted, the customer is not told we did not reach them
    assert _lines(desk, first.id, "callback_breached") == []
    assert _facts(desk, first.id).outcome == Outcome.MET
    assert customer.unmet == [] and alice.unmet == []


def test_a_call_rescued_after_its_redials_conversation_is_linked_to_it_and_counted(desk, network):
    """Outside probe (session 43): the first call went silent before its callback number (no incident opened, its end
    never reported); the customer redialled at once and reported in full, and was called back and talked. The
    watchdog then rescued the first call as an incident of its own, linked to nothing: it escalated, breached, paged
    the managers, and texted the customer "we have not reached you". The rescued call is linked to the redial's
    incident opened after it began, and the conversation counts for it."""
    customer = network.phone(CUSTOMER)
    alice = network.phone(ALICE)
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    for key in ("1", "1", "#"):
        call.press(key)
    call.say("Acme Mail")  # then silence: the name is never given, and Twilio reports no end
    alice.expect_sms("SEV1").expect_call(answer=False)
    customer.expect_sms("we have your report")
    desk.clock.set(desk.t0 + timedelta(seconds=30))
    redial = _redial(desk)
    desk.settle()
    assert desk.incident(redial.id).related_incident_id is None  # no open incident of the number when it called

    callback = _called_back(desk, customer, alice, redial)

    desk.at(minutes=6)  # the first call is idle long enough to be taken for ended: rescued, and linked
    with desk.hotline.db.session() as s:
        rescued = s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
    assert rescued.related_incident_id == redial.id
    assert (rescued.reached_on_callback_id, rescued.callback_answered_at) == (callback.id, callback.answered_at)
    [line] = _lines(desk, rescued.id, "callback_reached_on_related")
    assert (line.detail["outcome"], line.detail["related_reference"]) == ("met", redial.reference)
    desk.at(minutes=22)  # past its deadline: nobody alerted, no apology to a customer we talked to
    assert _lines(desk, rescued.id, "callback_breached") == []
    assert _facts(desk, rescued.id).outcome == Outcome.MET
    assert customer.unmet == [] and alice.unmet == []
    assert [body for body in customer.sms if "have not reached you" in body] == []


def test_a_different_outage_call_that_dropped_is_linked_to_its_redial_and_counted_by_its_conversation(desk, network):
    """Second outside probe (session 43): after a first report ended with its reference (A), the customer called
    again, chose "a different outage" and the call dropped at the ticket prompt, its end never reported; the redial
    chose it again and reported in full (B, linked to A as another outage: each has its own callback). The
    watchdog's rescue of the dropped call (C) linked it to A only, as another outage, and B's conversation never
    counted for it: it would breach. C is linked to its redial B, the same report, and B's callback counts for C,
    never for A."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    first = desk.open_incident()  # A: the whole intake, its reference heard
    desk.settle()
    desk.clock.set(desk.t0 + timedelta(seconds=40))
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    assert "open incident" in " ".join(call.press("1").said)
    call.press("2")  # a different outage
    call.press("2")  # SMTP injection failing; then silence at the ticket prompt, and no status callback
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)
    desk.clock.set(desk.t0 + timedelta(seconds=45))
    redial = _redial(desk)  # chooses "a different outage" too, and reports in full
    desk.settle()
    assert desk.incident(redial.id).related_incident_id == first.id
    callback = _called_back(desk, customer, alice, redial)

    alice.expect_call(answer=False)  # A, another outage nobody called back, escalates: its level 1 at T+3 ...
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)  # ... and the managers' at T+6
    desk.at(minutes=6)  # the dropped call is taken for ended: rescued, linked to its redial
    with desk.hotline.db.session() as s:
        rescued = s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
    assert rescued.related_incident_id == redial.id
    assert not [body for body in network.phone(BOB).sms if rescued.reference in body]  # nobody paged for C
    [link] = _lines(desk, rescued.id, "possibly_related")
    assert not link.detail.get("own_callback") and link.detail["reference"] == redial.reference
    assert (rescued.reached_on_callback_id, rescued.callback_answered_at) == (callback.id, callback.answered_at)
    assert desk.incident(first.id).callback_answered_at is None  # another outage: not reached by B's call
    assert _facts(desk, rescued.id).outcome == Outcome.MET
