"""The Sev-1 intake call as a pure function: ``advance(state, event, now) -> Step``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from . import answers, capture
from .model import (
    AffectedService,
    AppendToIncident,
    CallStarted,
    CallState,
    CheckPin,
    Effect,
    Event,
    Gathered,
    Lang,
    LookupTicket,
    NoInput,
    PinChecked,
    Recorded,
    Reply,
    Stage,
    Step,
    TicketLookedUp,
    TicketMatch,
)
from .prompts import say_digits, text
from .questions import incident_lines, question, t
from .steps import capture as store
from .steps import clean, enter, fail, go, log, miss, repeat
from .validate import clean_text

Handler = Callable[[CallState, Event, datetime], Step]

_ADD_WORDS = re.compile(r"\b(add|more|information|hinzufügen|ergänzen|informationen)\b")
_NEW_WORDS = re.compile(r"\b(different|new|another|other|anderen|anderer|neuen|neu)\b")
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
        return go(replace(s, stage=nxt), n, *before, effects=effects)

    def give_up(s: CallState, n: datetime) -> Step:
        return choose(s, n, Lang.EN, "default", text(Lang.EN, "language_default"))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        lang = answers.language(ev)
        if lang is None:
            return fail(s, n, "sorry_nonsense", give_up)
        return choose(s, n, lang, "keypad" if ev.digits else "speech")

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _after_triage(state: CallState, now: datetime, *before: str, effects: tuple[Effect, ...] = ()) -> Step:
    if state.captured.ticket_match is not None:
        return enter(state, Stage.COMPANY, now, *before, effects=effects)
    # A ticket found by caller ID is never offered: that would tell a spoofed caller what is
    # on file. The caller keys their number; without one the caller-ID ticket is linked silently.
    return go(replace(state, stage=Stage.TICKET_ENTRY, tries=0), now, *before, effects=effects)


def _on_triage(state: CallState, event: Event, now: datetime) -> Step:
    def give_up(s: CallState, n: datetime) -> Step:
        # Never turn a Sev-1 caller away: a garbled triage is "another critical problem".
        s = miss(store(s, affected_service=AffectedService.OTHER), "affected_service")
        effects = (log("triage", service=AffectedService.OTHER.value, defaulted=True),)
        return _after_triage(s, n, t(s, "triage_default"), effects=effects)

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        choice = answers.service(ev)
        if choice is None:
            return fail(s, n, "sorry_nonsense", give_up)
        if choice == answers.NON_CRITICAL:
            nc = replace(s, stage=Stage.NON_CRITICAL, tries=0)
            return go(nc, n, effects=(log("triage", service="non_critical"),))
        s = store(s, affected_service=AffectedService(choice))
        return _after_triage(s, n, effects=(log("triage", service=str(choice)),))

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _on_non_critical(state: CallState, event: Event, now: datetime) -> Step:
    def goodbye(s: CallState, n: datetime) -> Step:
        s = replace(s, stage=Stage.DONE, tries=0)
        reply = Reply(lang=s.lang, say=(t(s, "non_critical_goodbye"),), hangup=True)
        return Step(state=s, reply=reply, effects=(log("non_critical_hangup"),))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        keys = (ev.digits or "").strip("#* ")
        speech = " ".join(answers.words(ev.speech))
        if keys == "1" or (not keys and (answers.yes_no(ev) or _CONTINUE_WORDS.search(speech))):
            back = replace(s, stage=Stage.TRIAGE, tries=0)
            return go(back, n, effects=(log("non_critical_continue"),))
        if not keys and answers.yes_no(ev) is False:
            return goodbye(s, n)  # the caller's own choice
        return fail(s, n, "sorry_nonsense", goodbye)

    return capture.answer_or_silence(state, event, now, on_answer, goodbye)


# ---------------------------------------------------------------- repeat caller


def _reminder(state: CallState, now: datetime, kind: str) -> Step:
    s = replace(state, stage=Stage.DONE, tries=0, pending="", joined=True)
    lines = incident_lines(s, now) + [t(s, "goodbye")]
    return Step(state=s, reply=Reply(lang=s.lang, say=tuple(lines), hangup=True), effects=(log(kind),))


def _on_repeat_caller(state: CallState, event: Event, now: datetime) -> Step:
    if state.incident is None:
        return go(replace(state, stage=Stage.TRIAGE, tries=0), now)

    def give_up(s: CallState, n: datetime) -> Step:
        return _reminder(s, n, "repeat_caller_no_choice")

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        keys = (ev.digits or "").strip("#* ")
        speech = " ".join(answers.words(ev.speech))
        add = keys == "1" or (not keys and bool(_ADD_WORDS.search(speech)))
        new = keys == "2" or (not keys and bool(_NEW_WORDS.search(speech)))
        if add and not new:
            # Only a caller who keys the reference (from their receipt SMS) or the PIN may add to it.
            nxt = Stage.ADD_INFO if s.verified else Stage.REPEAT_VERIFY
            return go(replace(s, stage=nxt, tries=0), n, effects=(log("repeat_caller", choice="add_info"),))
        if new and not add:
            return _new_related(s, n, effects=(log("repeat_caller", choice="new_outage"),))
        return fail(s, n, "sorry_nonsense", give_up)

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _new_related(state: CallState, now: datetime, *before: str, effects: tuple[Effect, ...] = ()) -> Step:
    """Take a new incident, linked to the caller's open one as possibly related (never turn them away)."""
    related = state.incident.reference if state.incident else state.related_reference
    fresh = replace(state, incident=None, tries=0, pending="", related_reference=related, joined=False)
    if fresh.captured.affected_service is None:
        return go(replace(fresh, stage=Stage.TRIAGE), now, *before, effects=effects)
    return _after_triage(fresh, now, *before, effects=effects)


def _on_repeat_verify(state: CallState, event: Event, now: datetime) -> Step:
    if state.incident is None:
        return go(replace(state, stage=Stage.TRIAGE, tries=0), now)
    reference = state.incident.reference

    def give_up(s: CallState, n: datetime) -> Step:
        effects = (log("repeat_caller_unverified", reason="no_entry"),)
        return _new_related(s, n, t(s, "repeat_unverified"), effects=effects)

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        digits = answers.digits_from(ev, max_len=12)
        if not digits:
            return fail(s, n, "sorry_nonsense", give_up)
        if digits == reference:
            ok = replace(s, verified="reference", stage=Stage.ADD_INFO, tries=0, pin_tries=0)
            return go(ok, n, t(ok, "thanks"), effects=(log("caller_verified", how="reference"),))
        check = replace(s, stage=Stage.REPEAT_CHECK, tries=0)
        return Step(state=check, reply=None, effects=(CheckPin(pin=digits, incident_reference=reference),))

    if isinstance(event, Gathered) and answers.is_empty(event):
        return give_up(state, now)  # a bare '#': neither the reference nor the PIN to hand
    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _on_repeat_check(state: CallState, event: Event, now: datetime) -> Step:
    if isinstance(event, Gathered | NoInput):
        return _on_repeat_verify(replace(state, stage=Stage.REPEAT_VERIFY), event, now)  # the check got lost
    if not isinstance(event, PinChecked):
        return repeat(state, now)
    if event.ok:
        ok = replace(state, verified="pin", stage=Stage.ADD_INFO, tries=0, pin_tries=0,
                     ticket=event.ticket or state.ticket)
        return go(ok, now, t(ok, "pin_ok"), effects=(log("caller_verified", how="pin"),))
    s = replace(state, pin_tries=state.pin_tries + 1)
    effects = (log("repeat_caller_verify_failed", attempt=s.pin_tries),)
    if s.pin_tries >= 2:
        return _new_related(s, now, t(s, "repeat_wrong"), t(s, "repeat_unverified"), effects=effects)
    return go(replace(s, stage=Stage.REPEAT_VERIFY, tries=0), now, t(s, "repeat_wrong"), effects=effects)


def _on_add_info(state: CallState, event: Event, now: datetime) -> Step:
    def give_up(s: CallState, n: datetime) -> Step:
        return go(replace(s, stage=Stage.ADD_RECORDING, tries=0, pending=""), n)

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        value = clean(s, ev.speech, long=True)
        if not any(ch.isalnum() for ch in value):
            return fail(s, n, "sorry_nonsense", give_up)
        return go(replace(s, stage=Stage.ADD_RECORDING, tries=0, pending=value), n)

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _on_add_recording(state: CallState, event: Event, now: datetime) -> Step:
    if not isinstance(event, Recorded | NoInput) or state.incident is None:
        return repeat(state, now)
    url = clean_text(event.url, 1000) if isinstance(event, Recorded) else ""
    if not state.pending and not url:
        return _reminder(state, now, "add_info_empty")
    s = replace(state, stage=Stage.SAVING, tries=0)
    effect = AppendToIncident(reference=state.incident.reference, text=state.pending, recording_url=url)
    return Step(
        state=s, reply=None, effects=(effect, log("add_info", has_text=bool(state.pending), has_recording=bool(url)))
    )


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
    spoken = say_digits(event.number)
    if event.ticket is not None:
        number = event.ticket.number or event.number
        s = store(state, ticket_number=number, ticket_match=TicketMatch.KEYPAD)
        s = replace(s, ticket=event.ticket)
        effects = (log("ticket_matched", number=number, match=TicketMatch.KEYPAD.value),)
        found = t(s, "ticket_found", ticket=spoken)
        if event.open_incident is not None:
            s = replace(s, stage=Stage.REPEAT_CALLER, incident=event.open_incident, tries=0)
            return go(s, now, found, effects=effects)
        if event.ticket.has_pin and not s.verified:
            return go(replace(s, stage=Stage.PIN_ENTRY, tries=0), now, found, effects=effects)
        return enter(s, Stage.COMPANY, now, found, effects=effects)
    effects = (log("ticket_not_found", number=event.number, attempt=state.ticket_entries),)
    not_found = t(state, "ticket_not_found", ticket=spoken)
    if state.ticket_entries >= 2:
        s = store(state, ticket_match=TicketMatch.UNKNOWN)
        return enter(s, Stage.COMPANY, now, not_found, t(s, "ticket_give_up"), effects=effects)
    return go(replace(state, stage=Stage.TICKET_ENTRY, tries=0), now, not_found, effects=effects)


# ---------------------------------------------------------------- support PIN


def _unverified(state: CallState, now: datetime, *before: str, effects: tuple[Effect, ...] = ()) -> Step:
    """Go on without proof of identity: the caller says their details, the ticket stays linked."""
    return enter(state, Stage.COMPANY, now, *before, effects=effects)


def _on_pin_entry(state: CallState, event: Event, now: datetime) -> Step:
    def give_up(s: CallState, n: datetime) -> Step:
        return _unverified(s, n, effects=(log("pin_skipped", silent=True),))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        digits = answers.digits_from(ev, max_len=12)
        if not digits:
            return fail(s, n, "sorry_nonsense", give_up)
        check = replace(s, stage=Stage.PIN_CHECK, tries=0)
        # The digits go to the service only: never into the state or the event log.
        return Step(state=check, reply=None, effects=(CheckPin(pin=digits, ticket_number=s.captured.ticket_number),))

    if isinstance(event, Gathered) and answers.is_empty(event):
        return _unverified(state, now, effects=(log("pin_skipped", silent=False),))
    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def _on_pin_check(state: CallState, event: Event, now: datetime) -> Step:
    if isinstance(event, Gathered | NoInput):
        return _on_pin_entry(replace(state, stage=Stage.PIN_ENTRY), event, now)  # the check got lost
    if not isinstance(event, PinChecked):
        return repeat(state, now)
    if event.ok:
        ok = replace(state, verified="pin", pin_tries=0, ticket=event.ticket or state.ticket)
        return enter(ok, Stage.COMPANY, now, t(ok, "pin_ok"), effects=(log("caller_verified", how="pin"),))
    s = replace(state, pin_tries=state.pin_tries + 1)
    effects = (log("pin_wrong", attempt=s.pin_tries),)
    if s.pin_tries >= 2:
        return _unverified(s, now, t(s, "pin_wrong"), t(s, "pin_give_up"), effects=effects)
    return go(replace(s, stage=Stage.PIN_ENTRY, tries=0), now, t(s, "pin_wrong"), effects=effects)


# ---------------------------------------------------------------- dispatch


def _on_done(state: CallState, event: Event, now: datetime) -> Step:
    return repeat(state, now)


_HANDLERS: dict[Stage, Handler] = {
    Stage.LANGUAGE: _on_language,
    Stage.TRIAGE: _on_triage,
    Stage.NON_CRITICAL: _on_non_critical,
    Stage.REPEAT_CALLER: _on_repeat_caller,
    Stage.ADD_INFO: _on_add_info,
    Stage.ADD_RECORDING: _on_add_recording,
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
    Stage.PIN_ENTRY: _on_pin_entry,
    Stage.PIN_CHECK: _on_pin_check,
    Stage.REPEAT_VERIFY: _on_repeat_verify,
    Stage.REPEAT_CHECK: _on_repeat_check,
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
