"""Row locks on an incident and its own rows, taken in one order: the incident first, then the row.

Every request that locks an incident together with its callback or a caller waiting on the line locks the
incident's row first, so two requests about one incident queue on the incident and neither ever
holds a row the other waits for. The row's incident is read without a lock to know which incident to lock (a row
never moves to another incident). The opposite orders deadlocked on PostgreSQL: the two end reports of a live
bridge, the caller's ``<Enqueue action>`` (``/twilio/live/left``: the wait, then the callback) and the rep's
``<Dial action>`` (``/twilio/live/dial-done``: the callback, then the incident), arrive at the same moment.

Every lock on an incident's row goes through ``incident_lock`` (or the functions below, built on it): ``FOR NO KEY
UPDATE`` on PostgreSQL. Two transactions locking one incident still take turns, but a transaction writing a row
that refers to the incident (a log line, a page, a callback, a step: the foreign key's check takes a KEY SHARE
lock on the incident) never waits for it. It was ``FOR UPDATE``, which a KEY SHARE waits for, so writing a log
line counted as locking the incident: a page's claim that held the page and logged its hold, supersede or cancel
waited for an acknowledgement that held the incident and waited for that page (to cancel the queued pages) -- a
deadlock. ``FOR NO KEY UPDATE`` is what an UPDATE of the incident takes anyway; only a DELETE of an incident or a
change of a column a foreign key can refer to (its id, reference or call SID) needs ``FOR UPDATE``, and the app
does neither (an incident is never deleted; those columns are written once, when it is opened). What a locker
no longer gets: a row referring to the incident, written by a transaction that does not hold the incident's
lock, is not waited for, and may commit after the locker read the incident's rows (the voice page of a page SMS
that failed, ``pages.answer_page_failure``, queued while an acknowledgement cancels the queued pages: its claim
checks the incident again, ``pages.no_longer_wanted``). One kind of line still waits: a line that can change the
report's facts (``facts.shapes_facts``: the opening, the acknowledgement, any ``callback_*`` ...) is refolded in
its writer's transaction under the incident's lock (``app.reports.facts_sync``), so its writer locks the incident
too, and must take that lock before any other row it holds (the order above). A page's lines (queued, sent,
held, superseded, canceled, failed, its status) are none of these. SQLite ignores row locks: its one write lock
orders the writers.

A request that may count a callback for the incidents linked to its own (a dropped call's redial,
``app.services.related_callbacks``) locks two or more incidents: ``lock_with_incident`` locks the incident and those
linked to it, in ascending id order, before the row. Two callbacks counting at the same instant on linked incidents
A and B (each locking its own incident, then the other's) deadlocked otherwise on PostgreSQL.

Pages are not under the incident-first rule: a page's send locks the page and then writes its line
(``app.services.pages``), and the page's webhook locks the page, then the incident (``app.voice.page_routes``);
the two agree, and changing one alone would deadlock them.

A due step does not wait for its incident's lock (``lock_incident(..., nowait=True)``, ``app.services.steps``): a
step waiting on one incident held up every other incident's steps behind it (an outside probe, D2).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.models import Callback, Incident, LiveWait

Row = TypeVar("Row", Callback, LiveWait)
Query = TypeVar("Query", bound=Select)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a NOWAIT lock another transaction holds


class IncidentLocked(Exception):
    """Another transaction holds the incident's row lock, and the caller asked not to wait (``nowait``). On
    PostgreSQL the failed statement spoils the transaction: take the lock in a savepoint, rolled back on this."""

    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident {incident_id}'s row is locked by another transaction")
        self.incident_id = incident_id


def incident_lock(query: Query, *, nowait: bool = False, joined: bool = False) -> Query:
    """``query`` (of incidents' rows) locking the rows it reads until the transaction ends: the one way an incident
    is locked, ``FOR NO KEY UPDATE`` (a row referring to the incident may still be written meanwhile); ``nowait``:
    ``NOWAIT``, an error at once if another transaction holds one of them (SQLite ignores both); ``joined``: the
    query outer-joins other tables, whose rows are read, not locked (``OF incidents``: PostgreSQL refuses to lock
    the nullable side of an outer join)."""
    return query.with_for_update(key_share=True, nowait=nowait, of=Incident if joined else None)


def lock_incident(session: Session, incident_id: int, *, fresh: bool = False, nowait: bool = False) -> Incident | None:
    """The incident ``incident_id``, row-locked (``incident_lock``); ``fresh``: its attributes read again even if
    the session holds it already (another transaction may have changed it while this one waited); ``nowait``:
    ``IncidentLocked`` instead of waiting when another transaction holds it (PostgreSQL: in a savepoint)."""
    query = incident_lock(select(Incident).where(Incident.id == incident_id), nowait=nowait)
    try:
        return session.scalars(query.execution_options(populate_existing=True) if fresh else query).first()
    except OperationalError as exc:
        if nowait and getattr(exc.orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
            raise IncidentLocked(incident_id) from exc
        raise


LINKED_AT_MOST = 50  # incidents read as linked to one (a chain of redials is a few: ``caller_limits`` bounds them)


def linked_incident_ids(session: Session, incident_id: int) -> list[int]:
    """The incidents linked to ``incident_id`` as possibly related, either way and through one another (a redial's
    redial: C linked to B, B to A, so A and C are linked too), in ascending id order; read without a lock. One query
    per step of the chain, at most ``LINKED_AT_MOST`` incidents."""
    seen, frontier = {incident_id}, {incident_id}
    while frontier and len(seen) < LINKED_AT_MOST:
        rows = session.execute(select(Incident.id, Incident.related_incident_id).where(
            or_(Incident.related_incident_id.in_(frontier), Incident.id.in_(frontier)))).all()
        frontier = {one for row in rows for one in row if one is not None} - seen
        seen |= frontier
    return sorted(seen - {incident_id})[:LINKED_AT_MOST]


def lock_incident_and_linked(session: Session, incident_id: int) -> Incident | None:
    """The incident ``incident_id``, row-locked and read fresh, after or before the incidents linked to it (each
    locked too): all in ascending id order, so two requests locking linked incidents take turns, never deadlock."""
    locked = None
    for one in sorted({incident_id, *linked_incident_ids(session, incident_id)}):
        incident = lock_incident(session, one, fresh=True)
        if one == incident_id:
            locked = incident
    return locked


def lock_incident_by_reference(session: Session, reference: str) -> Incident | None:
    """The incident with this reference, row-locked (``incident_lock``)."""
    return session.scalars(incident_lock(select(Incident).where(Incident.reference == reference))).first()


def lock_with_incident(session: Session, model: type[Row], row_id: int) -> tuple[Row | None, Incident | None]:
    """The row ``row_id`` of ``model`` and its incident, both row-locked: the incident first, with the incidents
    linked to it (``lock_incident_and_linked``: its callback may count for them), then the row (each read fresh
    once its lock is held: another transaction may have changed it while this one waited)."""
    incident_id = session.scalar(select(model.incident_id).where(model.id == row_id))
    if incident_id is None:
        return None, None
    incident = lock_incident_and_linked(session, incident_id)
    fresh = {"populate_existing": True}
    row = session.scalars(select(model).where(model.id == row_id).with_for_update().execution_options(**fresh)).one()
    return row, incident


def lock_callback(session: Session, callback_id: int) -> tuple[Callback | None, Incident | None]:
    """The callback and its incident, both row-locked (the incident first)."""
    return lock_with_incident(session, Callback, callback_id)


def lock_wait(session: Session, wait_id: int) -> tuple[LiveWait | None, Incident | None]:
    """The caller waiting on the line (``live_waits``) and their incident, both row-locked (the incident first)."""
    return lock_with_incident(session, LiveWait, wait_id)
