"""SMS to the hotline number about updates: reps' UPDATE / EVERY / PROPOSE, customers' answers and words.

``handle_update_sms`` answers only what is its own and returns None otherwise, so the SMS
router can try it before the rep paging commands (one line in app/sms/routes.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Incident, IncidentStatus, ProposalKind, Rep
from app.prompts import text
from app.services.acks import Actor, lock_incident
from app.services.customer_sms import REFERENCE, answer_word, handle_customer_sms
from app.services.events import log_event
from app.services.refusal_answers import refusal_answer
from app.services.refusal_lines import SMS
from app.services.rep_commands import help_text, update_words
from app.services.resolution import pending_proposal
from app.services.sms_commands import first_word, is_command, only_open_page
from app.services.update_actions import propose_resolution, send_update, set_interval
from app.services.update_rights import refusal
from app.services.updates import default_untold
from app.settings import Settings

REP_COMMANDS = update_words()  # UPDATE, EVERY, PROPOSE, WORKAROUND (rep_commands: one list, HELP lists it)
# what people type between the reference and their text ("UPDATE 123456: ...", "- ...", ", ..."): never the customer's
SEPARATOR = re.compile(r"^[\s:;,\-\u2013\u2014|>]+")
NO_REFERENCE = "No incident reference (6 digits) in your SMS. Nothing was changed or sent. "
# "EVERY 30", "EVERY 30m", "EVERY 2h", "EVERY 24 hours", "EVERY 1.5 Stunden": a number and maybe its unit (minutes
# unless it says hours); days or seconds are read as nothing, never as minutes
INTERVAL = re.compile(r"(?<![\d.,])(\d{1,4}(?:[.,]\d{1,2})?)\s*([^\W\d_]*)")
HOUR_UNITS = {"H", "HR", "HRS", "HOUR", "HOURS", "STD", "STUNDE", "STUNDEN"}
# the minutes of "1h30", "1h 30m", "2 hours 15 minutes", "1 Stunde und 30 Minuten": a number right after the hours,
# in minutes or with no unit (a number of days or seconds there adds nothing)
MINUTES_AFTER_HOURS = re.compile(r"\s*(?:and\s+|und\s+)?(\d{1,2})(?!\d)"
                                 r"(?:\s*(?:m|min|mins|minute|minutes|minuten)(?![^\W\d_])|(?!\s*[^\W\d_]))",
                                 re.IGNORECASE)
OTHER_UNITS = {"S", "SEC", "SECS", "SECOND", "SECONDS", "SEKUNDEN", "D", "DAY", "DAYS", "TAG", "TAGE", "W", "WEEK",
               "WEEKS", "WOCHE", "WOCHEN"}


def handle_update_sms(session: Session, from_number: str, rep: Rep | None, body: str, now: datetime,
                      settings: Settings, media: int = 0) -> str | None:
    """Carry out an update command or a customer's answer; None when the SMS is not about updates.

    ``rep``: the one active rep on ``from_number`` (``oncall.reps_on_phone``), None for nobody's.

    ``media``: the pictures or files of an MMS, which may carry no words at all (a customer's screenshot).
    """
    if not body.strip() and not media:  # no command: from a customer's callback number, told it was empty
        return handle_customer_sms(session, from_number, body, now)
    first, _rest = first_word(body)  # "Update: 123456 ...", "“UPDATE” 123456 ..." are UPDATE
    if rep is not None:
        if first in REP_COMMANDS:
            return _rep_command(session, rep, first, body, now, settings)
        # words from a rep's number that is also an open incident's callback number (a colleague reported it) are
        # that customer's words, not a failed command; ACK, CALL, CALLED, HELP stay the paging commands, but for a
        # YES, which is both ACK and the customer's agreement
        if is_command(body):
            return _yes_from_both(session, rep, from_number, body, now)
        if session.scalar(select(Incident.id).where(
                Incident.callback_phone == from_number, Incident.status == IncidentStatus.OPEN).limit(1)) is None:
            return None
    return handle_customer_sms(session, from_number, body, now, media=media,
                               reopen_window=timedelta(days=settings.reopen_window_days))


def _yes_from_both(session: Session, rep: Rep, from_number: str, body: str, now: datetime) -> str | None:
    """A YES from a rep's number that is also the callback number of an incident awaiting that customer's YES: their
    answer when it names that incident, or names none and the rep has no open page to acknowledge (then asked for
    the reference, as any bare YES: ``customer_sms``); with both and no reference nothing is done and the sender is
    asked to name one. None: the rep's command (ACK)."""
    if answer_word(body) is not True:
        return None
    awaiting = [incident.reference for incident in session.scalars(select(Incident).where(
        Incident.callback_phone == from_number, Incident.status == IncidentStatus.OPEN).order_by(Incident.id))
        if pending_proposal(session, incident) is not None]
    if not awaiting:
        return None
    named = set(REFERENCE.findall(body))
    if named:
        return handle_customer_sms(session, from_number, body, now) if named & set(awaiting) else None
    pages = only_open_page(session, rep)
    if pages is None:
        return handle_customer_sms(session, from_number, body, now)
    pages = pages.removeprefix("several:")
    log_event(session, at=now, actor=rep.name, kind=EventKind.SMS_YES_AMBIGUOUS,
              detail={"pages": pages, "awaiting": awaiting, "body": body[:160]})
    return text("sms_yes_ambiguous", pages=pages, refs=", ".join(awaiting))


def _rep_command(session: Session, rep: Rep, command: str, body: str, now: datetime,
                 settings: Settings) -> str:
    match = REFERENCE.search(body)
    if match is None:  # "UPDATE 123 456 ...": the text must not go out, and the rep must know it did not
        return refusal_answer(session, rep, None, f"{command.lower()} no_reference", NO_REFERENCE + help_text(), now)
    incident = lock_incident(session, match.group(1))
    if incident is None:  # answered within ``refusal_answers``' bound, as every refused SMS of a rep
        return refusal_answer(session, rep, None, f"{command.lower()} unknown_reference",
                              f"No incident {match.group(1)}. Nothing was changed.", now)
    actor = Actor(name=rep.name, via=SMS, rep=rep, is_manager=rep.is_manager)
    rest = SEPARATOR.sub("", body[match.end():]).strip()
    if command == "EVERY":
        minutes = interval_minutes(REFERENCE.sub("", body))
        if minutes is None:
            return _refused_or(session, actor, incident, command, now,
                               "Reply EVERY <minutes> <ref>, e.g. EVERY 30 " + incident.reference)
        result = set_interval(session, incident, actor, minutes, now)
    elif command == "UPDATE":
        result = send_update(session, incident, actor, now, what_is_wrong=rest)
    else:
        if not rest:  # the customer would read "We believe your problem is resolved." and nothing of what changed
            return _refused_or(session, actor, incident, command, now,
                               f"Say what fixed it: {command} {incident.reference} <what was done>. Nothing was sent.")
        kind = ProposalKind.WORKAROUND if command == "WORKAROUND" else ProposalKind.RESOLVED
        result = propose_resolution(session, incident, actor, kind, rest, now, settings)
    if result.ok and command == "UPDATE":  # sent while the interval is one nobody agreed: said with each answer
        return result.message + default_untold(session, incident)
    return result.message


def _refused_or(session: Session, actor: Actor, incident: Incident, command: str, now: datetime, how: str) -> str:
    """A command written wrong: its refusal when this rep may not give it at all (``update_rights``), else ``how``
    to write it."""
    refused = refusal(session, actor, incident, command, now)
    return refused if refused is not None else how


def interval_minutes(words: str) -> int | None:
    """The interval an EVERY command names, in minutes ("24 hours" is 1440, never 24); None when it names none
    or in a unit it cannot mean (days, seconds)."""
    match = INTERVAL.search(words)
    if match is None:
        return None
    number, unit = float(match.group(1).replace(",", ".")), match.group(2).upper()
    if unit in HOUR_UNITS:  # and the minutes right after it, if any: "1h30", "1h 30m", "2 hours 15 minutes"
        rest = MINUTES_AFTER_HOURS.match(words, match.end())
        return round(number * 60) + (int(rest.group(1)) if rest else 0)
    # minutes, said or not ("EVERY 30 please 123456" is 30 minutes)
    return round(number) if unit not in OTHER_UNITS and number == int(number) else None

