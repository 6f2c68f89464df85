"""Issue 7: every incident reaches an honest end (each test failed before the escalation core)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Callback, DueStep, Incident, IncidentEvent, Rep, Role
from app.oncall.records import parse_rep, parse_schedule
from app.services.oncall_admin import create_rep, save_policy, save_schedule
from app.services.page_text import spoken_time
from tests.integration.board_support import CSRF, login_as, parse
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _ack_link, _sms_from
from tests.paging.test_callback_rep_leg import _csv_row


def _steps(desk, incident_id):
    with desk.hotline.db.session() as s:
        return {(st.kind, st.level): st.outcome for st in
                s.scalars(select(DueStep).where(DueStep.incident_id == incident_id))}


def _callbacks(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _kinds(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)))


def _rep_id(desk, phone):
    with desk.hotline.db.session() as s:
        return s.scalar(select(Rep.id).where(Rep.phone == phone))


def _alice_acknowledges_by_sms(desk, network, incident_id):
    with desk.hotline.db.session() as s:
        ref = s.get(Incident, incident_id).reference
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {ref}").get_data(as_text=True)
    return ref


def test_an_email_only_incident_is_worked_by_email_and_its_repages_stop(desk, network, client):
    alice, maria = network.phone(ALICE), network.phone(MARIA)
    alice.expect_sms("SEV1").expect_call(answer=False)
    incident = desk.email_only_incident()
    desk.settle()
    ref = _alice_acknowledges_by_sms(desk, network, incident.id)
    alice.expect_sms("AT RISK")
    maria.expect_sms("AT RISK")
    desk.at(minutes=10)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=15)
    alice.expect_sms("BREACHED").expect_call(answer=False)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=20)  # before: this went on every 5 minutes, forever

    login_as(client, desk.hotline, rep_id=_rep_id(desk, ALICE))
    board = parse(client.get("/board")).find("tr", id=f"inc-{ref}")
    assert board.find_all("form", id=f"reached-{ref}")  # no Call button: a "how I reached them" form
    assert board.find_all("form", id=f"call-{ref}") == []
    client.post(f"/incidents/{ref}/reached", data={"csrf_token": CSRF, "how": "E-mailed Dana, she replied 03:21"})
    done = desk.incident(incident.id)
    assert done.reached_by_email_at == desk.clock.now() and "Dana" in done.reached_how

    desk.at(minutes=25)  # the repage finds the customer reached: nobody is paged (the network fails the test else)
    assert _steps(desk, incident.id)[("repage", 1)] == "stopped_callback_done"
    resolved = client.post(f"/incidents/{ref}/resolve", data={"csrf_token": CSRF, "who_agreed": "Dana (e-mail)"},
                           follow_redirects=True)
    assert "is resolved" in resolved.get_data(as_text=True)
    assert desk.incident(incident.id).status == "resolved"
    assert "reached_by_email" in _kinds(desk, incident.id)


def test_called_by_sms_shows_on_the_board_and_stops_at_risk_and_repages(desk, network, client):
    """A rep's ``CALLED`` is their word: it stops the at-risk alert and the repages of reps, but the deadline passing
    with no verified call is a breach the managers hear of, told the only call was self-reported (probe G F2: no
    alert went, and the managers learnt of it only from the report). The customer, whom the rep says they called,
    gets no "we have not reached you"."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    maria = network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    ref = _alice_acknowledges_by_sms(desk, network, incident.id)
    desk.at(minutes=5)
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {ref}").get_data(as_text=True)
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {ref} again").get_data(as_text=True)
    assert len(_callbacks(desk, incident.id)) == 1  # a self-reported callback is stored once

    login_as(client, desk.hotline, rep_id=_rep_id(desk, ALICE))
    row = parse(client.get("/board")).find("tr", id=f"inc-{ref}")
    assert row.find(cls="state").text().startswith("Called by Alice Primary from their own phone")

    desk.at(minutes=10)  # no at-risk SMS to anyone
    assert maria.sms == []
    desk.at(minutes=15)  # the managers' breach alert, no repage
    desk.at(minutes=20)
    steps = _steps(desk, incident.id)
    # the deadline passed with no verified call: the breach is on record, as the report counts it, and the managers
    # are told; the reps are not chased again
    assert steps[("at_risk", 0)] == "skipped_callback_done" and steps[("breach", 0)] == "breached_self_reported"
    assert desk.incident(incident.id).breached_at == desk.t0 + timedelta(minutes=15)
    assert ("repage", 0) not in steps
    [alert] = maria.sms
    assert f"SEV1 {ref} " in alert and "BREACHED, the only call was self-reported by Alice Primary (unverified)" in alert
    assert maria.unmet == [] and len(maria.calls) == 1
    with desk.hotline.db.session() as s:
        [breached] = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident.id,
                                                                  IncidentEvent.kind == "callback_breached")).all()
    assert breached["outcome"] == "breached_self_reported" and breached["alerted"] == 2  # Maria's SMS and call
    assert network.phone(CUSTOMER).unmet == []  # no apology: the rep says they called them
    # a rep's CALLED is not a verified callback: only a manager with a written reason may resolve it
    refused = client.post(f"/incidents/{ref}/resolve", data={"csrf_token": CSRF}, follow_redirects=True)
    assert "Call the customer back before resolving" in refused.get_data(as_text=True)
    assert desk.incident(incident.id).status == "open"
    assert alice.unmet == []
    # the report's row gives the breach its own reason, beside its self_reported outcome
    row = _csv_row(client, desk, ref)
    assert (row["outcome"], row["breach_reason"]) == ("self_reported", "self-reported call only (unverified)")


def test_a_resolved_incident_gets_no_at_risk_breach_or_repage(desk, network, client):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(CUSTOMER).expect_sms("was closed by our support team")  # a manager's close: the customer is told
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    ref = _alice_acknowledges_by_sms(desk, network, incident.id)
    _sms_from(desk, ALICE, f"CALLED {ref}")
    login_as(client, desk.hotline, Role.MANAGER, name="Maria M.", rep_id=_rep_id(desk, MARIA))
    no_reason = client.post(f"/incidents/{ref}/resolve", data={"csrf_token": CSRF}, follow_redirects=True)
    assert "written reason" in no_reason.get_data(as_text=True) and desk.incident(incident.id).status == "open"
    client.post(f"/incidents/{ref}/resolve", data={"csrf_token": CSRF, "reason": "Customer confirmed by e-mail"})
    assert desk.incident(incident.id).status == "resolved"
    for minute in (10, 15, 20, 25):  # before: an at-risk SMS to 3 people, a breach SMS and call to Maria
        desk.at(minutes=minute)
    steps = _steps(desk, incident.id)
    assert steps[("at_risk", 0)] == steps[("breach", 0)] == "skipped_resolved"
    resolved = [e for e in _events(desk, incident.id) if e.kind == "resolved"]
    assert resolved[0].detail["reason"] == "Customer confirmed by e-mail" and resolved[0].detail["by_manager"]


def _events(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)))


def test_one_ack_link_posted_four_times_places_one_call_and_none_once_resolved(desk, network, client):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    token = _ack_link(desk, incident.id)
    answers = [desk.client.post(f"/ack/{token}", data={"action": "call"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert b"already calling" in answers[-1].data
    assert len(_callbacks(desk, incident.id)) == 1  # before: four bridged calls
    network.phone(ALICE).expect_call()
    customer.expect_call(press="1", answered=True)
    desk.settle()
    assert _callbacks(desk, incident.id)[0].outcome == "met"

    login_as(client, desk.hotline, rep_id=_rep_id(desk, ALICE))
    customer.expect_sms(f"as agreed with you on the phone, incident {incident.reference} is closed")
    client.post(f"/incidents/{incident.reference}/resolve", data={"csrf_token": CSRF, "who_agreed": "Dana Smith"})
    assert desk.incident(incident.id).status == "resolved"
    late = desk.client.post(f"/ack/{token}", data={"action": "call"})
    assert late.status_code == 409 and b"closed" in late.data
    desk.settle()
    assert len(_callbacks(desk, incident.id)) == 1  # before: a call after resolution


def test_a_voicemail_on_the_customer_leg_is_attempted_not_met(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(machine=True).expect_sms("tried to call you")  # answering-machine detection: a voicemail
    # picked up, nobody presses a key, and detection said nothing of a person (a switchboard, or "unknown"):
    # a voicemail too (detection saying "human" is no voicemail: see the test after the next)
    # (no second "we tried to call you" SMS: the first, moments ago, stands for it: ``decide.MISSED_SMS_WINDOW``)
    customer.expect_call(answered=True, answered_by="unknown")
    customer.expect_call(press="5", answered=True)  # a person
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "1", "1"])
    incident = desk.open_incident()
    desk.settle()
    first, second, third = _callbacks(desk, incident.id)
    assert (first.outcome, second.outcome, third.outcome) == ("voicemail", "voicemail", "met")
    assert "Press any key to speak with our support team" in customer.calls[1].heard
    assert "A voicemail answered" in alice.calls[0].heard
    assert desk.incident(incident.id).callback_answered_at == third.answered_at
    met = [e for e in _events(desk, incident.id) if e.kind == "callback_met"]
    assert len(met) == 1 and met[0].detail["callback_id"] == third.id


def test_a_person_who_answers_and_hangs_up_before_the_key_is_no_voicemail_and_no_message_is_offered(desk, network):
    """Twilio's detection said a person picked up (AnsweredBy=human); they hung up at "press any key". Nobody was
    reached (not met), but no voicemail took the call either: the rep is not told one did, nor offered to leave a
    message (whose call goes straight through without the key prompt, so a person picking it up never counts)."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(answered=True).expect_sms("tried to call you")  # a person, who presses no key
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.answered_by == "human" and callback.outcome == "attempted"
    assert callback.person_confirmed_at is None and desk.incident(incident.id).callback_answered_at is None
    heard = alice.calls[0].heard
    assert "A voicemail answered" not in heard and "leave a short message" not in heard
    assert "The customer picked up but did not press a key" in heard
    attempted = next(e for e in _events(desk, incident.id) if e.kind == "callback_attempted")
    assert attempted.detail["voicemail"] is False


def test_a_voicemail_alone_never_counts_as_met(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(machine=True).expect_sms("tried to call you")
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    incident = desk.open_incident()
    desk.settle()
    [callback] = _callbacks(desk, incident.id)
    assert callback.outcome == "voicemail" and callback.person_confirmed_at is None
    assert desk.incident(incident.id).callback_answered_at is None  # before: "met"
    assert "callback_met" not in _kinds(desk, incident.id)


def test_the_rep_may_leave_a_short_message_on_the_voicemail_which_never_counts(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    # the attempt is told once; the message call is no attempt (tests/paging/test_voicemail_message.py)
    customer.expect_call(machine=True).expect_call(machine=True).expect_sms("tried to call you")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    incident = desk.open_incident()
    desk.settle()
    first, message = _callbacks(desk, incident.id)
    assert (first.outcome, message.outcome) == ("voicemail", "message_left") and message.note == "voicemail message"
    assert "[connected to" in " ".join(customer.calls[1].said)  # straight through to the voicemail
    assert "Your message was left" in alice.calls[0].heard
    assert desk.incident(incident.id).callback_answered_at is None


def test_a_person_who_picks_up_the_message_call_is_asked_for_the_key_and_counted(desk, network):
    """A voicemail took the first callback; the rep asks to leave a message, and the customer picks that call up
    themselves. A person answered and spoke with the rep: asked for the key as on any callback, and counted."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(machine=True).expect_sms("tried to call you")  # a voicemail
    customer.expect_call(press="5", answered=True)  # the message call: the customer answers it
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    incident = desk.open_incident()
    desk.settle()
    first, message = _callbacks(desk, incident.id)
    assert first.outcome == "voicemail" and message.note == "voicemail message"
    assert "Press any key to speak with our support team" in customer.calls[1].heard
    assert message.outcome == "met" and message.person_confirmed_at is not None
    assert desk.incident(incident.id).callback_answered_at == message.answered_at
    assert "Your message was left" not in alice.calls[0].heard


def test_german_customer_hears_the_key_prompt_and_reads_the_sms_in_german(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("Wir haben Ihre Meldung").expect_sms("Ihren Vorfall übernommen")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1")
    incident = desk.open_incident()
    with desk.hotline.db.transaction() as s:  # as if the caller had chosen German in the intake
        s.get(Incident, incident.id).language = "de-DE"
    alice.expect_call(press="2")
    desk.settle()
    assert "Drücken Sie eine beliebige Taste" in customer.calls[0].heard
    assert _callbacks(desk, incident.id)[0].outcome == "met"


def _nobody_on_call_first(desk, levels: list[dict]) -> None:
    """The default policy is ``levels``, whose first pages a schedule with nobody on call (its rotation starts years
    from now)."""
    night = {"name": "night-shift", "time_zone": "UTC",
             "layers": [{"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon",
                         "starts_on": "2031-01-06", "members": ["Bob Secondary"]}]}
    with desk.hotline.db.transaction() as s:
        save_schedule(s, parse_schedule(night), desk.hotline.clock.now())
        save_policy(s, "gap", [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "night-shift"}]},
                               *levels], is_default=True)


def test_a_level_that_reaches_nobody_pages_the_managers_at_once(desk, network, client):
    _nobody_on_call_first(desk, [{"delay_minutes": 6, "targets": [{"type": "managers"}]}])
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)  # at T0, not at T+6
    incident = desk.open_incident()
    desk.settle()
    assert "nobody_to_page" in _kinds(desk, incident.id)
    assert desk.incident(incident.id).nobody_to_page_at == desk.t0
    login_as(client, desk.hotline)
    row = parse(client.get("/board")).find("tr", id=f"inc-{incident.reference}")
    assert "nobody-to-page" in row.attrs["class"].split() and "Nobody to page" in row.text()


@pytest.mark.parametrize(("managers", "worker_down", "reason"), [
    (False, False, "nobody paged by the deadline"),
    (True, False, "nobody acknowledged"),
    (True, True, "nobody paged by the deadline"),  # the pages were queued in time, and went out only after it
])
def test_a_breach_nobody_was_paged_for_says_so_in_the_report(desk, network, client, managers, worker_down, reason):
    """An outside probe's policy paged nobody before the deadline, and the report's breach reason read "nobody
    acknowledged", as if reps had been paged and ignored it. With nobody on call and no manager, nobody is paged by
    the deadline, and the report says so; with a manager paged at once (``nobody_to_page``), nobody acknowledged;
    with the manager's pages first sent after the deadline (no worker ran until then), nobody was paged by it."""
    _nobody_on_call_first(desk, [])
    with desk.hotline.db.transaction() as s:
        s.scalars(select(Rep).where(Rep.phone == MARIA)).one().is_manager = managers
    network.phone(CUSTOMER).expect_sms("we have your report")
    if managers:
        network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
        if not worker_down:
            network.phone(MARIA).expect_sms("AT RISK")
        network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER).expect_sms("have not reached you")
    incident = desk.open_incident()
    if not worker_down:
        desk.at(minutes=10)
    desk.at(minutes=16)
    [breach] = [e for e in _events(desk, incident.id) if e.kind == "callback_breached"]
    assert breach.detail["paged_by_deadline"] is (reason == "nobody acknowledged")
    row = _csv_row(client, desk, incident.reference)
    assert (row["outcome"], row["breached"], row["breach_reason"]) == ("no_callback", "yes", reason)
    assert network.phone(MARIA).unmet == []


def test_a_level_paged_after_the_deadline_reads_that_it_passed(desk, network):
    """An outside probe's worker was down past the deadline: the second level's rep, paged at 12:22, read "Call back
    ... by 12:21 PST", as if still in time (and got no BREACHED alert of their own). A page written once the deadline
    passed says so."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("have not reached you")
    # Alice: her first page's SMS (the callback number and the ACK link) and the breach round's SMS and call, which
    # supersedes her first page's call still unsent (the late steps run before the sends: ``watchdog.run_here``)
    network.phone(ALICE).expect_sms("SEV1").expect_sms("BREACHED").expect_call(answer=False)
    bob = network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False).expect_sms("BREACHED").expect_call(answer=False)
    incident = desk.open_incident()
    desk.at(minutes=16)  # no worker ran until then: the levels' steps run late
    due = desk.incident(incident.id).callback_due_at.strftime("%H:%M")
    [page] = [m for m in bob.sms if m.startswith(f"SEV1 {incident.reference}")]
    assert f"Call back {CUSTOMER} now: the {due} UTC deadline has passed." in page and f"by {due}" not in page
    alice_page = next(m for m in network.phone(ALICE).sms if "Reply ACK" in m)
    assert f"Call back {CUSTOMER} by " in alice_page and "has passed" not in alice_page  # written in time: as written


def test_a_voice_page_answered_after_the_deadline_says_it_passed(desk, network):
    """Probe A F8 c: a voice page answered after the deadline said "The customer must be called back by 15:52 J S T."
    with no word it had passed (the SMS page said so). It says so now, as the SMS does."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("have not reached you")
    network.phone(ALICE).expect_sms("SEV1").expect_sms("BREACHED").expect_call(answer=False)
    bob = network.phone(BOB).expect_sms("SEV1").expect_call()  # answers, presses nothing
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False).expect_sms("BREACHED").expect_call(answer=False)
    incident = desk.open_incident()
    desk.at(minutes=16)  # no worker ran until then: Bob's page is rung after the deadline
    [call] = bob.calls
    due = spoken_time(desk.incident(incident.id).callback_due_at, "UTC")
    assert f"The callback deadline, {due}, has passed: the customer must be called back now." in call.said[0], \
        call.said[0]
    assert "must be called back by" not in call.heard


def test_sms_commands_act_only_for_reps_paged_or_on_call(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    with desk.hotline.db.transaction() as s:
        create_rep(s, parse_rep({"name": "Eve Elsewhere", "phone": "+14155550144"}))
    for command in ("ACK", "CALL", "CALLED"):
        answer = _sms_from(desk, "+14155550144", f"{command} {incident.reference}").get_data(as_text=True)
        assert "not paged" in answer and "Nothing was changed" in answer
    later = desk.incident(incident.id)
    assert later.acknowledged_at is None and _callbacks(desk, incident.id) == []
    # each is answered; the log has a line for the first (one a person and incident an hour: refusal_lines)
    [refused] = [e for e in _events(desk, incident.id) if e.kind == "acknowledgement_refused"]
    assert (refused.actor, refused.detail["outcome"], refused.detail["via"]) == (
        "Eve Elsewhere", "refused_not_paged", "sms")
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # escalation goes on as if Eve had not written
    assert _steps(desk, incident.id)[("page", 1)] == "paged_3"
