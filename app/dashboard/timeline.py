"""The incident log in human words, one line per event (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.dashboard.display import PURPOSE_NAMES, clock, page_words, sentence, stamp
from app.event_kind import EventKind as K
from app.models import IncidentEvent, Page
from app.models.paging import CUSTOMER_ROLE
from app.services.escalation import AT_RISK_BEFORE_DUE, BREACH_WITHDRAWN, DEADLINE_KEPT
from app.services.failure_log import attempts_written
from app.services.page_text import SERVICE_SHORT, answered_in_time, hhmm
from app.services.update_numbers import nth
from app.services.update_rounds import recorded_why
from app.settings import PROMISED_CALLBACK_MINUTES

STEP_NAMES = {K.STEP_RECEIPT: "Receipt step", K.STEP_PAGE: "Escalation level {level}",
              K.STEP_AT_RISK: "At-risk check (T+10)", K.STEP_BREACH: "Deadline check (T+15)",
              K.STEP_REPAGE: "Re-page after breach",
              K.STEP_HANDOFF: "On-call hand-off: the rep on call since is paged",
              # issue 11
              K.STEP_UPDATE_REMINDER: "Reminder of customer update {number}",
              K.STEP_UPDATE_DUE: "Customer update {number} due",
              K.STEP_RESOLUTION_EXPIRY: "Resolution proposal {level}: silence check",
              K.STEP_CONNECT_AFTER_CALL: "Has the caller's call ended? Connect check {level}",
              K.STEP_OUTAGE_PROPOSAL: "Outage {level}'s resolution, after the callback"}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    actor: str
    text: str
    css: str = ""
    note: str = ""  # a note's text, shown as its own paragraph
    recording: str = ""  # a recording's URL (a repeat caller's addition): the page links to it


def timeline(events: list[IncidentEvent], pages: list[Page],
             sla_minutes: int = PROMISED_CALLBACK_MINUTES) -> list[Entry]:
    """The events, in log order, in words; pages are named from ``pages``; the deadline checks by the configured
    promise (``sla_minutes``, CALLBACK_SLA_MINUTES): "T+15" only when it is 15 minutes."""
    by_id = {p.id: p for p in pages}
    at_risk = max(0, sla_minutes - int(AT_RISK_BEFORE_DUE.total_seconds() // 60))
    names = {**STEP_NAMES, K.STEP_AT_RISK: f"At-risk check (T+{at_risk})",
             K.STEP_BREACH: f"Deadline check (T+{sla_minutes})"}
    written = [(e.detail or {}).get("round") for e in events if e.kind == K.CUSTOMER_UPDATE_SENT]
    # pages to a rep's other number (``phone_alt``), named so on every line of theirs
    others = frozenset((e.detail or {}).get("other_page_id") for e in events if e.kind == K.PAGE_FAILED_OTHER_NUMBER)
    return [_entry(e, by_id, names, written, others) for e in events]


# lines naming an update by its schedule round (``round``, a step's ``level``): read as the Nth update owed
_NUMBERED = {K.CUSTOMER_UPDATE_SENT: "round", K.CUSTOMER_UPDATE_LATE: "round", K.CUSTOMER_UPDATE_UNDELIVERED: "round",
             K.CUSTOMER_MESSAGE_STALLED: "round", K.STEP_UPDATE_REMINDER: "level", K.STEP_UPDATE_DUE: "level"}


def _entry(event: IncidentEvent, pages: dict[int, Page], names: dict = STEP_NAMES,
           written: list[object] | tuple = (), others: frozenset = frozenset()) -> Entry:
    d = event.detail or {}
    if event.kind == K.PAGE_QUEUED and d.get("page_id") in others:
        d = {**d, "to": _other_number(d.get("to") or "")}
    if event.kind in _NUMBERED:  # the updates written so far are in the log: the same rule as the SMS
        d = {**d, "number": nth(written, d.get(_NUMBERED[K(event.kind)]))}
    if event.kind == K.NOTE:
        return Entry(event.at, event.actor, f"Note by {event.actor}", note=str(d.get("text", "")))
    if event.kind in STEP_NAMES:
        return Entry(event.at, event.actor, _step(K(event.kind), d, names), "muted")
    describe = WORDS.get(event.kind)
    if describe is None:
        details = ", ".join(f"{k}: {v}" for k, v in d.items())
        return Entry(event.at, event.actor, event.kind.replace("_", " ").capitalize() + (f" ({details})" if details
                                                                                          else ""), "muted")
    text, css = describe(d, _page(d.get("page_id"), pages, others))
    recording = str(d.get("recording_url") or "") if event.kind == K.INFORMATION_ADDED else ""
    return Entry(event.at, event.actor, text, css, recording=recording)


def _step(kind: K, d: dict, names: dict = STEP_NAMES) -> str:
    name = names[kind].format(level=d.get("level"), number=d.get("number") or d.get("level"))
    return f"{name}: {str(d.get('outcome', '')).replace('_', ' ')}"


def _page(page_id: object, pages: dict[int, Page], others: frozenset = frozenset()) -> str:
    page = pages.get(page_id) if isinstance(page_id, int) else None
    if page is None:
        return "a page"
    name = page.name or page.to_number
    return page_words(page.channel, page.purpose, _other_number(name) if page.id in others else name, page.role)


def _other_number(name: str) -> str:
    """``Alice's other number``: a page to the rep's ``phone_alt`` after one to their own number failed for good."""
    return f"{name}'s other number"


def _when(value: object) -> str:
    try:
        return clock(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


LATE_SENT_SECONDS = 10  # a page Twilio took this much after its step was due says how late (no worker ran, ...)


def _late(d: dict) -> bool:
    """A ``page_sent`` line of a page that left late (``late_seconds``; older lines have none)."""
    late = d.get("late_seconds")
    return isinstance(late, (int, float)) and late >= LATE_SENT_SECONDS


def _seconds(value: float) -> str:
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _not_texted_again(d: dict) -> str:
    """An attempt whose missed-call SMS was not sent (``decide.MISSED_SMS_WINDOW``): why; lines without it, nothing."""
    if not d.get("customer_not_texted"):
        return ""
    # worded for what was known then: that SMS may fail later (then ``missed_sms_resent`` tells this attempt anew)
    return (f"; the customer was not texted again: a missed-call SMS had gone at {_when(d.get('last_texted_at'))}, "
            f"less than {d.get('window_minutes', '?')} minutes before")


def _addition_told(d: dict) -> str:
    """Who was texted a repeat caller's addition (``caller_additions.tell_readers``); lines written before it, nothing."""
    if "told" not in d:
        return ""
    told = [_READERS.get(role, role) for role in d.get("told") or []]
    if not told:
        return "; nobody could be texted it (no owner, rep paged or manager with a phone that takes SMS)"
    return f"; texted to {' and '.join(told)}"


_READERS = {"owner": "the owner", "rep": "the reps paged for it", "manager": "the managers"}


def _missed_sms_resent(d: dict, _page: str) -> tuple[str, str]:
    """A missed-call SMS failed after holding back later attempts' SMS: a new one tells the customer of them."""
    how = "was undelivered" if d.get("failed_status") == "undelivered" else "failed"
    return (f"The missed-call SMS to the customer {how}: a new one tells them of the attempt of "
            f"{_when(d.get('attempt_at'))}, not texted on its account", "warn")


def _receipt_failed(d: dict, _page: str) -> tuple[str, str]:
    """The customer's receipt SMS failed for good (``decide._receipt_failed``): e-mailed instead, or nothing can go."""
    how = _how_it_failed(d)
    if d.get("outcome") == "receipt_emailed_instead":
        return f"The receipt SMS to the customer {how}: the receipt is e-mailed to them instead", "warn"
    return (f"The receipt SMS to the customer {how}, and {_no_email(d)}: the customer holds "
            "no written reference, only what they heard on the call", "bad")


def _no_email(d: dict, no_address: str = "no e-mail address is on record") -> str:
    """Why no e-mail went to the customer: an address on record needs SMTP (``Snapshot.has_email``; lines written
    before this was noted had no address)."""
    return "no e-mail can go (SMTP is not configured)" if d.get("email_address") else no_address


def _how_it_failed(d: dict) -> str:
    """How a customer's SMS failed for good, with Twilio's error code: "was undelivered (error 30005)"."""
    how = "was undelivered" if d.get("failed_status") == "undelivered" else "failed"
    return how + (f" (error {d['error_code']})" if d.get("error_code") else "")


_NOTICE_NAMES = {"breach_notice": "apology that the deadline passed", "closing_notice": "notice of the closing",
                 "agreed_closing": "notice of the closing agreed on the phone"}


def _notice_failed(d: dict, _page: str) -> tuple[str, str]:
    """A one-off notice's SMS to the customer failed for good (``decide._notice_failed``): e-mailed, or nothing can."""
    what, how = _NOTICE_NAMES.get(str(d.get("purpose", "")), "notice"), _how_it_failed(d)
    if d.get("outcome") == "notice_emailed_instead":
        return f"The SMS {what} to the customer {how}: it is e-mailed to them instead", "warn"
    told = d.get("told")
    texted = (f"; {' and '.join(dict.fromkeys(told))} texted to phone them" if told
              else "; nobody could be texted to phone them" if told is not None else "")
    return f"The SMS {what} to the customer {how}, and {_no_email(d)}: the customer was not told{texted}", "bad"


def _queued(d: dict, _page: str) -> tuple[str, str]:
    role = str(d.get("role") or "")
    words = page_words(str(d.get("channel", "")), str(d.get("purpose", "page")), str(d.get("to") or ""), role)
    return sentence(words) + (f" ({role})" if role and role != CUSTOMER_ROLE else "") + " queued", ""


def _status(d: dict, page: str) -> tuple[str, str]:
    status = d.get("status", "")
    if d.get("duplicate_of"):  # a second call Twilio made for the page: shown, never the page's own status
        return f"{sentence(page)}: second call {d.get('call_sid', '')}: {status} (not the page's call)", "muted"
    css = "bad" if status in ("failed", "undelivered", "busy", "no-answer") else "ok" if status in (
        "delivered", "answered", "in-progress") else ""
    code = f", error {d['error_code']}" if d.get("error_code") else ""
    return f"{sentence(page)}: {status}{code}", css


def _machine_words(d: dict) -> str:
    """A page call a machine answered: a message is said left only when it followed the greeting (``message_left``;
    a line from before that was recorded says only that voicemail answered)."""
    if "message_left" not in d:
        return "reached voicemail"
    if d["message_left"]:
        return "reached voicemail; its message was left after the greeting"
    if d.get("answered_by") == "fax":
        return "reached a fax machine; no message was left"
    return "reached voicemail while its greeting played; no message is known to have been recorded"


def _duplicate_call(d: dict, page: str) -> tuple[str, str]:
    """``Voice page to Alice: Twilio made a second call for it (CA28...), besides its own (CA57...): answered``."""
    return (f"{sentence(page)}: Twilio made a second call for it ({d.get('duplicate_sid', '?')}), besides its own "
            f"({d.get('sid', '?')}): the phone rang twice; {d.get('status', '')}"), "warn"


def _send_failed(d: dict, page: str) -> tuple[str, str]:
    ending = "; gave up" if d.get("final") else "; will retry"
    covered = attempts_written(d)
    if covered > 1:  # a long retry writes a line per failure_log.LOG_EVERY (session 34), not one per attempt
        return (f"Sending {page} failed {covered} more times since {_when(d.get('last_logged_at'))} (attempt "
                f"{d.get('attempt')}): {d.get('error', '')}{ending}"), "bad"
    return f"Sending {page} failed (attempt {d.get('attempt')}): {d.get('error', '')}{ending}", "bad"


_CANCELED_WHY = {"deadline_passed": "the deadline passed before Twilio took it: \"AT RISK\" was no longer true",
                 # a customer's closing notice (``pages._closing_outdated``)
                 "reopened": "the incident was reopened before Twilio took it: \"closed\" was no longer true",
                 "closed_again": "the incident was reopened and closed again since: the later close's notice tells it"}


def _canceled_why(d: dict) -> str:
    """Why a page was canceled, in words (``page_canceled``'s ``reason``)."""
    why = str(d.get("reason", ""))
    if why == "handed_over":  # a rota hand-off: the rep went off shift (``decisions._hand_over``)
        return (f"handed over at the shift change to {d.get('handed_over_to') or 'the rep on call now'}: the rep "
                "went off shift")
    return _CANCELED_WHY.get(why, why)


def _canceled(d: dict, page: str) -> tuple[str, str]:
    text = f"{sentence(page)} canceled ({_canceled_why(d)})"
    if d.get("earlier_attempt") == "outcome_unknown":  # not sent again, yet perhaps sent before: never "not sent"
        return text + "; an earlier attempt's outcome is unknown: it may have been sent", "warn"
    return text, "muted"


def _held_for(d: dict, page: str) -> str:
    """What a held call waited for (``busy_lines``; a line without ``why`` is this incident's own callback)."""
    if d.get("why") == "rep_on_call" and d.get("other_incident"):
        return "the rep is on a callback of another incident"
    return "the rep is on the callback with the customer"


def _superseded(d: dict, page: str) -> tuple[str, str]:
    if d.get("why") == "later_round":  # since session 34; earlier lines are all held calls
        return _superseded_by_round(d, page)
    text = f"{sentence(page)} NOT sent: a later held call to the same rep rings instead (one call, not one per round)"
    if d.get("earlier_attempt") == "outcome_unknown":  # not sent again, yet perhaps sent before: never "not sent"
        return (f"{sentence(page)} not sent again: a later held call to the same rep rings instead; an earlier "
                "attempt's outcome is unknown: it may have been sent"), "warn"
    return text, "muted"


def _superseded_by_round(d: dict, page: str) -> tuple[str, str]:
    """A rep's page that waited (Twilio failing) while a later round's page to them was written: that one goes."""
    later = PURPOSE_NAMES.get(d.get("later_purpose") or "", d.get("later_purpose") or "page")
    instead = f"the later {later} to the same rep (page {d.get('superseded_by')}) goes instead, with the state of now"
    if d.get("earlier_attempt") == "outcome_unknown":  # not sent again, yet perhaps sent before: never "not sent"
        return (f"{sentence(page)} not sent again: {instead}; an earlier attempt's outcome is unknown: it may have "
                "been sent"), "warn"
    return f"{sentence(page)} NOT sent: {instead} (one page per round, not every round at once)", "muted"


def _acknowledged(d: dict, _page: str) -> tuple[str, str]:
    canceled = d.get("pages_canceled") or 0
    extra = f"; {canceled} queued page{'s' if canceled != 1 else ''} canceled" if canceled else ""
    return f"Acknowledged via {d.get('via', '?')}{extra}", "ok"


def _opened(d: dict, _page: str) -> tuple[str, str]:
    missing = f"; missing: {', '.join(d['missing'])}" if d.get("missing") else ""
    due = (" while the caller was still giving details; the callback deadline is set when they finish"
           if d.get("details_complete") is False else f"; callback due by {_when(d.get('callback_due_at'))}")
    return f"Incident {d.get('reference', '')} opened ({d.get('source', '')}){due}{missing}", ""


def _connected(late: bool) -> Callable[[dict, str], tuple[str, str]]:
    def words(d: dict, _page: str) -> tuple[str, str]:
        minutes = float(d.get("seconds_after_capture") or 0) / 60
        how = "connected live (they waited on the line)" if d.get("live") else "connected"
        return (f"Customer {how} at {_when(d.get('answered_at'))}, {minutes:.1f} min after capture"
                + (" (after the deadline)" if late else " (within the deadline)"), "warn" if late else "ok")
    return words


def _reached_on_related(d: dict, _page: str) -> tuple[str, str]:
    """A related incident's callback counted for this one (``related_callbacks``), met or late on this deadline."""
    minutes = float(d.get("seconds_after_capture") or 0) / 60
    late = d.get("outcome") == "late"
    return (f"Customer reached on related incident {d.get('related_reference', '?')} (callback "
            f"{d.get('callback_id', '?')}, same number) at {_when(d.get('answered_at'))}, {minutes:.1f} min after "
            "capture" + (" (after this incident's deadline)" if late else " (within this incident's deadline)")
            + ": it counts for this incident too", "warn" if late else "ok")


def _related_withdrawn(d: dict, _page: str) -> tuple[str, str]:
    """That callback's answer was withdrawn on its own incident: not counted here either."""
    why = "too short to count" if d.get("why") == "bridge_too_short" else "it did not happen"
    return (f"The call on related incident {d.get('related_reference', '?')} answered at "
            f"{_when(d.get('answered_at'))} no longer counts ({why}): not counted for this incident either", "bad")


def _tam_emailed(d: dict, _page: str) -> tuple[str, str]:
    """``The account's TAM told by e-mail (page): outside their business hours (mon-fri 09:00-17:00, Asia/Tokyo)``."""
    if d.get("why") == "as_breach":  # the correction (``tam_mail.AS_BREACH``)
        return ("The account's TAM told by e-mail that the callback was met after all, as their breach alert had "
                "come by e-mail", "muted")
    what = PURPOSE_NAMES.get(d.get("purpose", ""), d.get("purpose", ""))
    why = (f"outside their business hours ({d.get('hours', '?')}, {d.get('time_zone', '?')})"
           if d.get("why") == "after_hours" else "no TAM phone is on file")
    return f"The account's TAM told by e-mail ({what}), not paged: {why}", "muted"


def _tam_texted(d: dict, _page: str) -> tuple[str, str]:
    """``The account's TAM told by SMS (page), not called: outside their business hours (...), and no e-mail ...``."""
    what = PURPOSE_NAMES.get(d.get("purpose", ""), d.get("purpose", ""))
    return (f"The account's TAM told by SMS ({what}), not called: outside their business hours "
            f"({d.get('hours', '?')}, {d.get('time_zone', '?')}), and no e-mail address is on file for them", "muted")


def _tam_not_told(_d: dict, _page: str) -> tuple[str, str]:
    """A named TAM with neither a phone nor an e-mail address on file: their level was paged, they heard nothing."""
    return ("The account's TAM told nothing of this incident (page), nor of its alerts: neither a TAM phone nor a "
            "TAM e-mail address is on file", "warn")


# keyed by EventKind values; a test checks every key is one
# why a resolution was refused, from the outcome the escalation core logged with it
_RESOLVE_REFUSALS = {"refused_no_verified_callback": "no verified callback",
                     "refused_needs_agreement": "the customer's agreement is needed",
                     "refused_already_resolved": "already resolved"}

# how the close a reopen undid came (``reopen.close_kind``)
_CLOSES = {"verbal": "on a verbal agreement the rep recorded", "manager": "by a manager",
           "silence": "after the customer's silence", "customer": "the customer confirmed"}
WORDS: dict[str, Callable[[dict, str], tuple[str, str]]] = {
    "call_received": lambda d, _: (f"Call received from {d.get('from') or 'a withheld number'}", ""),
    "call_status": lambda d, _: (f"Caller's call {d.get('status')}"
                                 + (f" after {d['duration']} s" if d.get("duration") else ""), "muted"),
    "incident_opened": _opened,
    "deadline_set": lambda d, _: (
        f"Details in ({str(d.get('reason', '')).replace('_', ' ')}): callback due by {_when(d.get('callback_due_at'))}"
        + ("; kept, as a callback had already reached the customer" if d.get(DEADLINE_KEPT) else "")
        + (f"; the breach logged on the provisional deadline of {_when(d[BREACH_WITHDRAWN])} no longer counts"
           if d.get(BREACH_WITHDRAWN) else ""), ""),
    "breach_withdrawn": lambda d, _: (f"The breach logged on the provisional deadline of {_when(d.get('breached_at'))} "
                                      f"no longer counts: the callback is due by {_when(d.get('callback_due_at'))}",
                                      ""),
    "call_unseen": lambda d, _: (f"A call of {d.get('duration') or '?'} s ended whose start never reached the "
                                 "hotline (its first webhook was lost): taken as a missed call", "warn"),
    "incident_rescued": lambda d, _: (f"Saved from an unfinished call ({d.get('reason', '')})", "warn"),
    "call_end_unreported": lambda d, _: ("Twilio never reported the end of the call: taken as hung up after the "
                                         f"last answer, at {_when(d.get('last_heard'))}", "warn"),
    "information_added": lambda d, _: (f"Caller added information: {d.get('text') or ''}"
                                       + (" (with a recording)" if d.get("recording_url") else "")
                                       + _addition_told(d), ""),
    "voicemail_recorded": lambda d, _: (f"Voicemail recorded ({d.get('seconds', 0)} s)", ""),
    "page_queued": _queued,
    "page_sent": lambda d, page: (f"{sentence(page)} sent"
                                  + (f", {_seconds(d['late_seconds'])} after it was due" if _late(d) else "")
                                  + (", possibly a second copy" if d.get("possible_duplicate") else ""),
                                  "warn" if _late(d) else ""),
    "page_status": _status,
    "page_send_failed": _send_failed,
    "page_canceled": _canceled,
    "page_reached_machine": lambda d, page: (f"{sentence(page)} {_machine_words(d)}", "bad"),
    "page_duplicate_call": _duplicate_call,
    "page_sms_failed_calling": lambda d, page: (f"{sentence(page)} failed; calling instead", "warn"),
    "page_failed_other_number": lambda d, page: (f"{sentence(page)} failed; paging "
                                                 f"{_other_number(str(d.get('to') or 'the rep'))} instead", "warn"),
    "missed_sms_resent": _missed_sms_resent,
    "receipt_sms_failed_emailed": _receipt_failed,
    "receipt_sms_failed_no_address": _receipt_failed,
    "receipt_withheld": lambda d, page: ("No receipt SMS: the caller gave no details and their number is an unproven "
                                         "caller ID, and the hourly bound on such receipts was reached (a flood of "
                                         "hang-ups after triage, perhaps spoofed)", "warn"),
    "customer_notice_sms_failed_emailed": _notice_failed,
    "customer_notice_sms_failed_no_address": _notice_failed,
    "page_not_sent_opted_out": lambda d, page: (f"{sentence(page)} NOT sent: the number opted out of SMS (texted "
                                                "STOP); texting START to the hotline number lifts it", "bad"),
    "page_held": lambda d, page: ((f"{sentence(page)} held until {_when(d.get('until'))}: the rep's previous call "
                                   "left less than a minute ago") if d.get("why") == "spaced_from_last_call" else
                                  f"{sentence(page)} held: {_held_for(d, page)}; it goes when that call ends", "muted"),
    "page_released": lambda d, page: (f"{sentence(page)} released: " + (
        "the phone's other call ended" if d.get("why") == "line_free" else "the callback it waited for ended"), ""),
    "customer_sms_waits": lambda d, page: (f"{sentence(page)} waits for the customer's earlier text (page "
                                           f"{d.get('after_page_id')}) to go first, so they read them in order",
                                           "muted"),
    "page_not_sent_superseded": _superseded,
    "tam_emailed": _tam_emailed,
    "tam_texted_no_email": _tam_texted,
    "tam_not_told": _tam_not_told,
    "nobody_to_page": lambda d, _: (f"Nobody to page at escalation level {d.get('level')}", "bad"),
    "level_unreached": lambda d, _: ("Every page of this escalation level failed: the managers are paged at once",
                                     "bad"),
    "target_unresolvable": lambda d, _: (f"An escalation target could not be resolved: {d.get('error', '')}", "bad"),
    "acknowledged": _acknowledged,
    "acknowledgement_refused": lambda d, _: (
        f"Refused ({d.get('via', '?')}): {str(d.get('outcome') or d.get('reason', '')).replace('_', ' ')}", "muted"),
    "taken_over": lambda d, _: (f"Taken over via {d.get('via', '?')}", "warn"),
    "reached_by_email": lambda d, _: (f"Customer reached by e-mail: {d.get('how', '')}", "ok"),
    "resolved": lambda d, _: ("Resolved" + (f" by a manager: {d['reason']}" if d.get("by_manager") else "")
                              + (f" ({d['agreed_by']} agreed)" if d.get("agreed_by") else "")
                              + (", not confirmed (the customer stayed silent)"
                                 if d.get("outcome") == "resolved_unconfirmed" else ""), "ok"),
    "incident_reopened": lambda d, _: (
        ("Reopened by the customer's NO" + (f': "{d["words"]}"' if d.get("words") else "")
         if d.get("by") == "customer" else f"Reopened: {d.get('reason', '')}")
        + (f" (undoing the close {_CLOSES.get(d.get('close', ''), 'before it')})" if d.get("undoes") else ""), "bad"),
    "resolve_refused": lambda d, _: (f"Resolving refused: {_RESOLVE_REFUSALS.get(d.get('outcome', ''), 'no verified callback')}",
                                     "muted"),
    "connect_deferred": lambda d, _: (f"Asked to call the customer via {d.get('via', '?')} while they were still on "
                                      "the hotline: connecting when their call ends", "warn"),
    "callback_requested": lambda d, _: (
        f"Voicemail message requested: the hotline dials {d.get('to', '')} for the rep to leave a message (not a "
        "callback attempt)" if d.get("message") else
        f"Callback requested: the hotline calls the rep, then {d.get('to', '')}", ""),
    "callback_rep_call_placed": lambda d, _: ("Calling the rep's phone", ""),
    "callback_rep_call_failed": lambda d, _: (f"Could not call the rep: {d.get('error', '')}"
                                              + ("; gave up" if d.get("final") else "; will retry"), "bad"),
    "callback_rep_leg_status": lambda d, _: (f"Rep's phone: {d.get('status', '')}"
                                             + (" (a second call to the rep: ignored)" if d.get("other_leg") else "")
                                             + (" (the call that failed, already followed by a call to the rep's "
                                                "other number: ignored)" if d.get("left_call") else "")
                                             + (" (heard after the call had ended: ignored)" if d.get("after_end")
                                                else ""),
                                             "muted"),
    "callback_rep_answered": lambda d, _: ("The rep answered the hotline's call for this callback"
                                           + (" and pressed a key" if d.get("key") else ""), ""),
    "callback_rep_leg_refused": lambda d, _: ("The rep answered a second call for this callback: not dialling the "
                                              "customer again (the first call answered does)", "warn"),
    "outage_not_linked": lambda d, _: (
        f"Opened while outage {d.get('outage_id', '?')} was declared, not linked to it: its caller said "
        f"{SERVICE_SHORT.get(d.get('caller_said', ''), 'nothing of the service')}, the outage is "
        f"{SERVICE_SHORT.get(d.get('outage_service', ''), 'another service')} (a manager may link it on the outage's "
        "page)", "muted"),
    "outage_unlinked": lambda d, _: (
        f"Taken out of outage {d.get('outage_id', '?')}: no more of its updates nor its resolution proposal", "warn"),
    "outage_resolution_not_proposed": lambda d, _: (
        f"The outage was resolved, but this customer was not asked to confirm: {d.get('why', '')}", "warn"),
    "outage_resolution_proposed_after_callback": lambda d, _: (
        "The outage was resolved before this customer's callback; now that they were reached, its resolution is "
        "proposed to them", ""),
    # a call Twilio took and then reported failed names it (``failed_call``); a refusal's line names none
    "callback_rep_other_number": lambda d, _: ("The hotline could not call the rep ("
                                               + ("their number failed" if d.get("failed_call")
                                                  else "Twilio refused their number")
                                               + "): calling the rep's other number instead", "warn"),
    "callback_rep_not_reached": lambda d, _: (f"The rep was not reached ({str(d.get('why', '')).replace('_', ' ')}): "
                                              "the customer was not called", "bad"),
    "callback_leg_status": lambda d, _: (f"Customer's phone: {d.get('status', '')}"
                                         + (" (Twilio asked for the key prompt)" if d.get("seen_by") == "whisper"
                                            else ""), "muted"),
    "twilio_clock_disagrees": lambda d, _: (
        f"Twilio's time of the customer's phone being {d.get('status', '')} ({d.get('timestamp', '')}) is outside "
        f"the callback's time here: counted as heard ({d.get('heard_at', '')}); check the clocks", "warn"),
    "callback_met": _connected(False),
    "callback_late": _connected(True),
    "callback_reached_on_related": _reached_on_related,
    "callback_related_withdrawn": _related_withdrawn,
    "callback_answered_again": lambda d, _: (f"Customer connected again at {_when(d.get('answered_at'))} "
                                             "(reached before: the first answer counts)", "muted"),
    "callback_withdrawn": lambda d, _: ((
        f"The call answered at {_when(d.get('answered_at'))} lasted {d.get('dial_seconds') or 'no'} seconds, too "
        "short to count as the callback: the customer is still owed one"
        + ("; the rep had hung up first" if d.get("rep_hung_up") else "")) if d.get("why") == "bridge_too_short" else (
        f"The live connection counted at {_when(d.get('answered_at'))} did not "
        "happen (the caller's line dropped before the bridge): not counted"), "bad"),
    "callback_attempted": lambda d, _: (("Customer not reached: a voicemail answered" if d.get("voicemail") else
                                         f"Customer not reached ({d.get('status', 'no answer')}"
                                         + (" after their phone rang)" if d.get("rang") and d.get("status") in
                                            ("canceled", "failed") else ")"))
                                        + _not_texted_again(d), "bad"),
    "callback_message_left": lambda d, _: ("Message left on the customer's voicemail by the rep, put through after "
                                           "its greeting (not a callback attempt: the customer was not reached)",
                                           "warn"),
    "callback_message_not_left": lambda d, _: (f"No message left: no voicemail answered the message call "
                                               f"({d.get('status', 'no answer')})", "bad"),
    "callback_self_reported": lambda d, _: (f"Reports calling the customer from their own phone at "
                                            f"{_when(d.get('called_at'))}"
                                            + (f": {d['note']}" if d.get("note") else ""), "warn"),
    "self_report_not_recorded": lambda d, _: ("Also reports calling the customer from their own phone (not recorded: "
                                              "one such call is already recorded)", "muted"),
    # "so_far": the alert's words of the callbacks tried (lines before session 41 have none: "no callback started"
    # was all they said, even of callbacks tried and not answered)
    "callback_at_risk": lambda d, _: (f"Callback at risk: {d.get('so_far') or 'no callback started'}; "
                                      f"{d.get('alerted', 0)} alerts queued", "warn"),
    "callback_breached": lambda d, _: (f"Deadline of {_when(d.get('due_at'))} breached", "bad"),
    "breach_corrected": lambda d, _: _breach_corrected(d),
    "customer_breach_notice": lambda d, _: _breach_notice(d),
    "customer_closing_notice": lambda d, _: _closing_notice(d),
}

_NOTICE_BY = {"sms": "by SMS", "email": "by e-mail"}


def _breach_corrected(d: dict) -> tuple[str, str]:
    """``The callback was met after all (answered at 08:05:12 UTC, 18 seconds before the 08:05:30 UTC deadline)``:
    in the correction SMS's words (``page_text.answered_in_time``); an older line has no deadline in it."""
    try:
        when = answered_in_time(datetime.fromisoformat(str(d["answered_at"])),
                                datetime.fromisoformat(str(d["due_at"])), _utc)
    except (KeyError, ValueError):
        when = f"at {_when(d.get('answered_at'))}"
    return f"The callback was met after all (answered {when}): {d.get('alerted', 0)} told so who had the breach alert", "ok"


def _utc(when: datetime, seconds: bool = False) -> str:
    return hhmm(when, "UTC", seconds)


def _breach_notice(d: dict) -> tuple[str, str]:
    """The apology to the customer that the deadline passed without reaching them: queued (its own lines say whether
    it was sent), or NOT sent for want of a channel."""
    by = _NOTICE_BY.get(str(d.get("channel", "")))
    if by is None:
        return ("Customer NOT told that the callback deadline passed: their number takes no SMS (or opted out) and "
                f"{_no_email(d, 'there is no e-mail address')}", "bad")
    return (f"Apology to the customer queued {by}: the callback deadline of {_when(d.get('due_at'))} passed "
            "without reaching them; escalated to the managers, an engineer calls as soon as possible", "warn")


def _closing_notice(d: dict) -> tuple[str, str]:
    """The customer told that the support team closed their incident (a manager's close) or that it was closed as
    agreed on the phone (a rep's record), or NOT for want of a channel."""
    by = _NOTICE_BY.get(str(d.get("channel", "")))
    if by is None:
        return ("Customer NOT told that the incident was closed: their number takes no SMS (or opted out) and "
                f"{_no_email(d, 'there is no e-mail address')}", "bad")
    # the SMS says to reply NO with the reference (within REOPEN_WINDOW_DAYS it reopens the incident); nothing reads
    # a reply to the e-mail, so it says to call
    how = "reply NO or call" if by == "by SMS" else "call"
    if d.get("agreed"):  # a rep's record of the customer's verbal agreement
        return (f"Closing notice to the customer queued {by}: closed as agreed with them on the phone; they may {how} "
                "if the problem is not resolved", "muted")
    return (f"Closing notice to the customer queued {by}: the support team closed the incident (the reason is not "
            f"given); they may {how} if the problem is not resolved", "muted")

# issue 9: caller-trust events (kept in their own module)
from app.dashboard.trust_words import TRUST_WORDS  # noqa: E402

WORDS.update(TRUST_WORDS)

_LEFT = {"bridged": "after talking to the engineer", "hangup": "hung up while waiting: the callback goes on",
         "leave": "waited the longest allowed: the callback goes on"}
WORDS.update({  # issue 13: live connect
    "live_connect_offered": lambda d, _: ("Caller offered: " + ("an engineer is ready, press 1" if d.get("engineer_ready")
                                                                else "wait on the line"), "muted"),
    "live_connect_withheld": lambda d, _: ("Caller not offered the wait on the line: no hotline worker ran to page "
                                           "or call (told the callback stands)", "warn"),
    "live_wait_started": lambda d, _: ("Caller waits on the line" + (" for the engineer" if d.get("engineer_ready")
                                                                     else " while paging goes on"), ""),
    "live_connecting": lambda d, _: (f"Caller taken off hold for the rep after {d.get('queue_seconds', 0)} s", ""),
    "live_wait_ended": lambda d, _: (f"Caller left the line ({_LEFT.get(d.get('result', ''), d.get('result', ''))})",
                                     "warn" if d.get("result") in ("hangup", "leave") else "muted"),
})

_OPTED_OUT_HOW = {"keyword": "the customer texted STOP", "opt_out_type": "the customer texted STOP",
                  "twilio_21610": "Twilio refused an SMS to it (error 21610)"}
def _opted_out_how(d: dict) -> str:
    """How the number opted out: the keyword it texted (STOP, STOPP, ...), or Twilio's refusal."""
    if d.get("source") == "keyword" and d.get("keyword"):
        return f"the customer texted {d['keyword']}"
    return _OPTED_OUT_HOW.get(d.get("source", ""), "?")


_SKIPPED_WHY = {"sms_opted_out": "the number opted out of SMS (STOP)", "no_smtp": "SMTP is not configured",
                # the TAM's breach e-mail and its correction: the pages' rule (``pages.outdated_by_answer``)
                "callback": "it waited for SMTP until the customer was called back, so its alert was no longer true",
                "callback_not_met": "the answer it told of no longer counts (too short), so it was no longer true",
                # the customer's held words (one SMS per 15 minutes), read by the owner with the customer's answer
                "quoted_with_answer": "its words were quoted in the SMS of the customer's answer",
                # an e-mail that waited for SMTP and would have said what is no longer true (app.services.late_mail)
                "superseded_by_breach": "it waited for SMTP past the breach, which the breach e-mail tells instead",
                "deadline_passed": "it waited for SMTP past the deadline, so its minutes left were no longer true",
                # the at-risk e-mail: the at-risk step's rule as of its send (escalation.decide)
                "resolved": "it waited for SMTP until the incident was resolved, so its alert was no longer true",
                "callback_done": "it waited for SMTP until the customer was reached, so its alert was no longer true",
                "callback_started": "it waited for SMTP until a callback to the customer was under way, so its "
                                    "alert was no longer true"}


_RECIPIENTS = {"tam": "account's TAM"}


def _delivery(d: dict) -> str:
    """``EMAIL receipt to the customer``: what a delivery line is about."""
    what = " ".join(str(w) for w in (str(d.get("channel", "")).upper(), d.get("purpose")) if w) or "A message"
    whom = _RECIPIENTS.get(d.get("recipient", ""), d.get("recipient"))
    return what + (f" to the {whom}" if whom else "")


def _skipped(d: dict, _page: str) -> tuple[str, str]:
    return f"{_delivery(d)} NOT sent: {_SKIPPED_WHY.get(d.get('reason', ''), d.get('reason', ''))}", "bad"


WORDS.update({  # the customer's SMS: opt-out, answers and words; deliveries not sent
    "sms_opted_out": lambda d, _: (f"Customer's number opted out of SMS ({_opted_out_how(d)}):"
                                   " no SMS goes to it until it texts START (e-mail, if any, still goes)", "bad"),
    "sms_opted_in": lambda d, _: (f"Customer's number opted back in to SMS ({d.get('keyword') or 'START'})", "ok"),
    "sms_help_asked": lambda d, _: (f"Customer asked for help by SMS ({d.get('keyword', 'HELP')}): a keyword, "
                                    "answered automatically and not texted to the owner; call them if they need more",
                                    "warn"),
    "customer_sms_answer": lambda d, _: (f"Customer answered by SMS: {'YES' if d.get('confirmed') else 'NO'}"
                                         + (f" ({d['text']})" if d.get("text") else ""), ""),
    "customer_sms_message": lambda d, _: (("Customer texted from the number they called from, not the callback "
                                           "number (unverified): " if d.get("from") == "caller_id"
                                           else "Customer texted: ") + str(d.get("text", ""))
                                          + (" (the owner was told by SMS)" if d.get("owner_told") else "")
                                          + (f" (held back: texted to the owner with their other words at "
                                             f"{_when(d['held_until'])})" if d.get("held_until") else ""), "warn"),
    "delivery_skipped": _skipped,
    "held_words_released": lambda d, _: ("A callback started: the customer's held texts were sent at once",
                                         "ok"),
    # a paged rep or a manager acted on the owner's incident by SMS (``update_rights``)
    "owner_told_of_sms": lambda d, _: (f"The owner was told by SMS of this {str(d.get('command', '')).upper()} "
                                       "by another rep" if d.get("told_rep_ids") else
                                       f"{str(d.get('command', '')).upper()} by a rep who does not own the incident; "
                                       "nobody else to tell", ""),
    "tam_sms_message": lambda d, _: (f"The account's TAM ({d.get('tam', 'TAM')}) texted: {d.get('text', '')}"
                                     + (" (texted to the owner or the reps)" if d.get("told_rep_ids")
                                        else " (nobody could be texted it)"), "warn"),
    # kept under its first name: the dashboard's and the keypad's refusals of the same rule (``update_rights``) too
    "update_sms_refused": lambda d, _: (f"{_COMMAND_WORDS.get(str(d.get('command', '')), str(d.get('command', '')).upper())}"
                                        f" {_VIA_WORDS.get(str(d.get('via', 'sms')), 'by SMS')} refused: "
                                        + _REFUSED_WHY.get(str(d.get("why", "")), "not paged for it and not the owner"),
                                        "muted"),
    "delivery_queued": lambda d, _: (f"{_delivery(d)} queued", "muted"),
    # the SMTP server (or Twilio) accepted it: not proof that it was read
    "delivery_sent": lambda d, _: (f"{_delivery(d)} accepted for delivery (attempt {d.get('attempt', '?')})", ""),
})


def _stamp(value: object) -> str:
    try:
        return stamp(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


_PROPOSED = {"resolved": "resolved", "workaround": "a workaround provided"}
_VIA_WORDS = {"sms": "by SMS", "dashboard": "on the dashboard", "keypad": "on a call's keypad"}
_COMMAND_WORDS = {"agreed": "Recording the customer's agreement"}
_REFUSED_WHY = {"not_owner": "only the owner or a manager may", "not_a_rep": "a login linked to no active rep"}
_NO_VIA = {"sms": "by SMS", "link": "by the e-mail link", "call": "on the keypad"}
WORDS.update({  # issue 11: resolution by agreement; silence that proves nothing keeps the incident open
    "resolution_proposed": lambda d, _: (
        f"Resolution proposed to the customer ({_PROPOSED.get(d.get('kind', ''), d.get('kind', ''))}); "
        f"their silence until {_stamp(d.get('expires_at'))} would close it, unconfirmed", ""),
    "resolution_confirmed": lambda d, _: (f"The customer confirmed the resolution (via {d.get('via', '?')}"
                                          + (f", {d['agreed_by']}" if d.get("agreed_by") else "") + ")", "ok"),
    "resolved_with_related": lambda d, _: (f"Closed with related incident {d.get('related_reference', '')}, whose "
                                           "callback reached the customer here: they agreed to its resolution", "ok"),
    "resolution_rejected": lambda d, _: ("The customer said it is NOT resolved: updates resume, next due by "
                                         f"{_stamp(d.get('next_update_due_at'))}", "bad"),
    "resolution_undelivered": lambda d, _: ("The resolution proposal never reached the customer (no message of it was "
                                            "sent): their silence proves nothing; the incident is still open and an "
                                            "update is due now", "warn"),
    "resolution_proposal_undelivered": lambda d, _: (
        f"The resolution proposal reached the customer by NO channel ({_channels(d)}); "
        f"{_told(d)}", "bad"),
    "resolution_unclear": lambda d, _: ("The customer wrote back without a YES or NO to the resolution proposal: "
                                        "the incident is still open and an update is due now", "warn"),
    "verbal_agreement_after_no": lambda d, _: (
        f"Verbal agreement recorded by {d.get('recorded_by', 'a rep')} although the customer's last answer was NO "
        f"({_NO_VIA.get(d.get('no_via', ''), d.get('no_via', ''))}, {_stamp(d.get('no_at'))}) and nothing shows they "
        "were reached since: the rep was warned and confirmed", "warn"),
    "resolved_unconfirmed": lambda d, _: ("Closed after the customer stayed silent on the resolution proposal "
                                          "(not confirmed)", "muted"),
})

def _channels(d: dict) -> str:
    """"sms failed, email skipped": what became of each of a message's channels."""
    return ", ".join(f"{channel} {status}" for channel, status in sorted((d.get("channels") or {}).items(),
                                                                        reverse=True)) or "none"


def _told(d: dict) -> str:
    """Who was told by SMS to phone the customer (the owner, the managers), or that nobody could be."""
    told = sorted(set(d.get("told") or []))
    if told == ["writer"]:  # nothing could carry it: the rep who wrote it was told so on the spot
        return "the rep who wrote it was told at once to phone them"
    if not told:
        return "nobody could be told by SMS (no owner or manager with a phone, or the incident is closed)"
    return f"the {' and the '.join(told)}{'s' if told == ['manager'] else ''} told by SMS to phone them"


def _apology(d: dict) -> str:
    """What the customer was told of an update's lateness (its first late line only; older lines say nothing)."""
    if "customer_told" not in d:
        return ""
    told = d["customer_told"]
    return f"; the customer was sent an apology ({', '.join(told)})" if told else "; no written channel reaches the customer"


def _update_name(d: dict) -> str:
    """``Customer update 2`` (the Nth owed: ``update_numbers``), or ``A customer update`` when none was owed."""
    return f"Customer update {d['number']}" if d.get("number") else "A customer update"


def _update_undelivered(d: dict) -> str:
    """An update that reached the customer by no channel: every message of it failed, or none could be sent."""
    name = _update_name(d)
    if not d.get("channels"):
        return (f"{name} was recorded but NOT sent: the customer has no number that takes SMS and no e-mail "
                f"address; {_told(d)}")
    return f"{name} was sent, NOT delivered: it reached the customer by no channel ({_channels(d)}); {_told(d)}"


def _message_stalled(d: dict) -> str:
    """An update or proposal that has reached the customer by no channel so far, its e-mail still being retried."""
    if d.get("proposal_id"):
        name = "The resolution proposal"
    elif d.get("interval_id"):
        name = "The confirmation of the update interval"
    else:
        name = _update_name(d)
    return f"{name} has NOT reached the customer so far ({_channels(d)}); {_told(d)}"


def _update_sent(d: dict) -> str:
    """``Customer update 2 sent by sms (12 min late) to sms, email``; one no round owed reads as an extra update,
    with why when its line says."""
    late = int(d.get("late_seconds") or 0)
    when = (f" (extra: {recorded_why(d.get('extra'))})" if not d.get("number")
            else " (on time)" if late == 0 else f" ({late} s late)" if late < 60 else f" ({late // 60} min late)")
    to = ", ".join(str(c) for c in d.get("channels") or []) or "no channel"
    return f"{_update_name(d)} sent via {d.get('via', '?')}{when} to {to}"


def _restarted(d: dict) -> str:
    """What a schedule restarted by a callback met after a withdrawn one kept (older lines say nothing of it)."""
    if not d.get("restarted"):
        return ""
    if d.get("via", "default") == "default":
        return " (restarted after a callback that did not count; the customer was told no interval)"
    return " (restarted after a callback that did not count, at the interval the customer was told)"


WORDS.update({  # policy step 5: the customer's updates, owed from the moment they were reached
    "customer_update_sent": lambda d, _: (_update_sent(d), "ok"),
    "customer_update_late": lambda d, _: (f"{_update_name(d)} not sent by its due time "
                                          f"{_stamp(d.get('due_at'))}: {d.get('alerted', 0)} managers told"
                                          + _apology(d), "warn"),
    "customer_update_undelivered": lambda d, _: (_update_undelivered(d), "bad"),
    "customer_message_stalled": lambda d, _: (_message_stalled(d), "bad"),
    "interval_confirmation_undelivered": lambda d, _: (
        f"The confirmation of the update interval reached the customer by NO channel ({_channels(d)}): they were "
        f"not told it; {_told(d)}", "bad"),
    "updates_scheduled": lambda d, _: (f"Customer updates owed every {d.get('interval_minutes', '?')} minutes; "
                                       f"the first by {_stamp(d.get('first_due_at'))}" + _restarted(d), ""),
    "updates_counted_from_call_end": lambda d, _: ("The call ended: the first customer update is owed by "
                                                   f"{_stamp(d.get('first_due_at'))}", "muted"),
    "updates_withdrawn": lambda d, _: ("Customer updates stopped: the callback did not count; they start again "
                                       "when a callback is met", "muted"),
})
