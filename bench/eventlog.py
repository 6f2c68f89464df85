"""Generate incidents with the event logs the real services write, fast (bulk INSERT / COPY, no ORM).

Every incident follows one scenario (met, met after a retry, late, unreachable,
self-reported, rep leg failed, acknowledged but never called, nobody acknowledged, and —
for tests — no opening line at all), and its log uses the services' own event kinds and
detail keys (``app/services/*``: ``incident_opened`` with ``reference`` and
``callback_due_at``, ``acknowledged`` with ``rep_id``, ``callback_*`` with ``callback_id``,
``answered_at``, ``called_at``, ``final``...). ``compact`` logs hold only those lines
(about 4 per incident); ``realistic`` ones add the IVR, paging, step and status lines a
real Sev-1 leaves (about 29). The facts rows are folded with the app's own code
(``app.reports.facts_sync.facts_row``), as the ORM hook would have written them.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.models import Incident, IncidentEvent, IncidentFactsRow, Page, Rep
from app.reports.facts import CallbackFacts, IncidentFacts, LoggedEvent, shapes_facts
from app.reports.facts_sync import facts_row, row_of

SLA = timedelta(minutes=15)
SCENARIOS = (  # name, weight
    ("met", 55), ("met_after_retry", 8), ("late", 8), ("unreachable", 7), ("self_reported", 5),
    ("rep_leg_failed", 2), ("customer_leg_failed", 1), ("acked_not_called", 4), ("nobody", 10), ("worked_by_email", 2),
    ("nobody_paged", 1),
)
REP_NAMES = ("Alice", "Bob", "Carol", "Dmitri", "Esther", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kofi", "Lena")
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


@dataclass(frozen=True)
class Plan:
    """What to generate: ``count`` incidents captured evenly over [start, end)."""

    count: int
    start: datetime
    end: datetime
    realistic: bool = False
    unlogged_every: int = 0  # every n-th incident gets no incident_opened line (tests)
    open_last: int = 0  # the last n incidents stay open on the board (pages, no callback yet)
    seed: int = 12
    fold: bool = True  # facts rows by folding each generated log (False: from the scenario, ~4x faster)
    # what the scenarios write and mean; part of repr(), so a data set kept from an older generator is remade
    # 2: a failed rep leg is rep_not_reached; e-mail-worked incidents log their breach. 3: customer legs Twilio
    # could not place (a third of the rep-leg failures before)
    generator: int = 3


class Writer:
    """Bulk rows into tables: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.tables: dict[str, set[str]] = {}

    def write(self, table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``rows`` (dicts with every column) into ``table``: the columns the database's table has (a test of a
        migration generates its data at an older revision, before a column the app's fold writes now)."""
        if not rows:
            return
        if table.name not in self.tables:
            self.tables[table.name] = {c["name"] for c in inspect(self.connection).get_columns(table.name)}
        columns = [c for c in rows[0] if c in self.tables[table.name]]
        if not self.postgres:  # the DBAPI directly: SQLAlchemy's per-value processing would dominate
            stmt = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            self.connection.exec_driver_sql(stmt, [tuple(_sqlite(row[c]) for c in columns) for row in rows])
            return
        text = io.StringIO()
        for row in rows:
            text.write("\t".join(_copy_field(_pg(row[c])) for c in columns) + "\n")
        text.seek(0)
        raw = self.connection.connection.dbapi_connection
        with raw.cursor() as cur:
            cur.copy_expert(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN", text)


def _sqlite(value: Any) -> Any:
    """The text SQLAlchemy's SQLite DATETIME and JSON types store (naive UTC with microseconds, JSON)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _copy_field(value: Any) -> str:
    """One field of COPY's text format: \\N for NULL, t/f for booleans, backslash escapes."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _pg(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def seed_reps(connection: Connection) -> dict[int, str]:
    """The reps the logs name (ids 1..12); returns id -> name."""
    rows = [{"id": i, "name": name, "phone": f"+1415555{i:04d}", "phone_alt": None, "email": None,
             "channels": ["sms", "voice"], "time_zone": "UTC", "is_manager": i == 1, "active": True}
            for i, name in enumerate(REP_NAMES, 1)]
    Writer(connection).write(Rep.__table__, rows)
    return {r["id"]: r["name"] for r in rows}


def generate(connection: Connection, plan: Plan, batch: int = 20_000) -> dict[str, int]:
    """Write the plan's incidents, their logs (and pages for open ones) and facts rows; returns counts."""
    writer = Writer(connection)
    rng = random.Random(plan.seed)
    kinds, weights = zip(*SCENARIOS, strict=True)
    step = (plan.end - plan.start) / plan.count
    counts = {"incidents": 0, "events": 0, "facts": 0, "pages": 0}
    event_id = page_id = 0
    incidents: list[dict] = []
    events: list[dict] = []
    facts: list[dict] = []
    pages: list[dict] = []
    for n in range(1, plan.count + 1):
        captured = plan.start + step * (n - 1) + timedelta(seconds=rng.randrange(0, max(1, int(step.total_seconds()))))
        still_open = n > plan.count - plan.open_last
        scenario = rng.choices(kinds, weights)[0]
        lines, row_updates, direct = _scenario(rng, n, captured, scenario, plan.realistic)
        opened = not (plan.unlogged_every and n % plan.unlogged_every == 0)
        if not opened:
            lines = [e for e in lines if e[1] != "incident_opened"]
        incidents.append(_incident(n, captured, still_open, row_updates))
        company = incidents[-1]["company"]
        logged = []
        call_sid = f"CA{n:032d}"
        for incident_id, kind, at, actor, detail in lines:
            event_id += 1
            events.append({"id": event_id, "incident_id": incident_id, "call_sid": call_sid,
                           "at": at, "actor": actor, "kind": kind, "detail": detail})
            if incident_id is not None and shapes_facts(kind):
                logged.append(LoggedEvent(kind, at, actor, detail))
        if plan.fold:
            row = facts_row(n, captured, company, logged)
        else:
            row = row_of(n, captured, company, direct, max(e.at for e in logged)) if opened else None
        if row is not None:
            facts.append(row)
        if still_open:
            for rep in (1, 2, 3):
                page_id += 1
                pages.append(_page(page_id, n, rep, captured))
        if n % batch == 0 or n == plan.count:
            for table, rows in ((Incident.__table__, incidents), (IncidentEvent.__table__, events),
                                (IncidentFactsRow.__table__, facts), (Page.__table__, pages)):
                writer.write(table, rows)
            counts["incidents"] += len(incidents)
            counts["events"] += len(events)
            counts["facts"] += len(facts)
            counts["pages"] += len(pages)
            incidents, events, facts, pages = [], [], [], []
    if writer.postgres:  # COPY bypassed the sequences
        for table in ("incidents", "incident_events", "pages", "reps"):
            connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
    return counts


def _incident(n: int, captured: datetime, still_open: bool, updates: dict) -> dict:
    return {
        "id": n, "reference": f"B{n:07d}", "status": "open" if still_open else "resolved", "source": "ivr",
        "ticket_id": None, "ticket_number": f"T-{n:06d}", "ticket_match": "exact", "company": f"Customer {n % 997}",
        "contact_name": "Pat Example", "callback_phone": f"+1415{n % 10_000_000:07d}", "email": f"ops{n}@example.com",
        "problem_text": "Every API call returns 503 since the deploy.", "recording_url": "", "recording_seconds": 0,
        "affected_service": "api", "language": "en-US", "caller_id": f"+1415{n % 10_000_000:07d}",
        "call_sid": f"CA{n:032d}", "missing_fields": [], "received_at": captured - 2 * MIN, "captured_at": captured,
        "callback_due_at": captured + SLA, "escalation": {"levels": []},
        "acknowledged_at": updates.get("acknowledged_at"), "acknowledged_by": updates.get("acknowledged_by"),
        "callback_started_at": updates.get("callback_started_at"),
        "callback_answered_at": updates.get("callback_answered_at"), "breached_at": updates.get("breached_at"),
    }


def _page(page_id: int, incident_id: int, rep: int, at: datetime) -> dict:
    return {"id": page_id, "incident_id": incident_id, "step_id": None, "rep_id": rep, "name": REP_NAMES[rep - 1],
            "role": "primary" if rep == 1 else "secondary", "channel": "sms" if rep % 2 else "voice",
            "to_number": f"+1415555{rep:04d}", "purpose": "page", "status": "delivered", "twilio_sid": f"SM{page_id:032d}",
            "attempts": 1, "next_attempt_at": at, "last_error": "", "created_at": at, "sending_since": None,
            "sent_at": at + SEC, "updated_at": at + 3 * SEC}


def _scenario(rng: random.Random, n: int, t0: datetime, scenario: str,
              realistic: bool) -> tuple[list[tuple], dict, IncidentFacts]:
    """The log lines (incident_id, kind, at, actor, detail) of one incident, its row's columns, and its facts."""
    due = t0 + SLA
    rep = rng.randrange(1, len(REP_NAMES) + 1)
    name = REP_NAMES[rep - 1]
    cb = n * 3  # callback ids: unique per incident
    lines: list[tuple] = []
    row: dict = {}
    known: dict[str, Any] = {}  # the facts as the scenario knows them (what the fold must find)
    callbacks: dict[int, dict[str, Any]] = {}

    def add(at: datetime, actor: str, kind: str, **detail: Any) -> None:
        lines.append((n, kind, at, actor, detail))

    def ack(at: datetime) -> None:
        add(at, name, "acknowledged", rep_id=rep, via=rng.choice(("sms", "voice", "link")), pages_canceled=2)
        row.update(acknowledged_at=at, acknowledged_by=rep)
        known.update(acknowledged_at=at, acknowledged_rep_id=rep, acknowledged_actor=name)

    def request(at: datetime, callback_id: int) -> None:
        add(at, "rep", "callback_requested", callback_id=callback_id, rep_id=rep, to=f"+1415{n % 10_000_000:07d}")
        row.setdefault("callback_started_at", at)
        callbacks[callback_id] = {"callback_id": callback_id, "rep_id": rep, "actor": "rep", "requested_at": at}
        if realistic:
            add(at + 2 * SEC, "twilio", "callback_rep_call_placed", callback_id=callback_id, sid=f"CR{callback_id:032d}")
            add(at + 9 * SEC, "twilio", "callback_rep_leg_status", callback_id=callback_id, status="in-progress")

    def answer(at: datetime, callback_id: int) -> None:
        kind = "callback_met" if at <= due else "callback_late"
        if realistic:
            add(at + SEC, "twilio", "callback_leg_status", callback_id=callback_id, status="answered",
                timestamp=at.isoformat())
        add(at + SEC, "twilio", kind, callback_id=callback_id, answered_at=at.isoformat(),
            seconds_after_capture=round((at - t0).total_seconds(), 1))
        row["callback_answered_at"] = at
        callbacks[callback_id]["answered_at"] = at

    def unanswered(at: datetime, callback_id: int) -> None:
        if realistic:
            add(at, "twilio", "callback_leg_status", callback_id=callback_id, status="no-answer", timestamp=at.isoformat())
        add(at, "twilio", "callback_attempted", callback_id=callback_id, status="no-answer")
        callbacks[callback_id]["attempted_at"] = at

    def breach(**said: Any) -> None:  # ``said``: keys of later breach lines (most lines here are as older ones)
        add(due, "system", "callback_breached", due_at=due.isoformat(), acknowledged="acknowledged_at" in row,
            callback_started="callback_started_at" in row, **said)
        row["breached_at"] = due
        known["breach_logged_at"] = due

    if realistic:
        _intake_lines(lines, n, t0)
    add(t0, "ivr", "incident_opened", reference=f"B{n:07d}", source="ivr", callback_due_at=due.isoformat(), missing=[])
    if realistic:
        _paging_lines(lines, n, t0, rng)
    ack_at = t0 + timedelta(seconds=rng.randrange(30, 300))
    if scenario == "met":
        ack(ack_at)
        request(ack_at + 20 * SEC, cb)
        answer(ack_at + timedelta(seconds=rng.randrange(40, 560)), cb)
    elif scenario == "met_after_retry":
        ack(ack_at)
        request(ack_at + 20 * SEC, cb)
        unanswered(ack_at + 60 * SEC, cb)
        request(ack_at + 120 * SEC, cb + 1)
        answer(ack_at + timedelta(seconds=rng.randrange(150, 560)), cb + 1)
    elif scenario == "late":
        ack(ack_at)
        breach()
        request(due + timedelta(seconds=rng.randrange(10, 300)), cb)
        answer(due + timedelta(seconds=rng.randrange(320, 900)), cb)
    elif scenario == "unreachable":
        ack(ack_at)
        request(ack_at + 20 * SEC, cb)
        unanswered(ack_at + 80 * SEC, cb)
        breach()
    elif scenario == "self_reported":
        ack(ack_at)
        called = ack_at + timedelta(seconds=rng.randrange(30, 400))
        add(called + 30 * SEC, name, "callback_self_reported", callback_id=cb, called_at=called.isoformat(),
            note="called from my mobile")
        callbacks[cb] = {"callback_id": cb, "actor": name, "self_reported_at": called, "requested_at": called + 30 * SEC}
        breach()
    elif scenario == "rep_leg_failed":
        ack(ack_at)
        add(ack_at + 20 * SEC, "rep", "callback_requested", callback_id=cb, rep_id=rep, to="+14155550000")
        add(ack_at + 50 * SEC, "twilio", "callback_rep_call_failed", callback_id=cb, error="busy", final=True)
        callbacks[cb] = {"callback_id": cb, "rep_id": rep, "actor": "rep", "requested_at": ack_at + 20 * SEC,
                         "rep_not_reached_at": ack_at + 50 * SEC}  # never an attempt on the customer
        breach()
    elif scenario == "customer_leg_failed":  # Twilio could not place the call to the customer: it never rang
        ack(ack_at)
        request(ack_at + 20 * SEC, cb)
        add(ack_at + 50 * SEC, "twilio", "callback_attempted", callback_id=cb, status="failed", voicemail=False)
        callbacks[cb]["not_placed_at"] = ack_at + 50 * SEC
        breach()
    elif scenario == "worked_by_email":  # no callback number: the owner records how the customer was reached
        ack(ack_at)
        reached = ack_at + timedelta(seconds=rng.randrange(60, 600))
        add(reached, name, "reached_by_email", rep_id=rep, how="e-mailed the contact, they replied")
        row["reached_by_email_at"] = reached
        known["reached_by_email_at"] = reached
        breach()  # no verified call by the deadline: the breach step logs it (no alert)
    elif scenario == "acked_not_called":
        ack(ack_at)
        breach()
    elif scenario == "nobody":
        breach()
    elif scenario == "nobody_paged":  # no page sent or tried by the deadline (a policy paging later, nobody on call)
        breach(paged_by_deadline=False)
        known["nobody_paged"] = True
    if realistic:
        _closing_lines(lines, n, t0, scenario)
    facts = IncidentFacts(reference=f"B{n:07d}", captured_at=t0, due_at=due,
                          callbacks=tuple(CallbackFacts(**c) for c in callbacks.values()), **known)
    return lines, row, facts


def _intake_lines(lines: list[tuple], n: int, t0: datetime) -> None:
    """The call's own lines before the incident exists (call SID only), as ``app.services.intake`` logs them."""
    start = t0 - 2 * MIN
    lines.append((None, "call_received", start, "twilio", {"from": f"+1415{n % 10_000_000:07d}", "to": "+18005550100"}))
    for i, (kind, detail) in enumerate((("language_chosen", {"lang": "en-US", "how": "default"}),
                                        ("triage", {"service": "api"}),
                                        ("field_captured", {"field": "company", "source": "speech"}),
                                        ("field_captured", {"field": "contact_name", "source": "speech"}),
                                        ("field_captured", {"field": "callback_phone", "source": "dtmf"}),
                                        ("field_captured", {"field": "email", "source": "speech"}),
                                        ("field_captured", {"field": "recording", "source": "recording", "seconds": 34}))):
        lines.append((None, kind, start + (i + 1) * 12 * SEC, "ivr", detail))


def _paging_lines(lines: list[tuple], n: int, t0: datetime, rng: random.Random) -> None:
    """Receipt SMS, the level-0 step and its pages with their delivery reports (``app.services.pages``)."""
    for step, (kind, level) in enumerate((("step_receipt", 0), ("step_page", 0))):
        lines.append((n, kind, t0 + step * SEC, "worker", {"step_id": n * 6 + step, "level": level, "outcome": "paged_2",
                                                            "due_at": t0.isoformat(), "lateness_seconds": 0.4}))
    for p, (who, role, channel) in enumerate((("customer", "customer", "sms"), ("Alice", "primary", "sms"),
                                              ("Alice", "primary", "voice"))):
        page_id = n * 4 + p
        at = t0 + (p + 1) * SEC
        lines.append((n, "page_queued", at, "system", {"page_id": page_id, "to": who, "role": role, "channel": channel,
                                                       "purpose": "receipt" if role == "customer" else "page"}))
        lines.append((n, "page_sent", at + SEC, "twilio", {"page_id": page_id, "sid": f"SM{page_id:032d}",
                                                           "channel": channel, "attempt": 1, "adopted": False}))
        lines.append((n, "page_status", at + timedelta(seconds=rng.randrange(3, 9)), "twilio",
                      {"page_id": page_id, "channel": channel, "status": "delivered", "applied": True}))


def _closing_lines(lines: list[tuple], n: int, t0: datetime, scenario: str) -> None:
    """Steps that ran later, the call's end, a note and the resolution."""
    lines.append((None, "call_status", t0 + 30 * SEC, "twilio", {"status": "completed", "duration": 150}))
    lines.append((n, "step_at_risk", t0 + 10 * MIN, "worker", {"step_id": n * 6 + 4, "level": 0,
                                                                "outcome": "skipped_callback_started",
                                                                "due_at": (t0 + 10 * MIN).isoformat(),
                                                                "lateness_seconds": 0.2}))
    lines.append((n, "step_breach", t0 + SLA, "worker", {"step_id": n * 6 + 5, "level": 0,
                                                          "outcome": "met" if scenario.startswith("met") else "breached",
                                                          "due_at": (t0 + SLA).isoformat(), "lateness_seconds": 0.3}))
    lines.append((n, "note", t0 + 40 * MIN, "Alice", {"text": "Customer confirms API errors stopped after failover."}))
    lines.append((n, "resolved", t0 + 45 * MIN, "Alice", {"user_id": 1}))


