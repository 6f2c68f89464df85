"""The Sev-1 intake call as a pure function: ``advance(state, event, now) -> Step``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from . import answers, capture, verification
from .model import (
    AffectedService,
    CallStarted,
    CallState,
    Event,
    Gathered,
    Lang,
    LookupTicket,
    NoInput,
    RecordNonCritical,
    Reply,
    Stage,
    Step,
    TicketLookedUp,
    TicketMatch,
)
from .number_kinds import is_textable
from .prompts import say_digits, text
from .questions import question, t
from .steps import after_triage, enter, fail, go, log, miss, repeat
from .steps import capture as store
from .validate import clean_text

Handler = Callable[[CallState, Event, datetime], Step]

_CONTINUE_WORDS = re.compile(r"\b(continue|critical|down|weiter|fortfahren|kritisch|ausgefallen)\b")


def start(event: CallStarted) -> Step:
    """A new call: greet and ask for the language."""
    state = CallState(
        stage=Stage.LANGUAGE,
        caller_id=clean_text(event.caller_id, 40),
        policy=event.policy,
        ticket=event.ticket,
        incident=event.open_incident,
    )
    effects = (
        log(
            "call_started",
            caller_ticket=event.ticket.number if event.ticket else "",
            open_incident=event.open_incident.reference if event.open_incident else "",
        ),
    )
    return Step(state=state, reply=question(state), effects=effects)


# ---------------------------------------------------------------- language, triage


def _on_language(state: CallState, event: Event, now: datetime) -> Step:
    def choose(s: CallState, n: datetime, lang: Lang, how: str, *before: str) -> Step:
        s = replace(s, lang=lang, tries=0)
        nxt = Stage.REPEAT_CALLER if s.incident is not None else Stage.TRIAGE
        effects = (log("language_chosen", lang=lang.value, how=how),)
        # issue 11: a declared outage is stated before triage; the caller is still taken through intake
        outage = s.policy.outage_statement_de if lang == Lang.DE else s.policy.outage_statement_en
        return go(replace(s, stage=nxt), n, *before, *((outage,) if outage else ()), effects=effects)

    def give_up(s: CallState, n: datetime) -> Step:
        return choose(s, n, Lang.EN, "default", text(Lang.EN, "language_default"))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        lang = answers.language(ev)
        if lang is None:
            return fail(s, n, "sorry_nonsense", give_up)
        return choose(s, n, lang, "keypad" if ev.digits else "speech")

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _on_triage(state: CallState, event: Event, now: datetime) -> Step:
    def give_up(s: CallState, n: datetime) -> Step:
        if s.correcting:  # from the read-back: the type stays what it was
            return after_triage(s, n)
        # Never turn a Sev-1 caller away: a garbled triage is "another critical problem".
        s = miss(store(s, affected_service=AffectedService.OTHER), "affected_service")
        effects = (log("triage", service=AffectedService.OTHER.value, defaulted=True),)
        return after_triage(s, n, t(s, "triage_default"), effects=effects)

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        choice = answers.service(ev)
        if choice is None:
            return fail(s, n, "sorry_nonsense", give_up)
        if choice == answers.NON_CRITICAL and s.correcting:
            # From the read-back the report is recorded (and its reps may be paged already): "not critical" there
            # never sends the caller away with a ticket how-to while a Sev-1 callback stands; the type stays, the
            # caller hears so, and the engineer who calls back can close it (an outside probe, K5).
            return after_triage(s, n, t(s, "triage_non_critical_kept"),
                                effects=(log("triage", service="non_critical", kept=str(s.captured.affected_service or "")),))
        if choice == answers.NON_CRITICAL:
            nc = replace(s, stage=Stage.NON_CRITICAL, tries=0)
            return go(nc, n, effects=(log("triage", service="non_critical"), RecordNonCritical()))
        s = store(s, affected_service=AffectedService(choice))
        if s.correcting:
            s = replace(s, changed=(*s.changed, "affected_service"))
        return after_triage(s, n, effects=(log("triage", service=str(choice)),))

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _on_non_critical(state: CallState, event: Event, now: datetime) -> Step:
    def goodbye(s: CallState, n: datetime) -> Step:
        s = replace(s, stage=Stage.DONE, tries=0)
        reply = Reply(lang=s.lang, say=(t(s, "non_critical_goodbye"),), hangup=True)
        return Step(state=s, reply=reply, effects=(log("non_critical_hangup"),))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        keys = answers.menu_key(ev)  # "two" said is the key 2, not a "no"
        speech = " ".join(answers.words(ev.speech))
        if keys == "2" and is_textable(s.caller_id):  # issue 11: a text message with how to open a ticket, then goodbye
            done = replace(s, stage=Stage.DONE, tries=0)
            reply = Reply(lang=s.lang, say=(t(s, "non_critical_sms_sent"), t(s, "non_critical_goodbye")), hangup=True)
            return Step(state=done, reply=reply, effects=(RecordNonCritical(send_howto=True),))
        if not keys and answers.service(ev) == answers.NON_CRITICAL:
            return goodbye(s, n)  # "no, it's not critical": its "critical" is no wish to continue
        if keys == "1" or (not keys and (answers.yes_no(ev) or _CONTINUE_WORDS.search(speech))):
            back = replace(s, stage=Stage.TRIAGE, tries=0)
            return go(back, n, effects=(log("non_critical_continue"),))
        if not keys and answers.yes_no(ev) is False:
            return goodbye(s, n)  # the caller's own choice
        return fail(s, n, "sorry_nonsense", goodbye)

    return capture.answer_or_silence(state, event, now, on_answer, goodbye)


# ---------------------------------------------------------------- ticket


def _on_ticket_offer(state: CallState, event: Event, now: datetime) -> Step:
    # No longer asked (it read a ticket number to anyone with the caller ID); kept for saved calls.
    return _on_ticket_entry(replace(state, stage=Stage.TICKET_ENTRY), event, now)


def _no_ticket(state: CallState, now: datetime, silent: bool) -> Step:
    if state.ticket is not None:
        # The caller ID matches a ticket's contact: link it without a word; the rep sees it unconfirmed.
        number = state.ticket.number
        s = store(state, ticket_number=number, ticket_match=TicketMatch.CALLER_ID)
        return enter(s, Stage.COMPANY, now, effects=(log("ticket_linked_silently", number=number),))
    s = store(state, ticket_number="", ticket_match=TicketMatch.NONE)
    if silent:
        s = miss(s, "ticket_number")
    return enter(s, Stage.COMPANY, now, effects=(log("ticket_none", silent=silent),))


def _on_ticket_entry(state: CallState, event: Event, now: datetime) -> Step:
    def give_up(s: CallState, n: datetime) -> Step:
        return _no_ticket(s, n, silent=True)

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        if answers.no_ticket(ev):
            return _no_ticket(s, n, silent=False)
        digits = answers.digits_from(ev, max_len=20)
        if not digits:
            return fail(s, n, "sorry_nonsense", give_up)
        s = store(s, ticket_number=digits)
        s = replace(s, stage=Stage.TICKET_LOOKUP, ticket_entries=s.ticket_entries + 1, tries=0)
        return Step(state=s, reply=None, effects=(LookupTicket(number=digits),))

    if isinstance(event, Gathered) and answers.is_empty(event):
        return _no_ticket(state, now, silent=False)  # a bare '#' submits an empty Gather
    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _on_ticket_lookup(state: CallState, event: Event, now: datetime) -> Step:
    if isinstance(event, Gathered | NoInput):
        return _on_ticket_entry(state, event, now)  # the lookup failed and we asked again
    if not isinstance(event, TicketLookedUp) or event.number != state.captured.ticket_number:
        return repeat(state, now)
    if event.refused:  # too many wrong numbers keyed lately: not looked up, never a reason to lose the caller
        s = store(state, ticket_match=TicketMatch.UNKNOWN)
        return enter(s, Stage.COMPANY, now, t(s, "ticket_give_up"),
                     effects=(log("ticket_lookup_refused", attempt=state.ticket_entries),))
    spoken = say_digits(event.number)
    if event.ticket is not None:
        number = event.ticket.number or event.number
        s = store(state, ticket_number=number, ticket_match=TicketMatch.KEYPAD)
        s = replace(s, ticket=event.ticket)
        effects = (log("ticket_matched", number=number, match=TicketMatch.KEYPAD.value),)
        found = t(s, "ticket_found", ticket=spoken)
        if event.ticket.has_pin:
            # Not a repeat caller of the ticket's open incident, nor told of it: it may be a stranger's who keyed the
            # number. Only the PIN shows which incident, if any, is theirs (``PinChecked.incident``); till then, and
            # for a hang-up at the PIN (a Sev-1, rescued), it is only possibly related to their report.
            related = event.open_incident.reference if event.open_incident else s.related_reference
            s = replace(s, incident=None, related_reference=related, tries=0)
        elif event.open_incident is not None:  # an account without a PIN: its existence only (``incident_lines``)
            return go(replace(s, incident=event.open_incident, stage=Stage.REPEAT_CALLER, tries=0), now, found,
                      effects=effects)
        if event.ticket.has_pin and not s.verified:
            return go(replace(s, stage=Stage.PIN_ENTRY, tries=0), now, found, effects=effects)
        return enter(s, Stage.COMPANY, now, found, effects=effects)
    if event.incident_by_reference is not None:  # the reference of their open incident: proof, as at the menu
        s = replace(store(state, ticket_number=""), incident=event.incident_by_reference, verified="reference",
                    stage=Stage.REPEAT_CALLER, tries=0, pin_tries=0, related_reference="")
        return go(s, now, t(s, "thanks"), effects=(log("caller_verified", how="reference_at_ticket_prompt"),))
    effects = (log("ticket_not_found", number=event.number, attempt=state.ticket_entries),)
    not_found = t(state, "ticket_not_found", ticket=spoken)
    if state.ticket_entries >= 2:
        s = store(state, ticket_match=TicketMatch.UNKNOWN)
        return enter(s, Stage.COMPANY, now, not_found, t(s, "ticket_give_up"), effects=effects)
    return go(replace(state, stage=Stage.TICKET_ENTRY, tries=0), now, not_found, effects=effects)


# ---------------------------------------------------------------- dispatch


def _on_done(state: CallState, event: Event, now: datetime) -> Step:
    return repeat(state, now)


_HANDLERS: dict[Stage, Handler] = {
    Stage.LANGUAGE: _on_language,
    Stage.TRIAGE: _on_triage,
    Stage.NON_CRITICAL: _on_non_critical,
    Stage.REPEAT_CALLER: verification.on_repeat_caller,
    Stage.ADD_INFO: verification.on_add_info,
    Stage.ADD_RECORDING: verification.on_add_recording,
    Stage.TICKET_OFFER: _on_ticket_offer,
    Stage.TICKET_ENTRY: _on_ticket_entry,
    Stage.TICKET_LOOKUP: _on_ticket_lookup,
    Stage.COMPANY: capture.on_text_field,
    Stage.CONTACT_NAME: capture.on_text_field,
    Stage.CALLBACK_CONFIRM: capture.on_callback_confirm,
    Stage.CALLBACK_ENTRY: capture.on_callback_entry,
    Stage.EMAIL: capture.on_email,
    Stage.EMAIL_CONFIRM: capture.on_email_confirm,
    Stage.PROBLEM: capture.on_problem,
    Stage.RECORDING: capture.on_recording,
    Stage.READBACK: capture.on_readback,
    Stage.CORRECTION: capture.on_readback,
    Stage.SAVING: capture.on_saving,
    Stage.DONE: _on_done,
    Stage.PIN_ENTRY: verification.on_pin_entry,
    Stage.PIN_CHECK: verification.on_pin_check,
    Stage.REPEAT_VERIFY: verification.on_repeat_verify,
    Stage.REPEAT_CHECK: verification.on_repeat_check,
}


def advance(state: CallState | None, event: Event, now: datetime) -> Step:
    """Move the call one step on ``event``; unexpected events repeat the current question."""
    if state is None:
        step = start(event if isinstance(event, CallStarted) else CallStarted(caller_id=""))
        if isinstance(event, CallStarted):
            return step
        lost = log("state_missing", event=type(event).__name__)
        return replace(step, effects=(*step.effects, lost))
    if isinstance(event, CallStarted):
        return repeat(state, now)  # Twilio retried the first webhook
    handler = _HANDLERS.get(state.stage, _on_done)
    try:
        return handler(state, event, now)
    except Exception as exc:  # noqa: BLE001 - a caller must always hear something
        # A bug must not drop a Sev-1 caller: repeat the question and leave a trace.
        step = repeat(state, now)
        return replace(step, effects=(log("flow_error", error=repr(exc)[:200]),))
