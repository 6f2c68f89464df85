"""Small building blocks the stage handlers share: ask, retry, capture, move on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from .model import CallState, Effect, Lang, LogEvent, Reply, Stage, Step, TicketMatch
from .questions import question, t, ticket_email
from .validate import callback_refusal, clean_text, parse_callback_number, region_of

GiveUp = Callable[[CallState, datetime], Step]

# Capture order after the ticket step; the callback stage decides confirm vs entry itself.
NEXT: dict[Stage, Stage] = {
    Stage.COMPANY: Stage.CONTACT_NAME,
    Stage.CONTACT_NAME: Stage.CALLBACK_CONFIRM,
    Stage.CALLBACK_CONFIRM: Stage.EMAIL,
    Stage.CALLBACK_ENTRY: Stage.EMAIL,
    Stage.EMAIL: Stage.PROBLEM,
    Stage.EMAIL_CONFIRM: Stage.PROBLEM,
    Stage.PROBLEM: Stage.RECORDING,
    Stage.RECORDING: Stage.READBACK,
}

# Captured attribute -> name used in Captured.missing.
_MISSING_NAME = {"problem_text": "problem", "recording_url": "problem"}


def log(kind: str, **detail: Any) -> LogEvent:
    """A LogEvent effect."""
    return LogEvent(kind=kind, detail=detail)


def ask(state: CallState, now: datetime, *before: str) -> Reply:
    """The current question, preceded by ``before`` lines (an apology, a thank-you)."""
    q = question(state, now)
    return replace(q, say=tuple(before) + q.say)


def go(state: CallState, now: datetime, *before: str, effects: tuple[Effect, ...] = ()) -> Step:
    """Step to ``state`` and ask its question."""
    return Step(state=state, reply=ask(state, now, *before), effects=effects)


def repeat(state: CallState, now: datetime) -> Step:
    """Answer an unexpected event by asking the current question again, state unchanged."""
    return Step(state=state, reply=question(state, now))


def fail(state: CallState, now: datetime, reason: str, give_up: GiveUp) -> Step:
    """Count a failed answer: re-prompt saying why (unless ``reason`` is ""), or give up."""
    tries = state.tries + 1
    if tries >= state.policy.max_tries:
        return give_up(replace(state, tries=tries), now)
    before = (t(state, reason),) if reason else ()
    return go(replace(state, tries=tries), now, *before)


def capture(state: CallState, **fields: Any) -> CallState:
    """Store captured fields and drop them from ``missing``."""
    names = {_MISSING_NAME.get(k, k) for k in fields}
    c = state.captured
    missing = tuple(m for m in c.missing if m not in names)
    return replace(state, captured=replace(c, missing=missing, **fields))


def miss(state: CallState, name: str) -> CallState:
    """Mark a field as missing (we moved on without it)."""
    c = state.captured
    if name in c.missing:
        return state
    return replace(state, captured=replace(c, missing=(*c.missing, name)))


def clean(state: CallState, value: str | None, long: bool = False) -> str:
    """Clean a caller answer to the policy's length limit."""
    p = state.policy
    return clean_text(value, p.max_problem_chars if long else p.max_field_chars)


# The country a caller choosing a language most likely dials from, for a number keyed without its code.
_LANG_REGION = {Lang.DE: "DE"}


def _regions(state: CallState) -> list[str]:
    """Regions a number without a country code may be from: the deployment's, the caller ID's, the language's."""
    regions = [state.policy.default_region]
    for region in (region_of(state.caller_id), _LANG_REGION.get(state.lang)):
        if region and region not in regions:
            regions.append(region)
    return regions


def callback_number(state: CallState, raw: str) -> str | None:
    """A callable E.164 number from ``raw``, trying the deployment's, the caller's and the language's region."""
    p = state.policy
    for region in _regions(state):
        number = parse_callback_number(raw, region, p.allowed_regions, hotline_number=p.hotline_number)
        if number:
            return number
    return None


def refusal(state: CallState, raw: str) -> str:
    """Why ``raw`` cannot be called back ("withheld", "own", "premium", "region", "country_code", "invalid")."""
    p = state.policy
    reasons = [callback_refusal(raw, region, p.allowed_regions, hotline_number=p.hotline_number)
               for region in _regions(state)]
    for preferred in ("", "own", "premium", "region", "withheld"):
        if preferred in reasons:
            return preferred
    if raw.startswith("0") and not raw.startswith("00"):
        return "country_code"  # a national number of a country we cannot guess: ask for its code
    return "invalid"


def offered_number(state: CallState) -> str:
    """The number we offer for the callback: the caller ID, else (verified callers) the ticket's phone."""
    # The caller ID is what the caller dials from; the ticket's phone is personal data.
    candidates = [state.caller_id] + ([state.ticket.phone] if state.ticket and state.verified else [])
    for raw in candidates:
        number = callback_number(state, raw) if raw else None
        if number:
            return number
    return ""


def enter(
    state: CallState,
    stage: Stage,
    now: datetime,
    *before: str,
    effects: tuple[Effect, ...] = (),
) -> Step:
    """Go to a capture stage, offering what the ticket or caller ID already tells us.

    What the ticket knows is offered only to a caller who proved who they are
    (issue 9): a caller ID or a ticket number is not an identity.
    """
    s = replace(state, stage=stage, tries=0, pending="", pending_extension="")
    offer = not s.correcting
    ticket = s.ticket if s.verified else None
    if stage is Stage.COMPANY and offer and ticket:
        s = replace(s, pending=clean(s, ticket.company))
    elif stage is Stage.CONTACT_NAME and offer and ticket:
        s = replace(s, pending=clean(s, ticket.contact_name))
    elif stage is Stage.CALLBACK_CONFIRM:
        number = offered_number(s) if offer else ""
        s = replace(s, stage=Stage.CALLBACK_CONFIRM if number else Stage.CALLBACK_ENTRY, pending=number)
        if offer and not number:
            # Say why the number they call from is not offered (issue 10): withheld, premium, abroad.
            # A caller ID that is the hotline's own number (spoofed) is simply not offered.
            why = refusal(s, s.caller_id)
            if why in ("withheld", "premium", "region"):
                before = (*before, t(s, f"caller_id_{why}"))
    elif stage is Stage.EMAIL and offer and ticket_email(s):
        s = replace(s, stage=Stage.EMAIL_CONFIRM, pending=ticket_email(s))
    return go(s, now, *before, effects=effects)


def field_done(
    state: CallState,
    now: datetime,
    *before: str,
    effects: tuple[Effect, ...] = (),
) -> Step:
    """After a capture question: back to the read-back when correcting, else the next one."""
    if state.correcting:
        return enter(replace(state, correcting=False), Stage.READBACK, now, *before, effects=effects)
    return enter(state, NEXT[state.stage], now, *before, effects=effects)


def after_triage(state: CallState, now: datetime, *before: str, effects: tuple[Effect, ...] = ()) -> Step:
    """After triage: back to the read-back when correcting it, else the PIN (a keyed ticket with one), the capture
    questions, or the ticket question."""
    if state.correcting:
        return enter(replace(state, correcting=False), Stage.READBACK, now, *before, effects=effects)
    keyed = state.captured.ticket_match is TicketMatch.KEYPAD
    if keyed and state.ticket and state.ticket.has_pin and not state.verified and not state.pin_tries:
        return go(replace(state, stage=Stage.PIN_ENTRY, tries=0), now, *before, effects=effects)
    if state.captured.ticket_match is not None:
        return enter(state, Stage.COMPANY, now, *before, effects=effects)
    # A ticket found by caller ID is never offered: that would tell a spoofed caller what is
    # on file. The caller keys their number; without one the caller-ID ticket is linked silently.
    return go(replace(state, stage=Stage.TICKET_ENTRY, tries=0), now, *before, effects=effects)
