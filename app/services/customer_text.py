"""What the hotline texts a caller, in the caller's language; the words are in the catalog (app/prompts)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.prompts import text
from ivr_flows.prompts import say_day, zone_label
from ivr_flows.validate import region_of

GERMAN = "de-DE"
_GERMAN_REGIONS = {"DE", "AT", "CH", "LI"}


def is_german(language: str) -> bool:
    """True for the German flow's language code."""
    return (language or "").lower().startswith("de")


def language_for(language: str, caller_id: str) -> str:
    """The caller's chosen language, else German for a German-speaking country's number, else English."""
    if language:
        return language
    return GERMAN if region_of(caller_id) in _GERMAN_REGIONS else "en-US"


def written_time(when: datetime, tz: str, language: str, now: datetime, *, at: bool = False,
                 moment: bool = False) -> str:
    """A time as the customer reads it on ``tz``'s clock, ``03:15 UTC`` / ``16:21 Uhr (MEZ)``, naming its day when
    that is not the day of ``now`` (the message's moment) on that clock: "tomorrow at 00:10 EST", "morgen um 00:10 Uhr
    (MEZ)", "Tuesday, December 8 at ..." by the rule the call speaks its times (``say_day``; a call at 11:58 p.m. read
    "by 00:13 EST" without a word of tomorrow). ``at``: where a German text had "um {due}" ("spätestens {due}");
    ``moment``: where a text had "at {at}" / "um {at}" (``say_day``)."""
    local = when.astimezone(ZoneInfo(tz))
    abbr = zone_label(local, GERMAN if is_german(language) else "en-US")  # "UTC+13" for tzdata's bare "+13"
    clock = f"{local:%H:%M} Uhr ({abbr})" if is_german(language) else f"{local:%H:%M} {abbr}"
    return say_day(GERMAN if is_german(language) else "en-US", local, clock, now, at=at, moment=moment)


def receipt_sms(reference: str, due: datetime, tz: str, language: str, now: datetime) -> str:
    """The customer's receipt right after intake, written at ``now`` (the deadline with its day when that is not
    ``now``'s: ``written_time``); past the deadline, an apology instead."""
    if due <= now:
        return text("receipt_late_sms", language, ref=reference)
    return text("receipt_sms", language, ref=reference, due=written_time(due, tz, language, now, at=True))


def receipt_email(reference: str, due: datetime, tz: str, language: str, *, name: str, hotline_number: str,
                  has_callback_number: bool, now: datetime) -> tuple[str, str]:
    """Subject and body of the receipt e-mail (no SMS can reach the caller): reference, the callback deadline on
    their clock (past it, an apology), and how to add details: by phone, as no reply to it reaches the incident."""
    if not has_callback_number:
        promise = text("receipt_mail_no_number", language)
    elif due <= now:
        promise = text("receipt_mail_late", language)
    else:
        promise = text("receipt_mail_due", language, due=written_time(due, tz, language, now, at=True))
    details = (text("receipt_mail_details", language, ref=reference, number=hotline_number) if hotline_number
               else text("receipt_mail_details_no_number", language, ref=reference))
    body = text("receipt_mail_body", language, name=name, ref=reference, promise=promise, details=details)
    # no name on record: "Hello," rather than "Hello ,"
    return text("receipt_mail_subject", language, ref=reference), body.replace(" ,\n", ",\n", 1)


def ack_notice_sms(reference: str, due: datetime, tz: str, language: str, now: datetime,
                   in_call: bool = False) -> str:
    """Tells the customer an engineer has taken the incident; past the deadline, with an apology and no time;
    ``in_call`` (still giving their details, issue 13: the deadline is not set yet) without a time, which the
    receipt at the end of their call gives."""
    if in_call:
        return text("ack_notice_in_call_sms", language, ref=reference)
    if due <= now:
        return text("ack_notice_late_sms", language, ref=reference)
    return text("ack_notice_sms", language, ref=reference, due=written_time(due, tz, language, now, at=True))


def callback_missed_sms(reference: str, at: datetime, tz: str, language: str, hotline_number: str,
                        now: datetime) -> str:
    """Tells the customer the hotline just tried to call them (at ``at``, on their clock, named "yesterday" when the
    message, written at ``now``, came after midnight), will call again, and how to reach it now: call the hotline's
    number, or reply."""
    when = written_time(at, tz, language, now, moment=True)
    if not hotline_number:
        return text("callback_missed_no_number_sms", language, ref=reference, at=when)
    return text("callback_missed_sms", language, ref=reference, at=when, number=hotline_number)


def breach_notice_sms(reference: str, due: datetime, tz: str, language: str, hotline_number: str, now: datetime,
                      too_short: bool = False) -> str:
    """Tells the customer the callback deadline (``due``, on their clock; "yesterday" when the notice, written at
    ``now``, came after midnight) passed without reaching them, with an apology: escalated to the managers, an
    engineer calls as soon as possible, how to reach the hotline now. ``too_short``: they answered a callback too
    short to count, so it says the call ended too soon (an outside probe's customer read "have not reached you"
    after a 4-second call)."""
    when = written_time(due, tz, language, now)
    short = "_short" if too_short else ""
    if not hotline_number:
        return text(f"breach_notice{short}_no_number_sms", language, ref=reference, due=when)
    return text(f"breach_notice{short}_sms", language, ref=reference, due=when, number=hotline_number)


def breach_notice_email(reference: str, due: datetime, tz: str, language: str, *, name: str, hotline_number: str,
                        has_callback_number: bool, now: datetime, too_short: bool = False) -> tuple[str, str]:
    """Subject and body of the breach notice by e-mail (no SMS can reach the caller): the promise we did not keep
    (a call, or without a number a message, by ``due`` on their clock, with its day when not ``now``'s), an apology,
    what happens now, how to add details (the receipt e-mail's words). ``too_short``: as for the SMS, the call they
    answered ended too soon."""
    when = written_time(due, tz, language, now)
    how = "short" if too_short else "call" if has_callback_number else "write"
    promise = text(f"breach_mail_{how}", language, ref=reference, due=when)
    details = (text("receipt_mail_details", language, ref=reference, number=hotline_number) if hotline_number
               else text("receipt_mail_details_no_number", language, ref=reference))
    body = text("breach_mail_body", language, name=name, promise=promise,
                next=text(f"breach_mail_next_{'write' if how == 'write' else 'call'}", language), details=details)
    subject = text("breach_mail_short_subject" if too_short else "breach_mail_subject", language, ref=reference)
    # no name on record: "Hello," rather than "Hello ,"
    return subject, body.replace(" ,\n", ",\n", 1)


def _within(language: str, reopen_days: int) -> str:
    """How long a NO reopens a close, as the notices say it: "within 7 days", "innerhalb eines Tages"."""
    return text("reopen_within_one_day" if reopen_days == 1 else "reopen_within_days", language, days=reopen_days)


def _notice_key(name: str, hotline_number: str, reopen_days: int) -> str:
    """The catalog key of a closing notice: its words for a NO that reopens (``reopen_days``; none with 0: their NO
    is only passed on) and for a hotline number to call (none without one)."""
    return f"{name}{'' if reopen_days > 0 else '_no_reopen'}{'' if hotline_number else '_no_number'}_sms"


def closing_notice_sms(reference: str, at: datetime, tz: str, language: str, hotline_number: str,
                       reopen_days: int) -> str:
    """Tells the customer the support team closed their incident at ``at`` (their clock, the notice's moment) without
    their agreement, and how to say it is not solved: reply NO with the reference, which within ``reopen_days``
    (``REOPEN_WINDOW_DAYS``) reopens it (``customer_sms``, ``reopen.by_customer``), or call the hotline's number."""
    when = written_time(at, tz, language, at, moment=True)
    return text(_notice_key("closing_notice", hotline_number, reopen_days), language, ref=reference, at=when,
                number=hotline_number, within=_within(language, reopen_days))


def agreed_closing_sms(reference: str, language: str, hotline_number: str, reopen_days: int) -> str:
    """Tells the customer their incident was closed as agreed with them on the phone (only the rep's record shows it),
    and how to say it is not: reply NO with the reference (``customer_sms``: texted to the owner at once, and within
    ``reopen_days`` it reopens the incident), or call."""
    return text(_notice_key("agreed_closing", hotline_number, reopen_days), language, ref=reference,
                number=hotline_number, within=_within(language, reopen_days))


def agreed_closing_email(reference: str, at: datetime, tz: str, language: str, *, name: str,
                         hotline_number: str) -> tuple[str, str]:
    """Subject and body of that message by e-mail (no SMS can reach the customer): closed at ``at`` (the message's
    moment) on their clock as agreed with them on the phone; should the problem persist, call (nothing reads replies
    to the hotline's e-mails, and a NO reopens the incident only from its callback number by SMS)."""
    persists = (text("closing_mail_persists", language, ref=reference, number=hotline_number) if hotline_number
                else text("closing_mail_persists_no_number", language, ref=reference))
    body = text("agreed_closing_mail_body", language, name=name, ref=reference,
                at=written_time(at, tz, language, at, moment=True), persists=persists)
    # no name on record: "Hello," rather than "Hello ,"
    return text("agreed_closing_mail_subject", language, ref=reference), body.replace(" ,\n", ",\n", 1)


def closing_notice_email(reference: str, at: datetime, tz: str, language: str, *, name: str,
                         hotline_number: str) -> tuple[str, str]:
    """Subject and body of the closing notice by e-mail (no SMS can reach the customer): closed by the support team
    at ``at`` (the message's moment) on their clock; should the problem persist, call (nothing reads replies to the
    hotline's e-mails, and a NO reopens the incident only from its callback number by SMS)."""
    persists = (text("closing_mail_persists", language, ref=reference, number=hotline_number) if hotline_number
                else text("closing_mail_persists_no_number", language, ref=reference))
    body = text("closing_mail_body", language, name=name, ref=reference,
                at=written_time(at, tz, language, at, moment=True), persists=persists)
    # no name on record: "Hello," rather than "Hello ,"
    return text("closing_mail_subject", language, ref=reference), body.replace(" ,\n", ",\n", 1)


def missed_call_sms(language: str) -> str:
    """Invites a caller whose call ended before we knew their problem to call again or reply."""
    return text("missed_call_sms", language)


def missed_call_not_theirs_sms(language: str) -> str:
    """Answers a reply to that invitation that says the call was not theirs: nothing was opened."""
    return text("missed_call_not_theirs_sms", language)
