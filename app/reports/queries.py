"""Loading a range's incident logs for the compliance report: one query for every event, none per incident."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent, Rep
from app.reports.facts import OPENED, IncidentFacts, LoggedEvent
from app.services.company_label import row_company, with_company

LONGEST_CALL = timedelta(hours=24)  # Twilio ends any call by then (4 hours by default): the latest details can come


@dataclass(frozen=True)
class LoadedRange:
    """The facts of the incidents captured in a range, with the labels the exports show."""

    facts: list[IncidentFacts]
    companies: dict[str, str]  # reference -> company as the board shows it (a label, not evidence: ``companies``)
    rep_names: dict[int, str]
    unlogged: list[str]  # incidents in the range whose log has no incident_opened line: not judged, shown


def load_range(session: Session, starts_at: datetime, ends_at: datetime, as_of: datetime) -> LoadedRange:
    """Facts of incidents captured in [starts_at, ends_at), from log lines stamped and written by ``as_of``.

    Cutting the log at ``as_of`` makes a report reproducible: the log only grows, and a line written
    after ``as_of`` is left out whatever instant it tells of (``written_by``), so the same range and
    ``as_of`` give the same figures (and export bytes) later.
    """
    in_range = (Incident.captured_at >= starts_at, Incident.captured_at < ends_at, Incident.captured_at <= as_of)
    incidents = session.execute(select(Incident.reference).where(*in_range)).scalars().all()
    companies = companies_where(session, and_(*in_range)) | companies_where(
        session, and_(*moved_after(starts_at, ends_at, as_of)))
    stmt = (
        select(IncidentEvent, Incident.reference)
        .join(Incident, IncidentEvent.incident_id == Incident.id)
        .where(or_(and_(*in_range), and_(*moved_after(starts_at, ends_at, as_of))), *written_by(as_of))
        .order_by(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.id)
    )
    logs: dict[str, list[LoggedEvent]] = defaultdict(list)
    for event, reference in session.execute(stmt):
        logs[reference].append(LoggedEvent(event.kind, event.at, event.actor, dict(event.detail or {})))
    opened = {ref for ref, events in logs.items() if any(e.kind == "incident_opened" for e in events)}
    facts = [IncidentFacts.from_events(logs[ref], as_of) for ref in sorted(opened)]  # the report keeps those in range
    rep_names = dict(session.execute(select(Rep.id, Rep.name)).all())
    later = set(session.execute(select(Incident.reference).join(IncidentEvent, IncidentEvent.incident_id == Incident.id)
                                .where(*in_range, *opened_after(as_of))).scalars())
    unlogged = sorted(ref for ref in incidents if ref not in opened and ref not in later)
    return LoadedRange(facts, companies, rep_names, unlogged)


def companies_where(session: Session, where) -> dict[str, str]:
    """Reference -> the company as the board shows it (``company_label.row_company``: what the caller said, else
    their ticket's account, "(from the ticket)"), of the incidents ``where`` selects. Only that: the report's stored
    CSV lines and its full recomputation name an incident's company alike (until session 44 the report read what the
    caller said alone, and left the company of a caller who gave only a ticket number empty)."""
    return {row.reference: row_company(row)
            for row in session.execute(with_company(select(Incident.reference)).where(where))}


def written_by(as_of: datetime) -> tuple:
    """SQL: the log lines a report pinned to ``as_of`` reads: stamped by then and written by then (a line written
    before ``written_at`` was kept has NULL there: its ``at``). ``IncidentEvent.written_at`` says why both."""
    return IncidentEvent.at <= as_of, func.coalesce(IncidentEvent.written_at, IncidentEvent.at) <= as_of


def written_after(as_of: datetime):
    """SQL: the incidents with a log line written after ``as_of`` (by ``ix_incident_events_written_at``): their
    facts rows may hold lines a report pinned to ``as_of`` must not read, so it refolds them from the log."""
    return select(IncidentEvent.incident_id).where(IncidentEvent.written_at > as_of,
                                                   IncidentEvent.incident_id.is_not(None))


def opened_after(as_of: datetime) -> tuple:
    """SQL: an ``incident_opened`` line written after ``as_of``: its incident (a caller spooled while the database
    was down, rescued later with the time of the call) was not in the log yet as of then, not unlogged."""
    return IncidentEvent.kind == OPENED, IncidentEvent.written_at > as_of


def moved_after(starts_at: datetime, ends_at: datetime, as_of: datetime) -> tuple:
    """SQL: incidents whose captured time moved past ``as_of`` (opened mid-call, the details in after it: issue 13)
    that may have been captured in [starts_at, ends_at) as the log stood at ``as_of``: received by then and before
    the range ends, captured now no earlier than its start (it only moves later). Their logs cut at ``as_of`` say."""
    return (Incident.captured_at > as_of, Incident.captured_at <= as_of + LONGEST_CALL, Incident.captured_at >= starts_at,
            Incident.received_at <= as_of, Incident.received_at < ends_at)
