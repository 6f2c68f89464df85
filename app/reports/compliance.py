"""The compliance report: was the 15-minute callback promise kept, per incident and in aggregate.

Pure: no database, no clock. Input is ``IncidentFacts`` (derived only from the event
log, see ``app.reports.facts``); the range is a pair of local dates in a time zone.

Definitions (shown to managers on the report page too):

- An incident belongs to the range when its *captured* time (the moment the hotline had
  the caller's details, the start of the 15 minutes) is in [start 00:00, end 00:00) local
  time in ``tz``; zoneinfo converts the boundaries, so a day may last 23 or 25 hours.
- Outcome, exactly one per incident: met (a bridged callback answered by the customer at
  or before the deadline, by Twilio's timestamp) > late (first answer after it) > pending (a callback under way:
  the customer pressed the key less than ``facts.MIN_CONVERSATION_SECONDS`` before ``as_of`` and the call was not
  over, so not proven yet; neither met nor breached when answered by the deadline) >
  self-reported (the rep says they called from their own phone: shown, never counted as
  met) > attempted (placed, rang, never answered, or answered too briefly to count) > no callback.
- Breached: the deadline passed (before ``as_of``, or a breach line is logged at or after it) without
  a met callback. Self-reported incidents are therefore breached. A breach line logged before the
  deadline (the provisional one of an incident opened mid-call, whose intake went on past it) is none.
  An incident opened mid-call (its opening line says ``details_complete: false``) whose log holds no
  ``deadline_set`` line by ``as_of`` has its caller still giving details: only a logged breach counts
  then (the call fell silent and the breach step ran), as on the board and in the API.
- Breach reason, the first that applies, from verified facts first (a self-report is a
  claim, not a call: named only when nothing verified says more): "no callback number, worked by e-mail" (the
  owner recorded how they reached a customer who left no number); "callback too short to count" (the customer
  answered a callback by the deadline, and its bridge lasted under the minimum conversation: reached, so neither
  of the next two); "customer unreachable" (Twilio said by the
  deadline that a callback's call was ringing the customer's phone, and it was not answered by then; a CALL
  seconds before the deadline rings the customer only after the rep answers, after it: "called late"); "nobody paged by the
  deadline" (no acknowledgement by the deadline, and the breach step's line says no page of the incident was sent or
  even tried by then: a policy whose first level pages later, nobody on call; ``facts.PAGED``); "nobody acknowledged" (no
  acknowledgement by the deadline; a self-reported call or a recorded e-mail contact before anyone acknowledged
  made its rep the owner then, so it is one: ``facts.OWNING_KINDS``); "self-reported call only (unverified)" (no call
  of the hotline's rang the customer, and a rep said they called from their own phone); "call to the customer failed" (every callback asked for ended before the
  customer's phone rang, and at least one at the customer's leg: Twilio could not place it, "failed" or
  "canceled"); "hotline could not reach the rep" (every callback asked for ended at the hotline's call to the
  rep: it failed, nobody answered it or a machine did, so the customer was never dialled); "acknowledged but
  called late" (a callback was placed, only after the deadline or answered after it); "acknowledged, no
  callback attempted".
- Time to callback: captured -> customer answered (Twilio's timestamp), for met and late
  incidents, each call once: an incident reached through a related incident's call (``related_reference``) is met
  or late, but that call counts in the time to callback and the rep's figures on its own incident only. Percentiles by nearest rank (``stats.nearest_rank``): the ceil(p/100*n)-th
  smallest value, so the median of an even count is the lower middle value.
- Hour of week: Mon 00 ... Sun 23 of the captured time in ``tz`` (168 buckets).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from app.reports.facts import BreachReason, IncidentFacts, Outcome
from app.reports.stats import Spread, percent
from app.settings import PROMISED_CALLBACK_MINUTES

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OUTCOME_LABELS = {
    Outcome.MET: "Met (answered in time)",
    Outcome.LATE: "Late (answered after the deadline)",
    Outcome.SELF_REPORTED: "Self-reported (not counted as met)",
    Outcome.WORKED_BY_EMAIL: "Worked by e-mail (no callback number)",
    Outcome.PENDING: "Callback under way (answered, the minimum conversation not over yet: not counted yet)",
    Outcome.ATTEMPTED: "Attempted, not reached",
    Outcome.NO_CALLBACK: "No callback",
}
_ANONYMOUS_ACTORS = {"", "rep", "system", "twilio", "ivr"}
BIN_MINUTES = PROMISED_CALLBACK_MINUTES  # the default promise: one-minute bins up to it, then one overflow bin


class JudgedFacts(Protocol):
    """What a report line shows of an incident's facts (``IncidentFacts``, or a stored facts row)."""

    reference: str
    captured_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None

    @property
    def answered_at(self) -> datetime | None:
        """First answer of a bridged callback (Twilio's timestamp)."""

    @property
    def seconds_to_callback(self) -> float | None:
        """Seconds from capture to that answer."""

    @property
    def related_reference(self) -> str:
        """The related incident whose callback is this one's answer, or "" (``IncidentFacts.related_reference``)."""


@dataclass(frozen=True)
class Tally:
    """A count and its share of the incidents in the range."""

    count: int
    percent: float


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome (or breach reason) with its count and percentage."""

    key: str
    label: str
    count: int
    percent: float


@dataclass(frozen=True)
class IncidentLine:
    """One incident as the report judges it."""

    facts: JudgedFacts
    outcome: Outcome
    breached: bool
    reason: BreachReason | str | None  # a str: a stored reason this version does not know (``figures.known_reason``)
    acknowledged_by: str
    called_by: str
    captured_local: datetime

    @property
    def reference(self) -> str:
        """The incident's reference."""
        return self.facts.reference


@dataclass(frozen=True)
class RepRow:
    """What one rep did in the range: acknowledgements, and the outcome of the callbacks they made."""

    name: str
    acknowledged: int
    met: int
    late: int
    attempted: int
    self_reported: int


@dataclass(frozen=True)
class HourBucket:
    """Incidents captured in one local hour of the week (index 0 = Monday 00:00-00:59)."""

    index: int
    incidents: int
    met: int
    breached: int

    @property
    def weekday(self) -> str:
        """Mon ... Sun."""
        return WEEKDAYS[self.index // 24]

    @property
    def hour(self) -> int:
        """0 ... 23."""
        return self.index % 24


@dataclass(frozen=True)
class Report:
    """The compliance figures of one date range."""

    start: date
    end: date
    tz: str
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    as_of: datetime | None
    total: int
    outcomes: tuple[OutcomeRow, ...]
    breached: Tally
    open: Tally  # deadline not passed yet and not met: neither kept nor broken
    time_to_callback: Spread
    reasons: tuple[OutcomeRow, ...]
    lines: tuple[IncidentLine, ...]  # every line: the in-memory recomputation only (empty from stored facts)
    reps: tuple[RepRow, ...]
    hours: tuple[HourBucket, ...]
    breach_lines: tuple[IncidentLine, ...] = ()  # the breaches listed, oldest first (at most breach_limit)
    callback_minutes: tuple[int, ...] = (0,) * (BIN_MINUTES + 1)  # answered callbacks per minute after capture
    sla_minutes: int = PROMISED_CALLBACK_MINUTES  # the promise judged (CALLBACK_SLA_MINUTES): the bins' last is past it
    # stored outcomes and breach reasons this version does not know (a newer version migrated the facts and this
    # host is not restarted yet): shown as stored, and named on the page and in the JSON so nobody misreads them
    unknown_values: tuple[str, ...] = ()
    # callbacks under way at ``as_of`` (``Outcome.PENDING``): when the last of them has had the minimum conversation
    undecided_until: datetime | None = None

    @property
    def range_hours(self) -> float:
        """Length of the range in hours (a DST day adds or drops one)."""
        return (self.ends_at - self.starts_at).total_seconds() / 3600

    @property
    def breaches(self) -> tuple[IncidentLine, ...]:
        """The breached incidents listed, oldest first (all of them unless more than the list limit)."""
        return self.breach_lines

    def count(self, outcome: Outcome | str) -> int:
        """Incidents with this outcome."""
        return next(row.count for row in self.outcomes if row.key == outcome)


def range_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """[start 00:00, end 00:00) local time in ``tz``, as aware UTC datetimes."""
    zone = ZoneInfo(tz)
    return (datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC),
            datetime.combine(end, time(0), tzinfo=zone).astimezone(UTC))


def compliance_report(facts: Sequence[IncidentFacts], start: date, end: date, tz: str, *,
                      as_of: datetime | None = None, rep_names: Mapping[int, str] | None = None,
                      breach_limit: int | None = None, sla_minutes: int = PROMISED_CALLBACK_MINUTES) -> Report:
    """Judge every incident captured in [start, end) local to ``tz`` (``as_of`` None: all deadlines passed).

    The full recomputation, in memory: ``app.reports.figures`` gives the same figures from
    the stored facts rows with SQL aggregates. ``breach_limit`` caps the breaches listed.
    """
    if end <= start:
        raise ValueError("end must be after start")
    zone = ZoneInfo(tz)
    starts_at, ends_at = range_bounds(start, end, tz)
    names = rep_names or {}
    chosen = sorted((f for f in facts if starts_at <= f.captured_at < ends_at), key=lambda f: (f.captured_at, f.reference))
    lines = tuple(judge(f, as_of, names, zone) for f in chosen)
    total = len(lines)
    outcome_counts = Counter(line.outcome for line in lines)
    reason_counts = Counter(line.reason for line in lines if line.reason is not None)
    breached = sum(1 for line in lines if line.breached)
    still_open = sum(1 for line in lines if not line.breached and line.outcome != Outcome.MET)
    return Report(
        start=start, end=end, tz=tz, starts_at=starts_at, ends_at=ends_at, as_of=as_of, total=total,
        outcomes=tuple(OutcomeRow(o.value, OUTCOME_LABELS[o], outcome_counts[o], percent(outcome_counts[o], total))
                       for o in Outcome),
        breached=Tally(breached, percent(breached, total)),
        open=Tally(still_open, percent(still_open, total)),
        time_to_callback=Spread.of([s for line in lines if (s := own_seconds(line)) is not None]),
        reasons=tuple(OutcomeRow(r.name.lower(), r.value, reason_counts[r], percent(reason_counts[r], breached))
                      for r in BreachReason),
        lines=lines,
        reps=_per_rep(lines),
        hours=_per_hour(lines),
        breach_lines=tuple(line for line in lines if line.breached)[:breach_limit],
        callback_minutes=minute_bins(((s, 1) for line in lines if (s := own_seconds(line)) is not None), sla_minutes),
        sla_minutes=sla_minutes,
        undecided_until=undecided_until(lines),
    )


def own_seconds(line: IncidentLine) -> float | None:
    """The line's time to callback as one of the calls the time-to-callback figures count: None for an incident
    reached through a related incident's call (a dropped call's redial): that call counts once, on its own incident,
    though it keeps both promises (an outside probe's page said "Answered callbacks 12" of 11 calls)."""
    return None if line.facts.related_reference else line.facts.seconds_to_callback


def undecided_until(lines: Iterable[IncidentLine]) -> datetime | None:
    """When the last callback under way among ``lines`` (``Outcome.PENDING``) has had the minimum conversation."""
    until = [u for line in lines if line.outcome == Outcome.PENDING and isinstance(line.facts, IncidentFacts)
             and (u := line.facts.unproven_until) is not None]
    return max(until) if until else None


def minute_bins(counts: Iterable[tuple[float, int]], sla_minutes: int = PROMISED_CALLBACK_MINUTES) -> tuple[int, ...]:
    """Callbacks per minute after capture from (seconds, how many); the last bin: past the promise of
    ``sla_minutes`` (CALLBACK_SLA_MINUTES: late).

    A callback answered at 15:00 exactly of a 15-minute promise is met (``answered <= due``), so it counts in the
    14-15 minute bin, never in the late one. One stored as answered before its capture (a Twilio ``Timestamp`` taken
    at its word before session 43's ``callbacks.twilio_time_believed``: an outside probe's was -1188 s, and the
    report failed for every range holding it) counts in the first bin: the log keeps it, the report stays readable."""
    bins = [0] * (sla_minutes + 1)
    for seconds, n in counts:
        bins[sla_minutes if seconds > sla_minutes * 60 else max(0, min(int(seconds // 60), sla_minutes - 1))] += n
    return tuple(bins)


def rep_label(rep_id: int | None, actor: str, names: Mapping[int, str]) -> str:
    """A rep's display name: the directory's, else the name the log gives, else their id."""
    if rep_id is not None and rep_id in names:
        return names[rep_id]
    if actor not in _ANONYMOUS_ACTORS:
        return actor
    return f"rep #{rep_id}" if rep_id is not None else ""


def judge(facts: IncidentFacts, as_of: datetime | None, names: Mapping[int, str], zone: ZoneInfo) -> IncidentLine:
    """One incident's report line: outcome, breach and reason at ``as_of``, who acknowledged and who called."""
    deciding = facts.deciding_callback
    return IncidentLine(
        facts=facts,
        outcome=facts.outcome,
        breached=facts.breached(as_of),
        reason=facts.breach_reason(as_of),
        acknowledged_by=rep_label(facts.acknowledged_rep_id, facts.acknowledged_actor, names)
        if facts.acknowledged_at else "",
        called_by=rep_label(deciding.rep_id, deciding.actor, names) if deciding else "",
        captured_local=facts.captured_at.astimezone(zone),
    )


def _per_rep(lines: Sequence[IncidentLine]) -> tuple[RepRow, ...]:
    acks: Counter[str] = Counter(line.acknowledged_by for line in lines if line.acknowledged_by)
    # a call counts once, for the incident it was made on: not again for a related one it reached (``own_seconds``)
    calls: Counter[tuple[str, Outcome]] = Counter((line.called_by, line.outcome) for line in lines
                                                  if line.called_by and not line.facts.related_reference)
    everyone = sorted(set(acks) | {name for name, _ in calls}, key=str.casefold)
    return tuple(RepRow(name, acks[name], calls[name, Outcome.MET], calls[name, Outcome.LATE],
                        calls[name, Outcome.ATTEMPTED], calls[name, Outcome.SELF_REPORTED]) for name in everyone)


def _per_hour(lines: Sequence[IncidentLine]) -> tuple[HourBucket, ...]:
    incidents: Counter[int] = Counter()
    met: Counter[int] = Counter()
    breached: Counter[int] = Counter()
    for line in lines:
        index = line.captured_local.weekday() * 24 + line.captured_local.hour
        incidents[index] += 1
        met[index] += line.outcome == Outcome.MET
        breached[index] += line.breached
    return tuple(HourBucket(i, incidents[i], met[i], breached[i]) for i in range(168))
