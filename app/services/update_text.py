"""Customer updates, resolution proposals and update reminders, composed from the prompt catalog (app/prompts)."""

from __future__ import annotations

from datetime import datetime

from app.models import CustomerUpdate, Incident, Outage, ProposalKind, ResolutionProposal
from app.prompts import REP_LANG, text
from app.services.customer_text import GERMAN, is_german, written_time
from app.services.page_text import company_name, due_text
from ivr_flows.prompts import say_digits, say_time
from ivr_flows.questions import contact_clock

QUOTE_LIMIT = 300  # how much of a customer's words a log line or a text to a rep quotes

SMS_LIMIT = 1200  # several segments at most; the e-mail carries the whole text


def customer_zone(incident: Incident) -> str:
    """The incident's own clock, for every time its customer reads or hears: its callback number's zone, else its
    caller ID's, as its intake spoke the deadline (``questions.contact_clock``, the one rule; before it, an incident
    without a callback number wrote in UTC what its intake had said on the caller's clock)."""
    return contact_clock(incident.callback_phone, incident.caller_id)


def _t(language: str, key: str, **params: object) -> str:
    return text(key, GERMAN if is_german(language) else "en-US", **params)


def translated(language: str, key: str, **params: object) -> str:
    """The prompt ``key`` in the customer's ``language`` (German for de-*, else English)."""
    return _t(language, key, **params)


def update_sms(incident: Incident, update: CustomerUpdate, next_due: datetime | None) -> str:
    """The SMS form of an update: at most SMS_LIMIT, the rep's own text shortened to fit (the e-mail carries all
    of it), never the reference, the expected resolution or the next update time."""
    lang, tz = incident.language, customer_zone(incident)
    nxt = _t(lang, "upd_next", due=written_time(next_due, tz, lang, update.written_at)) if next_due else ""

    def compose(what: str, workaround: str) -> str:
        parts = [_t(lang, "upd_sms_head", ref=incident.reference, what=what)]
        if update.expected_resolution:
            parts.append(_t(lang, "upd_expected", expected=update.expected_resolution))
        if workaround:
            parts.append(_t(lang, "upd_workaround", workaround=workaround))
        if nxt:
            parts.append(nxt)
        return ". ".join(p.rstrip(". ") for p in parts) + "."

    what, workaround = update.what_is_wrong, update.workaround
    over = len(compose(what, workaround)) - SMS_LIMIT
    if over > 0:  # the workaround gives up what it has beyond its first lines, then what is wrong the rest
        keep = max(len(workaround) - over, min(len(workaround), 300))
        over -= len(workaround) - keep
        workaround = shorten(workaround, keep)
        what = shorten(what, len(what) - max(over, 0))
    return compose(what, workaround)[:SMS_LIMIT]


def shorten(words: str, limit: int) -> str:
    """``words`` in at most ``limit`` characters: cut at a word and marked "…" when it had to be cut."""
    words = words.strip()
    if len(words) <= limit:
        return words
    cut = words[:max(limit - 1, 0)]
    cut = cut.rsplit(" ", 1)[0] if " " in cut[len(cut) // 2:] else cut
    return cut.rstrip(" .,;:-") + "…"


def update_email(incident: Incident, update: CustomerUpdate, next_due: datetime | None) -> tuple[str, str]:
    """Subject and body of an update e-mail: a line for each field the rep wrote, none for one they left out (an SMS
    update is one free text: "Expected resolution: not known yet" could contradict what it says)."""
    lang, tz = incident.language, customer_zone(incident)
    nxt = _t(lang, "upd_mail_next", due=written_time(next_due, tz, lang, update.written_at)) if next_due else ""
    fields = (("upd_mail_what", "what", update.what_is_wrong), ("upd_expected", "expected", update.expected_resolution),
              ("upd_workaround", "workaround", update.workaround))
    lines = "\n".join(_t(lang, key, **{name: value.strip()}) for key, name, value in fields if value and value.strip())
    body = _t(lang, "upd_mail_body", name=incident.contact_name or "", ref=incident.reference, lines=lines, next=nxt)
    return _t(lang, "upd_mail_subject", ref=incident.reference), body.replace(" ,\n", ",\n", 1)


def interval_sms(incident: Incident, minutes: int, next_due: datetime | None, now: datetime) -> str:
    """The customer's confirmation of the update interval agreed with them, with the next update's time on their
    clock when one is owed later than ``now`` (a round already overdue keeps its past due time: never said)."""
    lang = incident.language
    parts = [_t(lang, "upd_interval_sms", ref=incident.reference, every=every(minutes, lang))]
    if next_due is not None and next_due > now:
        parts.append(_t(lang, "upd_next", due=written_time(next_due, customer_zone(incident), lang, now)))
    return ". ".join(parts) + "."


def interval_email(incident: Incident, minutes: int, next_due: datetime | None, now: datetime) -> tuple[str, str]:
    """Subject and body of the same confirmation by e-mail (no SMS can reach the customer)."""
    lang = incident.language
    body = _t(lang, "upd_interval_mail_body", name=incident.contact_name or "",
              line=interval_sms(incident, minutes, next_due, now))
    return _t(lang, "upd_interval_subject", ref=incident.reference), body.replace(" ,\n", ",\n", 1)


def late_apology_sms(incident: Incident) -> str:
    """The customer's apology when an update promised them is overdue (``updates._apologise``), in their language."""
    return _t(incident.language, "upd_late_apology_sms", ref=incident.reference)


def late_apology_email(incident: Incident) -> tuple[str, str]:
    """Subject and body of the same apology by e-mail."""
    lang = incident.language
    body = _t(lang, "upd_interval_mail_body", name=incident.contact_name or "", line=late_apology_sms(incident))
    return _t(lang, "upd_late_apology_subject", ref=incident.reference), body.replace(" ,\n", ",\n", 1)


def every(minutes: int, language: str = REP_LANG) -> str:
    """An interval in ``language``'s words, as the customer reads it and every text or call to a rep says it ("every
    30 minutes", "every hour", "alle 4 Stunden"): one table (``upd_every_*``), never an English phrase set into a
    German text (the owner's SMS on an interval another rep agreed read "Updates every 30 minutes vereinbart")."""
    if minutes % 60:
        return _t(language, "upd_every_minutes", n=minutes)
    hours = minutes // 60
    return _t(language, "upd_every_hour") if hours == 1 else _t(language, "upd_every_hours", n=hours)


def _proposal_line(incident: Incident, proposal: ResolutionProposal) -> str:
    key = "upd_resolved" if proposal.kind == ProposalKind.RESOLVED else "upd_workaround_in_place"
    what = _t(incident.language, key)
    # the templates end the line with their own full stop: "back to zero." must not read "back to zero.."
    summary = proposal.summary.strip().rstrip(".") if proposal.summary else ""
    return f"{what}: {summary}".rstrip(": ") if summary else what


def proposal_sms(incident: Incident, proposal: ResolutionProposal) -> str:
    """The SMS asking the customer to confirm or reject a resolution: a long summary is shortened (the e-mail has
    it whole), never the YES / NO the customer must reply."""
    line, ref = _proposal_line(incident, proposal), incident.reference
    # what the customer's silence does, as the e-mail says it: some customers read only this SMS
    hours = round((proposal.expires_at - proposal.proposed_at).total_seconds() / 3600)
    frame = len(_t(incident.language, "upd_proposal_sms", ref=ref, line="", hours=hours))
    return _t(incident.language, "upd_proposal_sms", ref=ref, line=shorten(line, SMS_LIMIT - frame),
              hours=hours)[:SMS_LIMIT]


def proposal_email(incident: Incident, proposal: ResolutionProposal, link: str, silence_hours: int,
                   texted: bool) -> tuple[str, str]:
    """Subject and body of the e-mail asking for confirmation, with the signed link; ``texted`` (the proposal went
    to their number by SMS too): they may also answer it by SMS, which is said only then."""
    lang, ref = incident.language, incident.reference
    by_sms = _t(lang, "upd_proposal_by_sms", ref=ref) if texted else ""
    return (_t(lang, "upd_proposal_subject", ref=ref),
            _t(lang, "upd_proposal_body", ref=ref, line=_proposal_line(incident, proposal), link=link,
               hours=silence_hours, by_sms=by_sms))


def proposal_spoken(incident: Incident, proposal: ResolutionProposal) -> str:
    """What a repeat caller hears about a proposal awaiting their answer (press 1 / 2)."""
    return _t(incident.language, "upd_proposal_spoken", line=_proposal_line(incident, proposal))


def decision_reply(incident: Incident, confirmed: bool, spoken: bool = False, *, next_due: datetime | None = None,
                   now: datetime | None = None) -> str:
    """The answer to a customer who confirmed or rejected (``spoken``: on a call, the reference digit by digit);
    a rejection says when the next update comes (``next_due``, on the incident's clock, ``customer_zone``: said as the
    intake says a time, with its day when that is not ``now``'s)."""
    if confirmed:
        return _t(incident.language, "upd_confirmed", ref=_ref(incident, spoken))
    lang = incident.language
    if spoken:
        due = say_time(GERMAN if is_german(lang) else "en-US", next_due, zone_name=customer_zone(incident), now=now)
    else:
        due = written_time(next_due, customer_zone(incident), lang, now or next_due)
    return _t(lang, "upd_rejected", ref=_ref(incident, spoken), due=due)


def answered_before(incident: Incident, state: str, spoken: bool = False) -> str:
    """To a customer answering a proposal that was settled already (by another channel, silence, or a manager)."""
    lang = incident.language
    return _t(lang, "upd_answered_before", ref=_ref(incident, spoken), state=_t(lang, f"upd_state_{state}"))


def closed_before(incident: Incident, spoken: bool = False) -> str:
    """To a customer answering about an incident closed another way meanwhile."""
    return _t(incident.language, "upd_closed_before", ref=_ref(incident, spoken))


def _ref(incident: Incident, spoken: bool) -> str:
    """The reference as written, or as the intake says it on a call (digit by digit: never "six hundred thousand")."""
    return say_digits(incident.reference) if spoken else incident.reference


def reminder_sms(incident: Incident, number: int | None, due: datetime, tz: str, untold: str = "", *,
                 now: datetime) -> str:
    """The owner's reminder shortly before update ``number`` (``update_numbers``) is due (reps read English; the
    time on the owner's clock, ``tz``: ``page_text.rep_clock``, with its day when that is not ``now``'s), with
    ``untold`` (``updates.default_untold``) while the schedule runs at the default interval the customer was never
    told."""
    return text("upd_reminder_sms", ref=incident.reference, company=company_name(incident), number=number or "",
                due=due_text(due, tz, now)) + untold


def interval_unanswered_sms(incident: Incident, untold: str) -> str:
    """The owner's SMS when the interval question at the end of the callback went unanswered: the default applies,
    and ``untold`` (``updates.default_untold``) says the customer was not told and how to confirm one."""
    return text("upd_interval_unanswered_sms", ref=incident.reference, company=company_name(incident)) + untold


def late_sms(incident: Incident, number: int | None, due: datetime, owner: str, tz: str, *, now: datetime) -> str:
    """The managers' alert when update ``number`` (``update_numbers``) was not sent by its due time (the time on the
    manager's clock, ``tz``, with its day when that is not ``now``'s: the alert comes again every interval, a day
    later for a 24-hour one)."""
    return text("upd_late_sms", ref=incident.reference, company=company_name(incident), number=number or "",
                due=due_text(due, tz, now), owner=owner or "unknown")


def outage_statement(outage: Outage, language: str, phone: str = "", now: datetime | None = None) -> str:
    """The short statement callers hear right after the greeting while an outage is declared, its times spoken as
    the rest of the call speaks them (``say_time``): on the clock of ``phone``, the caller ID, as the deadline later
    in the call is (UTC without one), each with its day when that is not ``now``'s ("since yesterday at 11:40 p.m."); a next update whose time has
    passed is said to be overdue, never promised at that time."""
    german = is_german(language)
    what = (outage.what_fails_de or outage.what_fails) if german else outage.what_fails
    lang = GERMAN if german else "en-US"
    said = _t(language, "upd_outage", what=what, since=say_time(lang, outage.since, phone, now=now))
    if outage.next_update_at and now is not None and outage.next_update_at <= now:  # never a time already past
        said += _t(language, "upd_outage_overdue")
    elif outage.next_update_at:
        said += _t(language, "upd_outage_next", due=say_time(lang, outage.next_update_at, phone, now=now))
    return said + _t(language, "upd_outage_end")


def ticket_howto_sms(howto: str, language: str) -> str:
    """The SMS a non-critical caller accepted: how to open a ticket."""
    return (_t(language, "upd_howto_prefix") + howto)[:SMS_LIMIT]
