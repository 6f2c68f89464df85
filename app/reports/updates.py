"""Report figures of issue 11, from the append-only event log alone: update punctuality,
time to resolution, confirmed vs unconfirmed resolutions, outage-linked incidents, non-critical callers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import IncidentEvent
from app.reports.stats import Spread, percent

KINDS = ("customer_update_sent", "customer_update_late", "resolution_confirmed", "resolution_rejected",
         "resolved_unconfirmed", "outage_linked", "non_critical_contact")


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


def figures_from_events(events: list[IncidentEvent]) -> UpdateFigures:
    """The figures of a list of events (pure: the caller chose the period)."""
    owed = on_time = extra = escalated = confirmed = unconfirmed = rejected = non_critical = 0
    late_seconds: list[float] = []
    to_resolution: list[float] = []
    vias: Counter[str] = Counter()
    linked: set[int] = set()
    for e in events:
        d = e.detail or {}
        if e.kind == "customer_update_sent":
            if int(d.get("round") or 0) == 0:
                extra += 1
                continue
            owed += 1
            late = int(d.get("late_seconds") or 0)
            if late:
                late_seconds.append(late)
            else:
                on_time += 1
        elif e.kind == "customer_update_late":
            escalated += 1
        elif e.kind == "resolution_confirmed":
            confirmed += 1
            vias[str(d.get("via", ""))] += 1
            to_resolution.append(float(d.get("seconds_since_capture") or 0))
        elif e.kind == "resolved_unconfirmed":
            unconfirmed += 1
            to_resolution.append(float(d.get("seconds_since_capture") or 0))
        elif e.kind == "resolution_rejected":
            rejected += 1
        elif e.kind == "outage_linked" and e.incident_id is not None:
            linked.add(e.incident_id)
        elif e.kind == "non_critical_contact":
            non_critical += 1
    return UpdateFigures(updates_owed=owed, on_time=on_time, late=len(late_seconds), extra_updates=extra,
                         escalated=escalated, lateness=Spread.of(late_seconds), confirmed=confirmed,
                         confirmed_by=dict(sorted(vias.items())), unconfirmed=unconfirmed, rejected=rejected,
                         time_to_resolution=Spread.of(to_resolution), outage_linked_incidents=len(linked),
                         non_critical_contacts=non_critical)


def update_figures(session: Session, start: datetime, end: datetime) -> UpdateFigures:
    """The figures of events logged in [start, end)."""
    events = list(session.scalars(select(IncidentEvent).where(
        IncidentEvent.kind.in_(KINDS), IncidentEvent.at >= start, IncidentEvent.at < end).order_by(IncidentEvent.id)))
    return figures_from_events(events)
