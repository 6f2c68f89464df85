"""The years the hotline works in, and ISO 8601 instants read within them (pure).

Dates near year 1 or 9999 overflow as soon as they are moved to another time zone or a
shift is added to them; nothing the hotline handles lies there, so they are refused where
they come in (API parameters and bodies, tickets, on-call configuration, forms).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

YEAR_MIN = 2000
YEAR_MAX = 2099
OUT_OF_RANGE = f"must lie in the years {YEAR_MIN} to {YEAR_MAX}"
NOT_ISO = "must be an ISO 8601 timestamp with offset, e.g. 2026-12-24T09:00:00Z"
NO_OFFSET = "must include a UTC offset, e.g. 2026-12-24T09:00:00Z"


def in_years(value: date) -> bool:
    """True when ``value`` (a date, or a datetime's own calendar date) lies in YEAR_MIN..YEAR_MAX."""
    return YEAR_MIN <= value.year <= YEAR_MAX


FIRST = datetime(YEAR_MIN, 1, 1, tzinfo=UTC)
AFTER_LAST = datetime(YEAR_MAX + 1, 1, 1, tzinfo=UTC)


def parse_bound(value: object) -> datetime:
    """A range filter's bound (``since``, ``until``): as ``parse_instant``, but a bound before or after the
    hotline's years is moved to their edge (``since=1970-01-01T00:00:00Z`` still means "everything")."""
    try:
        return parse_instant(value)
    except ValueError as exc:
        if str(exc) != OUT_OF_RANGE:
            raise
    return FIRST if _naive_year(value) < YEAR_MIN else AFTER_LAST


def _naive_year(value: object) -> int:
    return (datetime.fromisoformat(value.strip()) if isinstance(value, str) else value).year


def parse_instant(value: object) -> datetime:
    """An aware UTC instant from ISO 8601 text (or an aware datetime); ValueError saying what is wrong."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(NOT_ISO) from None
    if not isinstance(value, datetime):
        raise ValueError(NOT_ISO)
    if value.tzinfo is None:
        raise ValueError(NO_OFFSET)
    if not in_years(value):  # before converting: near year 1 or 9999 the conversion itself overflows
        raise ValueError(OUT_OF_RANGE)
    return value.astimezone(UTC)
