"""The hotline's call to the rep, the first leg of a bridged callback: when it reaches no person.

A failed, unanswered or machine-answered rep leg never dials the customer: the callback ends
"rep not reached", the rep is told by SMS, the at-risk alert still fires, and the report's
breach reason says so (never "customer unreachable"); the API agrees with the report.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Callback, DueStep, IncidentEvent, Role
from app.services.api_tokens import create_token
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA


def _sms_from(desk, sender, body, sid="SM" + "7" * 32):
    """An SMS reaching the hotline number, signed like Twilio (each real SMS has its own MessageSid)."""
    params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/sms", params)
    return desk.client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _steps(desk, incident_id):
    with desk.hotline.db.session() as s:
        return {(st.kind, st.level): st.outcome for st in s.scalars(select(DueStep).where(DueStep.incident_id == incident_id))}


def _kinds(desk, incident_id):
    with desk.hotline.db.session() as s:
        return [e.kind for e in s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                                          .order_by(IncidentEvent.id))]


def _csv_row(client, desk, reference):
    login_as(client, desk.hotline, Role.MANAGER)
    day = desk.t0.date()
    body = client.get(f"/reports/compliance.csv?start={day}&end={day + timedelta(days=1)}&tz=UTC").get_data(as_text=True)
    return next(row for row in csv.DictReader(io.StringIO(body)) if row["reference"] == reference)


def _api(client, desk, reference):
    with desk.hotline.db.transaction() as s:
        token = create_token(s, f"rep-leg-{reference}", desk.hotline.clock.now(), ("incidents:read",))
    return client.get(f"/api/v1/incidents/{reference}", headers={"Authorization": f"Bearer {token}"}).get_json()


def _acknowledged_then_call(desk, network, twilio=None, **rep_leg):
    """Alice acknowledges at T0, asks for CALL at T+3; the hotline's call to her goes as ``rep_leg`` says
    (with ``twilio``: Twilio refuses to place it)."""
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    if twilio is not None:
        twilio.fail_next(1, status=400)  # the next REST request, the hotline calling Alice, is refused for good
    if rep_leg:
        alice.expect_call(**rep_leg)
    alice.expect_sms("could not reach you")
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    return incident, alice


def test_a_rep_who_misses_the_hotlines_call_is_told_and_the_at_risk_alert_still_fires(desk, network, client):
    incident, alice = _acknowledged_then_call(desk, network, answer=False)
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "rep_not_reached" and not callback.customer_call_sid
    assert network.phone(CUSTOMER).calls == []  # the customer was never dialled
    assert "customer was NOT called" in alice.sms[-1] and f"CALL {incident.reference}" in alice.sms[-1]
    assert f"Call them on {incident.callback_phone}, or reply CALL {incident.reference}" in alice.sms[-1]
    assert "callback_rep_not_reached" in _kinds(desk, incident.id)

    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    assert _steps(desk, incident.id)[("at_risk", 0)].startswith("alerted")  # before: skipped, "callback started"
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")  # never dialled: told the deadline passed
    desk.at(minutes=16)
    row = _csv_row(client, desk, incident.reference)
    assert (row["outcome"], row["breached"], row["breach_reason"]) == (
        "no_callback", "yes", "hotline could not reach the rep")
    body = _api(client, desk, incident.reference)
    assert body["callback"]["outcome"] == "rep_not_reached" and body["breach"]["breached"] is True
    assert body["callback"]["attempts"] == 0  # the customer was never dialled (before: 1)
    assert alice.unmet == [] and network.phone(MARIA).unmet == []


def test_a_rep_call_twilio_refuses_is_not_blamed_on_the_customer(desk, network, client, twilio):
    incident, alice = _acknowledged_then_call(desk, network, twilio)
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "rep_not_reached" and not callback.rep_call_sid
    network.phone(MARIA).expect_sms("AT RISK")
    alice.expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")  # never dialled: told the deadline passed
    desk.at(minutes=16)
    row = _csv_row(client, desk, incident.reference)
    assert (row["outcome"], row["breach_reason"]) == ("no_callback", "hotline could not reach the rep")


def test_the_reps_voicemail_is_never_bridged_to_the_customer(desk, network, client):
    incident, alice = _acknowledged_then_call(desk, network, machine=True)
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "rep_not_reached" and callback.answered_at is None
    assert network.phone(CUSTOMER).calls == []  # a customer pressing a key for a voicemail would have "met"
    assert "Severity" not in alice.calls[-1].heard  # the machine was hung up on, told nothing of the incident
    with desk.hotline.db.session() as s:
        why = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "callback_rep_not_reached")).one().detail
    assert why["why"] == "machine_start" and why["callback_id"] == callback.id


def test_after_a_missed_rep_call_the_rep_can_ask_again_and_meet_the_deadline(desk, network, client):
    incident, alice = _acknowledged_then_call(desk, network, busy=True)
    desk.at(minutes=5)
    network.phone(CUSTOMER).expect_call(press="1", answered=True)
    alice.expect_call()
    again = _sms_from(desk, ALICE, f"CALL {incident.reference}", sid="SM" + "8" * 32)  # another SMS, same words
    assert "Calling you now" in again.get_data(as_text=True)  # not "already in flight": the first one ended
    desk.settle()
    first, second = _callbacks(desk, incident.id)
    assert (first.outcome, second.outcome) == ("rep_not_reached", "met")
    assert _api(client, desk, incident.reference)["callback"]["attempts"] == 1  # the call that dialled (before: 2)
    desk.at(minutes=16)
    assert _steps(desk, incident.id)[("breach", 0)] == "met"
    assert _csv_row(client, desk, incident.reference)["outcome"] == "met"


def test_after_a_breach_nobody_acknowledged_the_repage_reaches_the_policys_own_first_level(desk, network):
    # a default policy that pages only "secondary": the repage must not go to a schedule assumed to be "primary"
    from app.services.oncall_admin import save_policy

    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "secondary", "channels": ["sms"]}]}]
    with desk.hotline.db.transaction() as s:
        save_policy(s, "frontline-only", levels, is_default=True)
    network.phone(CUSTOMER).expect_sms("we have your report")
    bob = network.phone(BOB).expect_sms("SEV1")
    incident = desk.open_incident()
    desk.settle()
    bob.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")
    desk.at(minutes=15)
    bob.expect_sms("BREACHED").expect_call(answer=False)  # the repage: level 1 of this policy, Bob
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    repage = next(at for (kind, _level), at in _due(desk, incident.id).items() if kind == "repage")
    desk.clock.set(repage)
    desk.settle()
    assert bob.unmet == [] and network.phone(ALICE).calls == [] and network.phone(ALICE).sms == []
    assert "target_unresolvable" not in _kinds(desk, incident.id)


def _due(desk, incident_id):
    with desk.hotline.db.session() as s:
        return {(st.kind, st.level): st.due_at for st in s.scalars(select(DueStep).where(DueStep.incident_id == incident_id))}


def test_a_second_reps_call_while_the_first_reps_callback_rings_names_who_the_hotline_is_calling(desk, network):
    # a probe's second rep was told "The hotline is already calling you" while it called the first: she waited for a
    # call that never came
    incident, _alice = desk.acknowledged_by_alice(network)
    ref = incident.reference
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {ref}").get_data(as_text=True)
    bob = _sms_from(desk, BOB, f"CALL {ref}", sid="SM" + "8" * 32).get_data(as_text=True)
    assert f"The hotline is already calling Alice Primary for incident {ref}" in bob
    assert "calling you" not in bob and f"reply CALL {ref} again" in bob
    again = _sms_from(desk, ALICE, f"CALL {ref}", sid="SM" + "9" * 32).get_data(as_text=True)
    assert f"The hotline is already calling you for incident {ref}" in again  # her own double tap: as before
    assert len(_callbacks(desk, incident.id)) == 1


def test_alerts_after_the_reps_leg_reached_her_voicemail_say_so_not_no_callback_yet(desk, network):
    """An outside probe's managers read "no callback yet" in the at-risk and breach alerts after the hotline's call
    to the rep (the first leg of her CALL) reached her voicemail: the log had it, the alerts did not."""
    incident, alice = _acknowledged_then_call(desk, network, machine=True)
    said = "the hotline called Alice Primary for a callback and reached their voicemail: the customer was not called"
    alice.expect_sms("AT RISK")
    maria = network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    assert f"), {said}." in maria.sms[-1]
    maria.expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")
    desk.at(minutes=16)
    breach = maria.sms[-1]
    assert f"BREACHED, {said}." in breach and "no callback yet" not in breach


def test_alerts_after_the_rep_missed_the_hotlines_call_say_she_did_not_answer(desk, network):
    incident, alice = _acknowledged_then_call(desk, network, answer=False)
    alice.expect_sms("AT RISK")
    maria = network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    assert ("the hotline called Alice Primary for a callback and they did not answer: the customer was not called."
            in maria.sms[-1])
    assert "no callback started" not in maria.sms[-1]


@pytest.mark.parametrize("leg", [{"machine": True, "answered_by": "unknown"}, {"machine": True, "answered_by": "human"},
                                 {"confirms_callback": False}], ids=["voicemail_unknown", "voicemail_human", "no_key"])
def test_a_rep_leg_nobody_presses_the_key_on_is_never_bridged(desk, network, client, leg):
    # probe Q4: a long greeting defeats detection (``unknown``), a short one is heard as a person (``human``); the
    # voicemail presses no key, so the customer is never dialled and nothing counts as met
    incident, alice = _acknowledged_then_call(desk, network, **leg)
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "rep_not_reached" and not callback.customer_call_sid
    assert network.phone(CUSTOMER).calls == []  # before: dialled, and a key from the customer made it "met"
    assert "Press any key to call the customer" in alice.calls[-1].heard and alice.calls[-1].pressed == []
    assert "customer was NOT called" in alice.sms[-1]
    kinds = _kinds(desk, incident.id)
    assert "callback_rep_answered" not in kinds and "callback_met" not in kinds
    with desk.hotline.db.session() as s:
        why = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "callback_rep_not_reached")).one().detail
    assert why["why"] == "no_key_from_rep"
    assert alice.unmet == []


def test_the_rep_is_asked_for_a_key_before_the_customer_is_dialled(desk, network, client):
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    alice.expect_call()  # a person: presses the key they are asked for
    network.phone(CUSTOMER).expect_call(press="1")
    _sms_from(desk, ALICE, f"CALL {incident.reference}")
    desk.settle()
    [answer] = [w for w in network.webhooks if "/twilio/bridge/rep?" in w.url]
    root = ET.fromstring(answer.body)
    assert root.find("Dial") is None and root.find("Gather").get("action").startswith("/twilio/bridge/rep-confirm")
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "met" and alice.calls[-1].pressed == ["1"]
    assert _kinds(desk, incident.id).count("callback_rep_answered") == 1
