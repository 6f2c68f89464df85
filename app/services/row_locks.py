"""Row locks on an incident and its own rows, taken in one order: the incident first, then the row.

Every request that locks an incident together with its callback or a caller waiting on the line locks the
incident's row first, so two requests about one incident queue on the incident and neither ever
holds a row the other waits for. The row's incident is read without a lock to know which incident to lock (a row
never moves to another incident). The opposite orders deadlocked on PostgreSQL: the two end reports of a live
bridge, the caller's ``<Enqueue action>`` (``/twilio/live/left``: the wait, then the callback) and the rep's
``<Dial action>`` (``/twilio/live/dial-done``: the callback, then the incident), arrive at the same moment. A log
line counts as a lock too: inserting one takes a KEY SHARE lock on its incident (the foreign key's check), which a
FOR UPDATE of the incident waits for, so a request that holds another row and writes a line waits for the incident.
SQLite ignores FOR UPDATE: its one write lock orders the writers. Pages are not under this rule yet: a page's
send locks the page and then writes its line (``app.services.pages``), and the page's webhook locks the page, then
the incident (``app.voice.page_routes``); the two agree, and changing one alone would deadlock them.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Callback, Incident, LiveWait

Row = TypeVar("Row", Callback, LiveWait)


def lock_with_incident(session: Session, model: type[Row], row_id: int) -> tuple[Row | None, Incident | None]:
    """The row ``row_id`` of ``model`` and its incident, both row-locked: the incident first (read fresh once
    each lock is held: another transaction may have changed them while this one waited)."""
    incident_id = session.scalar(select(model.incident_id).where(model.id == row_id))
    if incident_id is None:
        return None, None
    fresh = {"populate_existing": True}
    incident = session.scalars(select(Incident).where(Incident.id == incident_id).with_for_update()
                               .execution_options(**fresh)).one()
    row = session.scalars(select(model).where(model.id == row_id).with_for_update().execution_options(**fresh)).one()
    return row, incident


def lock_callback(session: Session, callback_id: int) -> tuple[Callback | None, Incident | None]:
    """The callback and its incident, both row-locked (the incident first)."""
    return lock_with_incident(session, Callback, callback_id)


def lock_wait(session: Session, wait_id: int) -> tuple[LiveWait | None, Incident | None]:
    """The caller waiting on the line (``live_waits``) and their incident, both row-locked (the incident first)."""
    return lock_with_incident(session, LiveWait, wait_id)
