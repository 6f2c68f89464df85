"""Live connect: the live conversation is the callback from the moment Twilio bridges it, not from its end.

Whole calls through the signed webhooks (the scripted caller, the real app, the simulated Twilio and its queues);
the back office (worker and watchdog) works while the bridged call lasts, a minute at a time on the fake clock,
as it does in production. Twilio reports the bridge's end (the rep's ``<Dial action>``, the caller's ``<Enqueue
action>``) only when the call is over, so only the ``<Queue url>`` chain on the caller's leg, just before the
bridge, can tell the hotline while it happens.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import DueStep
from app.reports.facts import IncidentFacts, Outcome
from hotline_sim.backoffice import work
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_live_connect import _call, _callbacks, _events, _incident_id, _intake, _waits

TALK = timedelta(minutes=21)  # past the at-risk alert (T+10), the deadline (T+15) and the first repage (T+20)


def _steps(desk, incident_id: int) -> dict[str, DueStep]:
    with desk.hotline.db.session() as s:
        return {step.kind: step for step in s.scalars(select(DueStep).where(DueStep.incident_id == incident_id))}


def test_a_live_conversation_past_the_deadline_is_the_callback_while_it_lasts(desk, network):
    """Connected live about a minute after the details were in, still talking 21 minutes after: nobody is paged,
    alerted or texted meanwhile, and the callback is met at the moment Twilio bridged them."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=TALK.total_seconds())
    sent_during: list[str] = []
    bridge: dict[str, object] = {}

    def meanwhile() -> None:  # what the back office sends while Alice and the customer talk
        bridge.setdefault("counted", [c.outcome for c in _callbacks(desk)])
        before = {m.sid for m in network.twilio.messages} | {c.sid for c in network.twilio.calls}
        work(desk.hotline)
        sent_during.extend(f"SMS to {m.to}: {m.body}" for m in network.twilio.messages if m.sid not in before)
        sent_during.extend(f"call to {c.to}" for c in network.twilio.calls if c.sid not in before)

    network.meanwhile = meanwhile
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    captured = desk.incident(incident_id).captured_at
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()

    [wait] = _waits(desk)
    [callback] = _callbacks(desk)
    assert wait.dequeued_at - captured < timedelta(minutes=2)  # connected at about T+1
    assert desk.clock.now() - captured > TALK  # and still talking after T+21: at risk, breached and repaged by then
    assert sent_during == []  # no AT RISK, no BREACHED, no repage of Alice or the managers, no customer text
    assert bridge["counted"] == ["met"]  # counted in the first minute of the conversation, not at its end
    # met by the time Twilio bridged them: after "connecting you now" played to the caller, not at the dequeue
    assert wait.dequeued_at < callback.answered_at < wait.dequeued_at + timedelta(seconds=5)
    assert callback.outcome == "met" and callback.person_confirmed_at == callback.answered_at
    met = next(e for e in _events(desk, incident_id) if e.kind == "callback_met")
    assert met.at == callback.answered_at and met.detail["live"] is True
    incident = desk.incident(incident_id)
    assert incident.callback_answered_at == callback.answered_at and incident.breached_at is None
    steps = _steps(desk, incident_id)
    assert steps["at_risk"].outcome == "skipped_callback_started" and steps["breach"].outcome == "met"
    assert "repage" not in steps
    facts = IncidentFacts.from_events(_events(desk, incident_id))
    assert facts.outcome == Outcome.MET and facts.answered_at == callback.answered_at
    assert "update interval" in alice.calls[-1].heard  # after the call, as for any callback
