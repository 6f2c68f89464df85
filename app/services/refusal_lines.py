"""How often a refusal becomes a line of an incident's log, which is kept forever (triggers refuse DELETE).

A refusal changes nothing, so a line tells a manager that, and from when, someone tried; repeating it at the rate
of requests adds nothing but a way to bury the real timeline. Where no login stands behind a request (an API token,
the bearer link of a page SMS or of a proposal e-mail) or a phone does (a rep's SMS, a key on a page call) a refusal
is a line for the first attempt of the same one on the incident in ``WINDOW`` (an outside probe's 220 POSTs to a page
SMS's link wrote 220 lines in 10 s; a phone or a script repeating a refused ACK by SMS wrote a line each).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import IncidentEvent
from app.services.events import log_event

WINDOW = timedelta(hours=1)
LINK = "link"  # the ``via`` of a bearer link's POST (page SMS, proposal e-mail): whoever holds the URL
SMS, VOICE = "sms", "voice"  # the ``via`` of a rep's SMS and of a key pressed on a page call
DASHBOARD = "dashboard"  # the ``via`` of a logged-in user's action: a line each
BOUNDED = frozenset({LINK, SMS, VOICE})  # channels whose refusals are a line an hour; a login's are a line each


def first_in_window(session: Session, now: datetime, kind: str, incident_id: int | None, *same: ColumnElement[bool],
                    incidents: int | None = None) -> bool:
    """Whether a refusal of ``kind`` on the incident (None: of none), by the one ``same`` picks out of the log, is
    worth a line: none of theirs on it in the last ``WINDOW`` and, with ``incidents``, fewer than that many incidents
    lined for them."""
    where = (IncidentEvent.kind == kind, IncidentEvent.at > now - WINDOW, *same)
    if incidents is None:  # the line's id: its incident_id is None for a refusal of no incident
        on = IncidentEvent.incident_id.is_(None) if incident_id is None else IncidentEvent.incident_id == incident_id
        return session.scalar(select(IncidentEvent.id).where(*where, on).limit(1)) is None
    lined = list(session.scalars(select(IncidentEvent.incident_id).where(*where).limit(incidents)))
    return incident_id not in lined and len(lined) < incidents


def refusal_lined(session: Session, now: datetime, kind: str, incident_id: int | None, actor: str, via: str) -> bool:
    """Whether ``actor``'s refusal through ``via`` becomes a line: always behind a login; through a link, an SMS or a
    page call's key (``BOUNDED``), the first of ``actor``'s through it on the incident (None: of none) in the hour
    (the caller holds the incident's row lock, or for none the rep's lock, ``refusal_answers.hold_rep``)."""
    if via not in BOUNDED:
        return True
    return first_in_window(session, now, kind, incident_id, IncidentEvent.actor == actor,
                           IncidentEvent.detail["via"].as_string() == via)


def log_refusal(session: Session, now: datetime, kind: EventKind | str, actor: str, via: str,
                incident_id: int | None = None, detail: dict[str, Any] | None = None) -> bool:
    """Write the refusal's line unless ``refusal_lined`` rules it out (its detail names ``via``); whether it did."""
    if not refusal_lined(session, now, kind, incident_id, actor, via):
        return False
    log_event(session, at=now, actor=actor, kind=kind, incident_id=incident_id, detail={**(detail or {}), "via": via})
    return True
