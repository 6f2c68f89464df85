"""Handlers for the capture questions, the recording, the read-back and saving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from . import answers
from .live import hand_over_live
from .model import (
    AppendToIncident,
    CallState,
    Event,
    Gathered,
    IncidentInfo,
    IncidentSaved,
    LogEvent,
    NoInput,
    OpenIncident,
    Recorded,
    Reply,
    SaveIncident,
    Stage,
    Step,
    TicketMatch,
)
from .questions import added_lines, is_email_on_file, joined_lines, saved_lines, t
from .steps import (
    GiveUp,
    callback_number,
    capture,
    clean,
    enter,
    fail,
    field_done,
    go,
    log,
    miss,
    offered_number,
    refusal,
    repeat,
)
from .validate import clean_text, is_valid_email, normalize_spoken_email

OnAnswer = Callable[[CallState, Gathered, datetime], Step]

_FIELD = {Stage.COMPANY: "company", Stage.CONTACT_NAME: "contact_name"}
_CORRECT = {
    "2": Stage.COMPANY,
    "3": Stage.CONTACT_NAME,
    "4": Stage.CALLBACK_ENTRY,
    "5": Stage.EMAIL,
    "6": Stage.PROBLEM,
    "7": Stage.TRIAGE,  # the problem's type, read back as "Problem: API calls failing" (probe C7, session 42)
}


SILENT_QUESTIONS_BEFORE_SKIP = 2
# Stages of a new report: a caller silent on two of them in a row goes straight to the recording.
_SKIPPABLE = {
    Stage.TRIAGE, Stage.TICKET_ENTRY, Stage.PIN_ENTRY, Stage.COMPANY, Stage.CONTACT_NAME,
    Stage.CALLBACK_CONFIRM, Stage.CALLBACK_ENTRY, Stage.EMAIL, Stage.EMAIL_CONFIRM, Stage.PROBLEM,
}


def answer_or_silence(state: CallState, event: Event, now: datetime, on_answer: OnAnswer, give_up: GiveUp) -> Step:
    """Dispatch a Gathered answer, count silence, repeat the question on anything else.

    A question given up in silence counts towards the silent-caller skip; any answer resets it.
    """
    if isinstance(event, NoInput) or (isinstance(event, Gathered) and answers.is_empty(event)):

        def silent_give_up(s: CallState, n: datetime) -> Step:
            return _skip_if_silent(give_up(replace(s, silences=s.silences + 1), n), n)

        return fail(state, now, "sorry_silence", silent_give_up)
    if isinstance(event, Gathered):
        return on_answer(replace(state, silences=0), event, now)
    return repeat(state, now)


def _skip_if_silent(step: Step, now: datetime) -> Step:
    """After two questions in a row with no answer, skip to the recording (issue 10: a kinder call)."""
    s = step.state
    if (step.reply is None or s.silences < SILENT_QUESTIONS_BEFORE_SKIP or s.stage not in _SKIPPABLE
            or s.incident is not None or s.correcting):
        return step
    c = s.captured
    if c.ticket_match is None:
        s = capture(s, ticket_number=s.ticket.number, ticket_match=TicketMatch.CALLER_ID) if s.ticket else miss(
            capture(s, ticket_match=TicketMatch.NONE), "ticket_number")
    effects = [*step.effects, log("silent_caller_skipped")]
    if not s.captured.callback_phone:
        number = offered_number(s)
        s = capture(s, callback_phone=number) if number else miss(s, "callback_phone")
        if number:
            effects.append(log("field_unconfirmed", field="callback_phone"))
    for name in ("company", "contact_name", "email"):
        if not getattr(s.captured, name):
            s = miss(s, name)
    s = replace(s, stage=Stage.RECORDING, tries=0, pending="")
    return go(s, now, t(s, "silent_skip"), effects=tuple(effects))


def _keep_or_miss(field: str) -> GiveUp:
    """Give up on a question: when correcting keep the old value, else mark it missing."""

    def give_up(state: CallState, now: datetime) -> Step:
        s = replace(state, pending="")
        if s.correcting:
            return field_done(s, now)
        return field_done(miss(s, field), now, effects=(log("field_missing", field=field),))

    return give_up


def _callback_given_up(state: CallState, now: datetime, *before: str) -> Step:
    """Give up on another callback number: the number the caller calls from, unconfirmed, when we may dial it.

    The closing promises a call on "the number you're calling from" (and a hang-up is rescued with it), so
    the incident must carry it: with no callback number the page says "n/a", the hotline cannot place the
    callback and no receipt is texted. The read-back lists it, so the caller may still correct it. The caller is told
    so, after why their last number was refused (``before``): an outside probe's caller who asked for another number
    had three refused and went on to the e-mail question with no word of which number would ring.
    """
    s = replace(state, pending="", pending_extension="")
    if s.correcting and s.captured.callback_phone:
        return field_done(s, now, *before)  # keep the number confirmed before
    number = offered_number(s)
    if not number:
        return _keep_or_miss("callback_phone")(s, now)
    values = {"callback_phone": number, "callback_extension": ""}
    effects = (log("field_unconfirmed", field="callback_phone"), *_extension_lines(s, values))
    s = capture(s, **values)
    s = replace(s, confirmed=tuple(f for f in s.confirmed if f != "callback_phone"),
                changed=(*s.changed, "callback_phone") if s.correcting else s.changed)
    return field_done(s, now, *before, t(s, "callback_fallback_own"), effects=effects)


def _accept_pending(field: str) -> GiveUp:
    """Give up on a confirmation: keep the offered value, noting it was not confirmed."""

    def give_up(state: CallState, now: datetime) -> Step:
        values = {field: state.pending}
        if field == "callback_phone":
            values["callback_extension"] = state.pending_extension
        effects = (log("field_unconfirmed", field=field), *_extension_lines(state, values))
        return field_done(capture(state, **values), now, effects=effects)

    return give_up


def _extension_lines(state: CallState, values: dict[str, object]) -> tuple[LogEvent, ...]:
    """The log line the rep reads the extension from: written when it changes, "" when a new number has none."""
    new = values.get("callback_extension")
    if new is None or new == state.captured.callback_extension:
        return ()
    return (log("callback_extension", extension=new),)


def _captured(state: CallState, now: datetime, field: str, source: str, confirmed: bool = False,
              **values: object) -> Step:
    extension_lines = _extension_lines(state, values)
    s = capture(replace(state, pending="", pending_extension=""), **values)
    # What the caller just confirmed is not read back again; a correction is (issue 13).
    s = replace(s, confirmed=tuple(f for f in s.confirmed if f != field) + ((field,) if confirmed else ()))
    if s.correcting:
        s = replace(s, changed=(*s.changed, field))
    step = field_done(s, now, effects=(log("field_captured", field=field, source=source), *extension_lines))
    return open_when_reachable(step, now) if field == "callback_phone" else step


def open_when_reachable(step: Step, now: datetime) -> Step:
    """Issue 13: once a critical caller's callback number is confirmed, open the incident and page now.

    Only a caller who said e-mail sending is down (not a garbled triage), with a number
    they confirmed or keyed, on a new report (not a repeat caller) and only once.
    """
    s = step.state
    c = s.captured
    if (s.opened or s.incident is not None or c.affected_service is None or "affected_service" in c.missing
            or not c.callback_phone):
        return step
    s = replace(s, opened=True)
    effect = OpenIncident(captured=c, lang=s.lang, caller_id=s.caller_id, captured_at=now,
                          verified=s.verified, related_reference=s.related_reference)
    return replace(step, state=s, effects=(*step.effects, effect, log("incident_opened_early")))


# A value read back to the caller and awaiting their yes, by the stage that asks for it.
_PENDING_FIELD = {Stage.COMPANY: "company", Stage.CONTACT_NAME: "contact_name",
                  Stage.CALLBACK_CONFIRM: "callback_phone", Stage.EMAIL_CONFIRM: "email"}


def hung_up(state: CallState) -> tuple[CallState, tuple[LogEvent | AppendToIncident, ...]]:
    """What a caller who hung up leaves: a value read back to them and awaiting their yes is kept, unconfirmed,
    as silence keeps it (``_accept_pending``); what a repeat caller said to add, before the optional recording,
    is added to their incident. The stage stays where they left."""
    if state.stage is Stage.ADD_RECORDING and state.pending and state.incident is not None:
        effect = AppendToIncident(reference=state.incident.reference, text=state.pending)
        return replace(state, pending=""), (effect, log("add_info", has_text=True, has_recording=False))
    field = _PENDING_FIELD.get(state.stage)
    if field is None or not state.pending:
        return state, ()
    values = {field: state.pending}
    if field == "callback_phone":
        values["callback_extension"] = state.pending_extension
    lines = (log("field_unconfirmed", field=field, when="hang_up"), *_extension_lines(state, values))
    return capture(replace(state, pending="", pending_extension=""), **values), lines


# ---------------------------------------------------------------- company, name


def on_text_field(state: CallState, event: Event, now: datetime) -> Step:
    """COMPANY and CONTACT_NAME: confirm the ticket's value, or take a spoken answer."""
    field = _FIELD[state.stage]
    if state.pending:
        return answer_or_silence(state, event, now, _confirm_text, _accept_pending(field))
    return answer_or_silence(state, event, now, _spoken_text, _keep_or_miss(field))


def _confirm_text(state: CallState, event: Gathered, now: datetime) -> Step:
    field = _FIELD[state.stage]
    yes = answers.yes_no(event)
    if yes is None:
        return fail(state, now, "sorry_nonsense", _accept_pending(field))
    if yes:
        return _captured(state, now, field, "ticket", confirmed=True, **{field: state.pending})
    return go(replace(state, pending="", tries=0), now)  # ask for it openly


def _spoken_text(state: CallState, event: Gathered, now: datetime) -> Step:
    field = _FIELD[state.stage]
    value = clean(state, event.speech)
    if not any(ch.isalnum() for ch in value) or answers.only_hesitation(value) or answers.only_yes_no(value):
        return fail(state, now, "sorry_nonsense", _keep_or_miss(field))
    return _captured(state, now, field, "speech", **{field: value})


# ---------------------------------------------------------------- callback number


def on_callback_confirm(state: CallState, event: Event, now: datetime) -> Step:
    """CALLBACK_CONFIRM: yes keeps the number; no asks for one on the keypad."""
    give_up = _accept_pending("callback_phone")

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        yes = answers.yes_no(ev)
        if yes is None:
            return fail(s, n, "sorry_nonsense", give_up)
        source = "caller_id" if s.pending == offered_number(s) else "keypad"
        if yes:
            return _captured(s, n, "callback_phone", source, confirmed=True, callback_phone=s.pending,
                             callback_extension=s.pending_extension)
        entry = replace(s, stage=Stage.CALLBACK_ENTRY, pending="", pending_extension="")
        if source == "caller_id":
            return go(replace(entry, tries=0), n)
        # A typed number heard back wrong counts as a failed try, so this loop ends.
        return fail(entry, n, "", _callback_given_up)

    return answer_or_silence(state, event, now, on_answer, give_up)


def on_callback_entry(state: CallState, event: Event, now: datetime) -> Step:
    """CALLBACK_ENTRY: a keyed or spoken number, validated, then read back."""
    give_up = _callback_given_up

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        # A spoken "+44 20 7946 0000" keeps its country code; an extension is not part of the number.
        digits, extension = answers.phone_from(ev, max_len=20)
        number = callback_number(s, digits) if digits else None
        if not number:
            # Say why (issue 10): not a complete number, premium-rate, a country we don't serve, our own.
            why = refusal(s, digits) if digits else "invalid"
            known = ("own", "premium", "region", "country_code")  # a national number abroad: ask for its code
            reason = f"callback_refused_{why if why in known else 'invalid'}"
            if s.tries + 1 >= s.policy.max_tries:  # the last try: why, then which number rings instead
                return give_up(replace(s, tries=s.tries + 1), n, t(s, reason))
            return fail(s, n, reason, give_up)
        # The extension is read back with the number; once confirmed, the log line tells the rep to key it in.
        # Keep the try count across entry and confirmation so a garbled loop still ends.
        return go(replace(s, stage=Stage.CALLBACK_CONFIRM, pending=number, pending_extension=extension), n)

    # A bare '#' (an empty answer: the keypad Gather asks Twilio for one) counts as silence here, as silence does:
    # most callers are silent while they look the number up. ``answer_or_silence`` counts both so.
    return answer_or_silence(state, event, now, on_answer, give_up)


# ---------------------------------------------------------------- e-mail


def on_email(state: CallState, event: Event, now: datetime) -> Step:
    """EMAIL: a spoken address, normalised, then read back for confirmation."""
    give_up = _keep_or_miss("email")

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        email = normalize_spoken_email(clean_text(ev.speech, 300))
        if not is_valid_email(email):
            return fail(s, n, "email_invalid", give_up)
        return go(replace(s, stage=Stage.EMAIL_CONFIRM, pending=email), n)

    return answer_or_silence(state, event, now, on_answer, give_up)


def on_email_confirm(state: CallState, event: Event, now: datetime) -> Step:
    """EMAIL_CONFIRM: yes keeps the address; no asks for it again (bounded by tries)."""
    give_up = _accept_pending("email")

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        yes = answers.yes_no(ev)
        if yes is None:
            return fail(s, n, "sorry_nonsense", give_up)
        on_file = is_email_on_file(s)
        if yes:
            return _captured(s, n, "email", "ticket" if on_file else "speech", confirmed=True, email=s.pending)
        again = replace(s, stage=Stage.EMAIL, pending="")
        if on_file:
            return go(replace(again, tries=0), n)
        return fail(again, n, "", _keep_or_miss("email"))

    return answer_or_silence(state, event, now, on_answer, give_up)


# ---------------------------------------------------------------- problem, recording


def on_problem(state: CallState, event: Event, now: datetime) -> Step:
    """PROBLEM: a spoken description; silence still moves on to the recording."""

    def give_up(s: CallState, n: datetime) -> Step:
        return field_done(s, n, effects=(log("problem_not_spoken"),))

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        value = clean(s, ev.speech, long=True)
        if not any(ch.isalnum() for ch in value):
            return fail(s, n, "sorry_nonsense", give_up)
        return _captured(s, n, "problem", "speech", problem_text=value)

    return answer_or_silence(state, event, now, on_answer, give_up)


def on_recording(state: CallState, event: Event, now: datetime) -> Step:
    """RECORDING: store the recording (if any); with no description at all, mark it missing."""
    if not isinstance(event, Recorded | NoInput):
        return repeat(state, now)
    url = clean_text(event.url, 1000) if isinstance(event, Recorded) else ""
    seconds = max(0, int(event.seconds)) if isinstance(event, Recorded) and url else 0
    s = state
    effects = []
    if url:
        s = capture(s, recording_url=url, recording_seconds=seconds)
        effects.append(log("field_captured", field="recording", source="recording", seconds=seconds))
    if not s.captured.problem_text and not s.captured.recording_url:
        s = miss(s, "problem")
        effects.append(log("field_missing", field="problem"))
    if s.silences >= SILENT_QUESTIONS_BEFORE_SKIP and not s.correcting:
        # A silent caller is not read everything back: save what we have and close with the promise.
        saved = save(s, now, "silent_caller_saved")
        return replace(saved, effects=(*effects, *saved.effects))
    return field_done(s, now, effects=tuple(effects))


# ---------------------------------------------------------------- read-back, saving


def save(state: CallState, now: datetime, kind: str) -> Step:
    """Ask the service to persist the incident; the reply waits for IncidentSaved."""
    s = replace(state, stage=Stage.SAVING, tries=0, pending="", correcting=False)
    effect = SaveIncident(captured=s.captured, lang=s.lang, caller_id=s.caller_id, captured_at=now,
                          verified=s.verified, related_reference=s.related_reference)
    return Step(state=s, reply=None, effects=(effect, log(kind, missing=list(s.captured.missing))))


def on_readback(state: CallState, event: Event, now: datetime) -> Step:
    """READBACK: 1 saves, 2-6 correct one field; silence saves what we have."""

    def give_up(s: CallState, n: datetime) -> Step:
        return save(s, n, "readback_timeout")

    def on_answer(s: CallState, ev: Gathered, n: datetime) -> Step:
        choice = answers.readback_choice(ev)
        if choice == "1":
            return save(s, n, "readback_confirmed")
        if choice in _CORRECT:
            target = _CORRECT[choice]
            fix = replace(s, correcting=True, changed=())
            return enter(fix, target, n, effects=(log("readback_correction", field=target.value),))
        if answers.yes_no(ev) is False:
            # "No" / "that's not right": ask which detail; saved when the tries run out, logged as disputed.
            return fail(s, n, "readback_which", lambda s2, n2: save(s2, n2, "readback_disputed"))
        return fail(s, n, "sorry_nonsense", give_up)

    return answer_or_silence(state, event, now, on_answer, give_up)


def on_saving(state: CallState, event: Event, now: datetime) -> Step:
    """SAVING: IncidentSaved gives the closing words; input re-runs the read-back menu."""
    if isinstance(event, IncidentSaved):
        appended = state.incident is not None
        known = state.incident if state.incident is not None and state.incident.reference == event.reference else None
        inc = IncidentInfo(reference=event.reference, callback_due_at=event.callback_due_at,
                           acknowledged=bool(known and known.acknowledged), called_back=bool(known and known.called_back),
                           own_contact=event.own_contact, clock=known.clock if known else "",
                           texts_off=event.texts_off, by_email=bool(known and known.by_email),
                           calls_back_caller=known.calls_back_caller if known else True,
                           callback_ending=known.callback_ending if known else "",
                           callback_extension=known.callback_extension if known else "",
                           next_update_at=known.next_update_at if known else None)
        s = replace(state, stage=Stage.DONE, incident=inc, tries=0, pending="", joined=event.joined)
        if event.joined:
            lines, kind = joined_lines(s, now), "incident_joined"
        elif appended:
            lines, kind = added_lines(s, now), "incident_appended"
        else:
            lines, kind = saved_lines(s, now), "reference_given"
        silent = s.silences >= SILENT_QUESTIONS_BEFORE_SKIP  # a caller who keys nothing is not asked to key 1
        live = None if event.joined or silent else hand_over_live(s, lines, kind, event.reference)
        if live is not None:  # issue 13: the live-connect offer follows the closing lines
            return live
        reply = Reply(lang=s.lang, say=tuple(lines), hangup=True)
        return Step(state=s, reply=reply, effects=(log(kind, reference=event.reference),))
    if state.incident is None and isinstance(event, Gathered | NoInput):
        return on_readback(state, event, now)
    return repeat(state, now)
