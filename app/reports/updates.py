"""Report figures of issue 11, from the append-only event log alone: update punctuality,
time to resolution, confirmed vs unconfirmed resolutions vs a manager's closes, outage-linked incidents, non-critical
callers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, distinct, func, null, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from app.models import IncidentEvent
from app.reports.export import iso
from app.reports.params import RangeParams
from app.reports.stats import Spread, percent, spread_json

COUNTED = ("customer_update_sent", "customer_update_late", "resolution_confirmed", "resolution_rejected",
            "resolved_unconfirmed", "non_critical_contact", "customer_update_undelivered",
            "resolved", "incident_reopened")  # "outage_linked" is counted by SQL; of "resolved" only a manager's close counts
# the lines of a close: one a later ``incident_reopened`` line of the same incident undid is no resolution (whenever
# the reopen came): the close that stands is the final one, counted (and timed) once
CLOSE_KINDS = ("resolution_confirmed", "resolved_unconfirmed", "resolved")
# the outcome the escalation core gives a close without the customer's agreement, on a manager's written reason
# (``decide._resolve``; the ``resolved`` line's ``detail.outcome`` since the core exists, issue 7)
BY_MANAGER = "resolved_by_manager"


@dataclass(frozen=True)
class UpdateFigures:
    """What the updates section of the report shows for one period."""

    updates_owed: int  # rounds owed by the schedule and settled in the period: on_time + late + missed
    on_time: int
    late: int
    extra_updates: int  # answering no round (``update_rounds``): none owed yet, a proposal waiting, too soon
    escalated: int  # rounds the managers were told were late, each round once (at its first alert)
    lateness: Spread  # seconds late, of the late ones
    confirmed: int
    confirmed_by: dict[str, int] = field(default_factory=dict)  # sms, link, call, verbal
    unconfirmed: int = 0  # closed by the customer's silence
    # closed by a manager with a written reason, without the customer's agreement (a duplicate, a customer gone, ...)
    closed_by_manager: int = 0
    rejected: int = 0
    # closes undone (``reopen``): by the customer's NO to a close they never agreed to in writing, by a rep's reason;
    # the closes they undid are not counted above (confirmed, unconfirmed, by a manager, time to resolution)
    reopened_by_customer: int = 0
    reopened_by_staff: int = 0
    # seconds from capture, confirmed and unconfirmed alike: the fix was proposed to the customer and stood; a
    # manager's close is no resolution anyone proposed (its reason may be a duplicate), so it is not timed here
    time_to_resolution: Spread = Spread.of([])
    outage_linked_incidents: int = 0
    non_critical_contacts: int = 0
    missed: int = 0  # rounds due but never written before a proposal paused the schedule or the incident closed
    # rounds due before the range's end (or now, while the range runs) and still unwritten then, whenever they fell
    # due: settled later (written late, or missed at a pause or close), they are counted above in the range that has
    # that line; until probe V an owner who never wrote showed 0 owed and 0 missed as long as the incident stayed open
    overdue_unwritten: int = 0
    # updates written (on time, late or extra) that reached the customer by no channel: every SMS failed or
    # undelivered, every e-mail failed or unsent, or none could be sent at all; counted when that was known
    not_delivered: int = 0

    @property
    def punctuality_percent(self) -> float | None:
        """Share of owed updates written by their due time (written and sent: whether each reached the customer is
        ``not_delivered``'s to say); None when no round was settled in the range (no share to give: 0 % would read as
        all late; ``overdue_unwritten`` says whether any is overdue all the same)."""
        return percent(self.on_time, self.updates_owed) if self.updates_owed else None


def figures_json(figures: UpdateFigures, start: datetime, end: datetime,
                 dates: RangeParams | None = None, overdue_at: datetime | None = None) -> dict[str, Any]:
    """The figures of [start, end) in plain JSON types (``/reports/updates.json``): every figure the page shows,
    seconds as numbers, each spread as the compliance export gives one (``stats.spread_json``). Asked as local
    ``dates`` (the compliance report's start, end and tz), the range names them too; ``overdue_at`` is the instant
    ``overdue_unwritten`` was judged at (the end, or now when the range runs on past it)."""
    body = {f.name: getattr(figures, f.name) for f in fields(figures)}
    body.update({name: spread_json(value) for name, value in body.items() if isinstance(value, Spread)})
    body["punctuality_percent"] = figures.punctuality_percent
    # "tz": the zone of the dates asked, as the compliance export names it (from and to are instants in UTC)
    asked = {"start": dates.start.isoformat(), "end": dates.end.isoformat(), "tz": dates.tz} if dates else {}
    judged = {"overdue_at": iso(overdue_at or end)}
    return {"range": {"from": iso(start), "to": iso(end), "end_excluded": True, "tz": "UTC"} | asked | judged,
            "updates": body}


def figures_from_counts(counts: Iterable[Any], linked_incidents: int, *, missed: int = 0,
                        escalated: int = 0, overdue: int = 0) -> UpdateFigures:
    """The figures of a period from its log's counts (pure: the caller chose the period).

    ``counts`` holds one row per distinct (kind, extra, late, seconds, via) with how many lines have
    it (``n``): ``extra`` tells an update sent while none was owed (round 0), ``late`` its seconds
    late, ``seconds`` a resolution's seconds since capture (to the whole second: the report shows
    hours), ``via`` how a confirmation came, or for a ``resolved`` line its outcome (a manager's
    close counts; the other closes are counted by their own lines). ``linked_incidents`` is the
    count of distinct incidents linked to an outage, ``missed`` of rounds never written,
    ``escalated`` of rounds escalated (each once), ``overdue`` of rounds overdue and unwritten at the range's end. ``undone`` (when the row has it) marks a close that a later
    reopen of its incident undid: not counted; a reopen's ``via`` says who reopened it (customer or staff).
    """
    owed = missed  # the written rounds are added below
    on_time = extra = confirmed = unconfirmed = by_manager = rejected = non_critical = not_delivered = 0
    reopened: Counter[str] = Counter()
    late_seconds: Counter[int] = Counter()
    to_resolution: Counter[int] = Counter()
    vias: Counter[str] = Counter()
    for row in counts:
        kind, n = row.kind, row.n
        if kind in CLOSE_KINDS and getattr(row, "undone", None):
            continue
        if kind == "customer_update_sent":
            if row.extra:
                extra += n
                continue
            owed += n
            late = int(row.late or 0)
            if late:
                late_seconds[late] += n
            else:
                on_time += n
        elif kind in ("resolution_confirmed", "resolved_unconfirmed"):
            if kind == "resolution_confirmed":
                confirmed += n
                vias[str(row.via or "")] += n
            else:
                unconfirmed += n
            to_resolution[int(row.seconds or 0)] += n
        elif kind == "resolved":
            by_manager += n if row.via == BY_MANAGER else 0
        elif kind == "resolution_rejected":
            rejected += n
        elif kind == "incident_reopened":
            reopened["customer" if row.via == "customer" else "staff"] += n
        elif kind == "non_critical_contact":
            non_critical += n
        elif kind == "customer_update_undelivered":
            not_delivered += n
    return UpdateFigures(updates_owed=owed, on_time=on_time, late=late_seconds.total(), extra_updates=extra,
                         missed=missed, not_delivered=not_delivered, overdue_unwritten=overdue,
                         escalated=escalated, lateness=Spread.of_counts(late_seconds), confirmed=confirmed,
                         confirmed_by=dict(sorted(vias.items())), unconfirmed=unconfirmed,
                         closed_by_manager=by_manager, rejected=rejected,
                         reopened_by_customer=reopened["customer"], reopened_by_staff=reopened["staff"],
                         time_to_resolution=Spread.of_counts(to_resolution),
                         outage_linked_incidents=linked_incidents, non_critical_contacts=non_critical)


def _of(kinds: tuple[str, ...], value):
    """``value`` for lines of ``kinds``, NULL for the others (so they group together)."""
    return case((IncidentEvent.kind.in_(kinds), value), else_=null())


_SENT, _RESOLVED = ("customer_update_sent",), ("resolution_confirmed", "resolved_unconfirmed")
_DETAIL = IncidentEvent.detail
# each reopened incident's last reopen (few: read from their partial index, ``ix_incident_events_reopens``, whatever
# the range), joined to the counted lines
_REOPENS = (select(IncidentEvent.incident_id.label("incident_id"), func.max(IncidentEvent.id).label("last_id"))
            .where(IncidentEvent.kind == "incident_reopened").group_by(IncidentEvent.incident_id).subquery("reopens"))
_COUNTS = (IncidentEvent.kind.label("kind"),
           _of(_SENT, func.coalesce(_DETAIL["round"].as_float(), 0) == 0).label("extra"),
           _of(_SENT, func.coalesce(_DETAIL["late_seconds"].as_float(), 0)).label("late"),
           _of(_RESOLVED, func.round(func.coalesce(_DETAIL["seconds_since_capture"].as_float(), 0))).label("seconds"),
           # how a confirmation came; a close's outcome (lines older than the core's outcomes read NULL: no manager's)
           case((IncidentEvent.kind == "resolution_confirmed", _DETAIL["via"].as_string()),
                (IncidentEvent.kind == "resolved", _DETAIL["outcome"].as_string()),
                (IncidentEvent.kind == "incident_reopened", _DETAIL["by"].as_string()), else_=null()).label("via"),
           # a close a later reopen of the same incident undid (its lines come after, under the incident's row lock):
           # one join to the reopened incidents' last reopen, not a look-up per close line (2.8 against 5.1 s a year)
           _of(CLOSE_KINDS, func.coalesce(_REOPENS.c.last_id > IncidentEvent.id, False)).label("undone"))


class _Seconds(FunctionElement):
    """Seconds since 1970 of a timestamp column (stored naive UTC)."""

    type = Float()
    inherit_cache = True


class _TextSeconds(_Seconds):
    """Seconds since 1970 of an ISO 8601 text carrying its offset (a due time in a line's detail)."""

    inherit_cache = True


@compiles(_Seconds)
def _seconds_sqlite(element, compiler, **kw) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(_Seconds, "postgresql")
def _seconds_postgresql(element, compiler, **kw) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(_TextSeconds, "postgresql")
def _text_seconds_postgresql(element, compiler, **kw) -> str:
    # the text names its offset, so the session's time zone plays no part
    return f"EXTRACT(EPOCH FROM CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMPTZ))"


# The schedule's lines, in the order written (ids: an incident's lines are written under its row lock).
# Each sets when the round owed next is due: the first one interval after the start, an agreed interval
# moves it (or keeps an overdue one), an update makes the next due one interval later, a rejected proposal
# one interval after the answer, a proposal that reached nobody the paused round's old due time (or at once), an
# unclear one at once.
_STARTS = ("updates_scheduled", "updates_counted_from_call_end")  # the latter moves round 1 to the call's end
# the schedule withdrawn with the answer that started it owes nothing (no due time) until it starts again
_DUE_SETTERS = (*_STARTS, "update_interval_agreed", "customer_update_sent", "resolution_rejected",
                "resolution_undelivered", "resolution_unclear", "updates_withdrawn")
_INTERVAL_SETTERS = (*_STARTS, "update_interval_agreed")
# (a reopen resumes the schedule as a rejection does: a proposal before the close pauses nothing after it)
_PAUSE_LINES = ("resolution_proposed", "resolution_rejected", "resolution_undelivered", "resolution_unclear",
                "incident_reopened")
# where the round owed next can end unwritten: a proposal pauses the schedule, a close ends it, a proposal
# that never reached the customer excuses nothing
_STOPS = ("resolution_proposed", "resolved", "resolution_undelivered")


def _sets_due(line):
    """An update answering no round, or an interval agreed while paused (no due time), moves nothing."""
    return or_(line.kind.notin_(("customer_update_sent", "update_interval_agreed")),
               and_(line.kind == "customer_update_sent", func.coalesce(line.detail["round"].as_float(), 0) != 0),
               and_(line.kind == "update_interval_agreed", line.detail["next_due_at"].as_string().isnot(None)))


def _missed_rounds(session: Session, start: datetime, end: datetime) -> int:
    """Rounds never written, counted at the line that ended them (a proposal, a close, a proposal's undelivered
    silence) when that line is in [start, end). A proposal excuses the round not yet due when it was made,
    unless it never reached the customer; a round already due when the schedule stopped was missed."""
    # One ordered walk through the schedule lines of the incidents stopped in the range (their whole logs: a due time
    # may have been set long before) gives each stop the ids of its incident's latest due setter, interval and pause
    # before it; only the stops no waiting proposal settles read those lines (by id).
    # Until session 48 each stop looked its three lines up in its incident's whole log: 4.8 of the 6.2 s of the
    # benchmark's year, and more the longer the incidents' logs.
    line, stop = aliased(IncidentEvent), aliased(IncidentEvent)
    stopped = select(stop.incident_id).where(stop.kind.in_(_STOPS), stop.at >= start, stop.at < end)
    lines = select(line.id.label("id"), line.incident_id.label("incident_id"), line.kind.label("kind"),
                   line.at.label("stamp"),
                   case((and_(line.kind.in_(_DUE_SETTERS), _sets_due(line)), line.id)).label("as_setter"),
                   case((line.kind.in_(_INTERVAL_SETTERS), line.id)).label("as_interval"),
                   case((line.kind.in_(_PAUSE_LINES), line.id)).label("as_pause"),
                   case((line.kind == "resolution_proposed", line.id)).label("as_proposal")).where(
        line.kind.in_(sorted({*_DUE_SETTERS, *_INTERVAL_SETTERS, *_PAUSE_LINES, *_STOPS})),
        line.incident_id.in_(stopped)).subquery("lines")
    before = lambda column: func.max(column).over(  # noqa: E731  the latest before the line, by id
        partition_by=lines.c.incident_id, order_by=lines.c.id, rows=(None, -1))
    walk = select(lines.c.kind, lines.c.stamp, before(lines.c.as_setter).label("setter_id"),
                  before(lines.c.as_interval).label("interval_id"), before(lines.c.as_pause).label("pause_id"),
                  before(lines.c.as_proposal).label("proposal_id")).subquery("walk")
    # a proposal waiting (the latest pause line is a proposal) excuses a proposal's or a close's round, and only a
    # proposal's undelivered silence can miss one: the other stops miss none, whatever was due
    waiting = func.coalesce(walk.c.pause_id == walk.c.proposal_id, False)
    stops = select(walk).where(walk.c.kind.in_(_STOPS), walk.c.stamp >= start, walk.c.stamp < end, or_(
        and_(walk.c.kind.in_(("resolution_proposed", "resolved")), ~waiting),
        and_(walk.c.kind == "resolution_undelivered", waiting))).subquery("stops")
    setter, interval, pause = aliased(IncidentEvent), aliased(IncidentEvent), aliased(IncidentEvent)
    due, at = _due(setter, interval), _Seconds(stops.c.stamp)
    missed = or_(and_(stops.c.kind != "resolution_undelivered", due < at),
                 and_(stops.c.kind == "resolution_undelivered", due >= _Seconds(pause.at), due < at))
    # the pause's time matters to an undelivered proposal's silence alone (few): the others look no pause up
    paused_at = case((stops.c.kind == "resolution_undelivered", stops.c.pause_id), else_=null())
    return session.scalar(select(func.count()).select_from(stops)
                          .join(setter, setter.id == stops.c.setter_id)
                          .outerjoin(interval, interval.id == stops.c.interval_id)
                          .outerjoin(pause, pause.id == paused_at).where(missed)) or 0


def _overdue_unwritten(session: Session, cutoff: datetime) -> int:
    """Rounds due before ``cutoff`` and not written by then: each incident's round owed next as its lines before
    ``cutoff`` set it (the latest due time set, as ``_missed_rounds`` reads it), with no proposal waiting and no
    pause or close after it (those settled it: missed or excused). One per incident at most: the schedule owes one
    round at a time. From the log alone, like every figure here."""
    line, edge = aliased(IncidentEvent), aliased(IncidentEvent)
    latest = lambda condition: func.max(case((condition, line.id), else_=null()))  # noqa: E731
    last_of = lambda kinds: func.max(case((edge.kind.in_(kinds), edge.id), else_=null()))  # noqa: E731
    # First the incidents whose schedule ran at the cutoff: started, and not closed then (a reopen after the last
    # close restarts it): few lines of few kinds, and few incidents (those open then), whose schedule lines alone
    # are then read, by their ids (a subquery instead was planned as a second scan of the whole log).
    running = session.scalars(select(edge.incident_id).where(
        edge.kind.in_((*_STARTS, "resolved", "incident_reopened")), edge.at < cutoff,
        edge.incident_id.is_not(None)).group_by(edge.incident_id).having(last_of(_STARTS).is_not(None), or_(
            last_of(("resolved",)).is_(None), last_of(("incident_reopened",)) > last_of(("resolved",))))).all()
    if not running:
        return 0
    per_incident = select(
        latest(and_(line.kind.in_(_DUE_SETTERS), _sets_due(line))).label("setter_id"),
        latest(line.kind.in_(_STOPS)).label("stop_id"),
        latest(line.kind.in_(_INTERVAL_SETTERS)).label("interval_id"),
        latest(line.kind.in_(_PAUSE_LINES)).label("pause_id")).where(
        line.kind.in_(sorted({*_DUE_SETTERS, *_STOPS, *_PAUSE_LINES})), line.at < cutoff,
        line.incident_id.in_(running)).group_by(line.incident_id).subquery()
    setter, interval, pause = aliased(IncidentEvent), aliased(IncidentEvent), aliased(IncidentEvent)
    due = _due(setter, interval)
    open_round = and_(or_(per_incident.c.stop_id.is_(None), per_incident.c.stop_id <= per_incident.c.setter_id),
                      or_(pause.id.is_(None), pause.kind != "resolution_proposed"),
                      due < cutoff.timestamp())  # NULL (nothing owed: withdrawn) is never overdue
    return session.scalar(select(func.count()).select_from(per_incident)
                          .join(setter, setter.id == per_incident.c.setter_id)
                          .outerjoin(interval, interval.id == per_incident.c.interval_id)
                          .outerjoin(pause, pause.id == per_incident.c.pause_id).where(open_round)) or 0


def _due(setter, interval):
    """SQL: seconds since 1970 of the due time of the round a schedule line ``setter`` set (NULL: none owed), with
    ``interval`` the latest line that set the interval (an update's next round is due one interval after it)."""
    minutes = func.coalesce(interval.detail["interval_minutes"].as_float(), interval.detail["minutes"].as_float())
    return case((setter.kind.in_(_STARTS), _TextSeconds(setter.detail["first_due_at"].as_string())),
               (setter.kind == "update_interval_agreed", _TextSeconds(setter.detail["next_due_at"].as_string())),
               (setter.kind == "resolution_rejected", _TextSeconds(setter.detail["next_update_due_at"].as_string())),
               # a proposal known at once to have reached nobody resumes the round it paused at its old due time
               # (lines written before that change name none: owed at once)
               (setter.kind == "resolution_undelivered",
                func.coalesce(_TextSeconds(setter.detail["next_update_due_at"].as_string()), _Seconds(setter.at))),
               (setter.kind == "customer_update_sent", _Seconds(setter.at) + 60 * minutes),
               (setter.kind == "updates_withdrawn", null()),  # nothing owed: never missed
               else_=_Seconds(setter.at))  # undelivered, unclear: owed at once


def _escalated_rounds(session: Session, start: datetime, end: datetime) -> int:
    """Rounds whose first alert to the managers is in [start, end): a round alerted again each interval counts once.
    Each alert's rank among its incident's alerts of the same round, in one ordered pass through the alerts of the
    incidents alerted in the range (a look-up per alert before); an alert naming no incident is a round of its own."""
    late, alerted = aliased(IncidentEvent), aliased(IncidentEvent)
    in_range = and_(alerted.kind == "customer_update_late", alerted.at >= start, alerted.at < end)
    round_of = func.coalesce(late.detail["round"].as_float(), 0)
    alerts = select(late.at.label("at"), func.row_number().over(
        partition_by=(late.incident_id, round_of), order_by=late.id).label("nth")).where(
        late.kind == "customer_update_late", late.incident_id.in_(select(alerted.incident_id).where(in_range)))
    first = alerts.subquery()
    return session.scalar(select(
        select(func.count()).where(first.c.nth == 1, first.c.at >= start, first.c.at < end).scalar_subquery()
        + select(func.count()).where(in_range, alerted.incident_id.is_(None)).scalar_subquery())) or 0


def update_figures(session: Session, start: datetime, end: datetime, now: datetime | None = None) -> UpdateFigures:
    """The figures of events logged in [start, end): SQL counts the lines by what the figures tell apart,
    so neither the lines nor their details come to Python (a year of 2,000,000 lines: peak RSS 114 MB,
    not 3.7 GB; ``bench/updates_report.py``). The rounds overdue and unwritten are those at ``end``, or at ``now``
    when the range runs on past it (a round due after now is not overdue yet)."""
    in_range = (IncidentEvent.at >= start, IncidentEvent.at < end)
    linked = session.scalar(select(func.count(distinct(IncidentEvent.incident_id))).where(
        IncidentEvent.kind == "outage_linked", *in_range))
    # grouped by label: the JSON keys are bound parameters, so PostgreSQL would not take the GROUP BY's
    # expressions for the select's
    counts = session.execute(select(*_COUNTS, func.count().label("n"))
                             .outerjoin(_REOPENS, _REOPENS.c.incident_id == IncidentEvent.incident_id).where(
        IncidentEvent.kind.in_(COUNTED), *in_range).group_by(*(column.name for column in _COUNTS)))
    cutoff = end if now is None else min(end, now)
    return figures_from_counts(counts, linked_incidents=linked or 0, missed=_missed_rounds(session, start, end),
                               escalated=_escalated_rounds(session, start, end),
                               overdue=_overdue_unwritten(session, cutoff))
