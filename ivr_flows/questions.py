"""The question each stage asks, and the closing messages, built from state alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .model import (
    CallState,
    Gather,
    Lang,
    Record,
    Reply,
    Stage,
    TicketMatch,
)
from .number_kinds import is_textable
from .prompts import say_digits, say_duration, say_email, say_phone, say_time, spell_email, text, zone_for_number
from .validate import callback_refusal, clean_text, is_valid_email, is_valid_phone, parse_callback_number

SUMMARY_WORDS = 20

_YES_NO_HINTS = {Lang.EN: ("yes", "no"), Lang.DE: ("ja", "nein")}
_TRIAGE_HINTS = {
    Lang.EN: ("API", "SMTP", "both", "other", "not critical"),
    Lang.DE: ("API", "SMTP", "beide", "andere", "nicht kritisch"),
}


def t(state: CallState, key: str, **params: object) -> str:
    """A prompt in the call's language."""
    return text(state.lang, key, **params)


def _menu(state: CallState, hints: tuple[str, ...] = ()) -> Gather:
    return Gather(input="dtmf speech", num_digits=1, hints=hints)


def _yes_no(state: CallState) -> Gather:
    return _menu(state, _YES_NO_HINTS[state.lang])


def _keypad() -> Gather:
    return Gather(input="dtmf speech", finish_on_key="#", timeout=10, empty_is_answer=True)


def _speech(long: bool = False) -> Gather:
    # Descriptions have natural pauses: wait 3 s of silence instead of "auto".
    return Gather(input="speech", timeout=8 if long else 6, speech_timeout="3" if long else "auto")


def _reply(state: CallState, lines: list[str], **kw: object) -> Reply:
    return Reply(lang=state.lang, say=tuple(lines), **kw)  # type: ignore[arg-type]


def contact_clock(callback_phone: str, caller_id: str = "", kept: str = "") -> str:
    """The time zone (a tz name) of a caller's, and so of their incident's, times: the callback number's, else the
    caller ID's (a real number), else ``kept`` (``CallState.clock``), else UTC.

    The one rule: the intake speaks its deadline on it (``caller_clock``), the receipt and every later text to the
    customer write on it (``update_text.customer_zone``, from the incident's stored numbers), and a repeat caller who
    proved who they are hears their incident's times on it (``IncidentInfo.clock``), whatever number they call from
    now (an outside probe's customer heard "5:13 p.m. EST" at intake, then "1:13 a.m. MSK" from their +7 phone).
    """
    phone = callback_phone or (caller_id if is_valid_phone(caller_id) else "")
    return zone_for_number(phone).key if phone else kept or "UTC"


def caller_clock(state: CallState) -> str:
    """The time zone the call speaks the caller's own times in: ``contact_clock`` of its numbers, else the one kept
    when the numbers were forgotten (``CallState.without_answers``)."""
    return contact_clock(state.captured.callback_phone, state.caller_id, state.clock)


def say_due(state: CallState, when: datetime, now: datetime | None) -> str:
    """A time as the call speaks it: in its language, on the clock of the call's incident (``IncidentInfo.clock``,
    the one its intake and receipt used) when it has one, else the caller's (``caller_clock``), with its day when
    that is not today on that clock (``say_time``). Spoken where the prompt had "um {time}" in German."""
    inc = state.incident
    zone = inc.clock if inc is not None and inc.clock else caller_clock(state)
    return say_time(state.lang, when, zone_name=zone, now=now, at=True)


def incident_lines(state: CallState, now: datetime | None) -> list[str]:
    """Status of the call's open incident (repeat caller): its reference, deadline and whether someone has it.

    All of it only to a caller who proved who they are (the reference from the receipt SMS, or the support PIN):
    a caller ID or a ticket number is not an identity (issue 9). Unproven, they hear only that the number they
    call from (or the ticket they keyed) has an open incident: it may be a spoofer's (its callback goes to the spoofer), or they may be
    the spoofer (its status is the customer's).
    """
    inc = state.incident
    if inc is None:
        return []
    if not state.verified:  # found by the keyed ticket (an account without a PIN), or by the caller ID
        keyed = state.captured.ticket_match is TicketMatch.KEYPAD
        return [t(state, "repeat_caller_status_ticket" if keyed else "repeat_caller_status")]
    return [t(state, "repeat_caller", reference=say_digits(inc.reference)), callback_line(state, now)]


def callback_line(state: CallState, now: datetime | None) -> str:
    """Where the callback of the call's incident stands: done, overdue (an apology), or its time."""
    inc = state.incident
    if inc.called_back:  # the customer was reached: neither a promise of a callback nor an apology for its absence
        done = t(state, "contact_done" if inc.by_email else "callback_done")
        if inc.next_update_at is None or (now is not None and inc.next_update_at <= now):  # never a time past
            return done
        return f"{done} {t(state, 'next_update_by', time=say_due(state, inc.next_update_at, now))}"
    late = now is not None and inc.callback_due_at <= now  # never a time already past
    if inc.by_email:  # no number to call: the intake promised an e-mail, and so does every later call
        return t(state, "email_overdue") if late else t(state, "email_by", time=say_due(state, inc.callback_due_at, now))
    if late:
        promise = t(state, "callback_overdue")
    else:
        when = say_due(state, inc.callback_due_at, now)
        promise = t(state, "callback_taken" if inc.acknowledged else "callback_by", time=when)
    rings = callback_rings(state)
    return f"{promise} {rings}" if rings else promise


def callback_rings(state: CallState) -> str:
    """Which phone the callback of the call's incident rings, when the flow knows (``IncidentInfo.callback_ending``):
    the one they call from, else the number's last digits (and its extension), never the whole stored number. A
    customer who reached their incident from another phone was told "an engineer will call you back by ..." and
    could take it for the phone in their hand."""
    inc = state.incident
    if inc is None or not inc.callback_ending:
        return ""
    if inc.calls_back_caller:
        return t(state, "callback_rings_caller")
    number = _with_extension(state, say_digits(inc.callback_ending), inc.callback_extension)
    elsewhere = not state.caller_id.endswith(inc.callback_ending)  # another phone, not this one's extension
    return t(state, "callback_rings_elsewhere" if elsewhere else "callback_rings_number", number=number)


def joined_lines(state: CallState, now: datetime | None = None) -> list[str]:
    """The closing words when the report was added to the caller's open incident (no reference)."""
    inc = state.incident
    if inc is None:
        return [t(state, "goodbye")]
    if inc.own_contact:  # the incident's contact is not theirs: their own callback, never its status
        return [t(state, "joined"), *own_contact_lines(state), t(state, "goodbye")]
    return [t(state, "joined"), callback_line(state, now), t(state, "goodbye")]


def own_contact_lines(state: CallState) -> list[str]:
    """A caller who joined an incident whose contact is not theirs: their details are kept apart and its reps
    are asked to call them (or, without a number, to write). Such a join happens only beyond the bound on
    incidents opened apart (``caller_limits.place_report``), where nothing tracks their deadline: they are
    told no time, and how to get one (``joined_untracked``)."""
    c = state.captured
    if c.callback_phone:
        number = _with_extension(state, say_phone(state.lang, c.callback_phone), c.callback_extension)
        return [t(state, "joined_own_contact", number=number), t(state, "joined_untracked")]
    return [t(state, "joined_own_contact_email"), t(state, "joined_untracked")]


def saved_lines(state: CallState, now: datetime | None = None) -> list[str]:
    """The closing words after a new incident was saved (reference, deadline, number; the deadline's day when it is
    not today on the caller's clock, ``now``)."""
    inc = state.incident
    if inc is None:
        return [t(state, "goodbye")]
    c = state.captured
    minutes = state.policy.sla_minutes
    when = say_due(state, inc.callback_due_at, now)
    lines = [t(state, "done_reference", reference=say_digits(inc.reference))]
    # Only a caller ID we would dial (not withheld, premium-rate, abroad or our own) is promised a call.
    p = state.policy
    caller_ok = bool(parse_callback_number(state.caller_id, p.default_region, p.allowed_regions,
                                           hotline_number=p.hotline_number))
    if c.callback_phone:
        number = _with_extension(state, say_phone(state.lang, c.callback_phone), c.callback_extension)
        lines.append(t(state, "done_callback", minutes=minutes, time=when, number=number))
        if is_textable(c.callback_phone):  # the receipt step's rule: an SMS to a number that takes one and did
            # not opt out (an outside probe's caller, after STOP, was promised a text that never came)
            lines.append(t(state, "done_sms_off", reference=say_digits(inc.reference)) if inc.texts_off
                         else t(state, "done_sms"))
    elif c.email and caller_ok:
        lines.append(t(state, "done_reach_email_and_caller", minutes=minutes, time=when))
    elif caller_ok:
        lines.append(t(state, "done_reach_caller", minutes=minutes, time=when))
    elif c.email:
        lines.append(t(state, "done_reach_email", minutes=minutes, time=when))
        # the receipt step's rule: by e-mail only when one can leave (an outside probe's withheld caller was promised
        # e-mail with no SMTP configured, and nothing written came): else the reference is said once more
        lines.append(t(state, "done_email") if p.email_leaves
                     else t(state, "done_email_off", reference=say_digits(inc.reference)))
    else:
        # "through your company's account" only when the incident names one (a company said, a ticket found): an
        # outside probe's withheld caller who gave nothing was promised it with no company, ticket or account known
        unknown = "" if c.company.strip() or state.ticket is not None else "_unknown"
        if callback_refusal(state.caller_id, p.default_region, p.allowed_regions,
                            hotline_number=p.hotline_number) == "withheld":
            lines.append(t(state, f"done_reach_none{unknown}"))
        else:  # their number showed, and is one we do not call (another country, premium-rate): calling again from
            # it changes nothing (an outside probe's caller from +7 was told to call from a phone that shows its number)
            lines.append(t(state, f"done_reach_none_shown{unknown}"))
    lines.append(t(state, "goodbye"))
    return lines


def added_lines(state: CallState, now: datetime | None = None) -> list[str]:
    """The closing words after a repeat caller's information was appended."""
    inc = state.incident
    if inc is None:
        return [t(state, "goodbye")]
    return [
        t(state, "added", reference=say_digits(inc.reference)),
        callback_line(state, now),
        t(state, "goodbye"),
    ]


def _summary(state: CallState) -> str:
    c = state.captured
    if c.problem_text:
        words = c.problem_text.split()
        summary = " ".join(words[:SUMMARY_WORDS])
        if len(words) > SUMMARY_WORDS:
            return summary + " …"
        return summary.rstrip(".!?;, ")  # the prompt ends the sentence itself
    if c.recording_url:
        return t(state, "summary_recording")
    return t(state, "not_given")


def readback_lines(state: CallState) -> list[str]:
    """What the caller said and did not confirm (or, after a correction, what changed), speakable.

    Issue 13: a value the caller just heard and confirmed (from the ticket, the caller ID, an
    e-mail read back) is not read again, and a field never given is not listed as "not given".
    """
    c = state.captured
    fields = state.changed or tuple(f for f in _READBACK_ORDER if f not in state.confirmed)
    lines = []
    if "affected_service" in fields and c.affected_service:
        lines.append(t(state, "readback_service", service=t(state, f"service_{c.affected_service.value}")))
    if "company" in fields and c.company:
        lines.append(t(state, "readback_company", company=c.company))
    if "contact_name" in fields and c.contact_name:
        lines.append(t(state, "readback_name", name=c.contact_name))
    if "callback_phone" in fields and c.callback_phone:
        number = _with_extension(state, say_phone(state.lang, c.callback_phone), c.callback_extension)
        lines.append(t(state, "readback_callback", number=number))
    if "email" in fields and c.email:
        email = say_email(state.lang, c.email)
        lines.append(t(state, "readback_email", email=email, spelled=spell_email(state.lang, c.email)))
    if "problem" in fields and (c.problem_text or c.recording_url):
        lines.append(t(state, "readback_problem", summary=_summary(state)))
    return [t(state, "readback_intro"), *lines] if lines else []


_READBACK_ORDER = ("affected_service", "company", "contact_name", "callback_phone", "email", "problem")


# ---------------------------------------------------------------- per stage


def _language(state: CallState, now: datetime | None) -> Reply:
    # Before the choice, the greeting and its recording notice are spoken in both languages,
    # each by its own voice (issue 10), then the choice in both.
    first = state.tries == 0
    lines = [(Lang.EN, text(Lang.EN, "greeting")), (Lang.DE, text(Lang.DE, "greeting"))] if first else []
    lines += [(Lang.EN, text(Lang.EN, "language_choice")), (Lang.DE, text(Lang.DE, "language_choice"))]
    hints = ("English", "Deutsch", "German")
    return Reply(lang=Lang.EN, say=tuple(line for _, line in lines), gather=_menu(state, hints),
                 say_langs=tuple(lang for lang, _ in lines))


def _triage(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "triage")], gather=_menu(state, _TRIAGE_HINTS[state.lang]))


def _non_critical(state: CallState, now: datetime | None) -> Reply:
    lines = [t(state, "non_critical")] if state.tries == 0 else []
    # the text message with how to open a ticket is offered only to a number that takes one (a landline was
    # promised an SMS that never came)
    lines.append(t(state, "non_critical_menu" if is_textable(state.caller_id) else "non_critical_menu_no_sms"))
    return _reply(state, lines, gather=_menu(state))


def _repeat_caller(state: CallState, now: datetime | None) -> Reply:
    if state.incident is None:
        return _triage(state, now)
    menu = "repeat_caller_menu" if state.verified else "repeat_caller_menu_unverified"
    lines = incident_lines(state, now) + [t(state, menu)]
    return _reply(state, lines, gather=_menu(state))


def _repeat_verify(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "repeat_verify")], gather=_keypad())


def _pin_entry(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "pin_ask")], gather=_keypad())


def _add_info(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "add_info")], gather=_speech(long=True))


def _recording_prompt(state: CallState, key: str) -> Reply:
    seconds = state.policy.recording_max_seconds
    line = t(state, key, duration=say_duration(state.lang, seconds))
    return _reply(state, [line], record=Record(max_seconds=seconds))


def _add_recording(state: CallState, now: datetime | None) -> Reply:
    return _recording_prompt(state, "add_recording")


def _ticket_offer(state: CallState, now: datetime | None) -> Reply:
    if state.ticket is None:
        return _ticket_entry(state, now)
    line = t(state, "ticket_offer", ticket=say_digits(state.ticket.number))
    return _reply(state, [line], gather=_yes_no(state))


def _ticket_entry(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "ticket_entry")], gather=_keypad())


def _company(state: CallState, now: datetime | None) -> Reply:
    if state.pending:
        line = t(state, "company_confirm", company=state.pending)
        return _reply(state, [line], gather=_yes_no(state))
    return _reply(state, [t(state, "company_ask")], gather=_speech())


def _contact_name(state: CallState, now: datetime | None) -> Reply:
    if state.pending:
        line = t(state, "name_confirm", name=state.pending)
        return _reply(state, [line], gather=_yes_no(state))
    return _reply(state, [t(state, "name_ask")], gather=_speech())


def _callback_confirm(state: CallState, now: datetime | None) -> Reply:
    if not state.pending:
        return _callback_entry(state, now)
    number = _with_extension(state, say_phone(state.lang, state.pending), state.pending_extension)
    line = t(state, "callback_confirm", number=number)
    return _reply(state, [line], gather=_yes_no(state))


def _with_extension(state: CallState, number: str, extension: str) -> str:
    """A spoken number and its extension: the caller hears both, the rep is told to key the extension in."""
    return t(state, "phone_extension", number=number, extension=say_digits(extension)) if extension else number


def _callback_entry(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "callback_entry")], gather=_keypad())


def _email(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "email_ask")], gather=_speech())


def ticket_email(state: CallState) -> str:
    """The ticket's e-mail address if it is usable and the caller verified, lower-cased; else ""."""
    if state.ticket is None or not state.verified:
        return ""
    email = clean_text(state.ticket.email, 254).lower().replace(" ", "")
    return email if is_valid_email(email) else ""


def is_email_on_file(state: CallState) -> bool:
    """True when the e-mail awaiting confirmation is the one from the ticket."""
    return bool(state.pending) and state.pending == ticket_email(state)


def _email_confirm(state: CallState, now: datetime | None) -> Reply:
    if not state.pending:
        return _email(state, now)
    # What the recognizer heard is spelled too: the caller checks it letter by letter.
    key = "email_on_file" if is_email_on_file(state) else "email_heard"
    line = t(state, key, email=say_email(state.lang, state.pending), spelled=spell_email(state.lang, state.pending))
    return _reply(state, [line], gather=_yes_no(state))


def _problem(state: CallState, now: datetime | None) -> Reply:
    return _reply(state, [t(state, "problem_ask")], gather=_speech(long=True))


def _recording(state: CallState, now: datetime | None) -> Reply:
    # A silent caller skipped here gets one prompt that asks for everything at once.
    return _recording_prompt(state, "silent_recording" if state.silences >= 2 else "recording")


def _readback(state: CallState, now: datetime | None) -> Reply:
    lines = readback_lines(state) + [t(state, "readback_options")]
    return _reply(state, lines, gather=_menu(state))


def _saving(state: CallState, now: datetime | None) -> Reply:
    if state.incident is not None:  # appending to a repeat caller's incident
        return _done(state, now)
    # A save that did not answer: read back again so "1" saves once more.
    return _readback(state, now)


def _done(state: CallState, now: datetime | None) -> Reply:
    if state.incident is None:
        return _reply(state, [t(state, "goodbye")], hangup=True)
    inc = state.incident
    if state.joined and not state.verified and inc.own_contact:
        return _reply(state, [*own_contact_lines(state), t(state, "goodbye")], hangup=True)
    if state.joined and not state.verified:
        # An incident the caller did not open in this call, and did not prove is theirs: status only.
        return _reply(state, incident_lines(state, now) + [t(state, "goodbye")], hangup=True)
    # a late webhook of an ended call: never a deadline already past (``callback_line``)
    lines = [t(state, "reference_is", reference=say_digits(inc.reference)), callback_line(state, now),
             t(state, "goodbye")]
    return _reply(state, lines, hangup=True)


_QUESTIONS: dict[Stage, Callable[[CallState, datetime | None], Reply]] = {
    Stage.LANGUAGE: _language,
    Stage.TRIAGE: _triage,
    Stage.NON_CRITICAL: _non_critical,
    Stage.REPEAT_CALLER: _repeat_caller,
    Stage.ADD_INFO: _add_info,
    Stage.ADD_RECORDING: _add_recording,
    Stage.TICKET_OFFER: _ticket_offer,
    Stage.TICKET_ENTRY: _ticket_entry,
    Stage.TICKET_LOOKUP: _ticket_entry,
    Stage.COMPANY: _company,
    Stage.CONTACT_NAME: _contact_name,
    Stage.CALLBACK_CONFIRM: _callback_confirm,
    Stage.CALLBACK_ENTRY: _callback_entry,
    Stage.EMAIL: _email,
    Stage.EMAIL_CONFIRM: _email_confirm,
    Stage.PROBLEM: _problem,
    Stage.RECORDING: _recording,
    Stage.READBACK: _readback,
    Stage.CORRECTION: _readback,
    Stage.SAVING: _saving,
    Stage.DONE: _done,
    Stage.PIN_ENTRY: _pin_entry,
    Stage.PIN_CHECK: _pin_entry,
    Stage.REPEAT_VERIFY: _repeat_verify,
    Stage.REPEAT_CHECK: _repeat_verify,
}


def question(state: CallState, now: datetime | None = None) -> Reply:
    """The reply asking the current stage's question (to repeat it after any hiccup).

    ``now`` is optional; with it a repeat caller whose callback is overdue hears an
    apology instead of a deadline in the past.
    """
    return _QUESTIONS.get(state.stage, _readback)(state, now)
