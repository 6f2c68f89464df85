"""How the dashboard words and colours times, deadlines and incident states (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from app.dashboard.queries import BoardIncident, LastCallback
from app.event_kind import EventKind
from app.models import Callback, Incident, IncidentEvent, IncidentStatus, Page, PageStatus, Rep
from app.models.paging import CUSTOMER_ROLE, DEADLINE_PASSED, SUPERSEDED_BY_ROUND, outcome_unknown, superseded
from app.oncall.wallclock import zone
from app.reports.facts import is_breached, seconds_between, short_bridges
from app.services.callbacks import MIN_CONVERSATION_SECONDS
from app.services.escalation import customer_dialled
from app.services.page_text import SERVICE_SHORT
from app.services.sms_opt_outs import OPTED_OUT_REASON
from ivr_flows.prompts import zone_label

WARN_SECONDS = 5 * 60  # the last five minutes before the deadline show amber
TWILIO_RECORDING_HOSTS = ("api.twilio.com",)
CHANNEL_NAMES = {"sms": "SMS", "voice": "voice call"}
PURPOSE_NAMES = {"page": "page", "at_risk": "at-risk alert", "breach": "breach alert",
                 "receipt": "receipt SMS", "ack_notice": "acknowledgement SMS",
                 "callback_missed": "missed-callback SMS", "breach_notice": "missed-deadline apology SMS",
                 "closing_notice": "closing SMS",
                 "agreed_closing": "closing SMS (as agreed)", "bridge_too_short": "short-callback notice",
                 "breach_corrected": "not-breached-after-all SMS", "handed_over": "hand-off notice"}
BAD_PAGE_STATUSES = {"failed", "undelivered", "busy", "no-answer", "machine"}
GOOD_PAGE_STATUSES = {"delivered", "answered"}
# the latest bridged callback ended without a person on the customer's side: what the state says instead of "calling"
ENDED_CALLBACKS = {"attempted": "Callback attempted: the customer was not reached; call again",
                   "voicemail": "Callback attempted: a voicemail answered, the customer was not reached; call again",
                   "rep_not_reached": "The hotline could not reach {owner}: the customer was NOT called; call again",
                   # the rep's voicemail message call after such an attempt: the customer is still not reached
                   "message_left": "Callback attempted: a voicemail answered and a message was left there, the "
                                   "customer was not reached; call again",
                   "no_message": "Callback attempted: a voicemail answered, the customer was not reached; call again"}
# ... and when the customer answered it, too briefly to count (a probe's board said "not reached" of a 4-second call)
TOO_SHORT_CALLBACK = (f"Callback too short to count: the customer answered, the call lasted under "
                      f"{MIN_CONVERSATION_SECONDS} s; call again")
MACHINE_OUTCOMES = {"voicemail": "Voicemail", "message_left": "Voicemail"}  # a machine, never the customer, answered
UNPROVEN_ENDS = {"canceled", "failed"}  # final without an accepted send: "not sent", unless an attempt's outcome is unknown


# State, Deadline, PagedPerson and BoardRow are named tuples, not frozen dataclasses: the board builds one
# Deadline per open incident at every poll, and the others per row it builds; a frozen dataclass costs several
# times as much to build (its __init__ sets each field through object.__setattr__).
class State(NamedTuple):
    """An incident's state in a few words, and its colour class."""

    label: str
    css: str


class Deadline(NamedTuple):
    """The callback deadline in words and colour: ``At risk`` + ``4:10 left``; ``ticking`` if it still counts down."""

    word: str
    text: str
    css: str
    ticking: bool


class PagedPerson(NamedTuple):
    """One person paged for an incident: their latest page's status, what it was for, and how many pages."""

    name: str
    channel: str
    status: str
    purpose: str
    count: int
    css: str

    @property
    def line(self) -> str:
        """``Alice, SMS: delivered`` (what the person's latest page did)."""
        return f"{self.name}, {CHANNEL_NAMES.get(self.channel, self.channel)}: {self.status}"


class BoardRow(NamedTuple):
    """One line of the live board, as far as it does not depend on the time (``deadline_of`` does)."""

    incident: Incident
    pages: list[Page]
    acknowledged_by: str
    state: State
    paged: tuple[PagedPerson, ...] = ()
    taken_over_at: datetime | None = None  # the owner took it over (did not acknowledge it) at this time


def board_row(item: BoardIncident) -> BoardRow:
    """The board's row of ``item``: its state and who was paged."""
    return BoardRow(item.incident, item.pages, item.acknowledged_by,
                    state_of(item.incident, item.pages, item.acknowledged_by, item.self_reported_by,
                             item.last_callback, item.taken_over_at, item.incident.reached_on_reference or "",
                             item.confirming_until),
                    paged_people(item.pages), item.taken_over_at)


ON_HOTLINE = Deadline("Caller on the line", "giving their details: the 15 minutes start when they finish", "ok", False)
DUE_AT_CALL_END = "the callback deadline is set when the call ends"  # instead of "call back by", meanwhile


def deadline_of(incident: Incident, now: datetime, on_hotline: bool = False,
                confirming_until: datetime | None = None) -> Deadline:
    """The deadline's word, text and colour at ``now``; it stops ticking once called back or resolved, and does not
    tick while the caller who opened it is still giving their details (``on_hotline``, issue 13: its deadline is a
    provisional one until they finish). ``confirming_until``: the callback is connected and not proven yet
    (``reports.confirming``): neither met nor late until then."""
    left = remaining_seconds(incident.callback_due_at, now)
    if incident.callback_answered_at is not None:
        took = called_back_in(incident.captured_at, incident.callback_answered_at)
        if confirming_until is not None:
            return Deadline("Confirming", f"connected after {took}, counted after {MIN_CONVERSATION_SECONDS} s of "
                                          "conversation", "warn", False)
        late = incident.callback_answered_at > incident.callback_due_at
        return Deadline("Late" if late else "Met", f"called back in {took}", "bad" if late else "ok", False)
    if incident.status != IncidentStatus.OPEN:  # closed without a met callback: breached by the report's one rule
        if is_breached(False, incident.callback_due_at, incident.breached_at, now):
            return Deadline("Breached", f"{str(incident.status)} without a met callback", "bad", False)
        return Deadline(sentence(str(incident.status)), "no callback recorded", "done", False)
    if is_breached(False, incident.callback_due_at, incident.breached_at, now, on_hotline):  # the report's rule
        return Deadline("Breached", countdown_text(left), "bad", True)
    if on_hotline:
        return ON_HOTLINE
    if left <= WARN_SECONDS:
        return Deadline("At risk", countdown_text(left), "warn", True)
    return Deadline("On track", countdown_text(left), "ok", True)


def called_back_in(captured_at: datetime, answered_at: datetime) -> str:
    """The time to callback as m:ss: the compliance report's figure (``facts.seconds_between``, from the answer's
    instant the met/late rule reads) shown as the report shows it, whole seconds up (900.04 s is 15:01, never the
    15:00 of a kept promise)."""
    took = math.ceil(seconds_between(captured_at, answered_at))
    return f"{took // 60}:{took % 60:02d}"


def paged_people(pages: list[Page]) -> tuple[PagedPerson, ...]:
    """One entry per person paged (by rep, else number), in the order first paged, with their latest page.

    What a person was paged for: ``first page`` when they were in the incident's first round of pages,
    ``escalation`` when paged later, or the alert's name (``at-risk alert``, ``breach alert``).
    """
    ordered = sorted(pages, key=lambda p: (p.created_at, p.id or 0))
    first_round = ordered[0].created_at if ordered else None
    people: dict[object, list[Page]] = {}
    for page in ordered:
        people.setdefault(page.rep_id or page.to_number, []).append(page)
    found = []
    for person_pages in people.values():
        latest = person_pages[-1]
        if latest.purpose == "page":
            purpose = "first page" if person_pages[0].created_at == first_round else "escalation"
        else:
            purpose = PURPOSE_NAMES.get(latest.purpose, latest.purpose)
        # a held call superseded by a later one was never sent: the two are one page, not two
        count = sum(1 for p in person_pages if not superseded_unsent(p) and not overdue_unsent(p)) or 1
        found.append(PagedPerson(latest.name or latest.to_number, str(latest.channel), page_status(latest), purpose,
                                 count, page_css(latest)))
    return tuple(found)


def remaining_seconds(due: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` until ``due`` (negative when past), rounded toward the past."""
    return int((due - now).total_seconds() // 1)


def countdown_text(seconds: int) -> str:
    """``12:05 left`` or ``3:20 overdue`` (minutes:seconds; hours as minutes)."""
    span = abs(seconds)
    text = f"{span // 60}:{span % 60:02d}"
    return f"{text} left" if seconds > 0 else f"{text} overdue" if seconds < 0 else "0:00 left"


def urgency(seconds: int, incident: Incident) -> str:
    """``ok``, ``warn`` or ``bad`` for a countdown; a connected callback is ``ok``, or ``bad`` when late."""
    if incident.callback_answered_at is not None:
        return "ok" if incident.callback_answered_at <= incident.callback_due_at else "bad"
    if seconds <= 0 or incident.breached_at is not None:
        return "bad"
    return "warn" if seconds <= WARN_SECONDS else "ok"


def state_of(incident: Incident, pages: list[Page], acknowledged_by: str, self_reported_by: str = "",
             last_callback: LastCallback | None = None, taken_over_at: datetime | None = None,
             reached_on: str = "", confirming_until: datetime | None = None) -> State:
    """Paged, acknowledged by X, ringing the rep, calling, called from their own phone, reached by e-mail, connected
    or breached.

    ``last_callback`` is the latest bridged callback: one that ended unanswered, or never reached the rep, is said
    so, never "calling the customer"; one whose customer's leg Twilio has not shown dialled is the rep's phone
    ringing (``_calling``). ``taken_over_at``: the owner took it over then (they did not acknowledge it).
    ``reached_on``: the related incident whose callback reached the customer and counts for this one, if any.
    ``confirming_until``: that callback is connected and not proven yet (``reports.confirming``): "confirming", never
    met, until the customer has talked the minimum (a shorter call is withdrawn, and does not count)."""
    if incident.callback_answered_at is not None:
        late = incident.callback_answered_at > incident.callback_due_at
        where = f" on related incident #{reached_on} (counts here too)" if reached_on else ""
        if confirming_until is not None:
            return State(f"Callback connected at {clock(incident.callback_answered_at)}{where}, confirming: it counts "
                         f"once the customer has talked {MIN_CONVERSATION_SECONDS} s", "warn")
        return State(f"Callback connected at {clock(incident.callback_answered_at)}{where}" + (" (late)" if late else ""),
                     "warn" if late else "ok")
    if incident.reached_by_email_at is not None:
        return State(f"Reached by e-mail by {acknowledged_by or 'someone'} at {clock(incident.reached_by_email_at)}",
                     "ok")
    if self_reported_by:  # shown, and it stops the chase, but it is never "met"
        return State(f"Called by {self_reported_by} from their own phone (self-reported, unverified)", "warn")
    if incident.breached_at is not None:
        return State(f"Breached at {clock(incident.breached_at)}", "bad")
    if last_callback is not None and last_callback.too_short:  # they answered: "not reached" would be false
        return State(TOO_SHORT_CALLBACK, "bad")
    ended = ENDED_CALLBACKS.get(last_callback.outcome) if last_callback else None
    if ended is not None:
        return State(ended.format(owner=acknowledged_by or "the rep"), "bad")
    if last_callback is not None and last_callback.outcome == "pending":
        return _calling(incident, last_callback, acknowledged_by)
    if incident.acknowledged_at is not None and taken_over_at is not None:
        return State(f"Taken over by {acknowledged_by or 'someone'} at {clock(taken_over_at)}", "ok")
    if incident.acknowledged_at is not None:
        return State(f"Acknowledged by {acknowledged_by or 'someone'} at {clock(incident.acknowledged_at)}", "ok")
    pages = [page for page in pages if page.role != CUSTOMER_ROLE]  # the receipt pages nobody
    if any(left(page) for page in pages):
        return State("Paged, not acknowledged", "warn")
    if any(page.status in (PageStatus.QUEUED, PageStatus.SENDING) for page in pages):  # not taken by Twilio yet
        return State("Page not sent yet", "bad")
    if pages:  # every one failed or was canceled before Twilio took it (an outside probe's board said "not sent yet")
        return State("Pages failed: nobody reached", "bad")
    return State("Not paged yet", "bad")


def _calling(incident: Incident, callback: LastCallback, acknowledged_by: str) -> State:
    """A bridged callback under way: the customer is being called only once Twilio showed their leg dialled (the
    escalation core's rule, ``customer_dialled``: what the at-risk alert goes by); until then the rep's phone rings."""
    if not customer_dialled(callback):
        rep = callback.rep or acknowledged_by or "the rep"
        return State(f"Ringing {rep} to call the customer since {clock(callback.requested_at)}", "warn")
    owner = f" ({acknowledged_by})" if acknowledged_by else ""
    started = incident.callback_started_at  # the first customer's leg dialled: this callback's, unless it was earlier
    if started is not None and started >= callback.requested_at:
        return State(f"Calling the customer since {clock(started)}{owner}", "warn")
    return State(f"Calling the customer again{owner}", "warn")


def last_bridged(callbacks: list[Callback], rep_names: dict[int, str],
                 events: Sequence[IncidentEvent] = ()) -> LastCallback | None:
    """The latest bridged callback of ``callbacks`` (in request order), as ``state_of`` reads it; ``events``, the
    incident's log, says whether it was withdrawn as too short to count."""
    last = next((c for c in reversed(callbacks) if c.kind == "bridged"), None)
    if last is None:
        return None
    short = short_bridges(e.detail for e in events if e.kind == EventKind.CALLBACK_WITHDRAWN)
    return LastCallback(str(last.outcome), last.requested_at, last.customer_call_sid,
                        rep_names.get(last.rep_id, "") if last.rep_id else "",
                        too_short=str(last.outcome) == "attempted" and last.id in short)


def left(page: Page) -> bool:
    """Twilio accepted the page (``sent_at``): only then may the board say "Paged". A page queued, being sent, or
    failed or canceled before Twilio took it (a Twilio outage, no worker running) reached nobody."""
    return page.sent_at is not None


def clock(when: datetime | None) -> str:
    """``03:15 UTC``; an empty string for no time."""
    if not when:
        return ""
    at = when.astimezone(UTC)
    return f"{at.hour:02d}:{at.minute:02d} UTC"  # not strftime's %H:%M: the board words 6,000 times per build


def answered_cell(callback: Callback) -> str:
    """A callback's "Answered" cell: the time a person answered, or what took the call (never a machine's answer
    time as if the customer had answered)."""
    if callback.outcome in MACHINE_OUTCOMES:
        return MACHINE_OUTCOMES[callback.outcome]
    if callback.answered_at is not None and callback.outcome in ("attempted", "no_message"):
        return "Picked up, no key pressed"
    return clock(callback.answered_at) or "—"


def stamp(when: datetime | None) -> str:
    """``Thu 26 Nov 03:15:07 UTC``; an empty string for no time."""
    return f"{when.astimezone(UTC):%a %d %b %H:%M:%S} UTC" if when else ""


def local(when: datetime, time_zone: str) -> str:
    """``Thu 26 Nov 09:00 CET`` in ``time_zone`` (``... 09:00 UTC+4`` on Dubai's clock, ``zone_label``)."""
    at = when.astimezone(zone(time_zone))
    return f"{at:%a %d %b %H:%M} {zone_label(at)}"


def iso(when: datetime | None) -> str:
    """ISO 8601 UTC with ``Z``, for machine-readable attributes."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else ""


def page_line(page: Page) -> str:
    """``Alice, SMS: delivered``; a page never proven sent whose earlier attempt's outcome is unknown says so."""
    line = f"{page.name or page.to_number}, {CHANNEL_NAMES.get(page.channel, page.channel)}: {page_status(page)}"
    if page.sent_at is None and page.status in UNPROVEN_ENDS and outcome_unknown(page.last_error):
        line += ", an earlier attempt may have been sent"
    return line


def page_words(channel: str, purpose: str, name: str, role: str) -> str:
    """``SMS page to Alice`` or ``acknowledgement SMS to the customer``."""
    what = PURPOSE_NAMES.get(purpose, purpose)
    if role == CUSTOMER_ROLE:
        return f"{what} to the customer" + (f" {name}" if name else "")
    return f"{CHANNEL_NAMES.get(channel, channel)} {what} to {name}"


def sentence(text: str) -> str:
    """``text`` with its first letter in upper case (the rest untouched)."""
    return text[:1].upper() + text[1:]


def opted_out_unsent(page: Page) -> bool:
    """True for a page SMS never asked of Twilio because the number texted STOP (the rep was called instead)."""
    return page.status == "failed" and OPTED_OUT_REASON in (page.last_error or "")


def superseded_unsent(page: Page) -> bool:
    """True for a page never sent because a later one to the same rep went instead (a held call, a later round)."""
    return page.status == "canceled" and superseded(page.last_error)


def overdue_unsent(page: Page) -> bool:
    """True for an at-risk alert never sent because the deadline passed before Twilio took it."""
    return page.status == "canceled" and DEADLINE_PASSED in (page.last_error or "")


def page_status(page: Page) -> str:
    """A page's status in words: ``not sent (opted out)`` for an SMS to a number that texted STOP, ``not sent
    (superseded ...)`` for a held call or an earlier round a later one stood for, else its status."""
    if opted_out_unsent(page):
        return "not sent (opted out)"
    if superseded_unsent(page):
        later = "round" if SUPERSEDED_BY_ROUND in page.last_error else "call"
        return f"not sent (superseded by a later {later})" if not outcome_unknown(page.last_error) else \
            f"canceled (superseded by a later {later})"
    if overdue_unsent(page):
        return "not sent (the deadline passed first)" if not outcome_unknown(page.last_error) else \
            "canceled (the deadline passed first)"
    return str(page.status)


def page_css(page: Page) -> str:
    """Colour of a page's delivery status: amber for an SMS not sent to an opted-out number (no delivery failed)."""
    if opted_out_unsent(page):
        return "warn"
    if page.status in BAD_PAGE_STATUSES:
        return "bad"
    return "ok" if page.status in GOOD_PAGE_STATUSES else "muted"


def safe_link(url: str) -> str:
    """``url`` if it is http(s), else an empty string (no ``javascript:`` links from callers)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url.strip() if scheme in ("http", "https") else ""


def audio_url(url: str) -> str:
    """A playable URL: Twilio recording URLs get ``.mp3``; other http(s) URLs are used as given."""
    link = safe_link(url)
    if not link:
        return ""
    parts = urlsplit(link)
    if parts.hostname in TWILIO_RECORDING_HOSTS and "/Recordings/" in parts.path and \
            not parts.path.endswith((".mp3", ".wav")):
        return parts._replace(path=parts.path + ".mp3").geturl()
    return link


def service(incident: Incident) -> str:
    """The affected service in words."""
    return SERVICE_SHORT.get(incident.affected_service, "service not given")


def target_text(target: dict, reps: dict[int, Rep]) -> str:
    """One escalation target in words, e.g. ``whoever is on call for primary (SMS, voice call)``."""
    channels = target.get("channels")
    via = f" ({', '.join(CHANNEL_NAMES.get(c, c) for c in channels)})" if channels else ""
    kind = target.get("type")
    if kind == "schedule":
        return f"whoever is on call for {target.get('schedule')}{via}"
    if kind == "rep":
        rep = reps.get(target["rep"]) if isinstance(target.get("rep"), int) else None
        return f"{rep.name if rep else target.get('rep')}{via}"
    if kind == "managers":
        return f"every manager{via}"
    return (f"the account's TAM{via} in their business hours, else by e-mail (outside them, or with no TAM phone; "
            "by SMS alone outside them when no e-mail address is on file)")


HELPERS = {"clock": clock, "answered_cell": answered_cell, "stamp": stamp, "local": local, "iso": iso, "page_line": page_line,
           "page_css": page_css, "service": service, "safe_link": safe_link, "audio_url": audio_url,
           "target_text": target_text, "countdown_text": countdown_text, "warn_seconds": WARN_SECONDS,
           "deadline_of": deadline_of, "due_at_call_end": DUE_AT_CALL_END}
