"""The compliance report from the stored facts rows: SQL aggregates over a handful of columns, bounded memory.

Gives the same ``Report`` as ``compliance.compliance_report`` over facts folded from the
whole log (``tests/integration/test_report_agreement.py`` proves it on both databases).
Rows whose facts depend on log lines written after ``as_of``, and incidents without a
facts row, are refolded from the log for this report only (``_refolded``): usually none
or a handful, so the fast path stays exact for any ``as_of``.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, and_, case, exists, func, literal_column, or_, select, text, tuple_, type_coerce
from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent, IncidentFactsRow, Rep
from app.reports import csv_parts, csv_sql, export
from app.reports.compliance import (
    OUTCOME_LABELS,
    HourBucket,
    IncidentLine,
    OutcomeRow,
    Report,
    RepRow,
    Tally,
    judge,
    minute_bins,
    own_seconds,
    range_bounds,
    rep_label,
    undecided_until,
)
from app.reports.facts import (
    OPENED,
    BreachReason,
    IncidentFacts,
    LoggedEvent,
    Outcome,
    is_breached,
    promise_verdict,
    shapes_facts,
)
from app.reports.facts_sync import SLOT_SECONDS, slot_of
from app.reports.queries import LoadedRange, companies_where, moved_after, opened_after, written_after, written_by
from app.reports.stats import Spread, percent
from app.services.company_label import row_company, with_company
from app.settings import PROMISED_CALLBACK_MINUTES

_KNOWN_OUTCOMES = frozenset(o.value for o in Outcome)
_KNOWN_REASONS = frozenset(r.value for r in BreachReason)
BREACH_LIST_LIMIT = 500  # breaches listed on the page; the exports hold every one
STREAM_CHUNK = 5000
F = IncidentFactsRow


@dataclass(frozen=True)
class StoredFacts:
    """The facts a report line shows, read from a facts row."""

    reference: str
    captured_at: datetime
    due_at: datetime
    acknowledged_at: datetime | None
    answered_at: datetime | None
    seconds_to_callback: float | None
    related_reference: str = ""


@dataclass
class _Tally:
    """Counts gathered from SQL groups and from refolded lines alike."""

    total: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    breached: int = 0
    still_open: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: Counter[float] = field(default_factory=Counter)
    acks: Counter[str] = field(default_factory=Counter)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    hours: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))

    def add_line(self, line: IncidentLine) -> None:
        """Count one refolded incident."""
        self.total += 1
        self.outcomes[line.outcome.value] += 1
        self.breached += line.breached
        self.still_open += not line.breached and line.outcome != Outcome.MET
        if line.reason is not None:
            self.reasons[line.reason.value] += 1
        if (seconds := own_seconds(line)) is not None:
            self.seconds[seconds] += 1
        if line.acknowledged_by:
            self.acks[line.acknowledged_by] += 1
        if line.called_by and not line.facts.related_reference:  # a call counts once: ``compliance.own_seconds``
            self.calls[line.called_by, line.outcome.value] += 1
        bucket = self.hours[line.captured_local.weekday() * 24 + line.captured_local.hour]
        bucket[0] += 1
        bucket[1] += line.outcome == Outcome.MET
        bucket[2] += line.breached


WEEK_SLOTS = 7 * 96  # 15-minute slots in a week


class HoursOfWeek:
    """Where a range's 15-minute UTC slots fall in the week of ``zone``: its local hours (Monday 00:00-00:59 is 0).

    The range splits into periods of one UTC offset each (two a year where the zone has DST). Within
    a period a slot's local hour depends only on the slot's place in the week, so the report groups
    the rows by (period, slot % WEEK_SLOTS): a year is at most a few thousand groups, not 35,000 slots.
    """

    def __init__(self, zone: ZoneInfo, first_slot: int, end_slot: int) -> None:
        self.starts: list[int] = []  # each period's first slot
        self.offsets: list[int] = []  # its UTC offset in seconds
        slot = first_slot
        while slot < end_slot:
            offset = self._offset(zone, slot)
            self.starts.append(slot)
            self.offsets.append(offset)
            slot = self._next_change(zone, slot, end_slot, offset)

    @staticmethod
    def _offset(zone: ZoneInfo, slot: int) -> int:
        return int(datetime.fromtimestamp(slot * SLOT_SECONDS, UTC).astimezone(zone).utcoffset().total_seconds())

    def _next_change(self, zone: ZoneInfo, slot: int, end_slot: int, offset: int) -> int:
        """The first slot after ``slot`` with another offset, or ``end_slot``: a day at a time, then slot by slot."""
        day = 86400 // SLOT_SECONDS
        while slot + day < end_slot and self._offset(zone, slot + day) == offset:
            slot += day  # an offset changes at most once a day: the same a day later, the same in between
        for candidate in range(slot + 1, min(slot + day, end_slot)):
            if self._offset(zone, candidate) != offset:
                return candidate
        return min(slot + day, end_slot)

    def grouping(self, slot_column) -> tuple:
        """SQL: the period holding each row's slot (when there are several) and the slot's place in the week."""
        week_slot = slot_column % WEEK_SLOTS
        if len(self.starts) == 1:
            return (week_slot,)
        return case(*((slot_column < start, i) for i, start in enumerate(self.starts[1:])),
                    else_=len(self.starts) - 1), week_slot

    def hour_of(self, *group: int) -> int:
        """The local hour of the week of a group ``grouping`` gives: (period, week slot) or (week slot,)."""
        return self.hour(int(group[0]), int(group[1])) if len(group) == 2 else self.hour(0, int(group[0]))

    def hour(self, period: int, week_slot: int) -> int:
        """The local hour of the week of a slot at ``week_slot`` (slot % WEEK_SLOTS) in ``period``."""
        seconds = week_slot * SLOT_SECONDS + self.offsets[period]
        return (seconds // 86400 + 3) % 7 * 24 + seconds % 86400 // 3600  # 1970-01-01 was a Thursday (3)


@dataclass(frozen=True)
class FactsRange:
    """One report's range over the stored facts: the figures, and the export rows in report order."""

    start: date
    end: date
    tz: str
    as_of: datetime | None
    sla_minutes: int = PROMISED_CALLBACK_MINUTES  # the promise the time-to-callback bins judge (CALLBACK_SLA_MINUTES)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware UTC."""
        return range_bounds(self.start, self.end, self.tz)

    def report(self, session: Session, breach_limit: int | None = BREACH_LIST_LIMIT) -> tuple[Report, LoadedRange]:
        """The report's figures and its listed breaches; ``LoadedRange.facts`` stays empty (nothing per incident)."""
        if self.end <= self.start:
            raise ValueError("end must be after start")
        names = dict(session.execute(select(Rep.id, Rep.name)).all())
        zone = ZoneInfo(self.tz)
        tally = _Tally()
        self._count(session, tally, names, zone)
        refolded, unlogged = self._refolded(session, names, zone, fresh=tally.total)
        for line in refolded:
            tally.add_line(line)
        listed, companies = self._breaches(session, refolded, names, zone, breach_limit)
        # a callback under way is never stored so: only a row refolded at as_of is one (``facts_sync.facts_row``)
        report = _report_of(self, tally, listed, zone, undecided_until(refolded))
        return report, LoadedRange([], companies, names, unlogged)

    def undecided_until(self, session: Session) -> datetime | None:
        """When the last callback under way at ``as_of`` in the range is decided (``compliance.undecided_until``), or
        None: only a row refolded at ``as_of`` can be one (``report``), so usually nothing is read but the stale rows."""
        refolded, _ = self._refolded(session, dict(session.execute(select(Rep.id, Rep.name)).all()), ZoneInfo(self.tz))
        return undecided_until(refolded)

    def export_rows(self, session: Session) -> Iterator[tuple[Any, ...]]:
        """Every incident of the range as export values (``export.values``), in report order, streamed.

        The hot loop of a year's CSV (250,000 rows of the benchmark): plain naive-UTC
        datetimes from the driver, labels looked up once per rep, no objects per row.
        """
        names = dict(session.execute(select(Rep.id, Rep.name)).all())
        refolded, _ = self._refolded(session, names, ZoneInfo(self.tz))
        companies = self._companies(session, [line.reference for line in refolded])
        slow = [((_naive(line.facts.captured_at), line.reference), export.values(line, companies.get(line.reference, "")))
                for line in refolded]
        stmt = (with_company(select(F.reference, *(type_coerce(c, DateTime()) for c in
                                                   (F.captured_at, F.due_at, F.acknowledged_at)),
                                    F.acknowledged_rep_id, F.acknowledged_actor, F.outcome,
                                    type_coerce(F.answered_at, DateTime()), F.seconds_to_callback,
                                    type_coerce(F.breach_logged_at, DateTime()), F.breach_reason, F.related_reference)
                             .join(Incident, Incident.id == F.incident_id))
                .where(*self._fresh()).order_by(F.captured_at, F.reference).execution_options(yield_per=STREAM_CHUNK))
        stored = _stored_values(session.execute(stmt), None if self.as_of is None else _naive(self.as_of), names)
        for _, data in heapq.merge(stored, slow, key=lambda pair: pair[0]):
            yield data

    def csv_pieces(self, session: Session) -> Iterator[bytes]:
        """The CSV export's bytes, header first, in report order: stored line parts joined by the database.

        Refolded lines (rows stale at ``as_of``, usually none) are merged in by their sort key.
        """
        names = dict(session.execute(select(Rep.id, Rep.name)).all())
        cells = csv_parts.rep_cells(names)
        refolded, _ = self._refolded(session, names, ZoneInfo(self.tz))
        if not refolded and session.get_bind().dialect.name == "postgresql":
            yield export.csv_header().encode()
            as_of = None if self.as_of is None else _naive(self.as_of)
            yield from csv_sql.postgres_pieces(session, *(_naive(b) for b in self.bounds), as_of, cells)
            return
        companies = self._companies(session, [line.reference for line in refolded])
        slow = [((_naive(line.facts.captured_at), line.reference),
                 export.csv_line(export.values(line, companies.get(line.reference, "")))) for line in refolded]
        stored = csv_sql.parts_rows(session, self._fresh(), self._breached(), cells, STREAM_CHUNK)
        yield from export.stream_csv_lines(line for _, line in heapq.merge(stored, slow, key=lambda pair: pair[0]))

    # -- SQL over the facts rows ------------------------------------------------------------------

    def _fresh(self) -> list:
        """Rows in the range whose facts are complete as of ``as_of`` (the others are refolded): every line they
        depend on stamped by then, and none of their incident's lines written after it (``written_after``)."""
        cond = listed_in(F, *self.bounds, self.as_of)
        if self.as_of is not None:
            cond += [F.last_event_at <= self.as_of, F.incident_id.not_in(written_after(self.as_of))]
        return cond

    def _breached(self):
        """SQL: the row counts as breached at ``as_of`` (``IncidentFacts.breached``, ``stored_breached``)."""
        if self.as_of is None:
            return F.breach_reason != ""
        return and_(F.breach_reason != "", or_(F.due_at < self.as_of, F.breach_logged_at.is_not(None)))

    def _count(self, session: Session, tally: _Tally, names: Mapping[int, str], zone: ZoneInfo) -> None:
        """Tally the fresh rows by outcome and rep, by time to callback and by 15-minute slot.

        On PostgreSQL that is one scan (``GROUPING SETS``, hashed in memory); elsewhere three ``GROUP BY``s.
        """
        where = self._fresh()
        breached = case((self._breached(), 1), else_=0)
        met = case((F.outcome == Outcome.MET.value, 1), else_=0)
        acked = F.acknowledged_at.is_not(None)
        # Outcomes, breaches, reasons and both per-rep tallies: few distinct combinations (a related reference
        # only on the few incidents reached through another's call, which the rep's figures do not count again)
        kinds = (F.outcome, breached, F.breach_reason, F.acknowledged_rep_id, F.acknowledged_actor, acked,
                 F.called_rep_id, F.called_actor, F.related_reference)
        hours = HoursOfWeek(zone, slot_of(self.bounds[0]), slot_of(self.bounds[1]) + 1)
        slots = hours.grouping(F.captured_slot)
        if session.get_bind().dialect.name == "postgresql":
            return self._count_in_one_scan(session, tally, names, hours, where, kinds, slots, met, breached)
        for row in session.execute(select(*kinds, func.count()).where(*where).group_by(*kinds)):
            self._add_kind(tally, names, *row)
        for seconds, n in session.execute(select(F.seconds_to_callback, func.count())
                                          .where(*where, F.seconds_to_callback.is_not(None), F.related_reference == "")
                                          .group_by(F.seconds_to_callback)):
            tally.seconds[seconds] += n
        for *group, n, n_met, n_breached in session.execute(
                select(*slots, func.count(), func.sum(met), func.sum(breached)).where(*where).group_by(*slots)):
            self._add_slot(tally, hours.hour_of(*group), n, n_met, n_breached)

    def _count_in_one_scan(self, session: Session, tally: _Tally, names: Mapping[int, str], hours: HoursOfWeek,
                           where: list, kinds: tuple, slots: tuple, met, breached) -> None:
        """The same three tallies from one scan of the range's rows (a year: 250,000 rows read once, not three times).

        ``GROUPING(seconds, week slot)`` tells the sets apart: 3 the outcome and rep set, 1 the seconds,
        2 the slots. With the default ``work_mem`` the sets are sorted on disk; this read-only
        transaction hashes them in memory.
        """
        session.execute(text("SET LOCAL work_mem TO '32MB'"))
        week_slot = slots[-1]
        # the seconds of the calls made on each incident: none of one reached through a related incident's call
        seconds = case((F.related_reference == literal_column("''"), F.seconds_to_callback))
        sets = func.grouping_sets(tuple_(*kinds), tuple_(seconds), tuple_(*slots))
        stmt = (select(*kinds, seconds, func.count(), func.sum(met), func.sum(breached),
                       func.grouping(seconds, week_slot), *slots)
                .where(*where).group_by(sets))
        width = len(kinds)
        for row in session.execute(stmt):
            seconds, n, n_met, n_breached, which = row[width:width + 5]
            if which == 3:
                self._add_kind(tally, names, *row[:width], n)
            elif which == 1:
                if seconds is not None:
                    tally.seconds[seconds] += n
            else:
                self._add_slot(tally, hours.hour_of(*row[width + 5:]), n, n_met, n_breached)

    @staticmethod
    def _add_kind(tally: _Tally, names: Mapping[int, str], outcome: str, is_breached: int, reason: str,
                  ack_rep: int | None, ack_actor: str, acked: bool, call_rep: int | None, call_actor: str,
                  related: str, n: int) -> None:
        tally.total += n
        tally.outcomes[outcome] += n
        if is_breached:
            tally.breached += n
            tally.reasons[reason] += n
        elif outcome != Outcome.MET.value:
            tally.still_open += n
        if acked and (label := rep_label(ack_rep, ack_actor, names)):
            tally.acks[label] += n
        if outcome != Outcome.NO_CALLBACK.value and not related and (label := rep_label(call_rep, call_actor, names)):
            tally.calls[label, outcome] += n

    @staticmethod
    def _add_slot(tally: _Tally, hour: int, n: int, n_met: int, n_breached: int) -> None:
        bucket = tally.hours[hour]
        bucket[0] += n
        bucket[1] += int(n_met)
        bucket[2] += int(n_breached)

    def _refolded(self, session: Session, names: Mapping[int, str], zone: ZoneInfo,
                  fresh: int | None = None) -> tuple[list[IncidentLine], list[str]]:
        """Lines refolded from the log cut at ``as_of``: stale or missing facts rows; and the unjudged.

        ``fresh``: how many fresh rows the range has, when the caller counted them already.
        """
        starts_at, ends_at = self.bounds
        listed = [Incident.captured_at >= starts_at, Incident.captured_at < ends_at]
        if self.as_of is not None:
            listed.append(Incident.captured_at <= self.as_of)
        ids: set[int] = set()
        if self.as_of is not None:
            ids |= set(session.execute(select(F.incident_id).where(*listed_in(F, starts_at, ends_at, self.as_of), or_(
                F.last_event_at > self.as_of, F.incident_id.in_(written_after(self.as_of))))).scalars())
        if fresh is None:
            fresh = session.execute(select(func.count()).select_from(F).where(*self._fresh())).scalar_one()
        # Every facts row listed in the range is one of the range's incidents, so equal counts mean none
        # lacks a row; only otherwise look for them (an anti-join over the whole table is slow).
        incidents = session.execute(select(func.count()).select_from(Incident).where(*listed)).scalar_one()
        if incidents != fresh + len(ids):
            ids |= set(session.execute(select(Incident.id).where(*listed, ~exists().where(F.incident_id == Incident.id)))
                       .scalars())
        moved: set[int] = set()
        if self.as_of is not None:  # listed elsewhere now, perhaps in this range as the log stood at as_of
            moved = set(session.execute(select(Incident.id).where(*moved_after(starts_at, ends_at, self.as_of)))
                        .scalars()) - ids
            ids |= moved
        if not ids:
            return [], []
        refs = dict(session.execute(select(Incident.id, Incident.reference).where(Incident.id.in_(ids))).all())
        cut = [IncidentEvent.incident_id.in_(ids)]
        later: set[int] = set()  # opened in the log only after as_of: not there yet, not unlogged
        if self.as_of is not None:
            cut += written_by(self.as_of)
            later = set(session.execute(select(IncidentEvent.incident_id)
                                        .where(IncidentEvent.incident_id.in_(ids), *opened_after(self.as_of))).scalars())
        logs: dict[int, list[LoggedEvent]] = defaultdict(list)
        for incident_id, kind, at, actor, detail in session.execute(
                select(IncidentEvent.incident_id, IncidentEvent.kind, IncidentEvent.at, IncidentEvent.actor,
                       IncidentEvent.detail).where(*cut)
                .order_by(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.id)):
            if shapes_facts(kind):
                logs[incident_id].append(LoggedEvent(kind, at, actor, dict(detail or {})))
        lines, unlogged = [], []
        for incident_id in ids:
            events = logs.get(incident_id, [])
            if not any(e.kind == OPENED for e in events):
                if incident_id not in moved and incident_id not in later:  # those were simply not there yet
                    unlogged.append(refs[incident_id])
                continue
            facts = IncidentFacts.from_events(events, self.as_of)
            if starts_at <= facts.captured_at < ends_at:
                lines.append(judge(facts, self.as_of, names, zone))
        lines.sort(key=lambda line: (line.facts.captured_at, line.reference))
        return lines, sorted(unlogged)

    def _breaches(self, session: Session, refolded: list[IncidentLine], names: Mapping[int, str], zone: ZoneInfo,
                  limit: int | None) -> tuple[tuple[IncidentLine, ...], dict[str, str]]:
        stmt = (with_company(select(*_LINE_COLUMNS).join(Incident, Incident.id == F.incident_id))
                .where(*self._fresh(), self._breached()).order_by(F.captured_at, F.reference).limit(limit))
        rows = session.execute(stmt).all()
        companies = {row.reference: row_company(row) for row in rows}
        stored = [self._line(row, names, zone) for row in rows]
        slow = [line for line in refolded if line.breached]
        companies.update(self._companies(session, [line.reference for line in slow]))
        merged = heapq.merge(stored, slow, key=lambda line: (line.facts.captured_at, line.reference))
        return tuple(merged)[:limit], companies

    def _line(self, row, names: Mapping[int, str], zone: ZoneInfo) -> IncidentLine:
        outcome = Outcome(row.outcome)
        breached = stored_breached(row.breach_reason, row.due_at, row.breach_logged_at, self.as_of)
        facts = StoredFacts(row.reference, row.captured_at, row.due_at, row.acknowledged_at, row.answered_at,
                            row.seconds_to_callback, row.related_reference)
        return IncidentLine(
            facts=facts, outcome=outcome, breached=breached,
            reason=known_reason(row.breach_reason) if breached else None,
            acknowledged_by=rep_label(row.acknowledged_rep_id, row.acknowledged_actor, names)
            if row.acknowledged_at else "",
            called_by=rep_label(row.called_rep_id, row.called_actor, names) if outcome != Outcome.NO_CALLBACK else "",
            captured_local=row.captured_at.astimezone(zone))

    @staticmethod
    def _companies(session: Session, references: list[str]) -> dict[str, str]:
        return companies_where(session, Incident.reference.in_(references)) if references else {}


def _stored_values(result, as_of: datetime | None, names: Mapping[int, str]) -> Iterator[tuple[tuple, tuple]]:
    """(sort key, export values) of each stored row; the same values ``export.values`` gives for its line."""
    labels: dict[tuple[int | None, str], str] = {}
    companies: dict[tuple, str] = {}  # a year's rows name a few thousand companies: each read once
    for row in result:
        ref, captured, due, acked, rep_id, actor, outcome, answered, seconds, logged, reason, related = row[:12]
        said = row[12:]
        company = companies.get(said)
        if company is None:
            company = companies[said] = row_company(row)
        breached = stored_breached(reason, due, logged, as_of)
        if acked is None:
            acked_by = ""
        elif (rep_id, actor) in labels:
            acked_by = labels[rep_id, actor]
        else:
            acked_by = labels[rep_id, actor] = rep_label(rep_id, actor, names)
        yield (captured, ref), (ref, company, captured.isoformat() + "Z", due.isoformat() + "Z",
                                acked.isoformat() + "Z" if acked else None, acked_by,
                                answered.isoformat() + "Z" if answered else None, outcome, seconds,
                                promise_verdict(breached, outcome), reason if breached else "", related)


def stored_breached(reason: str, due_at: datetime, breach_logged_at: datetime | None, as_of: datetime | None) -> bool:
    """``IncidentFacts.breached`` of a stored row: it has a reason exactly when its fold could count it breached
    (``facts_sync.row_of``: not met, and no provisional deadline of a caller still giving details without a breach
    line); the one rule (``is_breached``) says whether it is at ``as_of``. ``_breached`` and ``csv_sql`` say the same
    in SQL."""
    return reason != "" and is_breached(False, due_at, breach_logged_at, as_of)


def known_reason(stored: str) -> BreachReason | str:
    """The reason a facts row stores; its text when this version does not know it (a newer version's refold, before
    this host's restart): shown as stored and named by ``Report.unknown_values``, never a failed page."""
    try:
        return BreachReason(stored)
    except ValueError:
        return stored


def unknown_values(tally: _Tally) -> tuple[str, ...]:
    """The stored outcomes and breach reasons of the range this version does not know, each named once."""
    outcomes = sorted(o for o, n in tally.outcomes.items() if n and o not in _KNOWN_OUTCOMES)
    reasons = sorted(r for r, n in tally.reasons.items() if n and r not in _KNOWN_REASONS)
    return tuple([f'outcome "{o}"' for o in outcomes] + [f'breach reason "{r}"' for r in reasons])


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


_LINE_COLUMNS = (F.reference, F.captured_at, F.due_at, F.acknowledged_at, F.acknowledged_rep_id,
                 F.acknowledged_actor, F.outcome, F.answered_at, F.seconds_to_callback, F.called_rep_id,
                 F.called_actor, F.breach_logged_at, F.breach_reason, F.related_reference)


def listed_in(table, starts_at: datetime, ends_at: datetime, as_of: datetime | None) -> list:
    """Facts rows whose incident is in the range by both its row's and its log's capture time."""
    cond = [table.captured_at >= starts_at, table.captured_at < ends_at,
            table.listed_at >= starts_at, table.listed_at < ends_at]
    if as_of is not None:
        cond.append(table.listed_at <= as_of)
    return cond


def _report_of(rng: FactsRange, tally: _Tally, listed: tuple[IncidentLine, ...], zone: ZoneInfo,
               undecided: datetime | None = None) -> Report:
    starts_at, ends_at = rng.bounds
    total = tally.total
    everyone = sorted(set(tally.acks) | {name for name, _ in tally.calls}, key=str.casefold)
    calls = tally.calls
    return Report(
        start=rng.start, end=rng.end, tz=rng.tz, starts_at=starts_at, ends_at=ends_at, as_of=rng.as_of, total=total,
        outcomes=tuple(OutcomeRow(o.value, OUTCOME_LABELS[o], tally.outcomes[o.value],
                                  percent(tally.outcomes[o.value], total)) for o in Outcome),
        breached=Tally(tally.breached, percent(tally.breached, total)),
        open=Tally(tally.still_open, percent(tally.still_open, total)),
        time_to_callback=Spread.of_counts(tally.seconds),
        reasons=tuple(OutcomeRow(r.name.lower(), r.value, tally.reasons[r.value],
                                 percent(tally.reasons[r.value], tally.breached)) for r in BreachReason)
        + tuple(OutcomeRow("unknown", r, n, percent(n, tally.breached)) for r, n in sorted(tally.reasons.items())
                if n and r not in _KNOWN_REASONS),  # a newer version's: counted under its stored text
        lines=(),
        reps=tuple(RepRow(name, tally.acks[name], calls[name, Outcome.MET.value], calls[name, Outcome.LATE.value],
                          calls[name, Outcome.ATTEMPTED.value], calls[name, Outcome.SELF_REPORTED.value])
                   for name in everyone),
        hours=tuple(HourBucket(i, *tally.hours[i]) if i in tally.hours else HourBucket(i, 0, 0, 0)
                    for i in range(168)),
        breach_lines=listed,
        callback_minutes=minute_bins(tally.seconds.items(), rng.sla_minutes),
        sla_minutes=rng.sla_minutes,
        unknown_values=unknown_values(tally),
        undecided_until=undecided,
    )

