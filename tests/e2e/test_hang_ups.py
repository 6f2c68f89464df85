"""Callers who hang up mid-intake, through the signed webhooks: nothing they said is lost (policy: no Sev-1
caller is lost), and nobody is paged for a caller the hotline has no way to reach back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import Role
from app.models import Incident, IncidentEvent, MissedCall, Notice, Page
from app.services.callback_extensions import callback_extension
from tests.integration.board_support import login_as
from workers import watchdog

KNOWN = "+14155550100"


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _lines(session, call_sid: str) -> list[dict]:
    """The call's log lines, kind and detail in one dict each."""
    events = session.scalars(select(IncidentEvent).where(IncidentEvent.call_sid == call_sid).order_by(IncidentEvent.id))
    return [{"kind": e.kind, **e.detail} for e in events]


def _incidents(hotline) -> list[Incident]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Incident).order_by(Incident.id)))


def _to_company(call) -> None:
    call.dial()
    call.press("1")  # English
    call.press("1")  # API calls failing
    call.press("#")  # no ticket


def test_a_withheld_caller_who_hangs_up_after_company_and_name_is_on_the_missed_calls_page(phone, hotline, client):
    call = phone("anonymous")
    _to_company(call)
    call.say("Acme Mail Inc")
    entry = call.say("Dana Smith")
    assert "enter the number" in _said(entry)  # no caller ID to offer: asked for a number, hangs up instead
    call.hang_up()
    with hotline.db.session() as s:
        assert s.scalars(select(Incident)).all() == [] and s.scalars(select(Page)).all() == []  # nobody paged
        assert s.scalars(select(Notice)).all() == []  # nobody to text
        [missed] = s.scalars(select(MissedCall)).all()
    assert missed.stage == "callback_entry" and missed.caller_id == "anonymous"
    assert missed.said == {"affected_service": "api", "company": "Acme Mail Inc", "contact_name": "Dana Smith"}
    login_as(client, hotline, Role.REP)
    html = client.get("/missed-calls").get_data(as_text=True)
    assert "Acme Mail Inc" in html and "Dana Smith" in html and "API calls failing" in html
    board = client.get("/board").get_data(as_text=True)
    assert 'id="unreachable-callers"' in board and "1 critical caller hung up" in board


def test_a_withheld_caller_who_hangs_up_while_their_keyed_number_is_read_back_is_called_back_on_it(phone, hotline):
    call = phone("anonymous")
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    confirm = call.press("14155550123*204")
    assert "plus 1, 4 1 5, 5 5 5, 0 1 2 3" in _said(confirm)  # read back; the caller hangs up before pressing 1
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        assert s.scalars(select(MissedCall)).all() == []
        lines = _lines(s, call.call_sid)
    assert (incident.callback_phone, incident.company, incident.contact_name) == (
        "+14155550123", "Acme Mail Inc", "Dana Smith")
    assert incident.source == "rescued" and incident.affected_service == "api"
    assert {"kind": "field_unconfirmed", "field": "callback_phone", "when": "hang_up"} in lines  # the rep sees it was not confirmed
    assert {"kind": "callback_extension", "extension": "204"} in lines
    with hotline.db.session() as s:
        assert callback_extension(s.get(Incident, incident.id), s) == "204"  # the rep keys it in


def test_a_caller_who_hangs_up_while_their_e_mail_is_read_back_keeps_it_on_the_incident(phone, hotline):
    call = phone(KNOWN)
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    call.press("1")  # the caller ID is the callback number: the incident opens now (issue 13)
    heard = call.say("ops at acme dot example")
    assert "O P S, at, A C M E" in _said(heard)
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        lines = _lines(s, call.call_sid)
    assert incident.email == "ops@acme.example" and "email" not in incident.missing_fields
    assert {"kind": "field_unconfirmed", "field": "email", "when": "hang_up"} in lines


def test_a_withheld_caller_without_a_number_who_hangs_up_at_their_e_mail_read_back_is_rescued(phone, hotline):
    call = phone("anonymous")
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    for _ in range(3):
        prompt = call.press("123")  # not a number: asked three times, then moved on without one
    assert "e-mail" in _said(prompt)
    call.say("ops at acme dot example")
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert (incident.email, incident.callback_phone, incident.company) == ("ops@acme.example", "", "Acme Mail Inc")


def test_a_caller_whose_hang_up_twilio_never_reports_is_rescued_by_the_watchdog(phone, hotline, clock, client):
    call = phone(KNOWN)
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")  # asked to confirm the callback number; the line drops, no status callback comes
    last_heard = clock.now()
    clock.advance(minutes=2)  # a caller may be quiet this long (a 2-minute recording): still on the line
    watchdog.sweep(hotline)
    assert _incidents(hotline) == []
    clock.advance(minutes=1, seconds=10)
    watchdog.sweep(hotline)
    [incident] = _incidents(hotline)
    assert (incident.source, incident.company, incident.contact_name, incident.callback_phone) == (
        "rescued", "Acme Mail Inc", "Dana Smith", KNOWN)
    # the promise runs from the last answer the hotline heard, as it would from a status callback then
    assert (incident.captured_at, incident.callback_due_at) == (last_heard, last_heard + timedelta(minutes=15))
    watchdog.sweep(hotline)
    assert call.hang_up() == 200  # Twilio's status callback after all, late: nothing twice
    assert [i.id for i in _incidents(hotline)] == [incident.id]
    with hotline.db.session() as s:
        kinds = [line["kind"] for line in _lines(s, call.call_sid)]
    assert kinds.count("incident_rescued") == 1 and kinds.count("call_end_unreported") == 1
    login_as(client, hotline, Role.REP)
    html = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "Twilio never reported the end of the call" in html and "Dana Smith" in html


def test_a_withheld_caller_whose_hang_up_twilio_never_reports_is_a_missed_call_with_what_they_said(
        phone, hotline, clock):
    call = phone("anonymous")
    _to_company(call)
    call.say("Acme Mail Inc")
    last_heard = clock.now()
    clock.advance(minutes=4)
    watchdog.sweep(hotline)
    with hotline.db.session() as s:
        [missed] = s.scalars(select(MissedCall)).all()
    assert missed.said == {"affected_service": "api", "company": "Acme Mail Inc"} and missed.ended_at == last_heard
    assert _incidents(hotline) == []


def test_a_caller_who_opened_an_incident_and_whose_hang_up_is_never_reported_gets_their_deadline(
        phone, hotline, clock):
    call = phone(KNOWN)
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    call.press("1")  # the number confirmed: the incident opens now, its details to follow (issue 13)
    clock.advance(minutes=1)
    call.say("ops at acme dot example")  # read back; the line drops before the caller's yes
    last_heard = clock.now()
    clock.advance(minutes=4)
    watchdog.sweep(hotline)
    [incident] = _incidents(hotline)
    assert incident.email == "ops@acme.example"
    assert incident.callback_due_at == last_heard + timedelta(minutes=15)
    with hotline.db.session() as s:
        kinds = [line["kind"] for line in _lines(s, call.call_sid)]
    assert "caller_details_checked" in kinds and "deadline_set" in kinds


def test_a_caller_past_the_intake_is_not_taken_for_gone_and_keeps_the_deadline_they_heard(phone, hotline, clock):
    call = phone(KNOWN)
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    call.press("1")
    call.say("ops at acme dot example")
    call.press("1")
    call.say("All API calls fail with 500")
    call.record(seconds=12)
    offer = call.press("1")  # the promise, then the live-connect offer: the caller may wait on the line
    assert "7:15 p.m." in _said(offer)
    [before] = _incidents(hotline)
    clock.advance(minutes=4)
    watchdog.sweep(hotline)
    [after] = _incidents(hotline)
    assert after.callback_due_at == before.callback_due_at == clock.now() - timedelta(minutes=4) + timedelta(minutes=15)
    with hotline.db.session() as s:
        assert "call_end_unreported" not in [line["kind"] for line in _lines(s, call.call_sid)]


def _full_report(call) -> None:
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    call.press("1")
    call.say("ops at acme dot example")
    call.press("1")
    call.say("All API calls fail with 500")
    call.record(seconds=12)
    call.press("1")
    call.silence()
    call.hang_up()


@pytest.mark.usefixtures("worker_runs")  # the live wait is offered (``app.watchdog_state``)
def test_a_repeat_caller_who_hangs_up_after_saying_what_to_add_keeps_it_on_their_incident(phone, hotline):
    _full_report(phone(KNOWN))
    [incident] = _incidents(hotline)
    again = phone(KNOWN)
    again.dial()
    assert "open incident" in _said(again.press("1"))
    assert "reference number" in _said(again.press("1"))  # to add information, proof first
    again.press(incident.reference)
    recording = again.say("Now SMTP injection fails too, since 3:05.")
    assert recording.kind == "record"  # an optional recording next; the caller hangs up instead
    again.hang_up()
    with hotline.db.session() as s:
        added = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "information_added"))]
        kinds = [line["kind"] for line in _lines(s, again.call_sid)]
    assert [d["text"] for d in added] == ["Now SMTP injection fails too, since 3:05."]
    assert kinds[-1] == "repeat_call_ended" and len(_incidents(hotline)) == 1


def test_a_hang_up_before_triage_is_a_missed_call_but_no_warning_on_the_board(phone, hotline, client):
    call = phone("anonymous")
    call.dial()
    call.press("1")  # English; hangs up at "Is your e-mail sending down?"
    call.hang_up()
    with hotline.db.session() as s:
        [missed] = s.scalars(select(MissedCall)).all()
    assert (missed.stage, missed.said) == ("triage", {})
    login_as(client, hotline, Role.REP)
    assert 'id="unreachable-callers"' not in client.get("/board").get_data(as_text=True)


def test_one_watchdog_pass_settles_every_call_whose_end_was_never_reported(phone, hotline, clock):
    done = phone("+14155550177")
    _to_company(done)
    done.say("Beta Mail")
    done.say("Sam Lee")
    done.press("1")
    done.say("sam at beta dot example")
    done.press("1")
    done.say("SMTP refuses every connection")
    done.record(seconds=5)
    done.press("1")  # the promise and the offer: past the intake
    withheld, known = phone("anonymous"), phone(KNOWN)
    for call, company in ((withheld, "Gamma GmbH"), (known, "Acme Mail Inc")):
        _to_company(call)
        call.say(company)
    clock.advance(minutes=4)
    watchdog.sweep(hotline)
    incidents = _incidents(hotline)
    with hotline.db.session() as s:
        [missed] = s.scalars(select(MissedCall)).all()
        unreported = {sid for sid in (done.call_sid, withheld.call_sid, known.call_sid)
                      if "call_end_unreported" in [line["kind"] for line in _lines(s, sid)]}
    assert sorted(i.company for i in incidents) == ["Acme Mail Inc", "Beta Mail"]
    assert missed.call_sid == withheld.call_sid and missed.said["company"] == "Gamma GmbH"
    assert unreported == {withheld.call_sid, known.call_sid}


@pytest.mark.parametrize("status_first", [True, False])
def test_a_rescued_caller_whose_recording_comes_after_the_hang_up_keeps_it_on_the_incident(phone, hotline,
                                                                                            status_first):
    """Twilio requests the <Record> action and the status callback separately, in no promised order: a caller who
    hung up while recording, and was not opened mid-call (a garbled triage), keeps their recording either way."""
    call = phone(KNOWN)
    call.dial()
    call.press("1")  # English
    for _ in range(3):
        call.press("7")  # not a triage answer: "another critical problem" after the third
    call.press("#")  # no ticket
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    call.press("1")  # the caller ID is the callback number; no incident yet (the triage was garbled)
    call.say("ops at acme dot example")
    call.press("1")
    prompt = call.say("Every API call answers 500.")
    assert call.prompt.kind == "record", _said(prompt)  # anything to add, recorded
    with hotline.db.session() as s:
        assert s.scalars(select(Incident)).all() == []
    assert call.hang_up_while_recording(seconds=25, status_first=status_first) == 200
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert incident.source == "rescued" and incident.company == "Acme Mail Inc"
    assert incident.recording_url.startswith("https://api.twilio.com/") and incident.recording_seconds == 25
    assert "problem" not in incident.missing_fields
