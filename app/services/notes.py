"""Notes reps add to an incident: one ``note`` line in the append-only log."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent
from app.services.events import log_event

MAX_NOTE_CHARS = 2000
_BLANK_LINES = re.compile(r"\n{3,}")


class InvalidNote(ValueError):
    """A note that is empty or too long once cleaned; nothing was logged."""


def clean_note(text: str) -> str:
    """``text`` with unified line breaks, no control characters and no surrounding blanks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return _BLANK_LINES.sub("\n\n", kept).strip()


def add_note(session: Session, incident: Incident, author: str, text: str, now: datetime) -> IncidentEvent:
    """Log a note by ``author``; raise InvalidNote if it is empty or longer than MAX_NOTE_CHARS."""
    cleaned = clean_note(text)
    if not cleaned:
        raise InvalidNote("The note is empty. Nothing was saved.")
    if len(cleaned) > MAX_NOTE_CHARS:
        raise InvalidNote(f"The note has {len(cleaned)} characters; at most {MAX_NOTE_CHARS} fit. Nothing was saved.")
    return log_event(session, at=now, actor=(author or "unknown")[:100], kind="note", incident_id=incident.id,
                     detail={"text": cleaned})
