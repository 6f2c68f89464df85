"""Issue 9 (row 1) and issue 10 in the pure flow: proof before personal data, repeat callers, German."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services import customer_text
from app.voice.twiml import render
from ivr_flows import CallState, CheckPin, IncidentInfo, Lang, LogEvent, SaveIncident, Stage, TicketInfo
from ivr_flows.model import AppendToIncident

from .flow_driver import ACME_TICKET, NOW, US_CALLER, Call, round_trip, run

# (the e-mail question's own example is "john dot smith at example dot com": the offer is what must not come)
PERSONAL = ("Acme", "John Smith", "Is this about", "Am I speaking with", "We have your e-mail address")
TO_TICKET = [("press", "1"), ("press", "1")]  # English, API down: the ticket question


def _heard(call: Call) -> str:
    return " ".join(line for step in call.steps if step.reply for line in step.reply.say)


def _finish(call: Call) -> Call:
    """Answer the capture questions in the caller's own words and save."""
    run(call, [("say", "Evil Corp"), ("say", "Mallory")])
    if call.stage is Stage.CALLBACK_ENTRY:
        call.press("14155550166#")
    run(call, [("press", "1"), ("say", "mallory at evil dot example"), ("press", "1"), ("say", "All down"),
               ("record",), ("press", "1")])
    return call


def test_keyed_ticket_without_pin_offers_nothing_from_it_even_if_the_service_sent_details():
    call = run(Call(caller_id="anonymous"), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(ACME_TICKET)  # even a service that sent everything: the flow does not speak it
    assert call.stage is Stage.COMPANY and "Please say the name of your company." in call.said
    _finish(call)
    heard = _heard(call)
    assert [p for p in PERSONAL if p in heard] == []
    assert "plus 1, 2 1 2, 5 5 5, 0 1 0 0" not in heard  # the ticket's phone is not offered either
    (save,) = call.effects(SaveIncident)
    assert save.verified == "" and save.captured.ticket_number == "4521" and save.captured.company == "Evil Corp"


def test_a_wrong_pin_twice_goes_on_unverified_and_the_pin_never_enters_state_or_log():
    call = run(Call(caller_id="anonymous"), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(TicketInfo(number="4521", has_pin=True))
    call.press("1111#")
    assert call.effects(CheckPin) == [CheckPin(pin="1111", ticket_number="4521")]
    call.pin_answer(False)
    assert call.stage is Stage.PIN_ENTRY and call.said.startswith("Sorry, that PIN is not correct.")
    call.press("2222#")
    call.pin_answer(False)
    assert call.stage is Stage.COMPANY and "continue without it" in call.said and "Acme" not in call.said
    assert call.state.verified == "" and call.state.pin_tries == 2
    everything = repr([e for e in call.effects(LogEvent)]) + repr(call.state.to_dict())
    assert "1111" not in everything and "2222" not in everything


def test_hash_or_silence_at_the_pin_question_goes_on_without_it():
    call = run(Call(), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(TicketInfo(number="4521", has_pin=True))
    call.press("#")
    assert call.stage is Stage.COMPANY and call.logs("pin_skipped")
    call = run(Call(), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(TicketInfo(number="4521", has_pin=True))
    run(call, [("silence",)] * 3)
    assert call.stage is Stage.COMPANY and not call.effects(CheckPin)


def _repeat(acknowledged: bool = False) -> Call:
    incident = IncidentInfo("123456", NOW + timedelta(minutes=9), acknowledged=acknowledged)
    return run(Call(open_incident=incident), [("press", "1")])


def test_repeat_caller_hears_its_status_and_reference_only_after_proof():
    call = _repeat(acknowledged=True)
    assert "open incident for the number you are calling from" in call.said
    assert "engineer" not in call.said and "1, 2, 3, 4, 5, 6" not in call.said
    run(call, [("press", "1"), ("press", "9876#")])
    call.pin_answer(True, ACME_TICKET)
    assert "1, 2, 3, 4, 5, 6. An engineer has taken it and will call you back by 10:21 p.m. EST." in call.said


def test_repeat_caller_verified_by_pin_may_add():
    call = _repeat()
    run(call, [("press", "1"), ("press", "9876#")])
    assert call.effects(CheckPin) == [CheckPin(pin="9876", incident_reference="123456")]
    call.pin_answer(True, ACME_TICKET)
    assert call.stage is Stage.ADD_INFO and call.state.verified == "pin"
    run(call, [("say", "More"), ("record",)])
    assert call.effects(AppendToIncident)


def test_repeat_caller_who_cannot_verify_gets_a_new_incident_linked_to_the_open_one():
    call = _repeat()
    run(call, [("press", "1"), ("press", "555555#")])
    call.pin_answer(False)
    assert call.stage is Stage.REPEAT_VERIFY and "doesn't match" in call.said
    call.press("666666#")
    call.pin_answer(False)
    assert call.stage is Stage.TRIAGE and "new incident" in call.said and "link it" in call.said
    run(call, [("press", "1"), ("press", "#")])
    _finish(call)
    (save,) = call.effects(SaveIncident)
    assert save.related_reference == "123456" and not call.effects(AppendToIncident)
    assert "1, 2, 3, 4, 5, 6" not in _heard(call)


def test_repeat_caller_with_neither_reference_nor_pin_is_never_turned_away():
    call = _repeat()
    run(call, [("press", "1"), ("press", "#")])
    assert call.stage is Stage.TRIAGE and call.state.related_reference == "123456"


def test_a_report_joined_to_the_open_incident_closes_without_a_reference():
    call = run(Call(), [*TO_TICKET, ("press", "#")])
    _finish(call)
    call.saved("999888", joined=True)
    assert "We added your report to the open incident for your number." in call.said
    assert "9, 9, 9, 8, 8, 8" not in call.said and "9, 9, 9, 8, 8, 8" not in call.question()


def test_states_saved_before_issue_9_still_load():
    state = CallState(stage=Stage.COMPANY, caller_id=US_CALLER, incident=IncidentInfo("1", NOW)).to_dict()
    for key in ("verified", "pin_tries", "related_reference", "joined", "silences"):
        del state[key]
    del state["incident"]["acknowledged"]
    loaded = CallState.from_dict(state)
    assert loaded.verified == "" and loaded.incident == IncidentInfo("1", NOW)


# ---------------------------------------------------------------- issue 10: German


def test_recording_notice_is_spoken_in_both_languages_before_the_choice():
    call = Call()
    reply = call.steps[-1].reply
    assert reply.say_langs[:2] == (Lang.EN, Lang.DE)
    assert "Calls are recorded" in reply.say[0] and "aufgezeichnet" in reply.say[1]
    twiml = render(reply, "/step", "/rec")
    assert 'language="de-DE"' in twiml and "aufgezeichnet" in twiml and "Für Deutsch drücken Sie die 2." in twiml


def test_german_repeat_and_sms_wording():
    call = run(Call(caller_id="+4930123456", open_incident=IncidentInfo("765432", NOW + timedelta(minutes=10))),
               [("press", "2"), ("press", "1"), ("press", "765432#"), ("say", "mehr"), ("record",)])
    call.saved("765432", NOW + timedelta(minutes=10))
    assert "Vielen Dank, wir haben das zum Vorfall 7, 6, 5, 4, 3, 2 hinzugefügt." in call.said
    due = datetime(2026, 1, 15, 15, 21, tzinfo=UTC)
    sent = due - timedelta(minutes=15)
    receipt = customer_text.receipt_sms("123456", due, "Europe/Berlin", "de-DE", sent)
    assert receipt == ("Severity-1-Hotline: Wir haben Ihre Meldung, Referenznummer 123456. "
                       "Ein Techniker ruft Sie spätestens um 16:21 Uhr (MEZ) zurück. "
                       "Ergänzungen senden Sie als Antwort auf diese SMS.")
    summer = customer_text.ack_notice_sms("123456", due.replace(month=7), "Europe/Berlin", "de-DE",
                                          sent.replace(month=7))
    assert "17:21 Uhr (MESZ)" in summer and "übernommen" in summer
    assert customer_text.receipt_sms("123456", due, "UTC", "en-US", sent).endswith(
        "by 15:21 UTC. To add details, reply to this SMS.")
    assert "rufen Sie uns bitte noch einmal an" in customer_text.missed_call_sms(
        customer_text.language_for("", "+4930123456"))


def test_the_receipt_sms_of_a_german_incident_is_german():
    from app.models import Incident
    from app.services import page_text

    incident = Incident(reference="123456", callback_due_at=datetime(2026, 7, 1, 14, 21, tzinfo=UTC),
                        language="de-DE")
    sent = incident.callback_due_at - timedelta(minutes=15)
    assert page_text.receipt_sms(incident, "Europe/Berlin", sent).endswith(
        "spätestens um 16:21 Uhr (MESZ) zurück. Ergänzungen senden Sie als Antwort auf diese SMS.")
    assert "übernommen" in page_text.ack_notice_sms(incident, "Europe/Berlin", sent)
    incident.language = "en-US"
    assert page_text.receipt_sms(incident, "UTC", sent).endswith("by 14:21 UTC. To add details, reply to this SMS.")


def test_keyed_ticket_with_an_open_incident_and_a_pin_names_the_incident_only_after_the_pin():
    open_incident = IncidentInfo(reference="555111", callback_due_at=NOW + timedelta(minutes=3))
    call = run(Call(), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(TicketInfo(number="4521", has_pin=True), open_incident)
    assert call.stage is Stage.PIN_ENTRY  # a ticket number is not an identity: not even the incident's existence
    assert "open incident" not in call.said and "5, 5, 5, 1, 1, 1" not in call.said
    call.press("2468#")
    call.pin_answer(True, ACME_TICKET, open_incident)  # the service: proved with this PIN, so theirs
    assert call.stage is Stage.REPEAT_CALLER and "5, 5, 5, 1, 1, 1" in call.said  # proven: its status
    call.press("2")  # a different outage
    assert "Is this about Acme Mail GmbH?" in call.said and call.state.related_reference == "555111"


def test_the_right_pin_names_no_incident_the_service_does_not_prove_theirs():
    # F3: the ticket's open incident was a stranger's (opened by keying the number, never proved with the PIN);
    # the PIN proves the caller, not that incident: they report anew, linked to it, never told of it.
    strangers = IncidentInfo(reference="555111", callback_due_at=NOW + timedelta(minutes=3))
    call = run(Call(), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(TicketInfo(number="4521", has_pin=True), strangers)
    assert call.state.incident is None and call.state.related_reference == "555111"  # till the PIN says otherwise
    call.press("2468#")
    call.pin_answer(True, ACME_TICKET)
    assert call.stage is Stage.COMPANY and "Is this about Acme Mail GmbH?" in call.said
    assert call.state.incident is None and call.state.related_reference == "555111" and call.state.verified == "pin"
    assert "open incident" not in _heard(call) and "5, 5, 5, 1, 1, 1" not in _heard(call)


def test_keyed_ticket_with_an_open_incident_and_no_right_pin_takes_a_report_linked_to_it_unnamed():
    open_incident = IncidentInfo(reference="555111", callback_due_at=NOW + timedelta(minutes=3))
    for unproven in ([("press", "1111#"), ("pin", False), ("press", "2222#"), ("pin", False)], [("press", "#")]):
        call = run(Call(), [*TO_TICKET, ("press", "4521#")])
        call.lookup_answer(TicketInfo(number="4521", has_pin=True), open_incident)
        for step in unproven:
            if step[0] == "pin":
                call.pin_answer(False, None)
            else:
                call.press(step[1])
        assert call.stage is Stage.COMPANY and call.state.incident is None
        assert call.state.related_reference == "555111" and not call.state.verified
        heard = _heard(call)
        assert "open incident" not in heard and "5, 5, 5, 1, 1, 1" not in heard


def test_keyed_ticket_of_an_account_without_a_pin_says_the_incident_is_the_tickets_not_the_numbers():
    open_incident = IncidentInfo(reference="555111", callback_due_at=NOW + timedelta(minutes=3))
    call = run(Call(), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(TicketInfo(number="4521", has_pin=False), open_incident)
    assert call.stage is Stage.REPEAT_CALLER
    assert "There is an open incident for this ticket." in call.said and "calling from" not in call.said
    assert "5, 5, 5, 1, 1, 1" not in call.said


def test_silence_at_the_menu_of_an_incident_that_calls_another_number_back_takes_a_new_report():
    incident = IncidentInfo("123456", NOW + timedelta(minutes=9), calls_back_caller=False)
    call = run(Call(open_incident=incident), [("press", "1")] + [("silence",)] * 3)
    assert call.stage is Stage.TRIAGE and call.state.related_reference == "123456"
    assert "new incident" in call.said and "Goodbye" not in call.said
    assert round_trip(call.state).incident is None
    kept = run(Call(open_incident=incident), [("press", "1")])
    assert round_trip(kept.state).incident.calls_back_caller is False
    saved_before = kept.state.to_dict()
    del saved_before["incident"]["calls_back_caller"]  # a state saved before the field: the old behaviour
    assert CallState.from_dict(saved_before).incident.calls_back_caller is True


def _theirs(ending: str, extension: str = "", calls_back_caller: bool = False) -> IncidentInfo:
    return IncidentInfo(reference="555111", callback_due_at=NOW + timedelta(minutes=9), callback_ending=ending,
                        callback_extension=extension, calls_back_caller=calls_back_caller)


def test_a_caller_who_proves_their_incident_from_another_phone_hears_which_phone_the_callback_rings():
    # the PIN proves the keyed ticket's incident, whose callback rings +1 415 555 0177 (not the phone in their hand):
    # "an engineer will call you back by ..." alone let them wait by this one; its last digits only, never the number
    call = run(Call(), [*TO_TICKET, ("press", "4521#")])
    call.lookup_answer(TicketInfo(number="4521", has_pin=True), _theirs("0177"))
    assert "0, 1, 7, 7" not in _heard(call)  # nothing of it before the proof
    call.press("2468#")
    call.pin_answer(True, ACME_TICKET, _theirs("0177"))
    assert ("An engineer will call you back by 10:21 p.m. EST. We will call the number ending in 0, 1, 7, 7, not the "
            "phone you are calling from.") in call.said
    run(call, [("press", "1"), ("say", "Use the backup MX"), ("record",)])
    call.saved(reference="555111", due=NOW + timedelta(minutes=9))
    assert "We will call the number ending in 0, 1, 7, 7, not the phone you are calling from." in call.said  # again


def test_the_callback_rings_the_callers_own_number_or_its_extension():
    call = run(Call(open_incident=_theirs("0100", calls_back_caller=True)), [("press", "1"), ("press", "1"),
                                                                           ("press", "555111#")])
    assert "We will call the number you are calling from." in call.said
    call = run(Call(open_incident=_theirs("0100", extension="12")), [("press", "1"), ("press", "1"),
                                                                   ("press", "555111#")])
    assert "We will call the number ending in 0, 1, 0, 0, extension 1, 2." in call.said


def test_an_unproven_caller_hears_nothing_of_the_callback_number_and_a_forgotten_state_keeps_none():
    call = run(Call(open_incident=_theirs("0177")), [("press", "1")])
    assert "open incident for the number you are calling from" in call.said and "0, 1, 7, 7" not in _heard(call)
    assert "0177" not in repr(call.state.without_answers().to_dict())


def test_a_proven_caller_adding_to_an_incident_reached_by_email_is_promised_an_email_after_adding():
    incident = IncidentInfo("555111", NOW + timedelta(minutes=9), by_email=True)
    call = run(Call(open_incident=incident), [("press", "1"), ("press", "1"), ("press", "555111#"),
                                              ("say", "Use the backup MX"), ("record",)])
    call.saved(reference="555111", due=NOW + timedelta(minutes=9))
    assert "An engineer will reach you by e-mail by" in call.said and "call you back" not in call.said
