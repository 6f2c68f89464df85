"""How the API writes and reads timestamps and query parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.api.errors import ApiError
from app.instants import parse_bound, parse_instant

# An unencoded "+" in a query string arrives as a space: "...03:00:00 00:00".
_SPACE_FOR_PLUS = re.compile(r" (\d{2}(?::?\d{2})?)$")


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timestamp_param(name: str, raw: str | None, bound: bool = False) -> datetime | None:
    """A query parameter holding an ISO 8601 timestamp with offset, as aware UTC: in the hotline's years, or
    (``bound``: a range filter) moved to their edge (``since=1970-01-01T00:00:00Z`` means everything)."""
    if raw is None or not raw.strip():
        return None
    try:
        return (parse_bound if bound else parse_instant)(_SPACE_FOR_PLUS.sub(r"+\1", raw.strip()))
    except ValueError as exc:
        raise ApiError(400, str(exc), code="invalid_parameter", field=name) from None


def int_param(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A query parameter holding an integer in ``[low, high]``."""
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ApiError(400, f"must be an integer from {low} to {high}", code="invalid_parameter", field=name)
    return int(text)
