"""Live connect: the live conversation is the callback from the moment Twilio bridges it, not from its end.

Whole calls through the signed webhooks (the scripted caller, the real app, the simulated Twilio and its queues);
the back office (worker and watchdog) works while the bridged call lasts, a minute at a time on the fake clock,
as it does in production. Twilio reports the bridge's end (the rep's ``<Dial action>``, the caller's ``<Enqueue
action>``) only when the call is over, so only the ``<Queue url>`` chain on the caller's leg, just before the
bridge, can tell the hotline while it happens.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Callback, DueStep, Incident, Page, Rep
from app.reports.facts import IncidentFacts, Outcome
from app.services.callbacks import live_connected, open_callback, withdraw_live_answer
from hotline_sim.backoffice import work
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_live_connect import HOTLINE, _call, _callbacks, _events, _incident_id, _intake, _waits
from tests.paging.test_live_connect_hangup import HUNG_UP

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")

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
    assert steps["at_risk"].outcome == "skipped_callback_done" and steps["breach"].outcome == "met"
    assert "repage" not in steps
    facts = IncidentFacts.from_events(_events(desk, incident_id))
    assert facts.outcome == Outcome.MET and facts.answered_at == callback.answered_at
    assert "update interval" in alice.calls[-1].heard  # after the call, as for any callback


@pytest.mark.parametrize("reported", ["first", "last"])  # the caller's <Enqueue action> before / after the rep's
def test_a_bridge_that_fails_right_after_it_was_counted_leaves_no_met_and_the_customer_is_dialled_back(
        desk, network, client, reported):
    """The caller heard "connecting you now" to its end (the callback counted), then their leg dropped before the
    bridge: Twilio's end reports say nobody was connected, so nothing may stay met."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=60)
    customer.expect_call(answer=False).expect_sms("tried to call you")
    call = _call(desk)
    call.drops_at_bridge = reported
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()

    assert any("/twilio/live/bridging" in w.url for w in network.webhooks)  # it was counted at the bridge...
    [wait] = _waits(desk)
    assert wait.result == "hangup"
    [callback] = _callbacks(desk)  # ... and the end reports withdrew it: the customer was dialled back, unanswered
    assert callback.outcome == "attempted" and callback.answered_at is None and callback.person_confirmed_at is None
    incident = desk.incident(incident_id)
    assert incident.callback_answered_at is None and incident.breached_at is None
    kinds = [e.kind for e in _events(desk, incident_id)]
    assert kinds.index("callback_met") < kinds.index("callback_withdrawn")
    facts = IncidentFacts.from_events(_events(desk, incident_id))  # the report reads the log the same way
    assert facts.outcome != Outcome.MET and facts.answered_at is None
    rep_leg = alice.calls[-1]
    assert HUNG_UP in rep_leg.heard and "update interval" not in rep_leg.heard
    assert customer.calls[0].from_ == HOTLINE
    breach = _steps(desk, incident_id)["breach"]
    assert breach.status == "pending" and breach.due_at == incident.callback_due_at
    login_as(client, desk.hotline)
    row = parse(client.get("/board")).find("tr", id=f"inc-{incident.reference}")
    assert "the customer was not reached" in row.find(cls="state").text()


def test_the_steps_that_found_a_withdrawn_answer_run_again(desk, network):
    """A live answer counted at T+9 kept the at-risk alert (T+10) and the breach (T+15) quiet; Twilio's end reports
    withdraw it at T+15:30: both run again at once, as if it had never counted, and the breach is on record."""
    incident, alice = desk.acknowledged_by_alice(network)
    with desk.hotline.db.session() as s:
        alice_id = s.scalars(select(Rep.id).where(Rep.phone == ALICE)).one()
    desk.at(minutes=9)
    caller_sid = "CA" + "c" * 32
    with desk.hotline.db.transaction() as s:
        callback = open_callback(s, s.get(Incident, incident.id), alice_id, desk.clock.now(),
                                 rep_call_sid="CA" + "a" * 32, note="live connect")
        live_connected(s, callback.id, caller_sid, desk.clock.now(), desk.clock.now())
        callback_id = callback.id
    desk.at(minutes=15)
    ran = _steps(desk, incident.id)
    assert (ran["at_risk"].outcome, ran["breach"].outcome) == ("skipped_callback_done", "met")

    alice.expect_sms("BREACHED")  # the at-risk step, run again past the deadline, says so
    # Maria gets the breach alert alone: the at-risk step, run past the deadline, alerts the reps only (session 37)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=30))
    with desk.hotline.db.transaction() as s:
        withdraw_live_answer(s, callback_id, caller_sid, "queue_result_hangup", desk.clock.now())
    desk.settle()

    with desk.hotline.db.session() as s:
        steps = list(s.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                                     DueStep.kind.in_(["at_risk", "breach"]))
                               .order_by(DueStep.kind, DueStep.level)))
        callback = s.get(Callback, callback_id)
    assert [(st.kind, st.level, st.outcome) for st in steps] == [
        # run past the deadline: Alice alone (the managers get the breach alert)
        ("at_risk", 0, "skipped_callback_done"), ("at_risk", 1, "alerted_1"), ("breach", 0, "met"),
        ("breach", 1, "breached")]
    assert callback.outcome == "pending" and callback.answered_at is None  # the rep's leg dials the customer next
    now = desk.incident(incident.id)
    assert now.callback_answered_at is None and now.breached_at == now.callback_due_at
    facts = IncidentFacts.from_events(_events(desk, incident.id))
    assert facts.answered_at is None and facts.breached()
    with desk.hotline.db.session() as s:
        marias = {p.purpose: p for p in s.scalars(select(Page).where(Page.incident_id == incident.id,
                                                                     Page.to_number == MARIA, Page.channel == "sms"))}
    assert "at_risk" not in marias and marias["breach"].sent_at is not None  # one alert, the breach's
