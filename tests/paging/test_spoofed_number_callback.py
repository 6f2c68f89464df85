"""A real customer whose number was spoofed over the per-number limit is owed a tracked callback, not a told one.

Three reports "from" the customer's number, each giving the attacker's callback number, put it over
MAX_INCIDENTS_PER_CALLER. The real customer then phones with a real outage and gives their own number. Their
report used to join the attacker's newest incident: they were told a deadline the hotline never tracked (no
at-risk step, no breach, the rep's bridged call dialled the attacker, the report judged only the attacker's
contact). Their report now opens an incident of its own, linked to the attacker's, so every step of the promise
runs for them: paging, AT RISK at T+10, the breach at T+15, a callback that counts, the compliance report.
Signed webhooks, the RQ worker and the simulated Twilio; the fake clock moves, nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import DueStep, Incident, IncidentEvent, Page
from app.models.user import Role
from app.reports.facts import Outcome
from hotline_sim.phone import SimulatedCall, flask_transport
from ivr_flows.prompts import say_digits, say_phone, say_time
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.integration.board_support import make_incident, parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_at_risk_unproven_callback import _at
from tests.paging.test_callback_proof import _callback, _dial_done, _facts, _press_key, _whisper
from tests.paging.test_twilio_failures import _signed_post, _work

ATTACKER = "+14155550166"  # the callback number the spoofer gives


def _spoof_the_customers_number(desk, reports: int = 3) -> list[int]:
    """``reports`` open incidents from the customer's caller ID, minutes ago, each with the attacker's number."""
    return [make_incident(desk.hotline, reference=f"70000{n}", caller_id=CUSTOMER, callback_phone=ATTACKER,
                          company=f"Fake {n}", captured_at=desk.t0 - timedelta(minutes=10 - n))
            for n in range(reports)]


def _customer_reports(desk, callback: str = "") -> tuple[list[Incident], str]:
    """The real customer calls from their number with a different outage from "theirs" and gives their own
    callback number (the one they call from, unless ``callback``). Returns the incidents this call opened and
    the closing words."""
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    if "open incident" in " ".join(call.press("1").said):
        call.press("2")  # "a different outage"
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("BigCorp")
    call.say("Victor Victim")
    if callback:
        call.press("2")
        call.say(callback)
    call.press("1")  # yes, that number
    call.say("ops at bigcorp dot example")
    call.press("1")
    call.say("Every API call fails with a 500.")
    call.record(seconds=5)
    closing = " ".join(call.press("1").said)
    call.hang_up()
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Incident).where(Incident.call_sid == call.call_sid))), closing


def _own_incident(desk) -> Incident:
    """The customer's report, opened as an incident of its own: its number, their details, their deadline."""
    spoofed = _spoof_the_customers_number(desk)
    opened, closing = _customer_reports(desk)
    assert len(opened) == 1, "the customer's report joined the spoofed incident: nothing tracks their callback"
    [incident] = opened
    assert (incident.callback_phone, incident.company) == (CUSTOMER, "BigCorp")
    assert incident.callback_due_at == desk.t0 + timedelta(minutes=15)
    # They hear their own reference and deadline, on their own number; never the attacker's.
    assert say_digits(incident.reference) in closing
    assert say_time("en-US", incident.callback_due_at, CUSTOMER) in closing
    assert say_phone("en-US", CUSTOMER) in closing and say_phone("en-US", ATTACKER) not in closing
    with desk.hotline.db.session() as s:
        newest = s.get(Incident, spoofed[-1])
        assert s.get(Incident, incident.id).related_incident_id == newest.id  # "same caller ID as" the spoofed one
        for one, other in ((incident.id, newest.reference), (newest.id, incident.reference)):
            [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == one,
                                                            IncidentEvent.kind == "possibly_related"))
            assert line.detail["reference"] == other and "same caller ID" in line.detail["why"]
    return incident


def _steps(desk, incident_id: int) -> dict[str, str]:
    with desk.hotline.db.session() as s:
        return {st.kind: st.outcome for st in s.scalars(select(DueStep).where(DueStep.incident_id == incident_id,
                                                                              DueStep.level == 0))}


def _pages_to(desk, incident_id: int, purpose: str) -> set[str]:
    with desk.hotline.db.session() as s:
        return set(s.scalars(select(Page.to_number).where(Page.incident_id == incident_id, Page.purpose == purpose,
                                                          Page.sent_at.is_not(None))))


def _report_row(desk, reference: str) -> tuple[dict, str]:
    """The compliance report's JSON row and CSV line of ``reference``, today, as of now."""
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    query = {"start": desk.t0.date().isoformat(), "end": (desk.t0.date() + timedelta(days=1)).isoformat(),
             "tz": "UTC", "as_of": desk.clock.now().isoformat()}
    [row] = [r for r in desk.client.get("/reports/compliance.json", query_string=query).get_json()["rows"]
             if r["reference"] == reference]
    [line] = [li for li in desk.client.get("/reports/compliance.csv", query_string=query).get_data(
        as_text=True).splitlines() if li.startswith(reference)]
    return row, line


def test_nobody_calls_the_customer_back_so_their_callback_goes_at_risk_then_is_breached(desk, network):
    incident = _own_incident(desk)
    _work(desk)
    assert ALICE in _pages_to(desk, incident.id, "page")  # the on-call rep is paged for them
    # the board says it may be related to the spoofed one, with a link, not only the incident's own page
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    with desk.hotline.db.session() as s:
        related = s.get(Incident, s.get(Incident, incident.id).related_incident_id).reference
    said = parse(desk.client.get("/board")).find("tr", id=f"inc-{incident.reference}").find("span", cls="related")
    assert said.text() == f"Possibly related to #{related} (same caller ID)"
    assert said.find("a").attrs["href"] == f"/incidents/{related}"
    _at(desk, 9)
    assert _pages_to(desk, incident.id, "at_risk") == set()
    _at(desk, 10)
    assert {ALICE, MARIA} <= _pages_to(desk, incident.id, "at_risk")
    _at(desk, 15)
    assert desk.incident(incident.id).breached_at == incident.callback_due_at
    assert _steps(desk, incident.id)["breach"] == "breached"
    assert MARIA in _pages_to(desk, incident.id, "breach")  # the manager is paged
    row, line = _report_row(desk, incident.reference)
    assert row["breached"] is True and ",yes," in f"{line},"


def test_a_reps_bridged_call_to_the_customers_own_number_counts_as_met_for_them(desk, network):
    incident = _own_incident(desk)
    _work(desk)
    desk.clock.set(desk.t0 + timedelta(minutes=1))
    with desk.hotline.db.session() as s:
        voice = s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == ALICE,
                                             Page.channel == "voice")).one()
    call = {"CallSid": voice.twilio_sid, "AccountSid": TEST_ACCOUNT_SID, "To": ALICE, "AnsweredBy": "human"}
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice?page={voice.id}", {**call, "CallStatus": "in-progress"})
    bridge = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/key?page={voice.id}", {**call, "Digits": "2"})
    dialled = bridge.get_data(as_text=True)
    assert "<Dial" in dialled and CUSTOMER in dialled and ATTACKER not in dialled  # their number, not the spoofer's
    callback = _callback(desk, incident.id)
    answered_at = desk.t0 + timedelta(minutes=1, seconds=30)  # Twilio asks for the whisper once the phone answered
    desk.clock.set(answered_at)
    _whisper(desk, callback)
    desk.clock.set(desk.t0 + timedelta(minutes=1, seconds=36))
    _press_key(desk, callback)  # a person answered
    desk.clock.set(desk.t0 + timedelta(minutes=6))
    _dial_done(desk, callback, "completed", seconds="264")

    assert _callback(desk, incident.id).outcome == "met"
    assert desk.incident(incident.id).callback_answered_at == answered_at
    assert _facts(desk, incident.id).outcome == Outcome.MET
    _at(desk, 15)  # reached in time: no breach, no manager paged for them
    assert _steps(desk, incident.id)["breach"] == "met"
    assert _pages_to(desk, incident.id, "breach") == set()
    row, line = _report_row(desk, incident.reference)
    answered = answered_at.isoformat().replace("+00:00", "Z")
    assert (row["outcome"], row["breached"], row["callback_answered_at"]) == ("met", False, answered)
    assert f",{answered},met,90.0,no," in f"{line},"  # answered 90 s after the details were in
