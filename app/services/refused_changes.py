"""A refused attempt to change the append-only event log, recorded so a leaked token cannot grow that log.

Every refusal is a WARNING of the ``app.security`` log (rotated, so bounded) naming the token and the incident;
a line of the incident's own log (kept forever) is written for the first refusal of a token on that incident in
an hour, and for at most ``LINES_PER_TOKEN_HOUR`` incidents a token is refused on in an hour. A manager reading
an incident sees that, and from when, a token tried to change its record; how often is in the security log.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Incident, IncidentEvent
from app.services.events import log_event
from app.services.refusal_lines import first_in_window

LINES_PER_TOKEN_HOUR = 10
log = logging.getLogger("app.security")  # security events: operators route them (never the incident log)


def record_refused_change(session: Session, now: datetime, token_name: str, incident: Incident,
                          detail: dict[str, Any]) -> bool:
    """Log a refused change of ``incident``'s event log by the token ``token_name``; True when it became a line
    of the incident's log (the first of this token on this incident in the hour, within the token's hourly cap)."""
    actor = f"api:{token_name}"[:100]
    log.warning("refused %s of event %s of incident %s by API token %r (the event log is append-only)",
                detail.get("attempted"), detail.get("event_id"), incident.reference, token_name)
    if not first_in_window(session, now, EventKind.EVENT_CHANGE_REFUSED, incident.id, IncidentEvent.actor == actor,
                           incidents=LINES_PER_TOKEN_HOUR):
        return False
    log_event(session, at=now, actor=actor, kind=EventKind.EVENT_CHANGE_REFUSED, incident_id=incident.id,
              detail=detail)
    return True
