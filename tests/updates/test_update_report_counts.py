"""The updates report has SQL count the range's log lines by what its figures tell apart (no line comes to
Python: bench/updates_report.py measures the memory), and its figures equal a recomputation from every line
of the log held in memory, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from app.db import Database
from app.models import Incident, IncidentEvent
from app.reports import updates
from app.reports.stats import Spread
from app.services.events import log_event

T0 = datetime(2026, 3, 1, tzinfo=UTC)
VIAS = ("sms", "link", "call", "verbal")


def _recomputed(events: list[IncidentEvent]) -> dict:
    """The figures the report must show, from a list of every line (the way it was computed before streaming)."""
    sent = [e for e in events if e.kind == "customer_update_sent" and int(e.detail.get("round") or 0)]
    late = [int(e.detail["late_seconds"]) for e in sent if int(e.detail.get("late_seconds") or 0)]
    resolved = [e for e in events if e.kind in ("resolution_confirmed", "resolved_unconfirmed")]
    confirmed = [e for e in events if e.kind == "resolution_confirmed"]
    return {
        "updates_owed": len(sent), "late": len(late), "on_time": len(sent) - len(late),
        "extra_updates": sum(1 for e in events if e.kind == "customer_update_sent") - len(sent),
        "escalated": sum(1 for e in events if e.kind == "customer_update_late"),
        "lateness": Spread.of(late),
        "confirmed": len(confirmed),
        "confirmed_by": {v: n for v in sorted(VIAS) if (n := sum(1 for e in confirmed if e.detail["via"] == v))},
        "unconfirmed": len(resolved) - len(confirmed),
        "rejected": sum(1 for e in events if e.kind == "resolution_rejected"),
        "time_to_resolution": Spread.of([round(float(e.detail["seconds_since_capture"])) for e in resolved]),
        "outage_linked_incidents": len({e.incident_id for e in events if e.kind == "outage_linked"}),
        "non_critical_contacts": sum(1 for e in events if e.kind == "non_critical_contact"),
    }


def _incidents(session, count: int) -> list[Incident]:
    incidents = [Incident(reference=f"UPD{n}", received_at=T0, captured_at=T0,
                          callback_due_at=T0 + timedelta(minutes=15)) for n in range(count)]
    session.add_all(incidents)
    session.flush()
    return incidents


def _log(session, rng: random.Random, incident_ids: list[int], at: datetime) -> None:
    kind = rng.choice(["customer_update_sent"] * 6 + ["customer_update_late", "resolution_confirmed",
                       "resolved_unconfirmed", "resolution_rejected", "outage_linked", "non_critical_contact",
                       "page_sent"])  # the last is not the report's: it must be left out
    detail: dict = {}
    if kind == "customer_update_sent":
        detail = {"round": rng.choice([0, 1, 2, 3]), "late_seconds": rng.choice([0, 0, 0, 45, 130, 900])}
    elif kind in ("resolution_confirmed", "resolved_unconfirmed"):
        detail = {"seconds_since_capture": round(rng.uniform(600, 3 * 86400), 1)}
        if kind == "resolution_confirmed":
            detail["via"] = rng.choice(VIAS)
    log_event(session, at=at, actor="system", kind=kind, detail=detail, incident_id=rng.choice(incident_ids))


def test_the_report_equals_a_recomputation_from_the_whole_log(database_url):
    db, rng = Database(database_url), random.Random(7)
    try:
        with db.transaction() as session:
            ids = [i.id for i in _incidents(session, 12)]
            for n in range(900):  # 60 days, and lines on both sides of the range
                _log(session, rng, ids, T0 + timedelta(minutes=97 * n))
        start, end = T0 + timedelta(days=10), T0 + timedelta(days=40)
        with db.session() as session:
            shown = updates.update_figures(session, start, end)
            in_range = list(session.scalars(select(IncidentEvent).where(IncidentEvent.at >= start,
                                                                        IncidentEvent.at < end)))
        expected = _recomputed(in_range)
        assert expected["updates_owed"] > 50 and expected["late"] > 10 and expected["confirmed"] > 5
        assert {name: getattr(shown, name) for name in expected} == expected
    finally:
        db.dispose()


def test_punctuality_resolutions_outages_and_non_critical_are_counted_apart(database_url):
    db = Database(database_url)
    lines = [
        ("customer_update_sent", 1, {"round": 1, "late_seconds": 0}),
        ("customer_update_sent", 1, {"round": 2, "late_seconds": 300}),
        ("customer_update_sent", 1, {"round": 3, "late_seconds": 0}),
        ("customer_update_sent", 1, {"round": 0, "late_seconds": 0}),  # extra, while a proposal waited
        ("customer_update_late", 1, {"round": 2}),
        ("resolution_rejected", 1, {"via": "sms"}),
        ("resolution_confirmed", 1, {"via": "link", "seconds_since_capture": 7200}),
        ("resolution_confirmed", 2, {"via": "verbal", "seconds_since_capture": 3600}),
        ("resolved_unconfirmed", 3, {"seconds_since_capture": 270000}),
        ("outage_linked", 4, {"outage_id": 1}),
        ("outage_linked", 4, {"outage_id": 2}),  # the same incident twice: one incident
        ("outage_linked", 5, {"outage_id": 1}),
        ("non_critical_contact", None, {}),
    ]
    try:
        with db.transaction() as session:
            incidents = _incidents(session, 5)
            for kind, number, detail in lines:
                log_event(session, at=T0, actor="t", kind=kind, detail=detail,
                          incident_id=incidents[number - 1].id if number else None)
        with db.session() as session:
            f = updates.update_figures(session, T0, T0 + timedelta(seconds=1))
            empty = updates.update_figures(session, T0 + timedelta(seconds=1), T0 + timedelta(days=1))
    finally:
        db.dispose()
    assert (f.updates_owed, f.on_time, f.late, f.extra_updates, f.escalated) == (3, 2, 1, 1, 1)
    assert f.punctuality_percent == 66.7 and f.lateness.maximum == 300
    assert (f.confirmed, f.unconfirmed, f.rejected) == (2, 1, 1)
    assert f.confirmed_by == {"link": 1, "verbal": 1}
    assert f.time_to_resolution.median == 7200 and f.time_to_resolution.maximum == 270000
    assert f.outage_linked_incidents == 2 and f.non_critical_contacts == 1
    assert empty.punctuality_percent == 0.0 and empty.time_to_resolution.count == 0 and empty.updates_owed == 0


def test_the_figures_weigh_each_count_by_its_lines():
    counts = [SimpleNamespace(kind="customer_update_sent", extra=False, late=0, seconds=None, via=None, n=6667),
              SimpleNamespace(kind="customer_update_sent", extra=False, late=60, seconds=None, via=None, n=6667),
              SimpleNamespace(kind="customer_update_sent", extra=False, late=120, seconds=None, via=None, n=6666),
              SimpleNamespace(kind="customer_update_sent", extra=True, late=0, seconds=None, via=None, n=5),
              SimpleNamespace(kind="resolution_confirmed", extra=None, late=None, seconds=3600, via="sms", n=2),
              SimpleNamespace(kind="resolved_unconfirmed", extra=None, late=None, seconds=7200, via=None, n=1)]
    figures = updates.figures_from_counts(counts, linked_incidents=3)
    assert (figures.updates_owed, figures.on_time, figures.late, figures.extra_updates) == (20_000, 6667, 13_333, 5)
    assert figures.lateness == Spread(13_333, 60, 120, 120, 120)
    assert figures.time_to_resolution == Spread(3, 3600, 7200, 7200, 7200)
    assert (figures.confirmed, figures.confirmed_by, figures.unconfirmed) == (2, {"sms": 2}, 1)
    assert figures.outage_linked_incidents == 3 and figures.punctuality_percent == 33.3
