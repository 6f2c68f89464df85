"""Probe A F10: the customer's phone answered a bridged callback 4 s before the deadline (Twilio asked for the leg's
whisper, which it does only once the called party answers), but the leg's answered status came 20 s late. The
breach step, looking only at that status, paged the managers "BREACHED ... not answered yet"; the callback was then
counted met, and nobody told them. The whisper's request now counts as the answer for the breach step's wait, and
whoever an alert told "BREACHED" of a callback counted met after all is told so."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.models import Callback, DueStep, Incident, IncidentEvent, Page
from app.reports.facts import Outcome
from tests.paging.conftest import ALICE, MARIA
from tests.paging.test_callback_proof import (
    _alice_presses_2,
    _callback,
    _facts,
    _leg_status,
    _press_key,
    _step_outcome,
    _whisper,
)
from tests.paging.test_twilio_failures import _work


def _due(desk, callback: Callback) -> datetime:
    with desk.hotline.db.session() as s:
        return s.get(Incident, callback.incident_id).callback_due_at


def _after_t0(desk, at: datetime) -> float:
    """Seconds from T0 to ``at``: what ``_leg_status`` stamps as Twilio's ``Timestamp``."""
    return (at - desk.t0).total_seconds()


def _ringing(desk, callback: Callback) -> None:
    """The customer's leg is dialled and rings (its status callbacks come in time)."""
    _leg_status(desk, callback, "initiated", 14 * 60 + 1)
    _leg_status(desk, callback, "ringing", 14 * 60 + 2)


def _texts_to(desk, number: str) -> list[str]:
    return [m.body for m in desk.network.twilio.messages if m.to == number]


def _pages(desk, incident_id: int, purpose: str) -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == purpose)))


def test_a_whisper_served_before_the_deadline_holds_the_breach_alert_though_the_answered_status_comes_late(
        desk, network):
    callback = _alice_presses_2(desk, minutes=14)
    _ringing(desk, callback)
    due = _due(desk, callback)
    whispered = due - timedelta(seconds=4)
    desk.clock.set(whispered)
    assert "<Gather" in _whisper(desk, callback)  # Twilio asks for it only once the customer's phone answered

    desk.clock.set(due + timedelta(seconds=1))  # the breach step runs: no status yet, the key press not in yet
    _work(desk)
    with desk.hotline.db.session() as s:
        step = s.scalars(select(DueStep).where(DueStep.incident_id == callback.incident_id,
                                               DueStep.kind == "breach")).one()
        assert (step.status, step.outcome) == ("pending", "waiting_for_key_press")
    assert _pages(desk, callback.incident_id, "breach") == []

    desk.clock.set(due + timedelta(seconds=6))
    _press_key(desk, callback)
    desk.clock.set(due + timedelta(seconds=20))  # the answered status, late, stamped at the answer
    _leg_status(desk, callback, "in-progress", _after_t0(desk, whispered))
    desk.clock.set(due + timedelta(minutes=1, seconds=2))  # the breach step looks again
    _work(desk)

    assert _step_outcome(desk, callback.incident_id, "breach") == "met"
    assert _pages(desk, callback.incident_id, "breach") == []
    assert not any("BREACHED" in body for body in _texts_to(desk, MARIA))
    counted = _callback(desk, callback.incident_id)
    assert counted.outcome == "met" and counted.answered_at <= due
    with desk.hotline.db.session() as s:
        incident = s.get(Incident, callback.incident_id)
        assert incident.breached_at is None and incident.callback_answered_at == counted.answered_at
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome == Outcome.MET and not facts.breached()


def test_a_whisper_heard_with_no_key_press_ends_the_wait_and_the_breach_is_alerted(desk, network):
    """The whisper's answer holds the alert only for the key press: the leg ending without one (a voicemail
    greeting) has the waiting breach step alert as ever, on record at the deadline."""
    callback = _alice_presses_2(desk, minutes=14)
    _ringing(desk, callback)
    due = _due(desk, callback)
    desk.clock.set(due - timedelta(seconds=4))
    _whisper(desk, callback, answered_by="unknown")
    desk.clock.set(due + timedelta(seconds=1))
    _work(desk)
    assert _step_outcome(desk, callback.incident_id, "breach") == "waiting_for_key_press"
    desk.clock.set(due + timedelta(seconds=15))
    _leg_status(desk, callback, "completed", _after_t0(desk, due + timedelta(seconds=14)), CallDuration="18")
    desk.clock.set(due + timedelta(minutes=1, seconds=2))
    _work(desk)
    assert _step_outcome(desk, callback.incident_id, "breach") == "breached"
    assert _callback(desk, callback.incident_id).outcome == "voicemail"
    assert {p.to_number for p in _pages(desk, callback.incident_id, "breach")} == {MARIA}
    with desk.hotline.db.session() as s:
        incident = s.get(Incident, callback.incident_id)
        assert incident.breached_at == incident.callback_due_at


def test_managers_alerted_breached_of_a_callback_then_counted_met_are_told_it_was_met(desk, network):
    """Nothing proved the answer by the deadline when the breach step ran (Twilio's whisper request came after it),
    so Maria was alerted "BREACHED"; Twilio's status then stamps the answer before the deadline: met. Maria, who got
    the alert, is texted that it was met after all, once; Alice, who got no BREACHED alert, is not."""
    callback = _alice_presses_2(desk, minutes=14)
    _ringing(desk, callback)
    due = _due(desk, callback)
    desk.clock.set(due + timedelta(seconds=1))
    _work(desk)
    assert _step_outcome(desk, callback.incident_id, "breach") == "breached"
    assert any("BREACHED" in body for body in _texts_to(desk, MARIA))

    desk.clock.set(due + timedelta(seconds=2))
    _whisper(desk, callback)  # heard after the deadline: proves no answer in time by itself
    desk.clock.set(due + timedelta(seconds=8))
    _press_key(desk, callback)
    desk.clock.set(due + timedelta(seconds=25))
    _leg_status(desk, callback, "in-progress", _after_t0(desk, due - timedelta(seconds=5)))
    _work(desk)
    desk.clock.set(due + timedelta(minutes=3))
    _leg_status(desk, callback, "completed", _after_t0(desk, due + timedelta(minutes=3)), CallDuration="180")
    _work(desk)

    assert _callback(desk, callback.incident_id).outcome == "met"
    corrections = _pages(desk, callback.incident_id, "breach_corrected")
    assert [(p.to_number, p.channel, p.status) for p in corrections] == [(MARIA, "sms", "sent")]
    [told] = [body for body in _texts_to(desk, MARIA) if "after all" in body]
    assert "NOT breached after all" in told and "BREACHED alert" in told
    assert not any("after all" in body for body in _texts_to(desk, ALICE))
    with desk.hotline.db.session() as s:
        line = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == callback.incident_id,
                                                     IncidentEvent.kind == "breach_corrected")).one()
    assert line.detail["alerted"] == 1
    assert _facts(desk, callback.incident_id).outcome == Outcome.MET
