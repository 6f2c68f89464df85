"""Who has an incident and since when, in the words every channel says to a rep who is not its owner.

A take-over moves ``Incident.acknowledged_by`` to the new owner and keeps ``acknowledged_at`` (the first
acknowledgement, which the report measures): an outside probe heard "already acknowledged by Maria at 05:11" when
Maria took it over at 05:30 and Alice acknowledged at 05:11. The owner's own time is that of the last line naming
an owner (``OWNER_KINDS``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent, Rep
from app.models.incident import OWNER_KINDS
from app.prompts import text


@dataclass(frozen=True)
class Ownership:
    owner: str  # the owner's name
    since: datetime  # when they acknowledged it, or took it over
    first: str = ""  # who acknowledged it first, when the owner took it over ("" when the owner acknowledged it)
    first_at: datetime | None = None


def ownership(session: Session, incident: Incident, nobody: str = "someone") -> Ownership | None:
    """Who owns ``incident`` and since when (None while nobody acknowledged it); ``nobody`` names an owner without
    a rep (a login)."""
    if incident.acknowledged_at is None:
        return None
    rep = session.get(Rep, incident.acknowledged_by) if incident.acknowledged_by else None
    owner = rep.name if rep is not None else nobody
    lines = session.execute(select(IncidentEvent.kind, IncidentEvent.actor, IncidentEvent.at)
                            .where(IncidentEvent.incident_id == incident.id, OWNER_KINDS)
                            .order_by(IncidentEvent.at, IncidentEvent.id)).all()
    if not lines or lines[-1].kind != "taken_over":
        return Ownership(owner, lines[-1].at if lines else incident.acknowledged_at)
    return Ownership(owner, lines[-1].at, lines[0].actor if lines[0].kind != "taken_over" else "someone",
                     incident.acknowledged_at)


def owned_words(own: Ownership, clock: Callable[[datetime], str], lang: str = "en-US", form: str = "owned") -> str:
    """"acknowledged by Alice at 05:11 EST", or "acknowledged by Alice at 05:11 EST and taken over by Maria at
    05:30 EST" (``clock`` writes or speaks a time on the listener's clock), for "Incident 123456 was already ...";
    ``form`` "yours" to the owner ("You took it over from Alice at 05:30 EST"), "tam_owned" to the account's TAM.
    Until session 45 the owner's page and voicemail and the TAM's call gave the first acknowledgement's time."""
    if own.first_at is None:
        return text(f"{form}_acked", lang, who=own.owner, at=clock(own.since))
    return text(f"{form}_taken_over", lang, first=own.first, first_at=clock(own.first_at), who=own.owner,
                at=clock(own.since))
