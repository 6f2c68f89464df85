"""Business hours such as "mon-fri 09:00-17:00, sat 10:00-14:00", read in a time zone (pure)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time

from app.oncall.errors import OnCallConfigError
from app.oncall.fields import WEEKDAYS
from app.oncall.wallclock import zone

DEFAULT_BUSINESS_HOURS = "mon-fri 09:00-17:00"
log = logging.getLogger(__name__)
_WINDOW = re.compile(r"(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})")


@dataclass(frozen=True)
class Window:
    """Open on ``weekdays`` (0 = Monday) from ``start`` until just before ``end`` (None = midnight)."""

    weekdays: frozenset[int]
    start: time
    end: time | None


def parse_business_hours(text: str, path: str = "business_hours") -> tuple[Window, ...]:
    """The windows of e.g. "mon-fri 09:00-17:00, sat 10:00-14:00"; raise OnCallConfigError if malformed."""
    windows = []
    for part in (p.strip().lower() for p in str(text).split(",")):
        match = _WINDOW.fullmatch(part)
        if match is None or match["first"] not in WEEKDAYS or (match["last"] or "mon") not in WEEKDAYS:
            raise OnCallConfigError(path, f"{part!r} is not like 'mon-fri 09:00-17:00'")
        first = WEEKDAYS.index(match["first"])
        last = WEEKDAYS.index(match["last"]) if match["last"] else first
        days = frozenset(range(first, last + 1)) if first <= last else frozenset([*range(first, 7), *range(last + 1)])
        start, end = _clock(match["start"], part, path), _clock(match["end"], part, path)
        if start is None or (end is not None and end <= start):
            raise OnCallConfigError(path, f"{part!r}: the end must be after the start (no overnight windows)")
        windows.append(Window(days, start, end))
    return tuple(windows)


def stored_hours(text: str | None, whose: str) -> str:
    """Stored business hours to work with: themselves when they read, else DEFAULT_BUSINESS_HOURS (logged, naming
    ``whose`` they are, such as "account 7's TAM"): hours written in SQL in a shape this code cannot read never fail
    a page and never silently drop the person (``hotline check`` names them)."""
    try:
        parse_business_hours(text or "")
    except OnCallConfigError:
        log.warning("%s: stored business hours %r do not read; %r is used instead (hotline check names them; set "
                    "hours like 'mon-fri 09:00-17:00, sat 10:00-14:00')", whose, str(text)[:100], DEFAULT_BUSINESS_HOURS)
        return DEFAULT_BUSINESS_HOURS
    return str(text)


def is_open(text: str, time_zone: str, at: datetime) -> bool:
    """True when ``at`` falls in the business hours ``text`` of ``time_zone``."""
    windows = parse_business_hours(text)
    local = at.astimezone(zone(time_zone))
    now = local.time().replace(tzinfo=None)
    return any(local.weekday() in w.weekdays and w.start <= now and (w.end is None or now < w.end) for w in windows)


def _clock(text: str, part: str, path: str) -> time | None:
    hours, minutes = int(text[:2]), int(text[3:])
    if (hours, minutes) == (24, 0):
        return None
    if hours > 23 or minutes > 59:
        raise OnCallConfigError(path, f"{part!r}: {text} is not a time of day")
    return time(hours, minutes)
