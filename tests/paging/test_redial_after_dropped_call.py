"""A customer's call drops and they redial: the callback on the redial's incident is the one the first is owed too.

The customer reports (incident A), the call drops, and they call again from the same number two minutes later: the
hotline hears their number has an open incident, they report anew, and the new incident B is linked to A as possibly
related (the same callback number). Alice, paged for B, presses 2 and the hotline bridges her to the customer, who
presses the key and talks. Before this change A escalated as if nobody had called: its levels paged Bob and the
managers, it breached, Maria was paged, the customer was texted "we have not reached you" after they were reached,
and the compliance report counted A as a breach. Signed webhooks, the RQ worker, the simulated Twilio and scripted
phones that fail the test on any SMS or call nobody expected; the fake clock moves, nothing sleeps.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from app.models import Callback, DueStep, FollowUp, Incident, IncidentEvent, IncidentFactsRow, Page
from app.models.user import Role
from app.reports.facts import Outcome
from app.services.api_tokens import create_token
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_callback_proof import _facts
from tests.paging.test_spoofed_number_callback import _report_row
from tests.updates.test_customer_sms import _propose, _text_hotline

OTHER = "+14155550177"  # another number of the customer's (a mobile), given on the redial
RELATED_KINDS = ("callback_reached_on_related", "callback_related_withdrawn")


def _redial(desk, caller: str = CUSTOMER, callback_number: str = "", silent_once_opened: bool = False,
            drop_once_opened: bool = False) -> Incident:
    """The customer calls again from ``caller``; told their number has an open incident, they report anew (the new
    incident is linked to it as possibly related). ``callback_number``: they ask to be called back on it instead.
    ``silent_once_opened``: the call goes silent once the callback number is confirmed (the incident opens mid-call;
    no status callback ever comes): it is linked only when the watchdog takes the call for ended.
    ``drop_once_opened``: the call drops there (its status callback comes): the caller never heard its reference."""
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=caller)
    call.dial()
    if "open incident" in " ".join(call.press("1").said):
        call.press("2")  # "a different outage": report anew
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("Acme Mail")
    call.say("Dana Smith")
    if callback_number:
        call.press("2")  # not the number I call from
        call.say(callback_number)
    call.press("1")
    if drop_once_opened:
        call.hang_up()
    if silent_once_opened or drop_once_opened:
        with desk.hotline.db.session() as s:
            return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
    call.say("dana at acme dot example")
    call.press("1")
    call.say("Still every API call returns 500, my call dropped.")
    call.record(seconds=5)
    call.press("1")
    call.hang_up()
    with desk.hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()


def _first_then_redial(desk, network, callback_number: str = "", talk_seconds: float = 30):
    """A at T0, whose call drops once its callback number is confirmed (Alice paged, she lets it ring), the redial's
    B at T+2 (Alice presses 2 on its voice page and is
    bridged to the number B calls back, who presses the key and talks ``talk_seconds``). Returns A, B, the phone of
    the number called back and Alice's phone."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    first = _redial(desk, drop_once_opened=True)
    desk.settle()
    called = network.phone(callback_number or CUSTOMER)
    called.expect_sms("we have your report").expect_sms("has taken your incident")
    called.expect_call(press="1", answered=True, talk_seconds=talk_seconds)
    alice.expect_sms("SEV1").expect_call(press="2")
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    second = _redial(desk, callback_number=callback_number)
    desk.settle()
    assert desk.incident(second.id).related_incident_id == first.id  # linked as possibly related
    return first, second, customer, alice


def _api(desk, reference: str) -> dict:
    with desk.hotline.db.transaction() as s:  # a name of its own per read (active tokens' names are unique)
        token = create_token(s, f"redial-{uuid.uuid4().hex[:8]}", desk.clock.now(), ("incidents:read",))
    return desk.client.get(f"/api/v1/incidents/{reference}", headers={"Authorization": f"Bearer {token}"}).get_json()


def _callback_of(desk, incident_id: int) -> Callback:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Callback).where(Callback.incident_id == incident_id)).one()


def _steps(desk, incident_id: int) -> dict[tuple[str, int], str]:
    with desk.hotline.db.session() as s:
        return {(st.kind, st.level): st.outcome for st in s.scalars(select(DueStep).where(
            DueStep.incident_id == incident_id))}


def _lines(desk, incident_id: int, *kinds: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id,
                                                          IncidentEvent.kind.in_(kinds)).order_by(IncidentEvent.id)))


def _pages(desk, incident_id: int) -> set[tuple[str, str, str]]:
    """(to, purpose, channel) of every page written for the incident."""
    with desk.hotline.db.session() as s:
        return {(p.to_number, p.purpose, str(p.channel)) for p in s.scalars(select(Page).where(
            Page.incident_id == incident_id))}


def test_the_redials_callback_counts_for_the_dropped_call_and_its_escalation_stops(desk, network):
    first, second, customer, alice = _first_then_redial(desk, network)
    callback = _callback_of(desk, second.id)
    assert callback.outcome == "met" and callback.answered_at is not None
    a = desk.incident(first.id)
    assert a.callback_answered_at == callback.answered_at and a.reached_on_callback_id == callback.id
    assert a.acknowledged_at is None  # nobody owns A: B's rep talked with the customer
    [line] = _lines(desk, first.id, *RELATED_KINDS)
    assert (line.kind, line.detail["outcome"], line.detail["callback_id"]) == (
        "callback_reached_on_related", "met", callback.id)
    assert (line.detail["related_reference"], line.detail["rep_id"]) == (second.reference, callback.rep_id)
    assert line.detail["answered_at"] == callback.answered_at.isoformat()
    assert line.detail["call_sid"] == callback.customer_call_sid  # the call that reached them
    # the helpdesk's API says what the report counts (an outside probe read "outcome": "none" for it)
    api = _api(desk, first.reference)["callback"]
    assert (api["outcome"], api["reached_on_related"], api["attempts"]) == ("met", second.reference, 0)
    assert api["answered_at"] == callback.answered_at.isoformat().replace("+00:00", "Z")
    own = _api(desk, second.reference)["callback"]
    assert (own["outcome"], own["reached_on_related"]) == ("met", None)

    for minute in (3, 6, 10, 15, 17, 21):  # A's levels, its at-risk and breach steps, then B's: nobody is paged
        desk.at(minutes=minute)
    steps = _steps(desk, first.id)
    assert (steps[("page", 1)], steps[("page", 2)], steps[("at_risk", 0)], steps[("breach", 0)]) == (
        "skipped_callback_done", "skipped_callback_done", "skipped_callback_done", "met")
    assert not any(kind == "repage" for kind, _ in steps) and desk.incident(first.id).breached_at is None
    assert _steps(desk, second.id)[("breach", 0)] == "met"
    # A's only pages are its first ones to Alice: no Bob, no manager, no alert, no apology to the customer
    assert _pages(desk, first.id) == {(ALICE, "page", "sms"), (ALICE, "page", "voice"), (CUSTOMER, "receipt", "sms")}
    assert network.phone(BOB).sms == [] and network.phone(MARIA).sms == []
    assert [body for body in customer.sms if "have not reached you" in body] == []
    assert len(customer.sms) == 3 and len(customer.calls) == 1  # two receipts, B's "has taken", one conversation

    # one stream of updates: B's schedule carries them; A has none (and its page says so)
    with desk.hotline.db.session() as s:
        schedules = {f.incident_id for f in s.scalars(select(FollowUp))}
    assert schedules == {second.id}
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    updates = parse(desk.client.get(f"/incidents/{first.reference}/updates")).find("p", id="no-schedule")
    assert f"reached on related incident {second.reference}" in updates.text()
    row = parse(desk.client.get("/board")).find("tr", id=f"inc-{first.reference}")
    state = row.find("span", cls="state").text()
    assert state.endswith(f"on related incident #{second.reference} (counts here too)")  # not "(late)"
    # each row names the other: the older one the redial that points at it (an outside probe's board did not)
    assert row.find("span", cls="related").text() == f"Possibly related to #{second.reference} (same caller ID)"
    other = parse(desk.client.get("/board")).find("tr", id=f"inc-{second.reference}")
    assert other.find("span", cls="related").text() == f"Possibly related to #{first.reference} (same caller ID)"
    page = desk.client.get(f"/incidents/{first.reference}").get_data(as_text=True)
    assert f"Customer reached on related incident {second.reference}" in page

    # the report: both met, from the stored facts and from the log alike, A credited to Alice at B's answer
    assert _facts(desk, first.id).outcome == _facts(desk, second.id).outcome == Outcome.MET
    answered = callback.answered_at.isoformat().replace("+00:00", "Z")
    for incident in (first, second):
        json_row, csv_line = _report_row(desk, incident.reference)
        assert (json_row["outcome"], json_row["breached"], json_row["callback_answered_at"]) == ("met", False, answered)
        assert ",no," in f"{csv_line}," and answered in csv_line
    with desk.hotline.db.session() as s:  # the fast path's stored rows: the callback credited to Alice on both
        stored = {row.incident_id: (row.outcome, row.called_rep_id, row.seconds_to_callback) for row in s.scalars(
            select(IncidentFactsRow).where(IncidentFactsRow.incident_id.in_([first.id, second.id])))}
    assert stored == {first.id: ("met", callback.rep_id, _facts(desk, first.id).seconds_to_callback),
                      second.id: ("met", callback.rep_id, _facts(desk, second.id).seconds_to_callback)}
    assert _facts(desk, first.id).seconds_to_callback > _facts(desk, second.id).seconds_to_callback  # A waited longer


def test_a_redial_giving_another_number_is_called_there_and_the_first_incident_is_still_owed_its_callback(
        desk, network):
    """The customer asks the redial to be called back on another number: that call reached whoever answers it, not
    provably the first incident's contact, so A is not counted and escalates on (Bob is paged at T+3)."""
    first, second, _customer, alice = _first_then_redial(desk, network, callback_number=OTHER)
    callback = _callback_of(desk, second.id)
    assert callback.outcome == "met" and callback.customer_number == OTHER
    alice.expect_call(answer=False)  # A's level 1: the primary again by voice, plus the secondary
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    a = desk.incident(first.id)
    assert a.callback_answered_at is None and a.reached_on_callback_id is None
    assert _lines(desk, first.id, *RELATED_KINDS) == []
    assert _steps(desk, first.id)[("page", 1)] == "paged_3"  # three pages: Alice by voice, Bob by SMS and voice
    assert _facts(desk, first.id).outcome == Outcome.NO_CALLBACK and _facts(desk, second.id).outcome == Outcome.MET


def test_a_conversation_too_short_to_count_counts_for_neither_incident(desk, network):
    """The customer presses the key and hangs up 3 s later: withdrawn on B (Alice hears it did not count) and,
    mirrored, on A, whose escalation resumes at its next level."""
    first, second, _customer, alice = _first_then_redial(desk, network, talk_seconds=3)
    callback = _callback_of(desk, second.id)
    assert callback.outcome == "attempted" and desk.incident(second.id).callback_answered_at is None
    assert "too short to count as the callback" in alice.calls[-1].heard
    a = desk.incident(first.id)
    assert a.callback_answered_at is None and a.reached_on_callback_id is None
    lines = _lines(desk, first.id, *RELATED_KINDS)
    assert [line.kind for line in lines] == list(RELATED_KINDS)  # counted at the key press, then withdrawn
    assert lines[1].detail["callback_id"] == callback.id and lines[1].detail["why"] == "bridge_too_short"
    assert _facts(desk, first.id).outcome == Outcome.NO_CALLBACK and _facts(desk, first.id).callbacks == ()
    assert _facts(desk, second.id).outcome == Outcome.ATTEMPTED
    alice.expect_call(answer=False)  # A is still owed its callback: its level 1 pages
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    assert _steps(desk, first.id)[("page", 1)] == "paged_3"  # three pages: Alice by voice, Bob by SMS and voice


def test_the_customers_yes_on_the_redials_incident_closes_the_dropped_calls_too(desk, network):
    """An outside probe's redialled customer confirmed the fix on the redial's incident by the e-mail link; the dropped
    call's incident, reached through that callback and with no update schedule of its own, stayed open on the board.
    It closes with the same agreement, its timeline naming the incident it closed with, and no second message goes
    to the customer."""
    first, second, customer, alice = _first_then_redial(desk, network)
    customer.expect_sms(f"YES {second.reference}")  # the proposal, answered below
    alice.expect_sms("confirmed")  # the owner hears the customer's answer
    _propose(desk, second.reference, "API healthy again")
    desk.settle()
    assert _text_hotline(desk, f"YES {second.reference}") == [f"Thank you. Incident {second.reference} is closed."]
    desk.settle()
    a, b = desk.incident(first.id), desk.incident(second.id)
    assert (a.status, b.status) == ("resolved", "resolved")
    [line] = _lines(desk, first.id, "resolved_with_related")
    assert (line.detail["related_reference"], line.detail["outcome"]) == (second.reference, "resolved")
    assert [body for body in customer.sms if first.reference in body and "closed" in body] == []
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    assert parse(desk.client.get("/board")).find_all("tr", id=f"inc-{first.reference}") == []
    page = desk.client.get(f"/incidents/{first.reference}").get_data(as_text=True)
    assert f"Closed with related incident {second.reference}" in page


def test_a_yes_on_the_redials_incident_leaves_open_a_related_one_whose_customer_said_no_to_its_own_proposal(
        desk, network):
    """The rep proposed a fix on each incident; the customer answered NO on the dropped call's, then YES on the
    redial's. An outside probe's YES closed both (the dropped call's "with the related incident"), though that one's
    own customer had just said it was not fixed."""
    first, second, customer, alice = _first_then_redial(desk, network)
    customer.expect_sms(f"YES {first.reference}").expect_sms(f"YES {second.reference}")  # the two proposals
    _propose(desk, first.reference, "SMTP healthy again")
    _propose(desk, second.reference, "API healthy again")
    desk.settle()
    alice.expect_sms("NOT resolved").expect_sms("confirmed")  # the owner hears both answers
    [no] = _text_hotline(desk, f"NO {first.reference} still failing")
    assert no.startswith(f"Thank you. We keep working on incident {first.reference}.")
    assert _text_hotline(desk, f"YES {second.reference}") == [f"Thank you. Incident {second.reference} is closed."]
    desk.settle()
    assert (desk.incident(first.id).status, desk.incident(second.id).status) == ("open", "resolved")
    assert _lines(desk, first.id, "resolved_with_related") == []


def test_a_callback_counts_for_a_redials_redial_linked_through_the_one_between(desk, network):
    """A at T0, its redial B at T+2 (linked to A), B's redial C at T+2:30 (linked to B, the newest open incident of
    the number): Alice replies CALL for A at T+4 and reaches the customer, which counts for B and, through B, for C.
    An outside probe's third incident, linked to the second only, was left out: the customer was texted "we have not
    reached you" nine minutes after talking with the engineer, and the report counted a breach."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    first = _redial(desk, drop_once_opened=True)
    desk.settle()
    incidents = [first]
    for minutes, seconds in ((2, 0), (2, 30)):
        customer.expect_sms("we have your report")
        alice.expect_sms("SEV1").expect_call(answer=False)
        desk.clock.set(desk.t0 + timedelta(minutes=minutes, seconds=seconds))
        incidents.append(_redial(desk, drop_once_opened=(minutes, seconds) == (2, 0)))
        desk.settle()
    first, second, third = incidents
    assert (desk.incident(second.id).related_incident_id, desk.incident(third.id).related_incident_id) == (
        first.id, second.id)  # C is linked to B alone

    alice.expect_call(answer=False)  # A's level 1 at T+3: the primary again by voice, plus the secondary
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    customer.expect_sms("has taken your incident").expect_call(press="1", answered=True, talk_seconds=30)
    alice.expect_call()
    desk.clock.set(desk.t0 + timedelta(minutes=4))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {first.reference}").get_data(as_text=True)
    desk.settle()
    callback = _callback_of(desk, first.id)
    assert callback.outcome == "met"
    for incident in (second, third):
        one = desk.incident(incident.id)
        assert (one.reached_on_callback_id, one.callback_answered_at) == (callback.id, callback.answered_at)
        [line] = _lines(desk, incident.id, *RELATED_KINDS)
        assert (line.detail["outcome"], line.detail["related_reference"]) == ("met", first.reference)
    assert _facts(desk, third.id).outcome == Outcome.MET


def test_a_different_outage_reported_after_the_first_reports_reference_keeps_its_own_callback(desk, network):
    """Outside probe (session 43): the customer's first report ended normally (its reference told), they called
    again, chose "To report a different outage, press 2" and reported another one. The engineer's call about the
    first counted as the second's callback: its pages, at-risk alert and breach stopped, and it was owed no updates.
    A conversation about one is not the other's callback; both stay linked as possibly related."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    first = desk.open_incident()  # the whole intake: the caller heard its reference
    desk.settle()
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    second = _redial(desk)  # "a different outage", pressed at the repeat-caller menu
    desk.settle()
    assert desk.incident(second.id).related_incident_id == first.id
    [link] = _lines(desk, second.id, "possibly_related")
    assert link.detail["own_callback"] is True and "different outage" in link.detail["why"]

    customer.expect_sms("has taken your incident").expect_call(press="1", answered=True, talk_seconds=30)
    alice.expect_call()
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=30))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {first.reference}").get_data(as_text=True)
    desk.settle()
    assert _callback_of(desk, first.id).outcome == "met"
    other = desk.incident(second.id)
    assert (other.callback_answered_at, other.reached_on_callback_id) == (None, None)
    assert _lines(desk, second.id, *RELATED_KINDS) == []
    desk.at(minutes=3)  # the first incident's level 1 is skipped (its customer was reached)
    assert _steps(desk, first.id)[("page", 1)] == "skipped_callback_done"
    assert _steps(desk, second.id)[("page", 1)] == ""  # not yet due
    # its own escalation goes on: its next level pages at T+5, three minutes after its report
    alice.expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=5)
    assert _steps(desk, second.id)[("page", 1)] not in ("", "skipped_callback_done")


def test_the_one_conversation_keeps_both_promises_and_is_counted_once_as_a_call(desk, network):
    """Outside probe V (V2): the page said "Answered callbacks 12" for 11 calls answered, and Alice's Met 9 for 8
    calls: the redial's one conversation, credited to both incidents, counted twice in the call figures, and no
    export row said the dropped call's incident was reached through the redial's call. Both stay met (one
    conversation keeps both promises); the per-rep and time-to-callback figures count that call once, on the redial's
    incident, and the dropped call's row names the redial's reference last (CSV column and JSON field)."""
    first, second, _customer, _alice = _first_then_redial(desk, network)
    callback = _callback_of(desk, second.id)
    assert callback.outcome == "met"
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    query = {"start": desk.t0.date().isoformat(), "end": (desk.t0.date() + timedelta(days=1)).isoformat(),
             "tz": "UTC", "as_of": desk.clock.now().isoformat()}
    document = desk.client.get("/reports/compliance.json", query_string=query).get_json()
    rows = {row["reference"]: row for row in document["rows"]}
    summary = document["summary"]
    assert summary["outcomes"]["met"]["count"] == 2 and summary["breached"]["count"] == 0  # both promises kept
    assert summary["seconds_to_callback"]["count"] == 1  # one answered callback: the redial's
    assert summary["seconds_to_callback"]["max"] == rows[second.reference]["seconds_to_callback"]
    assert [(rep["name"], rep["met"]) for rep in summary["per_rep"]] == [("Alice Primary", 1)]
    assert {ref: (row["outcome"], row["related_reference"]) for ref, row in rows.items()} == {
        first.reference: ("met", second.reference), second.reference: ("met", "")}
    body = desk.client.get("/reports/compliance.csv", query_string=query).get_data(as_text=True)
    header, *lines = body.splitlines()
    assert header.endswith(",breached,breach_reason,related_reference")
    assert [line.rsplit(",", 1)[1] for line in lines if line.startswith(first.reference)] == [second.reference]
    assert [line.rsplit(",", 1)[1] for line in lines if line.startswith(second.reference)] == [""]
    page = parse(desk.client.get("/reports/compliance", query_string=query))
    assert [n.text() for n in page.find_all("td") if n.attrs.get("data-figure") == "ttc-count"] == ["1"]
    [alice] = [n for n in page.find("table", id="per-rep").find_all("tr") if n.attrs.get("data-rep") == "Alice Primary"]
    assert [n.text() for n in alice.find_all("td")][:2] == ["1", "1"]  # acknowledged B, met: one call
