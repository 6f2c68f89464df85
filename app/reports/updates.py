"""Report figures of issue 11, from the append-only event log alone: update punctuality,
time to resolution, confirmed vs unconfirmed resolutions, outage-linked incidents, non-critical callers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, distinct, func, null, select
from sqlalchemy.orm import Session

from app.models import IncidentEvent
from app.reports.stats import Spread, percent

COUNTED = ("customer_update_sent", "customer_update_late", "resolution_confirmed", "resolution_rejected",
            "resolved_unconfirmed", "non_critical_contact")  # "outage_linked" is counted by SQL


@dataclass(frozen=True)
class UpdateFigures:
    """What the updates section of the report shows for one period."""

    updates_owed: int  # updates that answered a due round
    on_time: int
    late: int
    extra_updates: int  # written while none was owed (e.g. while a proposal waited)
    escalated: int  # rounds not written by their due time: managers alerted
    lateness: Spread  # seconds late, of the late ones
    confirmed: int
    confirmed_by: dict[str, int] = field(default_factory=dict)  # sms, link, call, verbal
    unconfirmed: int = 0  # closed by the customer's silence
    rejected: int = 0
    time_to_resolution: Spread = Spread.of([])  # seconds from capture, confirmed and unconfirmed alike
    outage_linked_incidents: int = 0
    non_critical_contacts: int = 0

    @property
    def punctuality_percent(self) -> float:
        """Share of owed updates written by their due time."""
        return percent(self.on_time, self.updates_owed)


def figures_from_counts(counts: Iterable[Any], linked_incidents: int) -> UpdateFigures:
    """The figures of a period from its log's counts (pure: the caller chose the period).

    ``counts`` holds one row per distinct (kind, extra, late, seconds, via) with how many lines have
    it (``n``): ``extra`` tells an update sent while none was owed (round 0), ``late`` its seconds
    late, ``seconds`` a resolution's seconds since capture (to the whole second: the report shows
    hours), ``via`` how a confirmation came. ``linked_incidents`` is the count of distinct incidents
    linked to an outage.
    """
    owed = on_time = extra = escalated = confirmed = unconfirmed = rejected = non_critical = 0
    late_seconds: Counter[int] = Counter()
    to_resolution: Counter[int] = Counter()
    vias: Counter[str] = Counter()
    for row in counts:
        kind, n = row.kind, row.n
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
        elif kind == "customer_update_late":
            escalated += n
        elif kind in ("resolution_confirmed", "resolved_unconfirmed"):
            if kind == "resolution_confirmed":
                confirmed += n
                vias[str(row.via or "")] += n
            else:
                unconfirmed += n
            to_resolution[int(row.seconds or 0)] += n
        elif kind == "resolution_rejected":
            rejected += n
        elif kind == "non_critical_contact":
            non_critical += n
    return UpdateFigures(updates_owed=owed, on_time=on_time, late=late_seconds.total(), extra_updates=extra,
                         escalated=escalated, lateness=Spread.of_counts(late_seconds), confirmed=confirmed,
                         confirmed_by=dict(sorted(vias.items())), unconfirmed=unconfirmed, rejected=rejected,
                         time_to_resolution=Spread.of_counts(to_resolution),
                         outage_linked_incidents=linked_incidents, non_critical_contacts=non_critical)


def _of(kinds: tuple[str, ...], value):
    """``value`` for lines of ``kinds``, NULL for the others (so they group together)."""
    return case((IncidentEvent.kind.in_(kinds), value), else_=null())


_SENT, _RESOLVED = ("customer_update_sent",), ("resolution_confirmed", "resolved_unconfirmed")
_DETAIL = IncidentEvent.detail
_COUNTS = (IncidentEvent.kind.label("kind"),
           _of(_SENT, func.coalesce(_DETAIL["round"].as_float(), 0) == 0).label("extra"),
           _of(_SENT, func.coalesce(_DETAIL["late_seconds"].as_float(), 0)).label("late"),
           _of(_RESOLVED, func.round(func.coalesce(_DETAIL["seconds_since_capture"].as_float(), 0))).label("seconds"),
           _of(("resolution_confirmed",), _DETAIL["via"].as_string()).label("via"))


def update_figures(session: Session, start: datetime, end: datetime) -> UpdateFigures:
    """The figures of events logged in [start, end): SQL counts the lines by what the figures tell apart,
    so neither the lines nor their details come to Python (a year of 2,000,000 lines: peak RSS 114 MB,
    not 3.7 GB; ``bench/updates_report.py``)."""
    in_range = (IncidentEvent.at >= start, IncidentEvent.at < end)
    linked = session.scalar(select(func.count(distinct(IncidentEvent.incident_id))).where(
        IncidentEvent.kind == "outage_linked", *in_range))
    # grouped by label: the JSON keys are bound parameters, so PostgreSQL would not take the GROUP BY's
    # expressions for the select's
    counts = session.execute(select(*_COUNTS, func.count().label("n")).where(
        IncidentEvent.kind.in_(COUNTED), *in_range).group_by(*(column.name for column in _COUNTS)))
    return figures_from_counts(counts, linked_incidents=linked or 0)
