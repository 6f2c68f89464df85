"""The updates report's benchmark measures a log as the services write it (session 48): until then its 2,000,000 lines
named no incident and held no schedule, so the rounds missed and overdue (a walk of each incident's schedule) were
never timed: it showed 3 s a year, a realistic log 6 to 23 s."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import create_engine, func, select

from app.models import Incident, IncidentEvent
from bench import updates_report


def test_the_quick_data_set_is_incidents_with_their_update_schedules():
    store = updates_report.prepare(quick=True)
    engine = create_engine(store.url)
    try:
        with engine.connect() as conn:
            incidents = set(conn.scalars(select(Incident.id)))
            named = conn.execute(select(IncidentEvent.incident_id, func.count()).where(
                IncidentEvent.incident_id.is_not(None)).group_by(IncidentEvent.incident_id)).all()
            kinds = Counter({kind: n for kind, n in conn.execute(
                select(IncidentEvent.kind, func.count()).group_by(IncidentEvent.kind))})
            lines = conn.scalar(select(func.count()).select_from(IncidentEvent))
            still_open = conn.scalar(select(func.count()).where(Incident.status == "open"))
    finally:
        engine.dispose()
        store.remove()
    assert 15_000 < lines < 25_000 and len(incidents) > 200
    assert {incident for incident, _ in named} == incidents  # every line names an incident that exists, each has lines
    # each incident's schedule started, rounds written, late and alerted, fixes proposed and answered, some reopened
    assert kinds["updates_scheduled"] >= len(incidents) and kinds["customer_update_sent"] > 2 * len(incidents)
    assert kinds["resolution_proposed"] > len(incidents) and kinds["resolution_rejected"] > 0
    assert kinds["customer_update_late"] > 0 and kinds["incident_reopened"] > 0 and still_open > 0
    assert kinds["resolution_undelivered"] > 0 and kinds["resolution_unclear"] > 0
    assert max(n for _, n in named) > 200  # incidents worked for days, with hundreds of lines
    # the report's own lines are a part of the log, as in a real one (intake, paging, deliveries are the rest)
    assert 0.1 < sum(kinds[k] for k in updates_report.COUNTED) / lines < 0.35
