"""The callback: a bridged call from the hotline number, judged by Twilio's timestamps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Callback, DueStep, IncidentEvent
from app.services.page_text import hhmm
from tests.paging.conftest import ALICE, CUSTOMER, MARIA


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _step_outcomes(desk, incident_id):
    with desk.hotline.db.session() as s:
        return {(st.kind, st.level): st.outcome for st in
                s.scalars(select(DueStep).where(DueStep.incident_id == incident_id))}


def test_rep_presses_2_and_is_bridged_callback_met_with_twilios_timestamp(desk, network, clock):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, ring_seconds=7, talk_seconds=120)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="2", ring_seconds=20)
    incident = desk.open_incident()
    desk.settle()

    [callback] = _callbacks(desk, incident.id)
    # the rep answered 20 s after T0, the customer 7 s later: Twilio's "answered" Timestamp decides, read as the
    # latest instant of its whole second (the answer came within it: never counted earlier than it was)
    assert callback.answered_at == desk.t0 + timedelta(seconds=28)
    assert callback.outcome == "met" and callback.kind == "bridged"
    assert desk.incident(incident.id).callback_answered_at == callback.answered_at
    call = customer.calls[0]
    assert call.from_ == "+15005550006"  # from the hotline number, not the rep's own
    assert incident.reference[0] in call.heard and "Severity-1 hotline" in call.heard  # the customer's whisper
    assert "Acme Mail" in alice.calls[0].heard  # the rep's whisper names the incident
    with desk.hotline.db.session() as s:
        met = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "callback_met")).one()
    assert met.detail["seconds_after_capture"] == 28.0

    desk.at(minutes=10)  # a met callback: no at-risk alert, no breach, nobody else paged
    desk.at(minutes=15)
    outcomes = _step_outcomes(desk, incident.id)
    assert outcomes[("at_risk", 0)] == "skipped_callback_done" and outcomes[("breach", 0)] == "met"
    assert desk.incident(incident.id).breached_at is None


def test_customer_not_answering_is_attempted_and_the_rep_can_retry(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answer=False).expect_sms("tried to call you").expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "1"])
    incident = desk.open_incident()
    desk.settle()
    first, second = _callbacks(desk, incident.id)
    assert first.outcome == "attempted" and first.answered_at is None
    assert second.outcome == "met"
    assert "did not answer" in alice.calls[0].heard and "Trying the customer again" in alice.calls[0].heard


def test_reply_call_by_sms_calls_the_rep_then_bridges_the_customer(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1", reply="CALL").expect_call(answer=False)
    alice.expect_sms("Calling you now").expect_call()  # the hotline calls Alice, then dials the customer
    incident = desk.open_incident()
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "met" and callback.rep_call_sid and callback.customer_call_sid
    assert desk.incident(incident.id).acknowledged_at == desk.t0


def test_callback_answered_after_the_deadline_is_late_and_the_breach_stands(desk, network):
    incident, customer = desk.called_back_late_by_alice(network)
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "late"
    later = desk.incident(incident.id)
    assert later.breached_at == later.callback_due_at
    desk.at(minutes=20)  # the repage round finds the callback done: nobody is paged again
    assert _step_outcomes(desk, incident.id)[("repage", 0)] == "stopped_callback_done"


def test_self_reported_callback_is_recorded_separately_and_never_met(desk, network):
    incident, alice = desk.acknowledged_by_alice(network)
    from tests.paging.test_acknowledgement import _sms_from

    answer = _sms_from(desk, ALICE, f"CALLED {incident.reference}").get_data(as_text=True)
    assert "Noted" in answer
    [callback] = _callbacks(desk, incident.id)
    assert callback.kind == "self_reported" and callback.outcome == "self_reported"
    assert desk.incident(incident.id).callback_answered_at is None  # never counted as met
    from tests.paging.test_callback_rep_leg import _api

    callback_json = _api(desk.client, desk, incident.reference)["callback"]
    assert (callback_json["outcome"], callback_json["attempts"]) == ("self_reported", 0)  # no call of ours (before: 1)


def test_a_lost_callback_job_is_placed_by_the_watchdog_exactly_once(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged")
    incident = desk.open_incident()
    desk.settle()
    from tests.paging.test_acknowledgement import _sms_from

    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.hotline.jobs.redis.flushdb()  # Redis loses the job that would call Alice
    desk.at(seconds=5)  # not yet handed over again (RQ runs a job within milliseconds): nothing is placed
    assert _callbacks(desk, incident.id)[0].rep_call_sid == ""
    alice.expect_call()
    customer.expect_call(press="1", answered=True)
    desk.at(seconds=6)  # never tried: handed over at FIRST_TRY_GRACE (30 s until session 30)
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "met" and callback.attempts == 1
    assert len([c for c in desk.network.twilio.calls if c.to == ALICE]) == 2  # the page call and this one


def test_the_link_in_the_sms_can_acknowledge_and_connect_the_rep_to_the_customer(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    from tests.paging.test_acknowledgement import _ack_link

    token = _ack_link(desk, incident.id)
    alice.expect_call()  # the hotline calls Alice back, then dials the customer
    answer = desk.client.post(f"/ack/{token}", data={"action": "call"})
    assert answer.status_code == 200 and b"Calling you on +14155550111" in answer.data
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "met" and desk.incident(incident.id).acknowledged_at == desk.t0


def test_the_customer_pressing_hash_at_press_any_key_is_bridged(desk, network):
    """"Press any key": '#' is a key too. Twilio's <Gather> ends on its finishOnKey (# unless told otherwise)
    and, with no digit before it, requests no action; the customer must not be hung up on for pressing it."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="#", answered=True)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "met" and callback.person_confirmed_at is not None
    assert "[connected to" in customer.calls[0].heard


def test_a_callback_the_customer_did_not_answer_leaves_the_at_risk_alert_to_go_saying_so(desk, network):
    """An outside probe's customer was dialled twice, unanswered, before T+10: the at-risk step skipped as if a
    callback were under way, and the managers heard nothing until the breach, which said "no callback yet". A
    callback that ended without reaching the customer leaves the promise at risk: the alert goes, and says so."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answer=False).expect_sms("tried to call you")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])  # she presses 2, then hangs up
    incident = desk.open_incident()
    desk.settle()
    [tried] = _callbacks(desk, incident.id)
    assert tried.outcome == "attempted"

    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    assert _step_outcomes(desk, incident.id)[("at_risk", 0)] == "alerted_2"  # Maria and Alice
    [alert] = [m for m in alice.sms if "AT RISK" in m]
    due = hhmm(desk.incident(incident.id).callback_due_at, "America/Los_Angeles")  # on Alice's clock
    assert f"5 min left (by {due}), a callback was tried and did not reach the customer." in alert
    # the timeline says what the alert said (an outside probe's read "no callback started" of callbacks tried)
    with desk.hotline.db.session() as s:
        words = [entry.text for entry in timeline(list(s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.at, IncidentEvent.id))), [])]
    assert "Callback at risk: a callback was tried and did not reach the customer; 2 alerts queued" in words
    network.phone(MARIA).expect_sms("BREACHED, a callback was tried and did not reach the customer").expect_call(
        answer=False)
    customer.expect_sms("have not reached you")  # the breach's apology
    desk.at(minutes=15)
    assert _step_outcomes(desk, incident.id)[("breach", 0)] == "breached"
