"""Who the caller is: the support PIN after a keyed ticket, and the repeat caller's status, proof and additions.

Nothing stored about a customer is spoken until the caller proves who they are
(issue 9): a caller ID, a ticket number or an incident reference is not an identity.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from . import answers, capture
from .model import (
    AppendToIncident,
    CallState,
    CheckPin,
    Effect,
    Event,
    Gathered,
    NoInput,
    PinChecked,
    Recorded,
    Reply,
    Stage,
    Step,
)
from .questions import incident_lines, t
from .steps import after_triage, clean, enter, fail, go, log, repeat
from .validate import clean_text

_ADD_WORDS = re.compile(r"\b(add|more|information|hinzufügen|ergänzen|informationen)\b")
_NEW_WORDS = re.compile(r"\b(different|new|another|other|anderen|anderer|neuen|neu)\b")


# ---------------------------------------------------------------- repeat caller


def reminder(state: CallState, now: datetime, kind: str) -> Step:
    """End a repeat call with the open incident's status (no reference unless verified)."""
    s = replace(state, stage=Stage.DONE, tries=0, pending="", joined=True)
    lines = incident_lines(s, now) + [t(s, "goodbye")]
    return Step(state=s, reply=Reply(lang=s.lang, say=tuple(lines), hangup=True), effects=(log(kind),))


def on_repeat_caller(state: CallState, event: Event, now: datetime) -> Step:
    """REPEAT_CALLER: its status heard (proven callers only); 1 hears it and adds to it after proof, 2 reports a
    different outage."""
    if state.incident is None:
        return go(replace(state, stage=Stage.TRIAGE, tries=0), now)

    def give_up(s: CallState, n: datetime) -> Step:
        if s.verified or s.incident.calls_back_caller:
            return reminder(s, n, "repeat_caller_no_choice")
        # its callback goes to another number (a spoofer's, perhaps): a silent caller is asked what is down, as with
        # no open incident, never sent away with nothing taken
        return new_related(s, n, t(s, "repeat_unverified"),
                           effects=(log("repeat_caller_no_choice", taken_as="new_report"),))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        keys = answers.menu_key(ev)
        speech = " ".join(answers.words(ev.speech))
        add = keys == "1" or (not keys and bool(_ADD_WORDS.search(speech)))
        new = keys == "2" or (not keys and bool(_NEW_WORDS.search(speech)))
        if add and not new:
            # Only a caller who keys the reference (from their receipt SMS) or the PIN may add to it.
            nxt = Stage.ADD_INFO if s.verified else Stage.REPEAT_VERIFY
            chosen = (log("repeat_caller", choice="add_info"),)
            if s.verified:
                return proven(replace(s, stage=nxt, tries=0), n, effects=chosen)
            return go(replace(s, stage=nxt, tries=0), n, effects=chosen)
        if new and not add:
            return new_related(s, n, effects=(log("repeat_caller", choice="new_outage"),))

        def not_understood(s: CallState, n: datetime) -> Step:
            # they said (or keyed) something we could not place, again and again: their report is taken, linked,
            # never ended with "Goodbye" (an outside probe's "our mail is down again" reached nobody; policy: a
            # garbled answer still ends with a recorded incident). Silence ends as ``give_up`` says.
            return new_related(s, n, t(s, "repeat_unverified"), effects=(
                log("repeat_caller_no_choice", taken_as="new_report", said=speech[:200], keys=keys[:20]),))

        return fail(s, n, "sorry_nonsense", not_understood)

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def new_related(state: CallState, now: datetime, *before: str, effects: tuple[Effect, ...] = ()) -> Step:
    """Take a new incident, linked to the caller's open one as possibly related (never turn them away)."""
    related = state.incident.reference if state.incident else state.related_reference
    fresh = replace(state, incident=None, tries=0, pending="", related_reference=related, joined=False)
    if fresh.captured.affected_service is None:
        return go(replace(fresh, stage=Stage.TRIAGE), now, *before, effects=effects)
    return after_triage(fresh, now, *before, effects=effects)


def on_repeat_verify(state: CallState, event: Event, now: datetime) -> Step:
    """REPEAT_VERIFY: the incident reference (checked here) or the PIN (checked by the service)."""
    if state.incident is None:
        return go(replace(state, stage=Stage.TRIAGE, tries=0), now)
    reference = state.incident.reference

    def give_up(s: CallState, n: datetime) -> Step:
        effects = (log("repeat_caller_unverified", reason="no_entry"),)
        return new_related(s, n, t(s, "repeat_unverified"), effects=effects)

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        digits = answers.digits_from(ev, max_len=12)
        if not digits:
            return fail(s, n, "sorry_nonsense", give_up)
        if digits == reference:
            ok = replace(s, verified="reference", stage=Stage.ADD_INFO, tries=0, pin_tries=0)
            return proven(ok, n, t(ok, "thanks"), *incident_lines(ok, n),
                          effects=(log("caller_verified", how="reference"),))
        check = replace(s, stage=Stage.REPEAT_CHECK, tries=0)
        return Step(state=check, reply=None, effects=(CheckPin(pin=digits, incident_reference=reference),))

    if isinstance(event, Gathered) and answers.is_empty(event):
        return give_up(state, now)  # a bare '#': neither the reference nor the PIN to hand
    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def proven(state: CallState, now: datetime, *before: str, effects: tuple = ()) -> Step:
    """A repeat caller who proved who they are: the resolution awaiting their answer first (issue 11), else ADD_INFO."""
    incident = state.incident
    if incident is None or not incident.awaiting_confirmation:
        return go(state, now, *before, effects=effects)
    s = replace(state, stage=Stage.DONE, tries=0, pending="", joined=True)
    reply = Reply(lang=s.lang, say=tuple(before), hand_over=("resolution_proposal", incident.reference))
    return Step(state=s, reply=reply, effects=effects)


def on_repeat_check(state: CallState, event: Event, now: datetime) -> Step:
    """REPEAT_CHECK: the PIN answer; two misses make a new incident linked to the open one."""
    if isinstance(event, Gathered | NoInput):
        return on_repeat_verify(replace(state, stage=Stage.REPEAT_VERIFY), event, now)  # the check got lost
    if not isinstance(event, PinChecked):
        return repeat(state, now)
    if event.ok and event.incident is not None:  # the reference of their other open incident: that one it is
        ok = replace(state, verified="reference", incident=event.incident, stage=Stage.ADD_INFO, tries=0, pin_tries=0)
        return proven(ok, now, t(ok, "thanks"), *incident_lines(ok, now),
                      effects=(log("caller_verified", how="reference", other_incident=event.incident.reference),))
    if event.ok:
        ok = replace(state, verified="pin", stage=Stage.ADD_INFO, tries=0, pin_tries=0,
                     ticket=event.ticket or state.ticket)
        return proven(ok, now, t(ok, "pin_ok"), *incident_lines(ok, now), effects=(log("caller_verified", how="pin"),))
    s = replace(state, pin_tries=state.pin_tries + 1)
    effects = (log("repeat_caller_verify_failed", attempt=s.pin_tries),)
    if s.pin_tries >= 2:
        return new_related(s, now, t(s, "repeat_wrong"), t(s, "repeat_unverified"), effects=effects)
    return go(replace(s, stage=Stage.REPEAT_VERIFY, tries=0), now, t(s, "repeat_wrong"), effects=effects)


def on_add_info(state: CallState, event: Event, now: datetime) -> Step:
    """ADD_INFO: a verified repeat caller says what to add."""
    def give_up(s: CallState, n: datetime) -> Step:
        return go(replace(s, stage=Stage.ADD_RECORDING, tries=0, pending=""), n)

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        value = clean(s, ev.speech, long=True)
        if not any(ch.isalnum() for ch in value):
            return fail(s, n, "sorry_nonsense", give_up)
        return go(replace(s, stage=Stage.ADD_RECORDING, tries=0, pending=value), n)

    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def on_add_recording(state: CallState, event: Event, now: datetime) -> Step:
    """ADD_RECORDING: an optional recording, then append to the incident (or end if nothing was added)."""
    if not isinstance(event, Recorded | NoInput) or state.incident is None:
        return repeat(state, now)
    url = clean_text(event.url, 1000) if isinstance(event, Recorded) else ""
    if not state.pending and not url:
        return reminder(state, now, "add_info_empty")
    s = replace(state, stage=Stage.SAVING, tries=0)
    effect = AppendToIncident(reference=state.incident.reference, text=state.pending, recording_url=url)
    return Step(
        state=s, reply=None, effects=(effect, log("add_info", has_text=bool(state.pending), has_recording=bool(url)))
    )


# ---------------------------------------------------------------- support PIN


def unverified(state: CallState, now: datetime, *before: str, effects: tuple[Effect, ...] = ()) -> Step:
    """Go on without proof of identity: the caller says their details, the ticket stays linked. An open incident of
    the keyed ticket (never named to them) is only noted as possibly related to their report."""
    if state.incident is not None:
        state = replace(state, incident=None, related_reference=state.incident.reference, joined=False)
    return enter(state, Stage.COMPANY, now, *before, effects=effects)


def on_pin_entry(state: CallState, event: Event, now: datetime) -> Step:
    """PIN_ENTRY: keyed digits go to the service to check; '#' or silence goes on without."""
    def give_up(s: CallState, n: datetime) -> Step:
        return unverified(s, n, effects=(log("pin_skipped", silent=True),))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        digits = answers.digits_from(ev, max_len=12)
        if not digits:
            return fail(s, n, "sorry_nonsense", give_up)
        check = replace(s, stage=Stage.PIN_CHECK, tries=0)
        # The digits go to the service only: never into the state or the event log.
        return Step(state=check, reply=None, effects=(CheckPin(pin=digits, ticket_number=s.captured.ticket_number),))

    if isinstance(event, Gathered) and answers.is_empty(event):
        return unverified(state, now, effects=(log("pin_skipped", silent=False),))
    return capture.answer_or_silence(state, event, now, on_answer, give_up)


def on_pin_check(state: CallState, event: Event, now: datetime) -> Step:
    """PIN_CHECK: a right PIN verifies the caller; two wrong ones go on unverified."""
    if isinstance(event, Gathered | NoInput):
        return on_pin_entry(replace(state, stage=Stage.PIN_ENTRY), event, now)  # the check got lost
    if not isinstance(event, PinChecked):
        return repeat(state, now)
    if event.ok:
        # Their incident is the ticket's open one proved with this PIN (``event.incident``), never the one the
        # lookup found (a stranger's, perhaps; a state saved before this rule held it): that stays possibly related.
        related = state.incident.reference if state.incident is not None else state.related_reference
        ok = replace(state, verified="pin", pin_tries=0, ticket=event.ticket or state.ticket, incident=event.incident,
                     related_reference=related)
        verified = (log("caller_verified", how="pin"),)
        if ok.incident is not None:  # the keyed ticket's open incident: its status, then add to it or report anew
            return go(replace(ok, stage=Stage.REPEAT_CALLER, tries=0), now, t(ok, "pin_ok"), effects=verified)
        return enter(ok, Stage.COMPANY, now, t(ok, "pin_ok"), effects=verified)
    s = replace(state, pin_tries=state.pin_tries + 1)
    effects = (log("pin_wrong", attempt=s.pin_tries),)
    if s.pin_tries >= 2:
        return unverified(s, now, t(s, "pin_wrong"), t(s, "pin_give_up"), effects=effects)
    return go(replace(s, stage=Stage.PIN_ENTRY, tries=0), now, t(s, "pin_wrong"), effects=effects)
