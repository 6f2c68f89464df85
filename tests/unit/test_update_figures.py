"""The updates report's arithmetic (issue 11), from event rows alone."""

from __future__ import annotations

from datetime import UTC, datetime

from app.models import IncidentEvent
from app.reports.updates import figures_from_events

AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _e(kind: str, incident_id: int | None = 1, **detail) -> IncidentEvent:
    return IncidentEvent(kind=kind, incident_id=incident_id, at=AT, actor="t", detail=detail)


def test_punctuality_resolutions_outages_and_non_critical_are_counted_apart():
    events = [
        _e("customer_update_sent", round=1, late_seconds=0),
        _e("customer_update_sent", round=2, late_seconds=300),
        _e("customer_update_sent", round=3, late_seconds=0),
        _e("customer_update_sent", round=0, late_seconds=0),  # extra, while a proposal waited
        _e("customer_update_late", round=2),
        _e("resolution_rejected", via="sms"),
        _e("resolution_confirmed", via="link", seconds_since_capture=7200),
        _e("resolution_confirmed", 2, via="verbal", seconds_since_capture=3600),
        _e("resolved_unconfirmed", 3, seconds_since_capture=270000),
        _e("outage_linked", 4, outage_id=1),
        _e("outage_linked", 4, outage_id=2),  # the same incident twice: one incident
        _e("outage_linked", 5, outage_id=1),
        _e("non_critical_contact", None),
    ]
    f = figures_from_events(events)
    assert (f.updates_owed, f.on_time, f.late, f.extra_updates, f.escalated) == (3, 2, 1, 1, 1)
    assert f.punctuality_percent == 66.7 and f.lateness.maximum == 300
    assert (f.confirmed, f.unconfirmed, f.rejected) == (2, 1, 1)
    assert f.confirmed_by == {"link": 1, "verbal": 1}
    assert f.time_to_resolution.median == 7200 and f.time_to_resolution.maximum == 270000
    assert f.outage_linked_incidents == 2 and f.non_critical_contacts == 1


def test_no_events_no_division_by_zero():
    f = figures_from_events([])
    assert f.punctuality_percent == 0.0 and f.time_to_resolution.count == 0
