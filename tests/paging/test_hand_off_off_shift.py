"""The rep gone off shift at a rota hand-off mid-incident (a follow-up of probe O6): their pages not sent yet are
canceled (a page of theirs waiting for a retry went out after the hand-off, paging them for an incident now someone
else's), and they are told once by SMS that it was handed over, and to whom.

As in ``test_hand_off_pages``: the fake clock starts at 19:00 PST (T0); the primary rota hands over from Alice to
Bob at 19:02 (T+2); Carol is the secondary. Through the simulated Twilio over HTTP and scripted phones that fail the
test on any SMS or call nobody expected."""

from __future__ import annotations

from sqlalchemy import select

from app.models import DueStep, IncidentEvent, Page
from tests.paging.conftest import ALICE, BOB, CUSTOMER
from tests.paging.test_hand_off_pages import _alice_hands_over_to_bob_at_t2
from tests.paging.test_rep_other_number import _creates_to, _timeline

TOO_MANY_REQUESTS = 20429  # Twilio's code with a 429: refused for now (nothing made), retried


def _page(desk, incident_id: int, to: str, channel: str, purpose: str = "page") -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.to_number == to,
                                                 Page.channel == channel, Page.purpose == purpose).order_by(Page.id)))


def _canceled_lines(desk, incident_id: int) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "page_canceled").order_by(IncidentEvent.id))]


def test_the_call_of_the_rep_gone_off_shift_waiting_for_a_retry_is_canceled_and_they_are_told_once(
        desk, network, twilio):
    """Twilio refuses Alice's page call for now (429) until after the hand-off: before, its retry rang her at T+2:30,
    for an incident Bob had by then. Now the hand-off cancels it (the timeline says why), her SMS page stays sent,
    and she gets one SMS saying it was handed over to Bob; Bob and the later levels are paged as before."""
    _alice_hands_over_to_bob_at_t2(desk)
    twilio.refuse_to(ALICE, code=TOO_MANY_REQUESTS, resource="Calls", status=429)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1")
    incident = desk.open_incident()
    desk.settle()
    desk.at(minutes=1)  # her call tried again, failing for now
    [call] = _page(desk, incident.id, ALICE, "voice")
    assert (call.status, call.attempts >= 2) == ("queued", True)
    bob = network.phone(BOB).expect_sms("HANDED OVER").expect_call(machine=True)
    alice.expect_sms("handed over at the shift change")
    desk.at(minutes=2)
    twilio.stop_refusing(ALICE)  # Twilio takes her calls again: nothing of this incident is left to ring her
    desk.at(minutes=2, seconds=30)
    [call] = _page(desk, incident.id, ALICE, "voice")
    assert call.status == "canceled" and call.sent_at is None
    [sms] = _page(desk, incident.id, ALICE, "sms")
    assert sms.status == "delivered"  # a page already placed is never touched
    assert _canceled_lines(desk, incident.id) == [
        {"page_id": call.id, "reason": "handed_over", "handed_over_to": "Bob Secondary",
         "step_id": _hand_off_step_id(desk, incident.id)}]
    assert ("Voice call page to Alice Primary canceled (handed over at the shift change to Bob Secondary: the rep "
            "went off shift)") in _timeline(desk, incident.id)
    assert "SMS hand-off notice to Alice Primary (oncall:primary) queued" in _timeline(desk, incident.id)
    # one notice, by SMS, naming the incident and Bob
    assert len(alice.sms) == 2 and alice.calls == []
    assert alice.sms[1].startswith(f"SEV1 {incident.reference} Acme Mail: handed over at the shift change (19:02 PST) "
                                   "to Bob Secondary")
    assert [r for r in _creates_to(twilio, ALICE) if r == "Calls.json"]  # refused while she was on shift ...
    calls_made_before = len([r for r in _creates_to(twilio, ALICE) if r == "Calls.json"])
    # T+3: the primary again by voice is Bob; never Alice, and she is not told again
    bob.expect_call(answer=False)
    network.phone("+14155550144").expect_sms("SEV1").expect_call(answer=False)  # Carol, the secondary
    desk.at(minutes=3)
    assert len([r for r in _creates_to(twilio, ALICE) if r == "Calls.json"]) == calls_made_before
    assert len(alice.sms) == 2 and alice.calls == []
    assert len(_page(desk, incident.id, ALICE, "sms", "handed_over")) == 1


def _hand_off_step_id(desk, incident_id: int) -> int:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep.id).where(DueStep.incident_id == incident_id,
                                                  DueStep.kind == "handoff")).one()
