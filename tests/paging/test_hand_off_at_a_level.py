"""A rota hand-off first seen by a level's own step (probe O6, follow-up): the level-1 step falls due as the primary
rota hands over, pages Bob (on call since, who never had the page) before the watchdog's pass could write a hand-off
step, and until this change canceled none of Alice's pages not sent yet and told her nothing; the hand-off step,
finding Bob paged, did nothing either. Both paths now go through one rule (``decide._paging``,
``decisions._hand_over``): whichever pages Bob first cancels her unsent pages and texts her once.

The fake clock starts at 19:00 PST (T0); the default policy pages the primary at T0 (SMS and call), the primary
again by voice and the secondary (Carol) at T+3. Through the simulated Twilio over HTTP and scripted phones that
fail the test on any SMS or call nobody expected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import DueStep, IncidentEvent, Rep
from app.oncall.records import parse_rep, parse_schedule
from app.services.hand_offs import write_hand_off_steps
from app.services.oncall import who_is_on_call
from app.services.oncall_admin import create_rep, save_schedule
from app.services.steps import run_step
from tests.paging.conftest import ALICE, BOB, CUSTOMER
from tests.paging.test_hand_off_off_shift import TOO_MANY_REQUESTS, _canceled_lines, _page
from tests.paging.test_rep_other_number import ALICE_ALT, _alice_has_another_number, _events

CAROL = "+14155550144"


def _rota_hands_over_at(desk, minute: int) -> None:
    """The primary rota hands over from Alice to Bob at 19:0``minute`` (T+``minute``); Carol is the secondary."""
    with desk.hotline.db.transaction() as s:
        create_rep(s, parse_rep({"name": "Carol Second", "phone": CAROL}))
        now = desk.hotline.clock.now()
        save_schedule(s, parse_schedule({"name": "primary", "time_zone": "America/Los_Angeles", "layers": [
            {"rotation": "daily", "handoff_time": f"19:{minute:02d}", "starts_on": "2026-11-02",
             "members": ["Bob Secondary", "Alice Primary"]}]}), now)
        save_schedule(s, parse_schedule({"name": "secondary", "time_zone": "America/Los_Angeles", "layers": [
            {"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon", "starts_on": "2026-11-02",
             "members": ["Carol Second"]}]}), now)
        s.flush()
        before = desk.t0 + timedelta(minutes=minute) - timedelta(seconds=1)
        assert [r.phone for r in who_is_on_call(s, "primary", before)] == [ALICE]
        assert [r.phone for r in who_is_on_call(s, "primary", before + timedelta(seconds=1))] == [BOB]


def _steps(desk, incident_id: int, kind: str) -> list[DueStep]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(DueStep).where(DueStep.incident_id == incident_id, DueStep.kind == kind)
                              .order_by(DueStep.level)))


def _alices_call_waits_for_a_retry(desk, network, twilio):
    """Twilio refuses Alice's calls for now (429): her page call is still queued, waiting for a retry, at T+1.
    Returns the incident and Alice's phone."""
    twilio.refuse_to(ALICE, code=TOO_MANY_REQUESTS, resource="Calls", status=429)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1")
    incident = desk.open_incident()
    desk.settle()
    desk.at(minutes=1)
    [call] = _page(desk, incident.id, ALICE, "voice")
    assert call.status == "queued" and call.attempts >= 2
    return incident, alice


def _handed_over_to_bob(desk, incident, alice, twilio) -> None:
    """What the hand-off must have left, whichever step saw it: Alice's waiting call canceled (one line, naming Bob),
    one SMS telling her, none of her pages placed since; Bob paged."""
    twilio.stop_refusing(ALICE)  # Twilio takes her calls again: nothing of this incident is left to ring her
    desk.at(minutes=3, seconds=30)
    [call] = _page(desk, incident.id, ALICE, "voice")
    assert call.status == "canceled" and call.sent_at is None
    [line] = _canceled_lines(desk, incident.id)
    assert (line["page_id"], line["reason"], line["handed_over_to"]) == (call.id, "handed_over", "Bob Secondary")
    [notice] = _page(desk, incident.id, ALICE, "sms", "handed_over")
    assert len(alice.sms) == 2 and alice.calls == []
    assert alice.sms[1].startswith(f"SEV1 {incident.reference} Acme Mail: handed over at the shift change")
    assert "to Bob Secondary, on call now and paged" in alice.sms[1]
    assert [p.status for p in _page(desk, incident.id, BOB, "sms")] == ["delivered"]


def test_a_hand_off_a_level_step_sees_first_cancels_the_off_shift_reps_pages_and_tells_them_once(
        desk, network, twilio):
    """The rota hands over at T+3, as the level-1 step falls due: that step pages Bob (its "primary again" reaches him
    for the first time: the SMS and the call) and Carol, and hands the incident over as a hand-off step would. The
    watchdog writes no hand-off step (Bob has the page), and nothing happens twice later."""
    _rota_hands_over_at(desk, 3)
    incident, alice = _alices_call_waits_for_a_retry(desk, network, twilio)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    network.phone(CAROL).expect_sms("SEV1").expect_call(answer=False)
    alice.expect_sms("handed over at the shift change")
    desk.at(minutes=3)
    assert _steps(desk, incident.id, "handoff") == []  # the level's step saw it first
    [level_1] = [step for step in _steps(desk, incident.id, "page") if step.level == 1]
    assert level_1.outcome.startswith("paged_")
    [notice] = _page(desk, incident.id, ALICE, "sms", "handed_over")
    assert notice.step_id == level_1.id
    _handed_over_to_bob(desk, incident, alice, twilio)
    assert _canceled_lines(desk, incident.id)[0]["step_id"] == level_1.id
    desk.at(minutes=5)  # later passes: no hand-off step, Alice told nothing more
    assert _steps(desk, incident.id, "handoff") == [] and len(alice.sms) == 2


@pytest.mark.parametrize("first", ["level", "handoff"])
def test_a_level_step_and_a_hand_off_step_due_together_tell_the_off_shift_rep_once(desk, network, twilio, first):
    """The watchdog's pass wrote a hand-off step at T+2 (the rota handed over then) that had not run when the level-1
    step fell due at T+3: each of the two may run first. Whichever does hands over (Bob paged, Alice's waiting call
    canceled, Alice texted); the other cancels nothing more and tells nobody again. Run at once, they take turns on
    the incident's row lock (PostgreSQL: the second is put off while the first holds it)."""
    _rota_hands_over_at(desk, 2)
    incident, alice = _alices_call_waits_for_a_retry(desk, network, twilio)
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    assert write_hand_off_steps(desk.hotline.db, desk.clock.now()) == 1  # written, not run yet
    desk.clock.set(desk.t0 + timedelta(minutes=3))
    now = desk.clock.now()
    [hand_off] = _steps(desk, incident.id, "handoff")
    [level_1] = [step for step in _steps(desk, incident.id, "page") if step.level == 1]
    order = [level_1.id, hand_off.id] if first == "level" else [hand_off.id, level_1.id]
    with desk.hotline.db.transaction() as s:
        assert run_step(s, order[0], now)
        if desk.hotline.db.engine.dialect.name == "postgresql":  # SQLite's one write lock orders them instead
            with desk.hotline.db.transaction() as other:
                assert not run_step(other, order[1], now)  # put off: the incident is held by the first
    with desk.hotline.db.transaction() as s:
        assert run_step(s, order[1], now)
    # Bob's first page: the hand-off's, saying so, or the level's; one call (the level's supersedes the hand-off's)
    network.phone(BOB).expect_sms("HANDED OVER" if first == "handoff" else "SEV1").expect_call(answer=False)
    network.phone(CAROL).expect_sms("SEV1").expect_call(answer=False)
    alice.expect_sms("handed over at the shift change")
    desk.settle()
    outcomes = {step.id: step.outcome for step in _steps(desk, incident.id, "page") + _steps(desk, incident.id,
                                                                                            "handoff")}
    assert outcomes[hand_off.id] == ("nobody_new_on_call" if first == "level" else "handed_over_3")
    _handed_over_to_bob(desk, incident, alice, twilio)
    desk.at(minutes=5)  # Alice told nothing more
    assert len(alice.sms) == 2 and alice.calls == []


def test_a_failed_hand_off_sms_goes_to_the_reps_other_number_once(desk, network, twilio):
    """Alice's hand-off SMS comes back undelivered (30005): the same notice goes to her other number, once (its line
    names both), never back to her own, and no later step tells her again."""
    _alice_has_another_number(desk)
    _rota_hands_over_at(desk, 3)
    incident, alice = _alices_call_waits_for_a_retry(desk, network, twilio)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    network.phone(CAROL).expect_sms("SEV1").expect_call(answer=False)
    alice.expect_sms("handed over at the shift change", fail="undelivered", error_code=30005)
    other = network.phone(ALICE_ALT).expect_sms("handed over at the shift change")
    desk.at(minutes=3)
    [first] = _page(desk, incident.id, ALICE, "sms", "handed_over")
    [again] = _page(desk, incident.id, ALICE_ALT, "sms", "handed_over")
    assert (first.status, again.status) == ("undelivered", "delivered")
    assert again.rep_id == first.rep_id and again.step_id == first.step_id
    assert other.sms[0].startswith(f"SEV1 {incident.reference} Acme Mail: handed over at the shift change")
    assert "to Bob Secondary, on call now and paged" in other.sms[0]
    assert [(e.detail["page_id"], e.detail["other_page_id"]) for e in _events(desk, incident.id,
                                                                              "page_failed_other_number")] == [
        (first.id, again.id)]
    twilio.stop_refusing(ALICE)
    network.phone("+14155550133").expect_sms("SEV1").expect_call(answer=False)  # Maria, the managers' level
    desk.at(minutes=6)
    assert len(_page(desk, incident.id, ALICE, "sms", "handed_over")) == 1
    assert len(_page(desk, incident.id, ALICE_ALT, "sms", "handed_over")) == 1 and len(other.sms) == 1
    with desk.hotline.db.session() as s:
        assert s.scalars(select(Rep.phone_alt).where(Rep.phone == ALICE)).one() == ALICE_ALT
        assert s.scalars(select(IncidentEvent.id).where(IncidentEvent.incident_id == incident.id,
                                                        IncidentEvent.kind == "level_unreached")).all() == []

