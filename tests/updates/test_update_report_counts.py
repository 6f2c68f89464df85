"""The updates report has SQL count the range's log lines by what its figures tell apart (no line comes to
Python: bench/updates_report.py measures the memory), and its figures equal a recomputation from every line
of the log held in memory, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from app.db import Database
from app.models import Incident, IncidentEvent, Role
from app.reports import updates
from app.reports.stats import Spread
from app.services.events import log_event
from bench import update_log
from tests.integration.dashboard_support import login_as

T0 = datetime(2026, 3, 1, tzinfo=UTC)
VIAS = ("sms", "link", "call", "verbal")


def _recomputed(log: list[IncidentEvent], start: datetime, end: datetime) -> dict:
    """The figures the report must show, from a list of every line of the log in the order written (the way it
    was computed before streaming; rounds missed and escalated by a walk through each incident's lines)."""
    events = [e for e in log if start <= e.at < end]
    last_reopen = {e.incident_id: e.id for e in log if e.kind == "incident_reopened"}
    # a close a later reopen of its incident undid is no resolution
    stood = [e for e in events if e.kind not in updates.CLOSE_KINDS or e.id > last_reopen.get(e.incident_id, 0)]
    sent = [e for e in events if e.kind == "customer_update_sent" and int(e.detail.get("round") or 0)]
    late = [int(e.detail["late_seconds"]) for e in sent if int(e.detail.get("late_seconds") or 0)]
    resolved = [e for e in stood if e.kind in ("resolution_confirmed", "resolved_unconfirmed")]
    confirmed = [e for e in stood if e.kind == "resolution_confirmed"]
    reopens = [e for e in events if e.kind == "incident_reopened"]
    missed = _missed(log, start, end)
    alerted: set = set()
    escalated = 0
    for e in log:  # a round counts once, at its first alert
        # an alert naming no incident is a round of its own
        who = e.incident_id if e.incident_id is not None else ("line", e.id)
        if e.kind == "customer_update_late" and (key := (who, e.detail.get("round") or 0)) not in alerted:
            alerted.add(key)
            escalated += start <= e.at < end
    return {
        "updates_owed": len(sent) + missed, "late": len(late), "on_time": len(sent) - len(late), "missed": missed,
        "extra_updates": sum(1 for e in events if e.kind == "customer_update_sent") - len(sent),
        "escalated": escalated,
        "lateness": Spread.of(late),
        "confirmed": len(confirmed),
        "confirmed_by": {v: n for v in sorted(VIAS) if (n := sum(1 for e in confirmed if e.detail["via"] == v))},
        "unconfirmed": len(resolved) - len(confirmed),
        "closed_by_manager": sum(1 for e in stood if e.kind == "resolved"
                                 and e.detail.get("outcome") == "resolved_by_manager"),
        "rejected": sum(1 for e in events if e.kind == "resolution_rejected"),
        "time_to_resolution": Spread.of([round(float(e.detail["seconds_since_capture"])) for e in resolved]),
        "outage_linked_incidents": len({e.incident_id for e in events if e.kind == "outage_linked"}),
        "non_critical_contacts": sum(1 for e in events if e.kind == "non_critical_contact"),
        "overdue_unwritten": _overdue(log, end),
        "reopened_by_customer": sum(1 for e in reopens if e.detail.get("by") == "customer"),
        "reopened_by_staff": sum(1 for e in reopens if e.detail.get("by") != "customer"),
        "not_delivered": sum(1 for e in events if e.kind == "customer_update_undelivered"),
    }


def _overdue(log: list[IncidentEvent], cutoff: datetime) -> int:
    """Rounds due before ``cutoff`` and unwritten then (probe V, V5), walking each incident's schedule line by line
    up to it: a round is open while no proposal waits and the incident is not closed."""
    state: dict[int, dict] = {}
    for e in log:
        if e.at >= cutoff or e.incident_id is None:
            continue
        s = state.setdefault(e.incident_id, {"due": None, "interval": None, "paused": False, "closed": False})
        d = e.detail
        if e.kind in ("updates_scheduled", "updates_counted_from_call_end"):
            s.update(interval=d.get("interval_minutes"), due=_when(d.get("first_due_at")), paused=False, closed=False)
        elif e.kind == "update_interval_agreed":
            s["interval"] = d.get("minutes")
            if d.get("next_due_at"):
                s["due"] = _when(d["next_due_at"])
        elif e.kind == "customer_update_sent" and int(d.get("round") or 0):
            s["due"] = e.at + timedelta(minutes=s["interval"]) if s["interval"] else None
        elif e.kind == "resolution_proposed":
            s["paused"] = True
        elif e.kind == "resolution_rejected":
            s.update(paused=False, due=_when(d.get("next_update_due_at")))
        elif e.kind in ("resolution_undelivered", "resolution_unclear"):
            s.update(paused=False, due=_when(d.get("next_update_due_at")) or e.at)
        elif e.kind == "updates_withdrawn":
            s["due"] = None
        elif e.kind == "resolved":
            s["closed"] = True
        elif e.kind == "incident_reopened":
            s.update(paused=False, closed=False)
    return sum(1 for s in state.values() if s["due"] is not None and s["due"] < cutoff
               and not s["paused"] and not s["closed"])


def _when(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _missed(log: list[IncidentEvent], start: datetime, end: datetime) -> int:
    """Rounds due but never written when a proposal paused the schedule, the incident closed, or a proposal that
    never reached the customer ran out (counted at that line), walking each incident's schedule line by line."""
    state: dict[int | None, dict] = {}
    missed = 0
    for e in log:
        s = state.setdefault(e.incident_id, {"due": None, "interval": None, "paused_at": None})
        d, due, paused_at = e.detail, s["due"], s["paused_at"]
        ended = False
        if e.kind in ("resolution_proposed", "resolved"):
            ended = paused_at is None and due is not None and due < e.at
        elif e.kind == "resolution_undelivered":
            ended = paused_at is not None and due is not None and paused_at <= due < e.at
        missed += ended and start <= e.at < end
        if e.kind in ("updates_scheduled", "updates_counted_from_call_end"):
            s["interval"], s["due"] = d.get("interval_minutes"), _when(d.get("first_due_at"))
        elif e.kind == "update_interval_agreed":
            s["interval"] = d.get("minutes")
            if d.get("next_due_at"):
                s["due"] = _when(d["next_due_at"])
        elif e.kind == "customer_update_sent" and int(d.get("round") or 0):
            s["due"] = e.at + timedelta(minutes=s["interval"]) if s["interval"] else None
        elif e.kind == "resolution_proposed":
            s["paused_at"] = e.at
        elif e.kind == "resolution_rejected":
            s["paused_at"], s["due"] = None, _when(d.get("next_update_due_at"))
        elif e.kind == "resolution_undelivered":  # the paused round's old due time, if the line names it
            s["paused_at"], s["due"] = None, _when(d.get("next_update_due_at")) or e.at
        elif e.kind == "resolution_unclear":
            s["paused_at"], s["due"] = None, e.at
        elif e.kind == "incident_reopened":  # resumes the schedule as a rejection does
            s["paused_at"] = None
    return missed


def _schedules(rng: random.Random, incident_ids: list[int]) -> list[tuple]:
    """Each incident's update schedule as the services log it: updates on time, late, after repeated alerts,
    intervals agreed, proposals confirmed, rejected, undelivered or unclear, closes by a manager."""
    lines: list[tuple] = []
    for incident_id in incident_ids:
        t = T0 + timedelta(minutes=rng.randrange(0, 55 * 24 * 60))
        interval = rng.choice([15, 30, 60, 240])
        due, round_ = t + timedelta(minutes=interval), 1

        def log(at, kind, incident_id=incident_id, **detail):
            lines.append((at, incident_id, kind, detail))

        log(t, "updates_scheduled", interval_minutes=interval, first_due_at=due.isoformat())
        if rng.random() < 0.3:  # the callback's call ended later: round 1 counted from its end
            t += timedelta(minutes=rng.randrange(1, 40))
            due = t + timedelta(minutes=interval)
            log(t, "updates_counted_from_call_end", interval_minutes=interval, first_due_at=due.isoformat())
        for _ in range(rng.randrange(1, 12)):
            action = rng.choice(["write"] * 4 + ["alerts", "interval", "propose", "close"])
            if action == "alerts":  # alerted at the due time and again each interval, then written or not
                for k in range(rng.randrange(1, 4)):
                    log(max(t, due) + timedelta(minutes=k * interval + 1), "customer_update_late", round=round_,
                        due_at=due.isoformat())
                t = max(t, due) + timedelta(minutes=3 * interval + 2)
                continue
            t = t + timedelta(minutes=rng.randrange(1, 3 * interval), seconds=rng.randrange(1, 59))
            if action == "write":
                log(t, "customer_update_sent", round=round_, due_at=due.isoformat(),
                    late_seconds=max(0, int((t - due).total_seconds())))
                round_, due = round_ + 1, t + timedelta(minutes=interval)
            elif action == "interval":
                interval = rng.choice([15, 30, 60, 240])
                due = due if due <= t else t + timedelta(minutes=interval)
                log(t, "update_interval_agreed", minutes=interval, next_due_at=due.isoformat())
            elif action == "close":  # a manager's, without the customer's word; or an old line naming no outcome
                log(t, "resolved", **rng.choice([{"outcome": "resolved_by_manager", "by_manager": True}, {}]))
                break
            else:
                log(t, "resolution_proposed", proposal_id=1)
                if rng.random() < 0.3:
                    log(t + timedelta(minutes=1), "customer_update_sent", round=0, late_seconds=0)  # extra
                answer = rng.choice(["rejected", "confirmed", "undelivered", "unclear", "manager", "interval"])
                t = t + timedelta(hours=72 if answer in ("undelivered", "unclear") else rng.randrange(1, 30))
                round_ += 1
                if answer == "rejected":
                    due = t + timedelta(minutes=interval)
                    log(t, "resolution_rejected", via="sms", next_update_due_at=due.isoformat())
                elif answer in ("undelivered", "unclear"):
                    due = t
                    log(t, f"resolution_{answer}", proposal_id=1)
                elif answer == "interval":  # agreed while paused: no due time, then the customer rejects
                    interval = rng.choice([15, 30, 60, 240])
                    log(t, "update_interval_agreed", minutes=interval, next_due_at=None)
                    t += timedelta(minutes=5)
                    due = t + timedelta(minutes=interval)
                    log(t, "resolution_rejected", via="link", next_update_due_at=due.isoformat())
                else:
                    log(t, "resolved", outcome="resolved" if answer == "confirmed" else "resolved_by_manager")
                    if answer == "confirmed":
                        log(t, "resolution_confirmed", via="sms", seconds_since_capture=3600.0)
                    break
    return sorted(lines, key=lambda line: line[0])


def _incidents(session, count: int, first: int = 0) -> list[Incident]:
    incidents = [Incident(reference=f"UPD{n}", received_at=T0, captured_at=T0,
                          callback_due_at=T0 + timedelta(minutes=15)) for n in range(first, first + count)]
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
    elif kind == "customer_update_late":
        detail = {"round": rng.choice([1, 2, 3])}
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
            scheduled = [i.id for i in _incidents(session, 150, first=100)]
        with db.transaction() as session:  # the schedules' lines, in the order of their times
            for at, incident_id, kind, detail in _schedules(rng, scheduled):
                log_event(session, at=at, actor="system", kind=kind, detail=detail, incident_id=incident_id)
        start, end = T0 + timedelta(days=10), T0 + timedelta(days=40)
        with db.session() as session:
            shown = updates.update_figures(session, start, end)
            log = list(session.scalars(select(IncidentEvent).order_by(IncidentEvent.id)))
        expected = _recomputed(log, start, end)
        assert expected["updates_owed"] > 50 and expected["late"] > 10 and expected["confirmed"] > 5
        assert expected["missed"] > 10 and expected["escalated"] > 10 and expected["closed_by_manager"] > 5
        assert expected["overdue_unwritten"] > 5
        assert {name: getattr(shown, name) for name in expected} == expected
        for now in (start + timedelta(days=3, minutes=7), end - timedelta(days=1, minutes=13)):  # a range running on
            with db.session() as session:
                assert updates.update_figures(session, start, end, now).overdue_unwritten == _overdue(log, now) > 0
    finally:
        db.dispose()


def test_every_figure_equals_a_recomputation_on_a_log_as_the_services_write_it(database_url):
    """The log ``bench/updates_report.py`` measures (``bench/update_log.py``: each incident's intake, paging and
    callback lines, then its schedule, rounds on time, late and alerted, intervals agreed, proposals answered, never
    delivered or unclear, closes, reopens, long incidents, the last still open): every figure of several ranges, and
    of a range running on, equals the walk through every line (rounds missed and escalated are found in one ordered
    pass since session 48, not by a look-up per line)."""
    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            update_log.generate(conn, 240, T0, T0 + timedelta(days=30), open_last=30, seed=5)
        with db.transaction() as session:  # alerts naming no incident: each a round of its own
            for minutes in (0, 30):
                log_event(session, at=T0 + timedelta(days=12, minutes=minutes), actor="system",
                          kind="customer_update_late", detail={"round": 1})
        with db.session() as session:
            log = list(session.scalars(select(IncidentEvent).order_by(IncidentEvent.id)))
            ranges = [(T0, T0 + timedelta(days=30)), (T0 + timedelta(days=9), T0 + timedelta(days=16)),
                      (T0 + timedelta(days=20, hours=5), T0 + timedelta(days=45))]
            shown = [updates.update_figures(session, start, end) for start, end in ranges]
            running_on = updates.update_figures(session, *ranges[2], T0 + timedelta(days=30, hours=1))
        everything = _recomputed(log, *ranges[0])
        assert set(everything) == {f.name for f in fields(updates.UpdateFigures)}  # every figure
        assert everything["late"] > 50 and everything["missed"] > 10 and everything["escalated"] > 10
        assert everything["overdue_unwritten"] > 3 and everything["extra_updates"] > 10
        assert everything["reopened_by_customer"] + everything["reopened_by_staff"] > 3
        undone = {e.incident_id for e in log if e.kind == "incident_reopened"}
        assert undone and everything["closed_by_manager"] > 0 and everything["rejected"] > 10
        for (start, end), figures in zip(ranges, shown, strict=True):
            expected = _recomputed(log, start, end)
            assert {name: getattr(figures, name) for name in expected} == expected, (start, end)
        assert running_on.overdue_unwritten == _overdue(log, T0 + timedelta(days=30, hours=1))
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
    # nothing owed: no share at all (probe N N2: 0.0 read as the worst punctuality for a week with nothing late)
    assert empty.punctuality_percent is None and empty.time_to_resolution.count == 0 and empty.updates_owed == 0


def test_a_range_where_no_update_was_owed_shows_no_punctuality_on_the_page_or_in_the_json(hotline, client):
    login_as(client, hotline, Role.MANAGER)
    asked = {"from": "2026-03-01 00:00", "to": "2026-03-08 00:00"}
    html = client.get("/reports/updates", query_string=asked).get_data(as_text=True)
    assert re.search(r'<td id="on-time">0 \(no update was owed\)</td>', html)
    body = client.get("/reports/updates.json", query_string=asked).get_json()
    assert body["updates"]["updates_owed"] == 0 and body["updates"]["punctuality_percent"] is None


def test_the_figures_weigh_each_count_by_its_lines():
    counts = [SimpleNamespace(kind="customer_update_sent", extra=False, late=0, seconds=None, via=None, n=6667),
              SimpleNamespace(kind="customer_update_sent", extra=False, late=60, seconds=None, via=None, n=6667),
              SimpleNamespace(kind="customer_update_sent", extra=False, late=120, seconds=None, via=None, n=6666),
              SimpleNamespace(kind="customer_update_sent", extra=True, late=0, seconds=None, via=None, n=5),
              SimpleNamespace(kind="resolution_confirmed", extra=None, late=None, seconds=3600, via="sms", n=2),
              SimpleNamespace(kind="resolved_unconfirmed", extra=None, late=None, seconds=7200, via=None, n=1),
              SimpleNamespace(kind="resolved", extra=None, late=None, seconds=None, via="resolved_by_manager", n=4),
              SimpleNamespace(kind="resolved", extra=None, late=None, seconds=None, via="resolved", n=2),
              SimpleNamespace(kind="resolved", extra=None, late=None, seconds=None, via=None, n=9)]  # old lines
    figures = updates.figures_from_counts(counts, linked_incidents=3)
    assert (figures.updates_owed, figures.on_time, figures.late, figures.extra_updates) == (20_000, 6667, 13_333, 5)
    assert figures.lateness == Spread(13_333, 60, 120, 120, 120)
    assert figures.time_to_resolution == Spread(3, 3600, 7200, 7200, 7200)
    assert (figures.confirmed, figures.confirmed_by, figures.unconfirmed) == (2, {"sms": 2}, 1)
    assert figures.closed_by_manager == 4  # and not timed: the spread above holds the 3 confirmed and unconfirmed
    assert figures.outage_linked_incidents == 3 and figures.punctuality_percent == 33.3
