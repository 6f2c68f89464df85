"""Outside-in audit of pages about to leave: a rep on the customer's callback is not rung into it (and the
held call goes the moment that callback fails), pages to a rep deactivated meanwhile never leave, and only
people whose page was tried count as "paged" for the at-risk text."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from email.utils import format_datetime

from sqlalchemy import select

from app.models import Callback, DueStep, Incident, IncidentEvent, Page, Rep, Role, StepKind
from app.services.callbacks import open_callback
from app.services.oncall_admin import deactivate_rep
from app.services.steps import run_step
from tests.conftest import PUBLIC_BASE_URL
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_twilio_failures import _signed_post


def _events(desk, incident_id: int, kind: str) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id))]


def _pages(desk, incident_id: int, to: str, purpose: str) -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.to_number == to,
                                                 Page.purpose == purpose).order_by(Page.id)))


def _all_pages(desk, incident_id: int) -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))


def _rep_id(desk, phone: str) -> int:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Rep.id).where(Rep.phone == phone)).one()


def _alice_on_the_callback_after_the_breach(desk, network):
    """Alice acknowledges at T0 and calls nobody back: at-risk at T+10, breach at T+15. At T+19 she asks the
    hotline to connect her: its call to her is up and the customer's phone rings (the callback is in flight)."""
    incident, alice = desk.acknowledged_by_alice(network)
    maria = network.phone(MARIA)
    alice.expect_sms("AT RISK")
    maria.expect_sms("AT RISK")
    desk.at(minutes=10)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")  # the breach tells the customer, once
    desk.at(minutes=15)
    desk.at(minutes=19)
    with desk.hotline.db.transaction() as s:
        callback = open_callback(s, s.get(Incident, incident.id), _rep_id(desk, ALICE), desk.clock.now(),
                                 rep_call_sid="CA" + "4" * 32)
        callback_id = callback.id
    return incident, alice, maria, callback_id


def _repage_at_20_holds_alices_call(desk, incident, alice, maria) -> Page:
    alice.expect_sms("BREACHED")  # an SMS rings into no call: it still goes, and tells her
    maria.expect_sms("BREACHED").expect_call(answer=False)
    calls_before = len(alice.calls)
    desk.at(minutes=20)  # a call to Alice now would be unexpected: call waiting in the customer's call
    assert len(alice.calls) == calls_before
    [voice] = [p for p in _pages(desk, incident.id, ALICE, "breach") if p.channel == "voice"]
    assert (voice.status, voice.sent_at, voice.attempts) == ("queued", None, 0)
    assert [d["page_id"] for d in _events(desk, incident.id, "page_held")] == [voice.id]
    return voice


def test_a_repage_never_rings_the_rep_on_the_customers_callback_and_rings_the_moment_it_fails(desk, network):
    incident, alice, maria, callback_id = _alice_on_the_callback_after_the_breach(desk, network)
    voice = _repage_at_20_holds_alices_call(desk, incident, alice, maria)
    # T+20:30 the customer's phone rang out: the held call goes now, not at the next round (T+25)
    alice.expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("tried to call you")  # the customer saw only a missed call: told
    desk.clock.set(desk.t0 + timedelta(minutes=20, seconds=30))
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/dial-done?callback={callback_id}",
                 {"CallSid": "CA" + "4" * 32, "DialCallStatus": "no-answer", "AccountSid": "AC" + "0" * 32})
    desk.settle()
    [voice] = [p for p in _pages(desk, incident.id, ALICE, "breach") if p.id == voice.id]
    assert voice.sent_at == desk.t0 + timedelta(minutes=20, seconds=30) and voice.attempts == 1
    assert [d["page_id"] for d in _events(desk, incident.id, "page_released")] == [voice.id]
    assert len(alice.calls) == 2  # the voice page at T0, the held repage: never during the callback


def test_a_held_call_is_never_made_once_the_callback_reaches_the_customer(desk, network):
    incident, alice, maria, callback_id = _alice_on_the_callback_after_the_breach(desk, network)
    voice = _repage_at_20_holds_alices_call(desk, incident, alice, maria)
    at = desk.t0 + timedelta(minutes=20, seconds=30)
    desk.clock.set(at)
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-status?callback={callback_id}",
                 {"CallSid": "CA" + "5" * 32, "CallStatus": "in-progress", "Timestamp": format_datetime(at),
                  "AccountSid": "AC" + "0" * 32})
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/customer-confirm?callback={callback_id}",
                 {"CallSid": "CA" + "5" * 32, "Digits": "1", "AccountSid": "AC" + "0" * 32})
    desk.settle()  # a call to Alice would be unexpected
    with desk.hotline.db.session() as s:
        assert s.get(Callback, callback_id).outcome == "late"
    [voice] = [p for p in _pages(desk, incident.id, ALICE, "breach") if p.id == voice.id]
    assert (voice.status, voice.sent_at) == ("canceled", None)
    assert _events(desk, incident.id, "page_canceled")[-1] == {"page_id": voice.id, "reason": "callback"}
    desk.at(minutes=25)  # the customer was reached: the repages stop
    assert len(alice.calls) == 1


def test_pages_queued_to_a_rep_deactivated_before_they_leave_are_never_sent_and_the_managers_come_at_once(
        desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    maria = network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()  # Alice's SMS and call are written at the opening, not yet sent
    assert {p.channel for p in _pages(desk, incident.id, ALICE, "page")} == {"sms", "voice"}
    with desk.hotline.db.transaction() as s:  # primary's only member leaves before her pages go
        deactivate_rep(s, s.scalars(select(Rep).where(Rep.phone == ALICE)).one())
    desk.settle()  # any SMS or call reaching Alice would be unexpected
    alice_pages = _pages(desk, incident.id, ALICE, "page")
    assert [(p.status, p.sent_at, p.attempts) for p in alice_pages] == [("canceled", None, 0)] * 2
    assert sorted(d["page_id"] for d in _events(desk, incident.id, "page_canceled")
                  if d["reason"] == "rep_deactivated") == sorted(p.id for p in alice_pages)
    # like a level that reaches nobody: the managers at once (T0), not at T+6
    assert sorted((p.channel, p.sent_at) for p in _pages(desk, incident.id, MARIA, "page")) == [
        ("sms", desk.t0), ("voice", desk.t0)]
    assert desk.incident(incident.id).nobody_to_page_at == desk.t0
    assert network.phone(ALICE).sms == [] and network.phone(ALICE).calls == []
    assert len(maria.calls) == 1


def test_someone_whose_page_was_canceled_before_it_was_tried_is_not_told_the_callback_is_at_risk(desk, network):
    """T+3: level 1 writes Bob's pages (and a call to Alice); before they leave, Alice acknowledges and they
    are canceled. Bob was never paged: at T+10 the at-risk SMS goes to Alice and the managers, not to him."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    desk.clock.set(desk.t0 + timedelta(minutes=3))
    with desk.hotline.db.transaction() as s:  # the step runs; its pages are queued, not yet sent
        step = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id, DueStep.kind == StepKind.PAGE,
                                               DueStep.level == 1)).one()
        assert run_step(s, step.id, desk.clock.now())
    assert {p.channel for p in _pages(desk, incident.id, BOB, "page")} == {"sms", "voice"}
    customer.expect_sms("has taken your incident")
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()  # Bob's pages were canceled: he hears nothing
    assert [(p.status, p.attempts) for p in _pages(desk, incident.id, BOB, "page")] == [("canceled", 0)] * 2
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)  # an AT RISK SMS to Bob would be unexpected
    assert sorted(p.to_number for p in _pages(desk, incident.id, ALICE, "at_risk")
                  + _pages(desk, incident.id, MARIA, "at_risk")) == [ALICE, MARIA]
    assert _pages(desk, incident.id, BOB, "at_risk") == [] and network.phone(BOB).sms == []


def _repage_rounds_held_across_a_long_callback(desk, incident, alice, maria) -> list[Page]:
    """Alice's callback (placed at T+19) lasts past the repages of T+20 and T+25: both rounds' calls are held."""
    _repage_at_20_holds_alices_call(desk, incident, alice, maria)
    alice.expect_sms("BREACHED")
    maria.expect_sms("BREACHED").expect_call(answer=False)
    calls_before = len(alice.calls)
    desk.at(minutes=25)  # the second round: its call to Alice is held too
    assert len(alice.calls) == calls_before
    held = [p for p in _pages(desk, incident.id, ALICE, "breach") if p.channel == "voice"]
    assert len(held) == 2 and [p.status for p in held] == ["queued", "queued"]
    assert [d["page_id"] for d in _events(desk, incident.id, "page_held")] == [p.id for p in held]
    return held


def test_calls_held_over_several_repage_rounds_ring_the_rep_once_when_the_callback_fails(desk, network, client):
    incident, alice, maria, callback_id = _alice_on_the_callback_after_the_breach(desk, network)
    older, newer = _repage_rounds_held_across_a_long_callback(desk, incident, alice, maria)
    # T+27 the customer's phone rang out: ONE call to Alice now (the latest round's), not one per held round
    alice.expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("tried to call you")
    desk.clock.set(desk.t0 + timedelta(minutes=27))
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/dial-done?callback={callback_id}",
                 {"CallSid": "CA" + "4" * 32, "DialCallStatus": "no-answer", "AccountSid": "AC" + "0" * 32})
    desk.settle()  # a second call to Alice would be unexpected
    assert len(alice.calls) == 2  # the voice page at T0, one released repage
    pages = {p.id: p for p in _pages(desk, incident.id, ALICE, "breach")}
    sent, superseded = pages[newer.id], pages[older.id]
    assert sent.sent_at == desk.t0 + timedelta(minutes=27) and sent.attempts == 1
    assert (superseded.status, superseded.sent_at, superseded.attempts) == ("canceled", None, 0)
    assert _events(desk, incident.id, "page_not_sent_superseded") == [
        {"page_id": older.id, "superseded_by": newer.id, "rep_id": older.rep_id}]
    assert [d["page_id"] for d in _events(desk, incident.id, "page_sent")
            if d["page_id"] in pages] == [p.id for p in pages.values() if p.channel == "sms"] + [newer.id]
    # the manager reads it: the incident's pages and timeline say it was not sent, the board counts one page less
    login_as(client, desk.hotline, Role.MANAGER)
    html = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "voice call: not sent (superseded by a later call)" in html
    assert "NOT sent: a later held call to the same rep rings instead" in html
    every_alice_page = [p for p in _all_pages(desk, incident.id) if p.to_number == ALICE]
    board = client.get("/board").get_data(as_text=True)
    [alices_line] = [line for line in board.splitlines() if "Alice Primary, voice call" in line]
    assert alices_line.endswith(f"(breach alert, {len(every_alice_page) - 1} pages)</span></li>")
    # the compliance report reads callbacks, not pages: the incident is "attempted", as with one held call
    day = desk.t0.date()
    body = client.get(f"/reports/compliance.csv?start={day}&end={day + timedelta(days=1)}&tz=UTC").get_data(
        as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["reference"] == incident.reference)
    assert (row["outcome"], row["breach_reason"]) == ("attempted", "acknowledged but called late")


def test_calls_held_over_several_rounds_ring_once_when_the_callback_runs_out_unheard_of(desk, network):
    """No word of the callback's end: its 10 minutes (T+29) release the held calls, one of which rings."""
    incident, alice, maria, _callback_id = _alice_on_the_callback_after_the_breach(desk, network)
    older, newer = _repage_rounds_held_across_a_long_callback(desk, incident, alice, maria)
    alice.expect_call(answer=False)
    desk.clock.set(desk.t0 + timedelta(minutes=29))
    desk.settle()  # a second call to Alice would be unexpected
    assert len(alice.calls) == 2
    pages = {p.id: p for p in _pages(desk, incident.id, ALICE, "breach")}
    assert pages[newer.id].sent_at == desk.t0 + timedelta(minutes=29)
    assert (pages[older.id].status, pages[older.id].sent_at) == ("canceled", None)
    assert [d["page_id"] for d in _events(desk, incident.id, "page_not_sent_superseded")] == [older.id]
