"""Incidents whose logs carry their customer-update schedule, as the services write it (for the updates report).

Each incident gets the lines ``bench.eventlog`` gives a realistic Sev-1 (intake, paging, callback, steps: about 29)
and then what its update schedule and its resolution write (``app/services/updates.py``, ``resolution.py``,
``proposal_unheard.py``, ``reopen.py``, ``deliveries.py``): the schedule started at the callback
(``updates_scheduled``), round 1 moved to the call's end (``updates_counted_from_call_end``), updates on time and late
(``customer_update_sent`` with ``round``, ``due_at``, ``late_seconds``), the managers' alerts of a late round
(``customer_update_late``, again each interval), intervals agreed, extra updates (round 0), each message's delivery
lines, proposals (``resolution_proposed`` with ``paused_due_at``) answered YES, NO, by silence, never delivered or
unclear, closes by a manager, reopens, and the last incidents still open at the end (overdue rounds). The report's
own kinds are then about a sixth of the log (a message to the customer is 3 delivery lines).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from app.models import Incident, IncidentEvent
from bench.eventlog import SCENARIOS, Writer, _incident, _scenario, seed_reps

MIN = timedelta(minutes=1)
GENERATOR = 2  # what the logs hold: part of the data set's key, so a kept one from an older generator is remade
INTERVALS = (60, 60, 60, 60, 30, 30, 15, 120, 240)  # the default hour, and what customers agree to
ANSWERS = ("confirmed",) * 9 + ("silence",) * 4 + ("rejected",) * 4 + ("manager",) * 1 + ("undelivered", "unclear")


def generate(connection: Connection, count: int, start: datetime, end: datetime, *, open_last: int = 0,
             seed: int = 48, batch: int = 5_000) -> int:
    """Write ``count`` incidents captured evenly over [start, end) with their logs (the last ``open_last`` still
    open at ``end``); returns the number of lines written."""
    seed_reps(connection)  # the owners the incident rows name
    writer, rng = Writer(connection), random.Random(seed)
    kinds, weights = zip(*SCENARIOS, strict=True)
    step = (end - start) / count
    incidents: list[dict] = []
    events: list[dict] = []
    written = event_id = 0
    for n in range(1, count + 1):
        captured = start + step * (n - 1) + timedelta(seconds=rng.randrange(0, max(1, int(step.total_seconds()))))
        still_open = n > count - open_last
        lines, row, _ = _scenario(rng, n, captured, rng.choices(kinds, weights)[0], True)
        lines = [line for line in lines if line[1] != "resolved"]  # closed by its resolution below
        lines += schedule(rng, n, captured, still_open)
        incidents.append(_incident(n, captured, still_open, row))
        for incident_id, kind, at, actor, detail in sorted(lines, key=lambda line: line[2]):
            event_id += 1
            events.append({"id": event_id, "incident_id": incident_id, "call_sid": f"CA{n:032d}", "at": at,
                           "actor": actor, "kind": kind, "detail": detail})
        if n % batch == 0 or n == count:
            writer.write(Incident.__table__, incidents)
            writer.write(IncidentEvent.__table__, events)
            written += len(events)
            incidents, events = [], []
    if writer.postgres:  # COPY bypassed the sequences
        for table in ("incidents", "incident_events", "reps"):
            connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
    return written


def schedule(rng: random.Random, n: int, captured: datetime, still_open: bool) -> list[tuple]:
    """One incident's update schedule and resolution lines (incident_id, kind, at, actor, detail)."""
    lines: list[tuple] = []
    message_id = [n * 1000]

    def log(at: datetime, line_kind: str, actor: str = "system", **detail: Any) -> None:
        lines.append((n, line_kind, at, actor, detail))

    def delivered(at: datetime, reached: bool = True) -> None:  # one SMS to the customer (``deliveries``)
        message_id[0] += 1
        log(at, "delivery_queued", delivery_id=message_id[0], channel="sms", purpose="customer_update")
        log(at + 2 * timedelta(seconds=1), "delivery_sent", delivery_id=message_id[0], sid=f"SM{message_id[0]:032d}")
        log(at + 6 * timedelta(seconds=1), "delivery_status" if reached else "delivery_failed",
            delivery_id=message_id[0], status="delivered" if reached else "undelivered")

    t = captured + timedelta(minutes=rng.randrange(5, 25))  # the callback answered: updates are owed from now
    interval = rng.choice(INTERVALS)
    due, round_ = t + interval * MIN, 1
    log(t, "updates_scheduled", interval_minutes=interval, via="default", first_due_at=due.isoformat())
    if rng.random() < 0.4:  # the call ended later: round 1 counted from its end
        t += timedelta(minutes=rng.randrange(2, 20))
        due = t + interval * MIN
        log(t, "updates_counted_from_call_end", interval_minutes=interval, first_due_at=due.isoformat())
    reopens = 0
    while True:
        # the rounds before a fix is proposed: a few, or for one incident in 20 a hard problem worked for days
        for _ in range(rng.randrange(0, 6) if rng.random() > 0.05 else rng.randrange(20, 150)):
            action = rng.choices(("on_time", "late", "alerted", "interval", "extra"), (70, 12, 8, 5, 5))[0]
            if action == "interval":
                interval = rng.choice(INTERVALS)
                t += timedelta(minutes=rng.randrange(1, 10))
                due = due if due <= t else t + interval * MIN
                log(t, "update_interval_agreed", "rep", minutes=interval, via="sms", next_due_at=due.isoformat(),
                    customer_told="sms")
                delivered(t)
                continue
            if action == "extra":
                t += timedelta(minutes=rng.randrange(1, 10))
                log(t, "customer_update_sent", "rep", round=0, due_at=None, late_seconds=0, via="dashboard",
                    channels={"sms": "queued"}, extra="too_soon")
                delivered(t)
                continue
            if action == "alerted":  # the managers alerted at the due time and each interval after it
                for k in range(rng.randrange(1, 3)):
                    at = max(t, due) + k * interval * MIN + 30 * timedelta(seconds=1)
                    log(at, "customer_update_late", round=round_, due_at=due.isoformat(), alerted=["manager"],
                        owner_rep_id=1, late_seconds=int((at - due).total_seconds()))
                t = max(t, due) + timedelta(minutes=rng.randrange(1, 2 * interval))
            elif action == "late":
                t = max(t, due) + timedelta(minutes=rng.randrange(1, 20))
            else:
                t = max(t, due - timedelta(minutes=rng.randrange(1, max(2, interval // 2))))
            late = max(0, int((t - due).total_seconds()))
            log(t, "customer_update_sent", "rep", round=round_, due_at=due.isoformat(), late_seconds=late,
                via="dashboard", channels={"sms": "queued"})
            delivered(t, reached=rng.random() > 0.02)
            if rng.random() < 0.01:
                log(t + MIN, "customer_update_undelivered", round=round_, channels={}, errors={}, told=["writer"])
            round_, due = round_ + 1, t + interval * MIN
        if still_open and rng.random() < 0.7:  # still being worked at the end: the round owed next may be overdue
            return lines
        if rng.random() < 0.15 and due < t + 10 * MIN:  # the round fell due before the fix was proposed: missed
            t = due + timedelta(minutes=rng.randrange(1, 30))
        else:
            t += timedelta(minutes=rng.randrange(1, max(2, interval - 1)))
        log(t, "resolution_proposed", "rep", proposal_id=n, kind="resolved", expires_at=(t + 24 * 60 * MIN).isoformat(),
            outage_id=None, paused_due_at=due.isoformat())
        answer = rng.choice(ANSWERS)
        delivered(t, reached=answer != "undelivered")
        if answer == "confirmed":
            t += timedelta(minutes=rng.randrange(5, 600))
            log(t, "resolved", "customer", outcome="resolved", via="sms", agreed_by="customer")
            log(t, "resolution_confirmed", "customer", proposal_id=n, kind="resolved", via=rng.choice(
                ("sms", "sms", "link", "call", "verbal")), agreed_by="customer",
                seconds_since_capture=round((t - captured).total_seconds(), 1), outage_id=None)
        elif answer == "silence":
            t += 24 * 60 * MIN
            log(t, "resolved", outcome="resolved_unconfirmed", via="silence")
            log(t, "resolved_unconfirmed", proposal_id=n, proposed_at=(t - 24 * 60 * MIN).isoformat(),
                seconds_since_capture=round((t - captured).total_seconds(), 1), outage_id=None)
        elif answer == "manager":
            t += timedelta(minutes=rng.randrange(5, 120))
            log(t, "resolved", "Alice", outcome="resolved_by_manager", via="dashboard", by_manager=True)
        else:  # the schedule resumes: NO (next round one interval later), never delivered or unclear (owed now)
            t += timedelta(minutes=rng.randrange(5, 300)) if answer == "rejected" else 24 * 60 * MIN
            if answer == "rejected":
                due = t + interval * MIN
                log(t, "resolution_rejected", "customer", proposal_id=n, via="sms", next_update_due_at=due.isoformat())
            else:
                due = t if answer == "unclear" else max(due, t)
                log(t, f"resolution_{answer}", proposal_id=n, proposed_at=t.isoformat(), via="silence",
                    next_update_due_at=due.isoformat())
            round_ += 1
            continue
        if reopens or rng.random() > 0.04:
            return lines
        reopens += 1  # the customer's NO after the close, or a rep's reason: open again, the schedule restarts
        t += timedelta(minutes=rng.randrange(10, 240))
        log(t, "incident_reopened", "customer", by=rng.choice(("customer", "staff")), reason="still failing")
        due = t + interval * MIN
        log(t, "updates_scheduled", interval_minutes=interval, via="sms", first_due_at=due.isoformat(),
            restarted=True, reopened=True)
        round_ += 1


def lines_per_incident(sample: int = 200, seed: int = 48) -> float:
    """About how many lines an incident writes here (to size a data set by its lines)."""
    rng = random.Random(seed)
    kinds, weights = zip(*SCENARIOS, strict=True)
    t0 = datetime(2026, 1, 1)
    total = 0
    for n in range(1, sample + 1):
        lines, _, _ = _scenario(rng, n, t0, rng.choices(kinds, weights)[0], True)
        total += len(lines) - 1 + len(schedule(rng, n, t0, False))
    return total / sample


