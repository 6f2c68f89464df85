"""Whole intake calls through the real webhooks, driven by a simulated Twilio."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import CallSession, DueStep, Incident, IncidentEvent, IncidentSource, Page, Ticket, WebhookDelivery
from app.services.events import events_of
from app.services.tickets import parse_ticket_input, upsert_ticket
from ivr_flows.prompts import say_digits
from tests.integration.board_support import make_incident

CALLER = "+14155550100"


@pytest.fixture
def ticket_4521(hotline):
    with hotline.db.transaction() as s:
        data = parse_ticket_input({"number": "4521", "company": "Acme Mail Inc", "contact_name": "Dana Smith",
                                   "contact_email": "dana.smith@acme.example", "contact_phone": CALLER})
        upsert_ticket(s, data, hotline.clock.now())


def _only_incident(hotline) -> Incident:
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        return incident


def _said(prompt) -> str:
    return " ".join(prompt.said)


@pytest.mark.usefixtures("worker_runs")  # the live wait is offered (``app.watchdog_state``)
def test_english_call_with_ticket_and_support_pin_ends_with_incident_and_deadline(phone, hotline, ticket_4521):
    with hotline.db.transaction() as s:  # the account's support PIN, set through the ticket upsert
        upsert_ticket(s, parse_ticket_input({"number": "4521", "company": "Acme Mail Inc",
                                             "support_pin": "8642"}), hotline.clock.now())
    call = phone(CALLER)
    assert "Severity-1 hotline" in _said(call.dial())
    assert "Is your e-mail sending down?" in _said(call.press("1"))  # English -> triage
    entry = call.press("3")  # both failing
    assert "ticket number" in _said(entry) and "4, 5, 2, 1" not in _said(entry)
    assert "support PIN" in _said(call.press("4521"))
    assert "Acme Mail Inc" in _said(call.press("8642"))  # the PIN is right -> confirm company
    assert "Dana Smith" in _said(call.press("1"))  # company confirmed -> confirm name
    callback = call.press("1")
    assert "Can we call you back" in _said(callback)
    email = call.press("1")
    assert "dana dot smith at acme dot example" in _said(email)
    assert "describe the problem" in _said(call.press("1"))
    recording = call.say("All API calls time out with error 500 since 2:40, SMTP connections are refused.")
    assert recording.kind == "record"
    readback = call.record(seconds=45)
    text = _said(readback)
    for expected in ("API calls and SMTP injection failing", "All API calls time out"):
        assert expected in text
    for confirmed in ("Acme Mail Inc", "Dana Smith", "dana dot smith at acme dot example"):
        assert confirmed not in text  # issue 13: just confirmed, not read back again
    offer = call.press("1")
    assert offer.kind == "gather" and "press 1" in _said(offer)  # issue 13: the live-connect offer
    done = call.silence()  # no key: called back
    assert done.kind == "hangup" and _said(done).startswith("We will call you back by")
    incident = _only_incident(hotline)
    closing = _said(offer)
    assert say_digits(incident.reference) in closing
    assert "within 15 minutes" in closing and "7:15" in closing  # 03:15 UTC is 7:15 p.m. in San Francisco

    assert incident.source == IncidentSource.IVR
    assert (incident.company, incident.contact_name, incident.email) == (
        "Acme Mail Inc", "Dana Smith", "dana.smith@acme.example")
    assert incident.callback_phone == CALLER and incident.caller_id == CALLER
    assert incident.affected_service == "both" and incident.language == "en-US"
    assert incident.ticket_number == "4521" and incident.ticket_match == "keypad"
    assert incident.caller_verified == "pin"
    assert incident.recording_seconds == 45 and incident.problem_text.startswith("All API calls time out")
    assert incident.callback_due_at == incident.captured_at + timedelta(minutes=15)
    with hotline.db.session() as s:
        assert incident.ticket_id == s.scalar(select(Ticket.id).where(Ticket.number == "4521"))
        kinds = [e.kind for e in events_of(s, incident)]
        steps = {(st.kind, st.level): st for st in s.scalars(select(DueStep).where(DueStep.incident_id == incident.id))}
    assert kinds[0] == "call_received" and "incident_opened" in kinds
    assert kinds.index("call_received") < kinds.index("language_chosen") < kinds.index("incident_opened")
    assert kinds[-1] == "call_status"  # the hang-up after the goodbye, and no second incident
    # the whole plan was written with the incident, and handed to RQ after commit; the first page
    # step ran in the opening's transaction, so its pages wait in the FIRST queue and it has no job
    assert set(steps) == {("receipt", 0), ("page", 0), ("page", 1), ("page", 2), ("at_risk", 0), ("breach", 0)}
    assert steps[("page", 1)].due_at == incident.captured_at + timedelta(minutes=3)
    assert steps[("breach", 0)].due_at == incident.callback_due_at
    first = steps.pop(("page", 0))
    assert first.status == "done" and first.outcome == "nobody_to_page"  # no on-call configured here
    with hotline.db.session() as s:
        first_pages = s.scalars(select(Page).where(Page.step_id == first.id)).all()
    handed = set(hotline.jobs.job_ids()) | set(hotline.jobs.scheduled_ids())
    assert {f"step-{st.id}" for st in steps.values()} <= handed and f"step-{first.id}" not in handed
    assert [f"page-{p.id}" for p in first_pages if p.channel == "sms"] == hotline.jobs.first_queue.job_ids


def test_german_call_without_ticket_from_a_withheld_number(phone, hotline):
    call = phone("+266696687")
    call.dial()
    triage = call.press("2")
    assert "Ist Ihr E-Mail-Versand ausgefallen?" in _said(triage)
    ticket = call.say("beide")
    assert "Ticketnummer" in _said(ticket)
    assert "Firma" in _said(call.press("#"))
    call.say("Müller Versand GmbH")
    entry = call.say("Jürgen Weiß")
    assert "Rückruf" in _said(entry)  # withheld caller ID: the number is asked for
    confirm = call.press("004930123456")
    assert "plus 4 9, 3 0, 1 2 3 4 5 6" in _said(confirm)
    email = call.press("1")
    assert "E-Mail" in _said(email)
    heard = call.say("juergen punkt weiss ät mueller minus versand punkt de")
    assert "juergen punkt weiss" in _said(heard)
    call.press("1")
    call.say("Seit zehn Minuten schlagen alle SMTP-Einlieferungen fehl.")
    call.record(seconds=10)
    done = call.press("1")
    assert "Referenznummer" in _said(done) and "innerhalb von 15 Minuten" in _said(done)
    incident = _only_incident(hotline)
    assert incident.language == "de-DE"
    assert incident.callback_phone == "+4930123456"
    assert incident.email == "juergen.weiss@mueller-versand.de"
    assert incident.company == "Müller Versand GmbH" and incident.contact_name == "Jürgen Weiß"
    assert incident.ticket_match == "none" and incident.caller_id == "+266696687"


def _through_to_company(call):
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing
    return call.press("#")  # no ticket


def test_hostile_and_oversized_input_is_cleaned_and_length_limited(phone, hotline):
    call = phone(CALLER)
    _through_to_company(call)
    call.say("<script>alert(1)</script>'; DROP TABLE incidents; --")
    call.say("Zoë 山田 " + "x" * 10_000)
    call.press("1")  # callback on the caller ID
    call.say("ops at example dot com")
    call.press("1")
    call.say("A" * 10_000)
    call.record(seconds=5)
    call.press("1")
    incident = _only_incident(hotline)
    # kept as said, as data (the dashboard and pages escape it: tests/integration/test_incident_views.py)
    assert incident.company == "<script>alert(1)</script>'; DROP TABLE incidents; --"
    assert incident.contact_name.startswith("Zoë 山田") and len(incident.contact_name) <= 200
    assert len(incident.problem_text) <= 2000
    with hotline.db.session() as s:  # the SQL text was stored as data: the table is still there
        assert s.scalar(select(Incident.id)) == incident.id


@pytest.mark.parametrize(
    "caller", ["anonymous", "+266696687", "+19005551234", "+448712345678", "+447012345678", "+31842123456"])
def test_withheld_and_premium_rate_numbers_are_never_callback_numbers(phone, hotline, caller):
    call = phone(caller)
    _through_to_company(call)
    call.say("Acme")
    prompt = call.say("Dana")
    assert "enter the number" in _said(prompt)
    again = call.press("19005551234")  # premium rate typed in: refused
    assert "can't be used" in _said(again)
    assert "plus 1, 4 1 5, 5 5 5, 0 1 0 0" in _said(call.press("14155550100"))
    assert "e-mail" in _said(call.press("1"))
    call.hang_up()  # saved with what it has: the typed number, never the withheld or premium one
    incident = _only_incident(hotline)
    assert incident.callback_phone == "+14155550100" and incident.caller_id == caller


@pytest.mark.parametrize(
    "keyed",
    [
        "447012345678",  # UK personal number (070): revenue share
        "4970012345678",  # German personal number (0700)
        "31842123456",  # Dutch UAN (084)
        "445512345678",  # UK UAN (055)
        "447640123456",  # UK pager
    ],
)
def test_personal_uan_and_pager_numbers_keyed_are_refused(phone, hotline, keyed):
    call = phone("anonymous")
    _through_to_company(call)
    call.say("Evil Corp")
    call.say("Mallory")
    refused = call.press(keyed)
    assert refused.kind == "gather" and refused.said[0] == (
        "That number can't be used for a callback: we don't call premium-rate, shared-cost or other special numbers.")
    assert "enter the number" in _said(refused)
    assert "plus 1, 4 1 5, 5 5 5, 0 1 0 0" in _said(call.press("14155550100"))
    call.press("1")
    call.hang_up()
    incident = _only_incident(hotline)
    assert incident.callback_phone == "+14155550100"


def test_silence_on_every_question_still_ends_in_an_incident(phone, hotline):
    call = phone(CALLER)
    prompt = call.dial()
    silences = 0
    for silences in range(60):  # noqa: B007 - the count is the point
        if prompt.kind == "hangup":
            break
        prompt = call.silence()
    assert prompt.kind == "hangup"
    # Two questions unanswered (language, triage), then the recording and the promise: not 28 prompts.
    assert silences == 7 and "within 15 minutes" in _said(prompt)
    incident = _only_incident(hotline)
    assert incident.callback_phone == CALLER
    assert incident.affected_service == "other"
    assert {"company", "contact_name", "email", "problem"} <= set(incident.missing_fields)


def test_duplicate_webhooks_get_the_same_twiml_and_write_nothing_twice(phone, hotline):
    call = phone(CALLER)
    call.dial()
    first = call.responses[-1]
    code, again = call.resend()
    assert code == 200 and again == first
    call.press("1")
    after_step = call.responses[-1]
    code, again = call.resend()
    assert (code, again) == (200, after_step)
    triage = call.press("1")  # the same key again is a new answer (a new step URL), not a duplicate
    assert triage.kind == "gather"
    with hotline.db.session() as s:
        events = s.scalars(select(IncidentEvent.kind).where(IncidentEvent.kind == "call_received")).all()
        session = s.get(CallSession, call.call_sid)
        deliveries = len(s.scalars(select(WebhookDelivery.id)).all())
    assert events == ["call_received"]
    assert session.seq == 3 and deliveries == 3


def test_a_stale_step_gets_the_current_question_and_changes_nothing(phone, hotline, client):
    call = phone(CALLER)
    call.dial()
    call.press("1")
    stale = call.prompt
    seq_before = stale.action
    code, body = call._post("/twilio/voice/step?seq=1", {"Digits": "9"})  # an answer to an old question
    assert code == 200 and "Is your e-mail sending down?" in body
    with hotline.db.session() as s:
        assert s.get(CallSession, call.call_sid).seq == 2
    assert call.press("1").kind == "gather" and "?seq=2&token=" in seq_before


def test_repeat_caller_hears_status_and_adds_information_after_keying_the_reference(phone, hotline):
    first = phone(CALLER)
    for _ in range(60):
        prompt = first.dial() if not first.responses else first.silence()
        if prompt.kind == "hangup":
            break
    incident = _only_incident(hotline)
    second = phone(CALLER)
    second.dial()
    menu = second.press("1")
    assert say_digits(incident.reference) not in _said(menu) and "open incident" in _said(menu)
    assert "six-digit reference number" in _said(second.press("1"))  # add information
    second.press(incident.reference)
    second.say("Now the SMTP relay in Frankfurt fails as well.")
    done = second.record(seconds=12)
    assert done.kind == "hangup" or "added" in _said(done)
    assert _only_incident(hotline).id == incident.id
    with hotline.db.session() as s:
        added = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "information_added")).all()
    assert len(added) == 1 and "Frankfurt" in added[0].detail["text"]


def test_a_caller_with_two_open_incidents_reaches_the_older_one_by_its_reference(phone, hotline):
    # a probe's customer keyed the reference of her older open incident: "Sorry, that number doesn't match" twice,
    # then a new incident, paging the reps again; only the newest open incident of the number could be reached
    now = hotline.clock.now()
    older = make_incident(hotline, reference="111111", callback_phone=CALLER, caller_id=CALLER,
                          captured_at=now - timedelta(minutes=9))
    newer = make_incident(hotline, reference="222222", callback_phone=CALLER, caller_id=CALLER,
                          captured_at=now - timedelta(minutes=4))
    call = phone(CALLER)
    call.dial()
    call.press("1")
    assert "six-digit reference number" in _said(call.press("1"))  # add information
    proven = _said(call.press("111111"))
    assert "doesn't match" not in proven and say_digits("111111") in proven
    call.say("The EU relay fails too.")
    call.record(seconds=5)
    with hotline.db.session() as s:
        added = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "information_added")).all()
        assert [e.incident_id for e in added] == [older] and len(s.scalars(select(Incident)).all()) == 2
        assert newer != older


def test_a_bare_hash_at_the_ticket_question_is_no_ticket_as_twilio_plays_the_gather(phone, hotline):
    """Twilio's <Gather>: the finish key pressed before any digit is no input; without
    actionOnEmptyResult="true" Twilio requests no action and goes on with the next verb (as on
    silence). "No ticket? Just press the hash key" must still mean no ticket, at once."""
    call = phone(CALLER)
    call.dial()
    call.press("1")
    ticket = call.press("1")  # API calls failing
    assert "hash key" in _said(ticket)
    company = call.press("#")  # the simulated Twilio plays the Gather as documented (see SimulatedCall.press)
    assert "Sorry" not in _said(company) and "company" in _said(company)
    with hotline.db.session() as s:
        state = s.scalars(select(CallSession).where(CallSession.call_sid == call.call_sid)).one()
    assert state.state["stage"] == "company" and state.state["captured"]["ticket_match"] == "none"


def test_silence_at_the_ticket_question_is_asked_again_not_taken_for_a_bare_hash(phone, hotline):
    """With actionOnEmptyResult="true" Twilio requests the action on silence too, but says which it was:
    FinishedOnKey is the finish key the caller pressed, empty when the <Gather> timed out. A caller who
    says nothing while looking for their ticket has not said "no ticket": they are asked again."""
    call = phone(CALLER)
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing
    again = call.silence()  # 10 s of nothing: Digits="", FinishedOnKey=""
    assert call.last_request[1] == {"Digits": "", "FinishedOnKey": ""}
    assert "Sorry, I didn't hear anything" in _said(again) and "hash key" in _said(again)
    with hotline.db.session() as s:
        state = s.scalars(select(CallSession).where(CallSession.call_sid == call.call_sid)).one()
    assert state.state["stage"] == "ticket_entry" and state.state["captured"]["ticket_match"] is None
    company = call.press("#")  # now the bare '#': no ticket, at once
    assert call.last_request[1] == {"Digits": "", "FinishedOnKey": "#"}
    assert "Sorry" not in _said(company) and "company" in _said(company)


def test_a_bare_hash_at_the_pin_question_goes_on_without_a_pin(phone, hotline, ticket_4521):
    with hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({"number": "4521", "company": "Acme Mail Inc",
                                             "support_pin": "8642"}), hotline.clock.now())
    call = phone(CALLER)
    call.dial()
    call.press("1")
    call.press("3")
    assert "support PIN" in _said(call.press("4521#"))
    after = call.press("#")  # no PIN to hand
    assert "Sorry" not in _said(after) and "PIN" not in _said(after)


def test_a_caller_who_declines_their_number_and_cannot_key_another_is_called_back_on_it(phone, hotline):
    """The closing promised a call on "the number you're calling from", but the incident had no callback number:
    its page said "Call back n/a" and the hotline could not place the callback (a hang-up there was rescued with it)."""
    call = phone(CALLER)
    _through_to_company(call)
    call.say("Acme")
    call.say("Dana Smith")
    assert "enter the number" in _said(call.press("2"))  # another number, please
    for _ in range(3):
        call.press("12345")  # no phone number
    call.say("dana at acme dot com")
    call.press("1")
    call.say("All API calls fail with a 500.")
    readback = call.record(seconds=5)
    assert "Callback number: plus 1, 4 1 5, 5 5 5, 0 1 0 0" in _said(readback)  # heard, correctable
    closing = _said(call.press("1"))
    assert "call you back on plus 1, 4 1 5, 5 5 5, 0 1 0 0 within 15 minutes" in closing
    assert "We don't have a callback number" not in closing
    incident = _only_incident(hotline)
    assert incident.callback_phone == CALLER and "callback_phone" not in incident.missing_fields
    with hotline.db.session() as s:
        unconfirmed = [e.detail for e in events_of(s, incident) if e.kind == "field_unconfirmed"]
    assert unconfirmed == [{"field": "callback_phone"}]


def test_silence_at_the_callback_number_is_heard_as_silence(phone, hotline):
    """Since the keypad questions take an empty answer (actionOnEmptyResult), silence at the callback number
    reached the flow as a bare '#' and the caller heard that their number "isn't a complete phone number"."""
    call = phone("anonymous")
    _through_to_company(call)
    call.say("Acme")
    assert "enter the number" in _said(call.say("Dana Smith"))
    again = call.silence()
    assert _said(again).startswith("Sorry, I didn't hear anything.") and "complete phone number" not in _said(again)
    assert "plus 1, 4 1 5, 5 5 5, 0 1 0 1" in _said(call.press("4155550101"))


def test_a_german_caller_who_says_nicht_kritisch_twice_is_told_where_to_go_and_not_taken_back(phone, hotline):
    call = phone("+4930123456")
    call.dial()
    call.press("2")
    told = _said(call.say("Nicht kritisch, nur eine Frage."))
    assert "Ticket im Dashboard" in told
    done = call.say("Nein, es ist nicht kritisch.")  # "kritisch" in it was "continue as a critical outage"
    assert done.kind == "hangup" and "Ist Ihr E-Mail-Versand ausgefallen?" not in _said(done)
    call.hang_up()
    with hotline.db.session() as s:
        assert s.scalars(select(Incident)).all() == []
