"""Keeping ``incident_facts`` in step with the event log: in the writer's transaction, and rebuilt from the log.

Every ORM flush that appends a log line able to change an incident's facts
(``facts.shapes_facts``), or changes what its company reads as (a label the CSV line shows:
``company_label.row_company``, the board's, from what the caller said, else its ticket's account and
contact), refolds that incident's facts from its whole log, in the same transaction, so the derived
row commits or rolls back with the line. ``rebuild_facts`` recomputes every row from the
log alone (and the incidents' companies): the table holds nothing the log does not prove.
"""

from __future__ import annotations

import math
import re
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, event, insert, inspect, literal_column, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.models.directory import Account, Contact, Ticket
from app.models.incident import Incident, IncidentEvent
from app.models.report_facts import IncidentFactsRow
from app.reports.csv_parts import parts
from app.reports.facts import (
    CALLBACK_PREFIX,
    FACT_KINDS,
    OPENED,
    IncidentFacts,
    LoggedEvent,
    Outcome,
    shapes_facts,
)
from app.services.row_locks import incident_lock

SLOT_SECONDS = 900  # every UTC offset in use is a multiple of 15 minutes
REBUILD_BATCH = 2000
_facts = IncidentFactsRow.__table__
_events = IncidentEvent.__table__


def slot_of(at: datetime) -> int:
    """The 15-minute slot (Unix seconds // 900) holding ``at``."""
    return math.floor(at.timestamp()) // SLOT_SECONDS


def fact_kind_filter():
    """SQL condition: the log lines that can change facts (the same set as ``shapes_facts``).

    The kinds are constants written into the SQL (an expanding IN would render its binds
    again at each execution, on the webhooks' path).
    """
    assert all(re.fullmatch(r"[a-z_]+", kind) for kind in FACT_KINDS)
    return or_(_events.c.kind.in_([literal_column(f"'{kind}'") for kind in FACT_KINDS]),
               _events.c.kind.startswith(CALLBACK_PREFIX, autoescape=True))


def facts_row(incident_id: int, listed_at: datetime, company: str, events: Sequence[Any]) -> dict[str, Any] | None:
    """The ``incident_facts`` row of one incident from its log lines (None without an opening line)."""
    relevant = [e for e in events if shapes_facts(e.kind)]
    if not any(e.kind == OPENED for e in relevant):
        return None
    facts = IncidentFacts.from_events(relevant)
    # an answer not proven yet (a conversation shorter than the minimum so far) depends on the time passing too: a
    # report as of an instant before it refolds the row from the log, which says the callback was under way then
    return row_of(incident_id, listed_at, company, facts, max(e.at for e in relevant), facts.unproven_until)


def row_of(incident_id: int, listed_at: datetime, company: str, facts: IncidentFacts,
           last_event_at: datetime, unproven_until: datetime | None = None) -> dict[str, Any]:
    """The stored form of ``facts`` (as_of-independent: breach is judged when the report is read; ``last_event_at``
    the latest instant they depend on, ``unproven_until`` when it is later than their last line)."""
    first = facts.first_answer
    deciding = facts.deciding_callback
    # The reason it has whenever it counts as breached; none when it cannot without a further log line (met, or
    # the provisional deadline of a caller still giving details): what the report's SQL reads (``stored_breached``)
    reason = facts.breach_reason(None)
    return {
        "incident_id": incident_id, "reference": facts.reference, "listed_at": listed_at,
        "captured_at": facts.captured_at, "captured_slot": slot_of(facts.captured_at), "due_at": facts.due_at,
        "last_event_at": max(last_event_at, unproven_until or last_event_at), "acknowledged_at": facts.acknowledged_at,
        "acknowledged_rep_id": facts.acknowledged_rep_id, "acknowledged_actor": facts.acknowledged_actor[:100],
        "outcome": facts.outcome.value, "answered_at": first.answered_at if first else None,
        "seconds_to_callback": facts.seconds_to_callback,
        "called_rep_id": deciding.rep_id if deciding else None,
        "called_actor": (deciding.actor if deciding else "")[:100],
        "breach_logged_at": facts.breach_logged_at,
        "breach_reason": reason.value if reason is not None and facts.outcome != Outcome.MET else "",
        "related_reference": facts.related_reference[:12],
        **parts(facts.reference, company, facts),
    }


def _listed(where, said_only: bool):
    if said_only:
        return select(Incident.id, Incident.captured_at, Incident.company).where(where).order_by(Incident.id)
    from app.services.company_label import with_company  # here: app.models imports this module (see _listed_query)

    return with_company(select(Incident.id, Incident.captured_at)).where(where).order_by(Incident.id)


def _logs(where):
    return (select(_events.c.incident_id, _events.c.kind, _events.c.at, _events.c.actor, _events.c.detail)
            .where(where, fact_kind_filter()).order_by(_events.c.incident_id, _events.c.at, _events.c.id))


# Built once: for one incident (a flush on the webhooks' path) or several (a rebuild's batch); on
# PostgreSQL the incidents are locked, serialising writers of one incident so the fold sees every
# committed line (READ COMMITTED). ``incident_lock`` (FOR NO KEY UPDATE) is enough: every writer of such
# a line refolds under it after its insert, so whoever holds it last reads every other writer's line (a
# line of a transaction that has not committed yet is refolded by that transaction when it gets the lock).
_ONE, _MANY = bindparam("incident_id"), bindparam("incident_ids", expanding=True)
_WHERE = {True: Incident.id == _ONE, False: Incident.id.in_(_MANY)}
_LISTED: dict[tuple[bool, bool, bool], Any] = {}


def _listed_query(one: bool, postgresql: bool, said_only: bool):
    """The incidents' listing statement, built at its first use, not at import: ``app.models`` imports this module
    (its flush hook), and the company rule it reads (``company_label``) imports the ticket services, which import
    ``app.models``: built at import, a process whose first import was a ticket module (``hotline tickets import``)
    failed on the cycle."""
    key = (one, postgresql, said_only)
    if key not in _LISTED:
        query = _listed(_WHERE[one], said_only)
        _LISTED[key] = incident_lock(query, joined=not said_only) if postgresql else query
    return _LISTED[key]
_LOGS = {True: _logs(_events.c.incident_id == _ONE), False: _logs(_events.c.incident_id.in_(_MANY))}
_UPSERTS: dict[str, Any] = {}


def refresh_facts(connection: Connection, incident_ids: Iterable[int], *, said_only: bool = False) -> int:
    """Refold and rewrite the facts rows of these incidents from their logs; returns rows written.

    ``said_only``: the company as the caller said it, not as the board shows it (``company_label.row_company``): for
    the migrations that refold rows on a schema older than the columns that rule reads (``a9c1e3f5b7d2`` then
    names the company as shown)."""
    ids = sorted(set(incident_ids))
    if not ids:
        return 0
    one = len(ids) == 1
    params = {"incident_id": ids[0]} if one else {"incident_ids": ids}
    from app.services.company_label import row_company

    listed_query = _listed_query(one, connection.dialect.name == "postgresql", said_only)
    listed = {row.id: (row.captured_at, row.company if said_only else row_company(row))
              for row in connection.execute(listed_query, params)}
    logs: dict[int, list[LoggedEvent]] = defaultdict(list)
    for incident_id, kind, at, actor, detail in connection.execute(_LOGS[one], params):
        logs[incident_id].append(LoggedEvent(kind, at, actor, detail or {}))
    rows = [row for i in ids if i in listed and (row := facts_row(i, *listed[i], logs.get(i, []))) is not None]
    gone = set(ids) - {row["incident_id"] for row in rows}  # no opening line (yet): no facts to keep
    if gone:
        connection.execute(delete(_facts).where(_facts.c.incident_id.in_(gone)))
    if rows:
        _upsert(connection, rows)
    return len(rows)


def _upsert(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or replace facts rows in one statement (one round trip on the webhook's path)."""
    name = connection.dialect.name
    older = _older_schema(connection)
    if older is not None:  # a migration before a column's own: it writes the columns its schema has
        rows = [{k: v for k, v in row.items() if k in older} for row in rows]
    if name not in ("postgresql", "sqlite"):
        connection.execute(delete(_facts).where(_facts.c.incident_id.in_([r["incident_id"] for r in rows])))
        connection.execute(insert(_facts), rows)
        return
    if name not in _UPSERTS or older is not None:
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        stmt = dialect_insert(_facts)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_facts.c.incident_id],
            set_={c.name: stmt.excluded[c.name] for c in _facts.c if c.name != "incident_id"
                  and (older is None or c.name in older)})
        if older is not None:
            connection.execute(stmt, rows)
            return
        _UPSERTS[name] = stmt
    connection.execute(_UPSERTS[name], rows)


_COMPLETE: weakref.WeakSet[Engine] = weakref.WeakSet()  # databases whose table has every column (checked once)


def _older_schema(connection: Connection) -> frozenset[str] | None:
    """The columns ``incident_facts`` has when it lacks some of the model's, else None. A migration that refolds
    facts (the app's own fold) runs on the schema of its revision: one older than a column added since writes
    without it, and that column's migration fills it. Checked once per engine that has them all (the app's)."""
    engine = connection.engine
    if engine in _COMPLETE:
        return None
    have = frozenset(c["name"] for c in inspect(connection).get_columns(_facts.name))
    if have >= set(_facts.c.keys()):
        _COMPLETE.add(engine)
        return None
    return have


def rebuild_facts(connection: Connection, batch: int = REBUILD_BATCH, *, said_only: bool = False) -> int:
    """Recompute every ``incident_facts`` row from the event log alone; returns rows written (``said_only``: as
    ``refresh_facts``)."""
    connection.execute(delete(_facts))
    written = 0
    for ids in _id_batches(connection, batch):
        written += refresh_facts(connection, ids, said_only=said_only)
    return written


def _id_batches(connection: Connection, batch: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(connection.execute(select(Incident.id).where(Incident.id > last).order_by(Incident.id)
                                      .limit(batch)).scalars())
        if not ids:
            return
        yield ids
        last = ids[-1]


@event.listens_for(Session, "after_flush")
def _sync_after_flush(session: Session, _context) -> None:
    """Refold the facts of incidents that got a fact-shaping log line, or whose company reads otherwise now, in this
    flush."""
    touched = {obj.incident_id for obj in session.new
               if isinstance(obj, IncidentEvent) and obj.incident_id is not None and shapes_facts(obj.kind)}
    touched |= {obj.id for obj in session.dirty if isinstance(obj, Incident) and _company_changed(obj)}
    tickets, accounts, contacts = _named_elsewhere(session.dirty)
    if tickets or accounts or contacts:
        touched |= set(session.connection().execute(_named_by(tickets, accounts, contacts)).scalars())
    if touched:
        refresh_facts(session.connection(), touched)


def _company_changed(incident: Incident) -> bool:
    """The incident's company may read otherwise: what the caller said changed, or, with nothing said, what links it
    to its ticket or the contact details compared with the ticket's (``company_label.row_company``)."""
    attrs = inspect(incident).attrs
    if attrs.company.history.has_changes():
        return True
    from app.services.company_label import COMPANY_INPUTS

    return not incident.company and any(attrs[name].history.has_changes() for name in COMPANY_INPUTS)


def _named_elsewhere(dirty: Iterable[Any]) -> tuple[set[int], set[int], set[int]]:
    """The tickets moved to another account or contact, the accounts renamed or given or relieved of a support PIN,
    and the contacts whose phones or e-mail address changed: each may change the company of incidents named by it."""
    tickets, accounts, contacts = set(), set(), set()
    for obj in dirty:
        attrs = inspect(obj).attrs
        if isinstance(obj, Ticket) and any(attrs[name].history.has_changes()
                                           for name in ("account", "account_id", "contact", "contact_id")):
            tickets.add(obj.id)
        elif isinstance(obj, Account) and (attrs.name.history.has_changes() or _pin_set_or_removed(attrs)):
            accounts.add(obj.id)
        elif isinstance(obj, Contact) and any(attrs[name].history.has_changes()
                                              for name in ("phone", "phone_alt", "email")):
            contacts.add(obj.id)
    return tickets, accounts, contacts


def _pin_set_or_removed(attrs) -> bool:
    """A support PIN given or taken away (a new PIN for an old one names the same incidents: ``claim_unproven``)."""
    added, _, deleted = attrs.support_pin_hash.history
    return bool(added or deleted) and bool(any(added)) != bool(any(deleted))


def _named_by(tickets: set[int], accounts: set[int], contacts: set[int]):
    """SQL: the incidents whose company is named by one of these tickets, accounts or contacts (nothing said)."""
    ticket_ids = select(Ticket.id).where(or_(Ticket.id.in_(sorted(tickets)), Ticket.account_id.in_(sorted(accounts)),
                                             Ticket.contact_id.in_(sorted(contacts))))
    return select(Incident.id).where(Incident.company == "", Incident.ticket_id.in_(ticket_ids))
