"""Turning local wall-clock times into instants, across daylight-saving changes."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Files of the tz database that are not places: the host's own zone, a link target, a placeholder.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})
log = logging.getLogger(__name__)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of an IANA name; raise ValueError if unknown."""
    if (not isinstance(name, str) or not name or name != name.strip() or len(name) > _NAME_MAX
            or name.startswith(("/", ".")) or name in _NOT_PLACES):
        raise ValueError(f"unknown time zone {str(name)[:_NAME_MAX]!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe", a long name
        raise ValueError(f"unknown time zone {name[:_NAME_MAX]!r}") from None


_NAME_MAX = 64  # the longest IANA name is 32 characters (no walk of the tz database on a webhook's path)


def stored_zone(name: str | None, whose: str) -> str:
    """A stored zone name to work times out in: itself when it loads, "UTC" when empty, and "UTC" (logged, naming
    ``whose`` it is, such as "rep 7") when this tz database does not have it (stored under an older one, or written
    around the validator): no page and no on-call lookup ever fails for it."""
    if not name:
        return "UTC"
    try:
        zone(name)
    except ValueError:
        log.warning("%s: stored time zone %r does not load; its times are worked out in UTC (hotline check names it; "
                    "set a zone this tz database has)", whose, str(name)[:_NAME_MAX])
        return "UTC"
    return name


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant the wall clock of ``tz`` shows ``day at``.

    A time in a spring-forward gap gives the first valid instant after the gap (the moment
    of the change); an ambiguous fall-back time gives its first occurrence (fold=0).
    Raise ValueError (not OverflowError) when the instant lies beyond what ``datetime`` holds.
    """
    naive = datetime.combine(day, at)
    try:
        first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
        if first.astimezone(tz).replace(tzinfo=None) == naive:
            return first
        return _gap_end(naive.replace(tzinfo=tz, fold=1).astimezone(UTC), first, tz)
    except OverflowError:
        raise ValueError(f"{naive.isoformat()} in {tz.key} is out of range") from None


def _gap_end(low: datetime, high: datetime, tz: ZoneInfo) -> datetime:
    # In a gap, fold=1 maps to an instant before the change and fold=0 to one after it;
    # bisect (to the second: zone changes fall on whole seconds) for the change itself.
    after = high.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        mid = mid.replace(microsecond=0)
        if mid <= low:
            mid = low + timedelta(seconds=1)
        if mid.astimezone(tz).utcoffset() == after:
            high = mid
        else:
            low = mid
    return high
