"""The rota hands over while an incident is open (probe O6): the rep on call since gets the page at the hand-off, as
a first page saying it was handed over and how long is left, and its later levels and alerts go to them, not to the
rep gone off shift; an incident already acknowledged stays its owner's.

The fake clock starts at 19:00 PST (T0, the "08:58" of the probe's story); the primary rota hands over from Alice to
Bob at 19:02 (T+2, its "09:00"). Carol is the secondary."""

from __future__ import annotations

from sqlalchemy import select, text

from app.models import DueStep, IncidentEvent, Page, Rep
from app.oncall.records import parse_rep, parse_schedule
from app.services.oncall import who_is_on_call
from app.services.oncall_admin import create_rep, save_schedule
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from

CAROL = "+14155550144"


def _alice_hands_over_to_bob_at_t2(desk) -> None:
    with desk.hotline.db.transaction() as s:
        create_rep(s, parse_rep({"name": "Carol Second", "phone": CAROL}))
        now = desk.hotline.clock.now()
        # a daily rota handing over at 19:02 in Los Angeles: Alice, on call now, keeps her shift until then
        save_schedule(s, parse_schedule({"name": "primary", "time_zone": "America/Los_Angeles", "layers": [
            {"rotation": "daily", "handoff_time": "19:02", "starts_on": "2026-11-02",
             "members": ["Bob Secondary", "Alice Primary"]}]}), now)
        save_schedule(s, parse_schedule({"name": "secondary", "time_zone": "America/Los_Angeles", "layers": [
            {"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon", "starts_on": "2026-11-02",
             "members": ["Carol Second"]}]}), now)
        s.flush()
        assert [r.phone for r in who_is_on_call(s, "primary", desk.t0.replace(minute=1))] == [ALICE]
        assert [r.phone for r in who_is_on_call(s, "primary", desk.t0.replace(minute=2))] == [BOB]


def _pages(desk, incident_id: int, to: str) -> list[tuple[float, str, str]]:
    with desk.hotline.db.session() as s:
        pages = s.scalars(select(Page).where(Page.incident_id == incident_id, Page.to_number == to).order_by(Page.id))
        return [((p.created_at - desk.t0).total_seconds() / 60, p.purpose, p.channel) for p in pages]


def _hand_off_steps(desk, incident_id: int) -> list[str]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(DueStep.outcome).where(DueStep.incident_id == incident_id,
                                                            DueStep.kind == "handoff")))


def test_the_rep_on_call_after_the_hand_off_is_paged_at_once_and_the_rep_off_shift_hears_no_more(desk, network):
    _alice_hands_over_to_bob_at_t2(desk)
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    desk.at(minutes=1)  # Alice still on call: nothing new
    # T+2, the hand-off: Bob gets the page at once, SMS and call, saying it was handed over and how long is left
    # (before: nothing until the level of T+3 or, for a policy paging the primary once, the at-risk alert); Alice,
    # who had the page, is told once by SMS that it was handed over to Bob
    bob = network.phone(BOB).expect_sms("HANDED OVER").expect_call(machine=True)
    alice.expect_sms("handed over at the shift change")
    desk.at(minutes=2)
    [sms] = bob.sms
    assert sms.startswith(f"SEV1 {incident.reference} ")
    assert "HANDED OVER to you at the shift change, nobody has acknowledged it: 13 min left." in sms
    assert f"Call back {CUSTOMER} by " in sms and f"Reply ACK {incident.reference}" in sms and "/ack/" in sms
    assert ("handed over to you at the shift change: nobody has acknowledged it. Minutes left to call the customer "
            "back: 13.") in bob.calls[0].heard
    assert alice.sms[-1] == (f"SEV1 {incident.reference} Acme Mail: handed over at the shift change (19:02 PST) to "
                             "Bob Secondary, on call now and paged. It is no longer yours: you need do nothing more.")
    assert _hand_off_steps(desk, incident.id) == ["handed_over_3"]  # Bob's SMS and call, Alice's notice
    # T+3: "the primary again by voice" is Bob, who has the written page; the secondary Carol; never Alice
    bob.expect_call(answer=False)
    network.phone(CAROL).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    # T+10: the at-risk alert reaches Bob, Carol and the managers; Alice, off shift and handed over from, no more
    for number in (BOB, CAROL, MARIA):
        network.phone(number).expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    customer.expect_sms("have not reached you")
    desk.at(minutes=15)
    # T+20: the repage goes to whoever is on call now (Bob) and the managers
    bob.expect_sms("BREACHED").expect_call(answer=False)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=20)
    assert _pages(desk, incident.id, ALICE) == [(0, "page", "sms"), (0, "page", "voice"), (2, "handed_over", "sms")]
    assert [p for p in _pages(desk, incident.id, BOB) if p[1] == "page"] == [
        (2, "page", "sms"), (2, "page", "voice"), (3, "page", "voice")]
    assert desk.incident(incident.id).callback_due_at == incident.callback_due_at  # the deadline never moves
    assert _hand_off_steps(desk, incident.id) == ["handed_over_3"]  # one hand-off, paged once


def test_an_incident_acknowledged_before_the_hand_off_stays_its_owners_and_pages_nobody_new(desk, network):
    _alice_hands_over_to_bob_at_t2(desk)
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    desk.clock.set(desk.t0.replace(minute=1))
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()
    desk.at(minutes=2)  # the hand-off: any SMS or call to Bob would fail the test
    desk.at(minutes=3)
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    with desk.hotline.db.session() as s:
        alice_id = s.scalars(select(Rep.id).where(Rep.phone == ALICE)).one()
        assert s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id,
                                                          IncidentEvent.kind == "step_handoff")).all() == []
    assert desk.incident(incident.id).acknowledged_by == alice_id
    assert network.phone(BOB).sms == [] and network.phone(BOB).calls == []
    assert _hand_off_steps(desk, incident.id) == []


def test_a_schedule_that_no_longer_resolves_holds_back_no_other_schedules_hand_off(desk, network):
    """The watchdog resolves every schedule at once for its hand-off look-up (``hand_offs._everyone_on_call``); one
    stored rota it cannot read (a rotation this version does not know, written by a newer one or by hand) must cost
    only that schedule, as when each was resolved alone: Bob still gets the primary's page at its hand-off."""
    _alice_hands_over_to_bob_at_t2(desk)
    with desk.hotline.db.transaction() as s:
        s.execute(text("UPDATE schedule_layers SET rotation = 'fortnightly' WHERE schedule_id = "
                       "(SELECT id FROM schedules WHERE name = 'secondary')"))
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    network.phone(BOB).expect_sms("HANDED OVER").expect_call(machine=True)
    network.phone(ALICE).expect_sms("handed over at the shift change")
    desk.at(minutes=2)
    assert _hand_off_steps(desk, incident.id) == ["handed_over_3"]
