"""An incident's compliance facts, derived only from its append-only event log.

Nothing here reads the ``incidents`` or ``callbacks`` tables: the log is the evidence,
so a report can be re-derived (and audited) from the log alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from app.event_kind import CUSTOMER_RANG, EventKind

# The log lines the facts are folded from (named once, so a renamed kind is changed here only).
OPENED = EventKind.INCIDENT_OPENED  # the line every incident's facts start from
# On the opening line: False when the incident opened while its caller was still giving details (issue 13), so its
# deadline is provisional until a ``deadline_set`` line. Lines written before this key existed read as True.
DETAILS_COMPLETE = "details_complete"
CALLBACK_PREFIX = "callback_"  # every line about one callback carries ``detail.callback_id``
SHORT_BRIDGE = "bridge_too_short"  # a ``callback_withdrawn`` line's ``why``: answered, too short to count (attempted)
# a ``callback_withdrawn`` line's flag: a live answer withdrawn once the rep's <Dial> was over (attempted, not pending)
LIVE_DIAL_OVER = "rep_dial_over"
# On the breach step's line: False when no page of the incident had been sent by the deadline, nor tried by then
# with its outcome unknown (``escalation_steps.paged_by``). Lines written before this key existed say nothing.
PAGED = "paged_by_deadline"
RINGING = frozenset({"ringing", "in-progress", "answered"})  # a customer leg's statuses saying their phone rang
LEG_ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})  # Twilio's final CallStatus of a leg
# The shortest bridge that keeps the callback promise: the callback is to gather more information and start working
# on it (policy.md), which no call of a few seconds does (``callbacks.conversation_too_short`` withdraws a shorter
# one). Until that long after the key press an answer counted at the key press is not proven: the report counts it
# as a callback under way (``Outcome.PENDING``), neither met nor breached, unless its leg's end is logged by then.
MIN_CONVERSATION_SECONDS = 10
MIN_CONVERSATION = timedelta(seconds=MIN_CONVERSATION_SECONDS)
# On a callback_met / callback_late / callback_reached_on_related line: when the customer pressed the key (the
# conversation's start, this host's clock). Lines written before it existed are read as before: proven at once (the
# reports pinned before this release keep their figures; no migration refolds them).
TALKING_SINCE = "talking_since"
FACT_KINDS = (EventKind.INCIDENT_OPENED, EventKind.DEADLINE_SET, EventKind.ACKNOWLEDGED,
              EventKind.CALLBACK_BREACHED, EventKind.REACHED_BY_EMAIL)  # plus every kind starting with CALLBACK_PREFIX
# The lines whose decision makes their rep the owner of an incident nobody owned yet (``escalation.decide``:
# ``set_owner`` on a first acknowledgement, a self-reported call or a recorded e-mail contact; the API and the
# board then say acknowledged): the first of them is the incident's acknowledgement. Only ``acknowledged`` says so
# by its name; a ``CALLED`` or an e-mail contact before anyone pressed ACK is one too, by the same rep, at its time.
OWNING_KINDS = (EventKind.ACKNOWLEDGED, EventKind.CALLBACK_SELF_REPORTED, EventKind.REACHED_BY_EMAIL)


def shapes_facts(kind: str) -> bool:
    """True when a log line of this kind can change an incident's facts (others never do)."""
    return kind in FACT_KINDS or kind.startswith(CALLBACK_PREFIX)


class EventLike(Protocol):
    """What the facts need of a log line (an ``IncidentEvent`` row or a ``LoggedEvent``)."""

    kind: str
    at: datetime
    actor: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class LoggedEvent:
    """A log line outside the database (hand-built in tests, or read from an export)."""

    kind: str
    at: datetime
    actor: str = "system"
    detail: Mapping[str, Any] = field(default_factory=dict)


class MissingOpening(ValueError):
    """The events hold no ``incident_opened`` line, so there is no deadline to judge."""


class Outcome(StrEnum):
    """What became of an incident's callback; each incident has exactly one."""

    MET = "met"  # a bridged callback answered at or before the deadline
    LATE = "late"  # first answered bridged callback came after the deadline
    SELF_REPORTED = "self_reported"  # only the rep's word: never counted as met
    WORKED_BY_EMAIL = "worked_by_email"  # no callback number: the owner recorded how they reached the customer
    # the customer answered and pressed the key, and by the report's as_of their conversation had not lasted the
    # minimum (nor had their leg ended): not counted as met yet, nor breached; one report later says which it was
    PENDING = "pending"
    ATTEMPTED = "attempted"  # placed, never answered (or answered too briefly to count)
    NO_CALLBACK = "no_callback"  # nothing placed or reported (yet)


class BreachReason(StrEnum):
    """Why a deadline passed without a met callback (checked in this order)."""

    NO_CALLBACK_NUMBER = "no callback number, worked by e-mail"
    TOO_SHORT = "callback too short to count"  # the customer answered a callback in time (a key pressed), and the
    # conversation lasted under the minimum: reached, never "unreachable" (nor "called late": it was in time)
    UNREACHABLE = "customer unreachable"
    # the customer was first reached after the deadline by a callback on a related incident (a dropped call's redial,
    # the same number: ``related_callbacks``): neither "nobody acknowledged" (nobody owned this one) nor "called late"
    REACHED_LATE_ON_RELATED = "reached late, on a related incident"
    NOBODY_PAGED = "nobody paged by the deadline"  # the breach line says no page was sent (or tried) by then: an
    # escalation policy whose first level came later, or nobody on call; never said of an older breach line
    NOBODY_ACKNOWLEDGED = "nobody acknowledged"
    # no call of the hotline's rang the customer, and a rep says they called from their own phone (``CALLED``): their
    # word, never proof; until session 44 it read "no callback attempted" beside the row's self_reported outcome
    SELF_REPORTED_ONLY = "self-reported call only (unverified)"
    CALL_NOT_PLACED = "call to the customer failed"  # every callback ended before the customer's phone rang, one
    # at least at a customer leg Twilio could not place (failed, canceled); the others at the rep's leg
    REP_NOT_REACHED = "hotline could not reach the rep"  # every callback asked for ended at the rep's leg
    CALLED_LATE = "acknowledged but called late"
    NO_CALLBACK_ATTEMPTED = "acknowledged, no callback attempted"


@dataclass(frozen=True)
class CallbackFacts:
    """One callback as the log tells it."""

    callback_id: int
    rep_id: int | None = None
    actor: str = ""  # who the log names (self-reports carry only the rep's name)
    requested_at: datetime | None = None
    answered_at: datetime | None = None  # Twilio's timestamp of the customer answering
    attempted_at: datetime | None = None  # Twilio said: the customer's leg rang and was not answered (by a person)
    ringing_at: datetime | None = None  # the first word from Twilio that the customer's phone rang (or was answered)
    not_placed_at: datetime | None = None  # Twilio said: the customer's leg failed or was canceled; it never rang
    short_answer_at: datetime | None = None  # the customer answered (Twilio's time), the bridge too short to count
    rep_not_reached_at: datetime | None = None  # the hotline's call to the rep failed or reached no one: no customer leg
    self_reported_at: datetime | None = None  # the time the rep says they called
    # a related incident's callback counted for this one (``callback_reached_on_related``): that incident's reference
    related_reference: str = ""
    # the customer answered (Twilio's time) and pressed the key, and as of the fold's ``as_of`` the conversation had not
    # lasted the minimum, its leg not over: ``answered_at`` is None meanwhile (a callback under way, not yet met)
    pending_answer_at: datetime | None = None
    # a standing (or pending) answer's proof: the key press plus MIN_CONVERSATION_SECONDS; None once its leg's end is
    # logged (a conversation too short is withdrawn at its end, so an end that withdrew nothing proves it)
    unproven_until: datetime | None = None

    @property
    def self_reported(self) -> bool:
        """True for a call the rep made from their own phone (unverified)."""
        return self.self_reported_at is not None


@dataclass(frozen=True)
class IncidentFacts:
    """What the log proves about one incident's 15-minute promise."""

    reference: str
    captured_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_rep_id: int | None = None
    acknowledged_actor: str = ""
    callbacks: tuple[CallbackFacts, ...] = ()
    breach_logged_at: datetime | None = None  # the breach step's own line, if it ran
    reached_by_email_at: datetime | None = None  # no callback number: when the owner recorded the e-mail contact
    deadline_provisional: bool = False  # opened mid-call, no ``deadline_set`` line yet: the caller is still talking
    nobody_paged: bool = False  # the breach line says no page had been sent or tried by the deadline (``PAGED``)

    @classmethod
    def from_events(cls, events: Iterable[EventLike], as_of: datetime | None = None) -> IncidentFacts:
        """Fold one incident's log lines (any order) into its facts as of ``as_of`` (None: once every callback's
        conversation has lasted the minimum; the lines are the caller's to cut at ``as_of``)."""
        ordered = sorted(events, key=lambda e: e.at)
        opened = next((e for e in ordered if e.kind == EventKind.INCIDENT_OPENED), None)
        if opened is None:
            raise MissingOpening("no incident_opened line in the events")
        ack = next((e for e in ordered if e.kind in OWNING_KINDS), None)  # the first rep wins
        reached = next((e for e in ordered if e.kind == EventKind.REACHED_BY_EMAIL), None)
        # Opened mid-call (issue 13): the promise runs from the moment the details were in.
        deadline_set = next((e for e in ordered if e.kind == EventKind.DEADLINE_SET), None)
        deadline = deadline_set or opened
        due_at = _time(deadline.detail["callback_due_at"])
        # A breach line logged before that deadline was the step of the opening's provisional one (an intake
        # that went on past it): the promise had not started, and the deadline that counts is still to come.
        breach = next((e for e in ordered if e.kind == EventKind.CALLBACK_BREACHED and e.at >= due_at), None)
        return cls(
            reference=str(opened.detail.get("reference", "")),
            captured_at=_time(deadline.detail.get("captured_at") or deadline.at),  # kept: the opening's (set_deadline)
            due_at=due_at,
            acknowledged_at=ack.at if ack else None,
            acknowledged_rep_id=_int(ack.detail.get("rep_id")) if ack else None,
            acknowledged_actor=ack.actor if ack else "",
            callbacks=_callbacks(ordered, as_of),
            breach_logged_at=breach.at if breach else None,
            reached_by_email_at=reached.at if reached else None,
            deadline_provisional=deadline_set is None and opened.detail.get(DETAILS_COMPLETE) is False,
            nobody_paged=breach is not None and breach.detail.get(PAGED) is False,
        )

    @property
    def first_answer(self) -> CallbackFacts | None:
        """The bridged callback the customer answered first, if any (none while an earlier answer is under way)."""
        answered = [c for c in self.callbacks if c.answered_at is not None]
        first = min(answered, key=lambda c: c.answered_at) if answered else None  # type: ignore[arg-type,return-value]
        pending = self.under_way
        if first is not None and pending is not None and pending.pending_answer_at < first.answered_at:  # type: ignore
            return None  # the answer that decides is still under way
        return first

    @property
    def under_way(self) -> CallbackFacts | None:
        """The callback answered earliest whose conversation had not lasted the minimum as of the fold's ``as_of``."""
        pending = [c for c in self.callbacks if c.pending_answer_at is not None]
        return min(pending, key=lambda c: c.pending_answer_at) if pending else None  # type: ignore[arg-type,return-value]

    @property
    def unproven_until(self) -> datetime | None:
        """The latest instant an answer of this incident waits for to be proven (key press + the minimum
        conversation, no end of its leg logged): a report as of an earlier instant refolds it (``facts_sync``)."""
        until = [c.unproven_until for c in self.callbacks if c.unproven_until is not None]
        return max(until) if until else None

    @property
    def related_reference(self) -> str:
        """The related incident whose callback is this one's answer (a dropped call's redial): the call was that
        incident's, so call-counting figures count it there; "" when the answer is this incident's own."""
        deciding = self.deciding_callback
        return deciding.related_reference if deciding is not None else ""

    @property
    def answered_at(self) -> datetime | None:
        """When the customer first answered a bridged callback (Twilio's timestamp), or None."""
        first = self.first_answer
        return first.answered_at if first else None

    @property
    def seconds_to_callback(self) -> float | None:
        """Seconds from capture to the customer answering (Twilio's timestamp), or None: ``seconds_between``."""
        first = self.first_answer
        if first is None or first.answered_at is None:
            return None
        return seconds_between(self.captured_at, first.answered_at)

    @property
    def outcome(self) -> Outcome:
        """Met > late > a callback under way > self-reported > attempted > no callback."""
        first = self.first_answer
        if first is not None and first.answered_at is not None:
            return Outcome.MET if first.answered_at <= self.due_at else Outcome.LATE
        if self.under_way is not None:
            return Outcome.PENDING
        if any(c.self_reported for c in self.callbacks):
            return Outcome.SELF_REPORTED
        if self.reached_by_email_at is not None:
            return Outcome.WORKED_BY_EMAIL
        if any(c.attempted_at is not None for c in self.callbacks):
            return Outcome.ATTEMPTED
        return Outcome.NO_CALLBACK

    def breached(self, as_of: datetime | None = None) -> bool:
        """Deadline passed without a met callback (``as_of`` None: every deadline has passed). A callback under way
        answered by the deadline holds it back, as the key press holds the breach step back: it may still be met."""
        pending = self.under_way
        held = pending is not None and pending.pending_answer_at <= self.due_at  # type: ignore[operator]
        return is_breached(self.outcome == Outcome.MET or held, self.due_at, self.breach_logged_at, as_of,
                           self.deadline_provisional)

    def breach_reason(self, as_of: datetime | None = None) -> BreachReason | None:
        """Why the promise was broken, from verified facts first: a self-report (``CALLED``) is named only when no
        call of the hotline's rang the customer (it then says "self-reported call only (unverified)", never
        "no callback attempted" beside the self_reported outcome)."""
        if not self.breached(as_of):
            return None
        if self.reached_by_email_at is not None:  # recorded only for an incident without a number to call
            return BreachReason.NO_CALLBACK_NUMBER
        due = self.due_at
        bridged = [c for c in self.callbacks if not c.self_reported and not c.related_reference]
        if any(_too_short_in_time(c, due) for c in bridged):
            return BreachReason.TOO_SHORT
        if any(_unanswered_in_time(c, due) for c in bridged):
            return BreachReason.UNREACHABLE
        first = self.first_answer
        if first is not None and first.related_reference:  # breached, so answered after the deadline
            return BreachReason.REACHED_LATE_ON_RELATED
        if self.acknowledged_at is None or self.acknowledged_at > due:
            return BreachReason.NOBODY_PAGED if self.nobody_paged else BreachReason.NOBODY_ACKNOWLEDGED
        never_rang = all(c.rep_not_reached_at is not None or c.not_placed_at is not None for c in bridged)
        if never_rang and any(c.self_reported for c in self.callbacks):
            return BreachReason.SELF_REPORTED_ONLY
        if bridged and never_rang:
            if any(c.not_placed_at is not None for c in bridged):
                return BreachReason.CALL_NOT_PLACED  # the customer's phone never rang: not "unreachable"
            return BreachReason.REP_NOT_REACHED
        if bridged:
            return BreachReason.CALLED_LATE
        return BreachReason.NO_CALLBACK_ATTEMPTED

    @property
    def deciding_callback(self) -> CallbackFacts | None:
        """The callback whose result is the incident's outcome (credited to its rep)."""
        outcome = self.outcome
        if outcome in (Outcome.MET, Outcome.LATE):
            return self.first_answer
        if outcome == Outcome.PENDING:
            return self.under_way
        if outcome == Outcome.SELF_REPORTED:
            return next(c for c in self.callbacks if c.self_reported)
        if outcome == Outcome.ATTEMPTED:
            return next(c for c in self.callbacks if c.attempted_at is not None)
        return None


def is_breached(met: bool, due_at: datetime, breach_logged_at: datetime | None, as_of: datetime | None,
                caller_on_line: bool = False) -> bool:
    """The one breach rule (report, CSV, API, helpdesk and board): the deadline passed without a met callback.

    Past the deadline is enough: a breach the step has not logged yet (a worker down) is still one. While the
    caller who opened the incident is still giving details (``caller_on_line``, issue 13) its deadline is a
    provisional one, set again when they finish: only a logged breach counts then. The report reads that from
    the log (``IncidentFacts.deadline_provisional``: opened mid-call, no ``deadline_set`` line by ``as_of``);
    the board and the API from the call that opened it, the same way (``escalation.callers_on_hotline``).
    """
    if met:
        return False
    passed = as_of is None or as_of > due_at
    return breach_logged_at is not None or (passed and not caller_on_line)


def promise_verdict(breached: bool, outcome: str) -> bool | None:
    """A row's ``breached`` in the exports: True broken, False kept (a met callback), None not decided yet.

    Not breached and not met means the deadline had not passed at the report's ``as_of``, or it is still the
    provisional one of a caller giving details (``is_breached``): the promise may yet be kept or broken. Until
    probe V such a row read ``breached = no``, as a kept promise does, and a spreadsheet counted it kept.
    """
    if breached:
        return True
    return False if outcome == Outcome.MET else None


def seconds_between(start: datetime, end: datetime) -> float:
    """Seconds from ``start`` to ``end`` rounded UP to a tenth: a callback answered 900.04 s after capture missed
    the 15 minutes, so it is 900.1 (late in every figure, chart bin and m:ss), never the 900.0 of a kept promise."""
    micros = (end - start) // timedelta(microseconds=1)
    return -(-micros // 100_000) / 10


def _unanswered_in_time(callback: CallbackFacts, due: datetime) -> bool:
    """The customer's phone rang by the deadline, and they did not answer by then: "customer unreachable" blames
    the customer, so the log must prove the ring came in time. Asking by the deadline is not enough: the customer's
    leg is dialled only once the rep has answered the hotline's call, so a CALL seconds before the deadline rings
    the customer after it (then "called late"). Proof is a word from Twilio by the deadline that the leg rang (or
    was answered), or the attempt's end itself by then."""
    if callback.attempted_at is None or callback.requested_at is None or callback.requested_at > due:
        return False
    answered_in_time = callback.answered_at is not None and callback.answered_at <= due
    rang_in_time = callback.attempted_at <= due or (callback.ringing_at is not None and callback.ringing_at <= due)
    return rang_in_time and not answered_in_time


def _too_short_in_time(callback: CallbackFacts, due: datetime) -> bool:
    """The customer answered this callback by the deadline, and its bridge was too short to count: they were
    reached in time, so neither "customer unreachable" nor "called late" (a probe read "customer unreachable" of a
    4-second call the customer answered)."""
    return (callback.short_answer_at is not None and callback.requested_at is not None
            and callback.requested_at <= due and callback.short_answer_at <= due)


def _callbacks(ordered: list[EventLike], as_of: datetime | None) -> tuple[CallbackFacts, ...]:
    found: dict[int, dict[str, Any]] = {}
    for e in ordered:
        cid = _int(e.detail.get("callback_id"))
        if cid is None or not e.kind.startswith(CALLBACK_PREFIX):
            continue
        row = found.setdefault(cid, {"callback_id": cid})
        if e.kind == EventKind.CALLBACK_REQUESTED:
            row.setdefault("requested_at", e.at)
            row.setdefault("rep_id", _int(e.detail.get("rep_id")))
            row.setdefault("actor", e.actor)
        elif e.kind in (EventKind.CALLBACK_MET, EventKind.CALLBACK_LATE, EventKind.CALLBACK_ANSWERED_AGAIN):
            _answered(row, e)  # the first answer is the earliest of them
        elif e.kind == EventKind.CALLBACK_REACHED_ON_RELATED:  # a related incident's callback, counted for this one
            row["related_reference"] = str(e.detail.get("related_reference") or "?")
            row.setdefault("rep_id", _int(e.detail.get("rep_id")))
            row.setdefault("actor", e.actor)
            _answered(row, e)
        elif e.kind == EventKind.CALLBACK_RELATED_WITHDRAWN:  # ... whose answer was withdrawn on its own incident
            row.setdefault("related_reference", str(e.detail.get("related_reference") or "?"))
            _unanswered(row)
        elif e.kind == EventKind.CALLBACK_WITHDRAWN:  # a bridge that did not happen: its answer does not stand
            withdrawn = _unanswered(row)
            if e.detail.get("why") == SHORT_BRIDGE:  # ``callbacks.withdraw_short_bridge``: only attempted
                _short_bridge(row, e, withdrawn)
            elif e.detail.get(LIVE_DIAL_OVER):  # ``callbacks.withdraw_live_answer``: closed as attempted
                _live_attempt(row, e, withdrawn)
        elif e.kind == EventKind.CALLBACK_ATTEMPTED:
            row.setdefault("attempted_at" if rang(e.detail) else "not_placed_at", e.at)
        elif e.kind == EventKind.CALLBACK_LEG_STATUS and e.detail.get("status") in RINGING:
            row.setdefault("ringing_at", e.at)  # when the word came: never before the ring itself
        elif e.kind in (EventKind.CALLBACK_LEG_STATUS, EventKind.CALLBACK_REP_LEG_STATUS) and (
                e.detail.get("status") in LEG_ENDED and not e.detail.get("other_leg") and not e.detail.get("left_call")):
            row["leg_over"] = True  # the customer's leg, or the rep's and the bridge with it, ended: a conversation
            # too short was withdrawn then (``callbacks.short_leg``), so one that stands is proven
        elif e.kind == EventKind.CALLBACK_REP_OTHER_NUMBER:  # the rep's call failed, made again to their other
            # number: the failed call's end is not the end of the leg that follows, nor its final failure (logged
            # just before this line) the end of the callback: the call to the other number decides (probe QB)
            row.pop("leg_over", None)
            row.pop("rep_not_reached_at", None)
        elif e.kind == EventKind.CALLBACK_REP_NOT_REACHED or (  # a final rep-call failure (logged before it; a move
                # to the other number after it takes it back, above)
                e.kind == EventKind.CALLBACK_REP_CALL_FAILED and e.detail.get("final")):
            row.setdefault("rep_not_reached_at", e.at)
        elif e.kind == EventKind.CALLBACK_SELF_REPORTED:
            row["self_reported_at"] = _time(e.detail["called_at"])
            row["actor"] = e.actor
            if (rep_id := _int(e.detail.get("rep_id"))) is not None:  # older lines name the rep only
                row["rep_id"] = rep_id
            row.setdefault("requested_at", e.at)
    # a related incident's callback whose answer was withdrawn is no callback of this incident at all
    return tuple(CallbackFacts(**_proven(row, as_of)) for row in found.values()
                 if not row.get("related_reference") or row.get("answered_at") is not None)


def _answered(row: dict[str, Any], e: EventLike) -> None:
    """A line counting an answer (met, late, again, or on a related incident): the first one stands, talking since the
    key press its line names (``TALKING_SINCE``; an older line names none: proven at once, as it was read before)."""
    if "answered_at" not in row:
        row["answered_at"] = _time(e.detail["answered_at"])
        if e.detail.get(TALKING_SINCE):
            row["talking_since"] = _time(e.detail[TALKING_SINCE])


def _unanswered(row: dict[str, Any]) -> datetime | None:
    """The answer withdrawn (returned): a later answer is a new conversation, on a new leg."""
    row.pop("talking_since", None)
    row.pop("leg_over", None)
    return row.pop("answered_at", None)


def _proven(row: dict[str, Any], as_of: datetime | None) -> dict[str, Any]:
    """The callback's facts fields: a standing answer whose conversation had not lasted the minimum by ``as_of``
    (the key press less than MIN_CONVERSATION_SECONDS before it), its leg's end not logged, is a callback under way,
    not an answer (yet). The escalation core counts it at the key press (no false BREACHED goes out); the report
    claims no "met" it cannot prove: a 4-second call is withdrawn when its leg ends, seconds later."""
    talking_since, over = row.pop("talking_since", None), row.pop("leg_over", False)
    if row.get("answered_at") is None or talking_since is None or over:
        return row
    row["unproven_until"] = talking_since + MIN_CONVERSATION
    if as_of is not None and as_of < row["unproven_until"]:
        row["pending_answer_at"] = row.pop("answered_at")
    return row


def _short_bridge(row: dict[str, Any], e: EventLike, withdrawn: datetime | None) -> None:
    """A callback the customer answered (a key pressed) whose bridge was too short to count: the callback row
    says "attempted" (the API reads that), and so do its facts, credited to its rep. It ended with this line
    (``attempted_at``, as a ``callback_attempted`` line's time); the customer's phone rang by Twilio's time of
    that answer (``ringing_at``), so an answer before the deadline is an attempt in time, never "called late"; and
    that answer (``short_answer_at``) reached the customer, so once the deadline passed the breach reason is
    "callback too short to count", not "customer unreachable". A live answer whose caller's line dropped
    (``live_connect``) leaves the callback pending, as its row does, while the rep's leg can still dial the customer
    (else ``_live_attempt``)."""
    row.setdefault("attempted_at", e.at)
    answered = _time(e.detail["answered_at"]) if e.detail.get("answered_at") else withdrawn
    if answered is not None and (row.get("ringing_at") is None or answered < row["ringing_at"]):
        row["ringing_at"] = answered
    if answered is not None:
        row.setdefault("short_answer_at", answered)


def _live_attempt(row: dict[str, Any], e: EventLike, withdrawn: datetime | None) -> None:
    """A live answer withdrawn once the rep's ``<Dial>`` was over (``LIVE_DIAL_OVER``): the callback row says
    "attempted", and so do its facts; the caller was on the line at the withdrawn answer's moment (``ringing_at``),
    so one before the deadline is an attempt in time."""
    row.setdefault("attempted_at", e.at)
    answered = _time(e.detail["answered_at"]) if e.detail.get("answered_at") else withdrawn
    if answered is not None and (row.get("ringing_at") is None or answered < row["ringing_at"]):
        row["ringing_at"] = answered


def short_bridges(details: Iterable[Mapping[str, Any] | None]) -> dict[int, Mapping[str, Any]]:
    """Of ``callback_withdrawn`` lines' details (in log order), each callback whose answer was withdrawn as too
    short to count (``why: bridge_too_short``), with the last such line: the one rule the report's fold, the alerts,
    the board and the ``<Dial action>`` read it by."""
    return {d["callback_id"]: d for d in details
            if d and d.get("why") == SHORT_BRIDGE and isinstance(d.get("callback_id"), int)}


def rang(detail: Mapping[str, Any]) -> bool:
    """Whether a ``callback_attempted`` line's call reached the customer's phone (a line without a status: yes; one
    canceled after Twilio said it was ringing says ``rang``)."""
    return bool(detail.get("voicemail") or detail.get("rang")) or detail.get("status", "no-answer") in CUSTOMER_RANG


def _time(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
