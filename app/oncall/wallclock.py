"""Turning local wall-clock times into instants, across daylight-saving changes."""

from __future__ import annotations

import logging
import re
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

# Names the tz database keeps for old systems that are an offset, or a rule, not a place: "EST" is UTC-5 all year (a New
# York rep would read every deadline an hour off all summer: an outside probe's import took it), "Etc/GMT+5" is UTC-5
# with its sign turned round; "EST5EDT" and the like follow a country's rules of long ago; "posix/..." and "right/..."
# are copies of the database (the "right" ones count leap seconds, so their clock is 27 s off)
LEGACY_ZONES = frozenset({"EST", "MST", "HST", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT", "CET", "EET", "MET", "WET"})
_NOT_A_PLACE = re.compile(r"^(?:Etc/GMT[+-]\d+|posix/.*|right/.*)$")


class NotAPlace(ValueError):
    """A zone the tz database has that is not a place's clock (``place_zone``)."""


def place_zone(name: str) -> ZoneInfo:
    """The ZoneInfo of the zone a user names (a rep's, a TAM's, a report's): an IANA name of a place, or UTC. Raise
    ValueError if unknown, ``NotAPlace`` for an offset, an old rule or a copy of the database (one rule for the
    on-call import, the API and the reports: an outside probe's report took ``tz=EST``, which the import refuses)."""
    found = zone(name)
    if name in LEGACY_ZONES or _NOT_A_PLACE.match(name):
        raise NotAPlace(f"{name!r} is a fixed offset or an old rule, not a place: its clock is off whenever the "
                        "place's summer time differs; use the Area/City name of the place, such as "
                        "'America/New_York' or 'Europe/Berlin'")
    return found


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
