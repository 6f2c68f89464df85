"""A spoofed caller ID must not take a real customer's callback away (issue 9's flood limit, attacked).

Three spoofed calls "from" a customer's number, each giving the attacker's callback number, put that
number over MAX_INCIDENTS_PER_CALLER. The real customer's next Sev-1, giving their own number, opens an
incident of its own, linked to the attacker's (its deadline tracked: ``tests/paging/test_spoofed_number_callback``),
unless MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER such incidents were opened in the window already: a spoofer giving
a new number each call cannot flood the board. Beyond that bound a customer who asks to be called back on the
number they call from still opens an incident of their own (a spoofer cannot take that callback, and the next
such caller joins it: one incident more at most); one who gives another number joins the attacker's newest open
incident, and what they gave stays theirs: their callback number and deadline, shown to the reps, said to be
untracked.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import Role
from app.models import CallSession, DueStep, Incident, IncidentEvent, MissedCall, Notice, Page, Rep
from app.services.events import events_of
from app.services.page_text import page_sms
from app.services.page_urls import PageUrls
from hotline_sim.phone import SimulatedCall
from ivr_flows.prompts import say_digits, say_phone, say_time
from tests.integration.board_support import login_as, make_incident

VICTIM = "+14155550142"  # the real customer's phone, and the caller ID the attacker spoofs
ATTACKER = "+14155550166"  # the callback number the attacker gives
OTHER_NUMBERS = ("+14155550167", "+14155550168", "+14155550169")  # the attacker's next ones, one a call
MARIA = "+14155550133"
VICTIM_MOBILE = "+14155550143"  # another number of the real customer's


def _report(call, company: str, name: str, callback: str = "") -> str:
    """From triage on: API down, no ticket, spoken details, the callback number (the caller ID unless
    ``callback``; keyed when no usable caller ID is offered), e-mail and problem; returns the closing words."""
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say(company)
    asked = " ".join(call.say(name).said)
    if callback and "enter the number" in asked:
        call.press(callback.removeprefix("+"))
    elif callback:
        call.press("2")  # not the number I call from
        call.say(callback)
    call.press("1")  # yes, that number
    call.say("ops at example dot com")
    call.press("1")
    call.say("Every API call fails with a 500.")
    call.record(seconds=5)
    return " ".join(call.press("1").said)


def _call(phone, company: str, name: str, callback: str = "") -> str:
    call = phone(VICTIM)
    call.dial()
    menu = call.press("1")
    if "open incident" in " ".join(menu.said):
        call.press("2")  # "a different outage"
    return _report(call, company, name, callback)


def _incidents(hotline) -> list[Incident]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Incident).order_by(Incident.id)))


def _flood(phone, clock) -> None:
    """Three spoofed reports with the attacker's number, then one with each of three more of their numbers."""
    for n, callback in enumerate((ATTACKER,) * 3 + OTHER_NUMBERS):
        clock.advance(minutes=1)
        _call(phone, f"Fake {n}", "Mallory", callback=callback)


def test_a_spoofer_giving_a_new_callback_number_each_call_opens_no_more_than_the_bound(phone, hotline, clock):
    _flood(phone, clock)
    incidents = _incidents(hotline)
    assert [i.callback_phone for i in incidents] == [ATTACKER] * 3 + list(OTHER_NUMBERS)
    first_linked = incidents[3]
    assert first_linked.related_incident_id == incidents[2].id  # "same caller ID as" the newest open one
    clock.advance(minutes=1)
    _call(phone, "Fake 7", "Mallory", callback="+14155550170")  # one more number: over the bound, it joins
    assert len(_incidents(hotline)) == 6
    with hotline.db.session() as s:
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "report_joined"))
        assert (line.incident_id, line.detail["contact_differs"]) == (incidents[-1].id, True)
    clock.advance(minutes=61)  # a new window: a different contact is tracked again
    _call(phone, "Fake 8", "Mallory", callback="+14155550171")
    assert len(_incidents(hotline)) == 7


def test_beyond_the_bound_a_customer_called_back_on_the_number_they_call_from_gets_a_tracked_incident(
        phone, hotline, clock):
    _flood(phone, clock)
    clock.advance(minutes=1)
    closing = _call(phone, "BigCorp", "Victor Victim")  # the real customer: call me back on this number
    *flood, own = _incidents(hotline)
    assert len(flood) == 6 and (own.callback_phone, own.company) == (VICTIM, "BigCorp")
    assert own.related_incident_id == flood[-1].id and own.callback_due_at == clock.now() + timedelta(minutes=15)
    assert say_digits(own.reference) in closing and say_time("en-US", own.callback_due_at, VICTIM) in closing
    assert "cannot hold that callback to a time" not in closing
    with hotline.db.session() as s:  # its steps run: a tracked callback
        assert set(s.scalars(select(DueStep.kind).where(DueStep.incident_id == own.id))) >= {"page", "at_risk",
                                                                                              "breach"}
    clock.advance(minutes=1)  # a spoofer (or they, again) asking for a callback to that number joins it: no flood
    _call(phone, "Fake 9", "Mallory")
    assert len(_incidents(hotline)) == 7


def test_beyond_the_bound_a_customer_whose_report_joins_a_spoofed_incident_keeps_their_own_callback(
        phone, hotline, clock, client):
    with hotline.db.transaction() as s:
        s.add(Rep(name="Maria", phone=MARIA, is_manager=True))
    _flood(phone, clock)
    clock.advance(minutes=1)
    told_at = clock.now()
    closing = _call(phone, "BigCorp", "Victor Victim", callback=VICTIM_MOBILE)  # call me back on my mobile

    *_, joined = incidents = _incidents(hotline)
    assert len(incidents) == 6  # the bound holds: no seventh incident
    # They are told their own number, never the attacker's; and no time: nothing would hold the hotline to it
    # (no step of its own). They hear how to get one: a call from another phone opens an incident of their own.
    assert "added your report" in closing
    assert say_phone("en-US", VICTIM_MOBILE) in closing and say_phone("en-US", OTHER_NUMBERS[-1]) not in closing
    own_due = told_at + timedelta(minutes=15)
    assert "7:22" not in closing and " by " not in closing and "within" not in closing  # 03:22 UTC, 7:22 p.m. PST
    assert "cannot hold that callback to a time" in closing and "from another phone" in closing
    with hotline.db.session() as s:
        [line] = [e for e in events_of(s, joined) if e.kind == "report_joined"]
        assert line.detail["contact_differs"] is True
        assert line.detail["callback_phone"] == VICTIM_MOBILE
        assert line.detail["callback_due_at"] == own_due.isoformat()
        # The reps are told at once, by SMS, that a different contact must be called too.
        [notice] = s.scalars(select(Page).where(Page.incident_id == joined.id, Page.purpose == "joined_contact"))
        body = PageUrls(hotline.settings).request_for(notice, s.get(Incident, joined.id)).body
        assert VICTIM_MOBILE in body and "Victor Victim" in body and "differs" in body and "not tracked" in body
        # Every later page of the incident names them too.
        assert VICTIM_MOBILE in page_sms(s.get(Incident, joined.id), "https://ack.example/x")
    login_as(client, hotline, Role.REP)
    page = client.get(f"/incidents/{joined.reference}").get_data(as_text=True)
    assert "contact differs" in page and VICTIM_MOBILE in page and "not tracked" in page
    board = client.get("/board").get_data(as_text=True)
    assert "Also call" in board and VICTIM_MOBILE in board and "not tracked" in board


def _hang_up_at_the_callback_question(phone) -> None:
    """The real customer reports a different outage, gives company and name, and is cut off before the number."""
    call = phone(VICTIM)
    call.dial()
    if "open incident" in " ".join(call.press("1").said):
        call.press("2")  # "a different outage"
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("BigCorp")
    assert "call you back" in " ".join(call.say("Victor Victim").said)
    call.hang_up()


def test_a_customer_cut_off_mid_intake_under_the_limit_is_rescued_not_joined_to_a_spoofed_incident(
        phone, hotline, clock):
    _call(phone, "Fake", "Mallory", callback=ATTACKER)  # one spoofed incident: the number is under the limit
    clock.advance(minutes=1)
    _hang_up_at_the_callback_question(phone)
    spoofed, rescued = _incidents(hotline)  # their own incident, called back on the number they called from
    assert (spoofed.callback_phone, rescued.callback_phone) == (ATTACKER, VICTIM)
    assert (rescued.source, rescued.company, rescued.contact_name) == ("rescued", "BigCorp", "Victor Victim")
    with hotline.db.session() as s:
        assert [e.kind for e in events_of(s, spoofed) if e.kind in ("call_joined", "report_joined")] == []


def test_a_customer_cut_off_mid_intake_over_the_limit_is_rescued_apart_from_the_spoofed_incidents(
        phone, hotline, clock):
    for n in range(3):
        clock.advance(minutes=1)
        _call(phone, f"Fake {n}", "Mallory", callback=ATTACKER)
    clock.advance(minutes=1)
    cut_off = clock.now()
    _hang_up_at_the_callback_question(phone)
    *spoofed, rescued = _incidents(hotline)
    assert len(spoofed) == 3  # their own incident, called back on the number they called from, deadline tracked
    assert (rescued.source, rescued.callback_phone, rescued.contact_name) == ("rescued", VICTIM, "Victor Victim")
    assert rescued.callback_due_at == cut_off + timedelta(minutes=15)
    assert rescued.related_incident_id == spoofed[-1].id
    with hotline.db.session() as s:
        assert s.scalars(select(IncidentEvent.kind).where(IncidentEvent.kind.in_(("call_joined", "report_joined")))
                         ).all() == []
        assert s.scalars(select(Page).where(Page.purpose == "joined_contact")).all() == []


def _correct_the_number_at_the_read_back(phone, hotline, number: str) -> tuple[SimulatedCall, str]:
    """Over the limit, the customer confirms the number they call from (an open incident's contact, so the call
    joins that one mid-call, issue 13's early open), then corrects it to ``number`` at the read-back. Returns the
    call and the closing words."""
    call = phone(VICTIM)
    call.dial()
    call.press("1")
    call.press("2")  # "a different outage"
    call.press("1")
    call.press("#")
    call.say("BigCorp")
    call.say("Victor Victim")
    call.press("1")  # call me back on this number
    call.say("ops at example dot com")
    call.press("1")
    call.say("Every API call fails with a 500.")
    call.record(seconds=5)
    with hotline.db.session() as s:
        joined_mid_call = s.get(Incident, s.get(CallSession, call.call_sid).incident_id)
    assert joined_mid_call.callback_phone == VICTIM and joined_mid_call.call_sid != call.call_sid
    call.press("4")  # correct the callback number
    call.say(number)
    call.press("1")  # yes, that number
    return call, " ".join(call.press("1").said)  # all correct


def test_a_report_joined_mid_call_whose_number_is_corrected_at_the_read_back_gets_an_incident_of_its_own(
        phone, hotline, clock):
    for n in range(3):  # the customer's own three reports, called back on the number they call from
        clock.advance(minutes=1)
        _call(phone, f"BigCorp {n}", "Victor Victim")
    clock.advance(minutes=1)
    call, closing = _correct_the_number_at_the_read_back(phone, hotline, "+14155550177")
    *own, apart = _incidents(hotline)
    assert len(own) == 3 and apart.call_sid == call.call_sid and apart.callback_phone == "+14155550177"
    assert apart.related_incident_id == own[-1].id
    assert "added your report" not in closing and say_phone("en-US", "+14155550177") in closing
    with hotline.db.session() as s:
        assert s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "report_joined")).all() == []


def test_a_number_corrected_at_the_read_back_to_another_open_incidents_joins_that_one(phone, hotline, clock):
    """The corrected number is the contact of an older open incident of the number: the report joins that one,
    whose callback is tracked, not the one joined mid-call (where it would be an untracked different contact)."""
    for n, callback in enumerate(("+14155550177", "", "")):
        clock.advance(minutes=1)
        _call(phone, f"BigCorp {n}", "Victor Victim", callback=callback)
    clock.advance(minutes=1)
    call, closing = _correct_the_number_at_the_read_back(phone, hotline, "+14155550177")
    first, *_ = incidents = _incidents(hotline)
    assert len(incidents) == 3 and first.callback_phone == "+14155550177"
    with hotline.db.session() as s:
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "report_joined"))
        assert (line.incident_id, line.detail["contact_differs"]) == (first.id, False)
        assert s.get(CallSession, call.call_sid).incident_id == first.id
    assert "added your report" in closing


def test_a_german_customer_over_a_spoofed_limit_hears_their_own_reference_and_deadline_in_german(
        phone, hotline, clock):
    de_mobile = "+491701234567"
    for n in range(3):
        clock.advance(minutes=1)
        make_incident(hotline, reference=f"70000{n}", caller_id=de_mobile, callback_phone=ATTACKER,
                      captured_at=clock.now())
    clock.advance(minutes=1)
    call = phone(de_mobile)
    call.dial()
    assert "offenen Vorfall" in " ".join(call.press("2").said)  # Deutsch: the number has an open incident
    call.press("2")  # ein anderer Ausfall
    call.press("1")  # API
    call.press("#")  # kein Ticket
    call.say("Müller Versand GmbH")
    call.say("Jürgen Weiß")
    call.press("1")  # Rückruf unter dieser Nummer
    call.say("juergen at mueller minus versand punkt de")
    call.press("1")
    call.say("Alle API-Aufrufe schlagen fehl.")
    call.record(seconds=5)
    done = " ".join(call.press("1").said)
    *_, own = _incidents(hotline)
    assert own.call_sid == call.call_sid and own.callback_phone == de_mobile  # an incident of their own
    assert f"Ihre Referenznummer für diesen Vorfall lautet {say_digits(own.reference)}" in done
    assert f"spätestens um {say_time('de-DE', own.callback_due_at, de_mobile)}" in done
    assert "hinzugefügt" not in done  # not "added to the open incident for your number"


def _invitations(hotline) -> list[str]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Notice.to_number).where(Notice.purpose == "missed_call")))


def _missed_calls(hotline) -> list[MissedCall]:
    with hotline.db.session() as s:
        return list(s.scalars(select(MissedCall).order_by(MissedCall.id)))


def _hang_up_early(phone, where: str) -> None:
    """The real customer calls and hangs up at the language prompt, or at the open-incident menu they hear then."""
    call = phone(VICTIM)
    call.dial()
    if where == "menu":
        assert "open incident" in " ".join(call.press("1").said)
    call.hang_up()


@pytest.mark.parametrize("where", ["language", "menu"])
@pytest.mark.parametrize("spoofed", [1, 3])  # 3: the number is over the per-number limit too
def test_a_customer_who_hangs_up_early_is_invited_back_though_a_spoofer_opened_an_incident_on_their_number(
        phone, hotline, clock, client, spoofed, where):
    for n in range(spoofed):
        clock.advance(minutes=1)
        _call(phone, f"Fake {n}", "Mallory", callback=ATTACKER)
    clock.advance(minutes=1)
    _hang_up_early(phone, where)
    # As with no spoofed incident: on the missed-calls page, and one SMS inviting them back, to their number.
    assert len(_missed_calls(hotline)) == 1
    assert _invitations(hotline) == [VICTIM]
    assert len(_incidents(hotline)) == spoofed  # nothing opened or joined for a caller who said nothing
    login_as(client, hotline, Role.REP)  # they said nothing: no "critical caller hung up" warning
    assert 'id="unreachable-callers"' not in client.get("/board").get_data(as_text=True)
    missed = client.get("/missed-calls").get_data(as_text=True)  # listed with the open incident of their number
    assert VICTIM in missed and _incidents(hotline)[-1].reference in missed


@pytest.mark.parametrize("where", ["language", "menu"])
def test_a_customer_who_hangs_up_early_on_their_own_open_incident_is_not_texted(phone, hotline, clock, where):
    _call(phone, "BigCorp", "Victor Victim")  # their own incident: its receipt and callback go to this number
    clock.advance(minutes=1)
    _hang_up_early(phone, where)
    assert _invitations(hotline) == []
    [incident] = _incidents(hotline)
    with hotline.db.session() as s:
        assert [e.kind for e in events_of(s, incident) if e.kind == "repeat_call_ended"] == ["repeat_call_ended"]


STATUS_WORDS = ("call you back", "called you back", "engineer", "sorry")  # a deadline, an owner, a callback's fate


@pytest.mark.parametrize("opened_by", ["spoofer", "customer"])
def test_a_caller_id_alone_hears_nothing_of_the_open_incident_of_its_number_but_that_it_exists(
        phone, hotline, clock, opened_by):
    """A spoofer's incident on the customer's number must not tell the customer a callback is coming (it goes to
    the spoofer); a spoofer calling "from" the customer's number must not hear how the customer's incident stands."""
    _call(phone, "Fake" if opened_by == "spoofer" else "BigCorp", "Mallory" if opened_by == "spoofer" else "Victor",
          callback=ATTACKER if opened_by == "spoofer" else "")
    [incident] = _incidents(hotline)
    clock.advance(minutes=2)
    call = phone(VICTIM)
    call.dial()
    heard = " ".join(call.press("1").said)  # English
    assert "open incident for the number you are calling from" in heard
    assert not [w for w in STATUS_WORDS if w in heard] and say_digits(incident.reference) not in heard
    assert "status" in heard  # how to hear it: prove it is theirs
    proof = " ".join(call.press("1").said)
    assert "reference number" in proof and not [w for w in STATUS_WORDS if w in proof]
    heard = " ".join(call.press(incident.reference + "#").said)  # the reference from the receipt SMS proves it
    assert say_digits(incident.reference) in heard and "call you back by" in heard


def test_a_customer_silent_at_the_menu_of_a_spoofed_incident_is_taken_through_the_intake(phone, hotline, clock):
    """Silent at the open-incident menu, a caller whose number the incident does not call back is asked what is
    down, as with no open incident; never hung up on with nothing taken (a Sev-1 caller is never lost)."""
    _call(phone, "Fake", "Mallory", callback=ATTACKER)
    clock.advance(minutes=1)
    call = phone(VICTIM)
    call.dial()
    assert "open incident" in " ".join(call.press("1").said)
    call.silence()
    call.silence()  # asked twice, as any question
    prompt = call.silence()
    assert prompt.kind == "gather" and "API" in " ".join(prompt.said)  # the triage question, not goodbye
    assert "new incident" in " ".join(prompt.said)  # linked to the open one as possibly related
    call.hang_up()
    assert _invitations(hotline) == [VICTIM]  # hung up before saying what is down: invited back


def test_a_genuine_repeat_caller_silent_at_the_menu_hears_goodbye(phone, hotline, clock):
    _call(phone, "BigCorp", "Victor Victim")  # their own incident: its callback goes to this number
    clock.advance(minutes=1)
    call = phone(VICTIM)
    call.dial()
    call.press("1")
    call.silence()
    call.silence()
    end = call.silence()
    assert end.kind == "hangup" and "Goodbye" in " ".join(end.said)
    assert len(_incidents(hotline)) == 1


@pytest.mark.parametrize("caller_ids", [("anonymous",) * 5, ("anonymous", "", "+19005551234", "+14155550161",
                                                               "+14155550162")])
def test_reports_from_withheld_or_changing_caller_ids_giving_one_callback_number_open_no_more_than_the_limit(
        phone, hotline, clock, caller_ids):
    """An outside probe's five calls from a withheld number (then seven from seven caller IDs), each giving one
    victim's number, opened as many incidents: as many receipts, pages, breach apologies to that number and breaches
    in the report. The limit holds per callback number too: beyond it a report joins that number's newest incident."""
    for n, caller_id in enumerate(caller_ids):
        clock.advance(minutes=1)
        call = phone(caller_id)
        call.dial()
        call.press("1")  # English
        _report(call, f"Anon Flood {n}", "Mallory", callback=ATTACKER)
    incidents = _incidents(hotline)
    assert [i.callback_phone for i in incidents] == [ATTACKER] * 3  # MAX_INCIDENTS_PER_CALLER's 3
    with hotline.db.session() as s:
        joined = list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "report_joined")))
    assert [(line.incident_id, line.detail["contact_differs"]) for line in joined] == [(incidents[-1].id, False)] * 2
    clock.advance(minutes=61)  # a new window: the number may open incidents again
    call = phone("anonymous")
    call.dial()
    call.press("1")
    _report(call, "Anon Flood late", "Mallory", callback=ATTACKER)
    assert len(_incidents(hotline)) == 4
