"""How often a refusal becomes a line of an incident's log, which is kept forever (triggers refuse DELETE).

A refusal changes nothing, so a line tells a manager that, and from when, someone tried; repeating it at the rate
of requests adds nothing but a way to bury the real timeline. Where no login stands behind a request (an API token,
the bearer link of a page SMS or of a proposal e-mail) a refusal is a line for the first attempt of the same one on
the incident in ``WINDOW`` (an outside probe's 220 POSTs to a page SMS's link wrote 220 lines in 10 s).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.models import IncidentEvent

WINDOW = timedelta(hours=1)
LINK = "link"  # the ``via`` of a bearer link's POST (page SMS, proposal e-mail): whoever holds the URL


def first_in_window(session: Session, now: datetime, kind: str, incident_id: int, *same: ColumnElement[bool],
                    incidents: int | None = None) -> bool:
    """Whether a refusal of ``kind`` on the incident, by the one ``same`` picks out of the log, is worth a line: none
    of theirs on it in the last ``WINDOW`` and, with ``incidents``, fewer than that many incidents lined for them."""
    recent = select(IncidentEvent.incident_id).where(IncidentEvent.kind == kind, IncidentEvent.at > now - WINDOW,
                                                     *same)
    if incidents is None:
        return session.scalar(recent.where(IncidentEvent.incident_id == incident_id).limit(1)) is None
    lined = list(session.scalars(recent.limit(incidents)))
    return incident_id not in lined and len(lined) < incidents


def refusal_lined(session: Session, now: datetime, kind: str, incident_id: int, actor: str, via: str) -> bool:
    """Whether ``actor``'s refusal through ``via`` becomes a line: always behind a login or a phone; through a link,
    the first of ``actor``'s on the incident in the hour (the caller holds the incident's row lock)."""
    if via != LINK:
        return True
    return first_in_window(session, now, kind, incident_id, IncidentEvent.actor == actor,
                           IncidentEvent.detail["via"].as_string() == LINK)
