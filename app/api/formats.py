"""How the API writes and reads timestamps and query parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.api.errors import ApiError

# An unencoded "+" in a query string arrives as a space: "...03:00:00 00:00".
_SPACE_FOR_PLUS = re.compile(r" (\d{2}(?::?\d{2})?)$")


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timestamp_param(name: str, raw: str | None) -> datetime | None:
    """A query parameter holding an ISO 8601 timestamp with offset, as aware UTC."""
    if raw is None or not raw.strip():
        return None
    text = _SPACE_FOR_PLUS.sub(r"+\1", raw.strip())
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "must be an ISO 8601 timestamp", code="invalid_parameter", field=name) from None
    if value.tzinfo is None:
        raise ApiError(400, "must include a UTC offset, e.g. Z", code="invalid_parameter", field=name)
    return value.astimezone(UTC)


def int_param(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A query parameter holding an integer in ``[low, high]``."""
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ApiError(400, f"must be an integer from {low} to {high}", code="invalid_parameter", field=name)
    return int(text)
