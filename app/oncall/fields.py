"""Validators of single on-call fields; each raises OnCallConfigError naming ``path``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from enum import StrEnum

import phonenumbers

from app.instants import OUT_OF_RANGE, in_years, parse_instant
from app.oncall.errors import OnCallConfigError
from app.oncall.wallclock import NotAPlace, place_zone
from app.plain_text import is_plain
from ivr_flows.number_kinds import CALLABLE_ONLY, refused_kind

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NAME_MAX = 200
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,63}")
# a rep's number as people write it: "+", then digits with the spaces, dashes, dots, slashes and parentheses they
# put between them, ending in a digit; anything else (an extension, "x", words) phonenumbers would drop unsaid
_WRITTEN_PHONE = re.compile(r"\+[\s().\-/]*\d(?:[\s().\-/]*\d)*")
_NOT_WRITTEN = re.compile(r"[^\d\s().\-/]+")


class Channel(StrEnum):
    """How a page reaches someone."""

    SMS = "sms"
    VOICE = "voice"


ALL_CHANNELS = (Channel.SMS.value, Channel.VOICE.value)


def name_field(value: object, path: str, max_len: int = NAME_MAX) -> str:
    """A non-empty, printable, trimmed name of at most ``max_len`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise OnCallConfigError(path, "is required (a non-empty string)")
    text = " ".join(value.split())
    if len(text) > max_len or not is_plain(text):
        raise OnCallConfigError(path, f"must be 1-{max_len} printable characters")
    return text


def time_zone_field(value: object, path: str) -> str:
    """A valid IANA time zone name of a place, e.g. "Europe/Berlin" (or UTC)."""
    if not isinstance(value, str):
        raise OnCallConfigError(path, "must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        place_zone(value)
    except NotAPlace as exc:
        raise OnCallConfigError(path, str(exc)) from None
    except ValueError:
        raise OnCallConfigError(path, f"unknown time zone {value!r}") from None
    return value


def phone_field(value: object, path: str) -> str:
    """A valid phone number of a kind we dial, written in E.164 (``+`` and digits, spaces, dashes, dots, slashes or
    parentheses between them), with no extension and nothing else around it."""
    if not isinstance(value, str):
        raise OnCallConfigError(path, 'must be a quoted E.164 string such as "+4930901820"')
    text = value.strip()
    if not text.startswith("+"):
        raise OnCallConfigError(path, f"{text!r} is not E.164 (must start with + and the country code)")
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise OnCallConfigError(path, f"{text!r} is not a phone number") from None
    # a page is an SMS or a call the rep answers: it cannot dial an extension, and a number kept without the
    # extension (or the junk after it) would page the switchboard (an outside probe's '+14155550111;ext=12' was
    # stored as +14155550111)
    if parsed.extension:
        raise OnCallConfigError(path, f"{text!r} has an extension ({parsed.extension}): a page cannot dial an "
                                      "extension, give the rep's direct number")
    if not _WRITTEN_PHONE.fullmatch(text):
        extra = ", ".join(repr(part) for part in _NOT_WRITTEN.findall(text[1:])) or f"{text[-1]!r} at its end"
        raise OnCallConfigError(path, f"{text!r} has {extra} besides the number: write only + and the digits "
                                      "(a page cannot dial an extension)")
    if not phonenumbers.is_valid_number(parsed):
        raise OnCallConfigError(path, f"{text!r} is not a valid callable number")
    kind = refused_kind(parsed)
    if kind:
        raise OnCallConfigError(path, f"{text!r} is {kind}: {CALLABLE_ONLY}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_field(value: object, path: str) -> str | None:
    """An e-mail address, or None when empty."""
    if value is None or value == "":
        return None
    if (not isinstance(value, str) or not _EMAIL.fullmatch(value.strip()) or len(value.strip()) > 254
            or not is_plain(value)):  # a control or bidi character would reach logs, mail headers and the board
        raise OnCallConfigError(path, "must be an e-mail address")
    return value.strip()


def channels_field(value: object, path: str) -> list[str]:
    """A non-empty list of channels ("sms", "voice"), deduplicated, in canonical order."""
    if not isinstance(value, list | tuple) or not value:
        raise OnCallConfigError(path, f"must be a non-empty list of {', '.join(ALL_CHANNELS)}")
    for index, item in enumerate(value):
        if item not in ALL_CHANNELS:
            raise OnCallConfigError(f"{path}[{index}]", f"unknown channel {item!r} (use {', '.join(ALL_CHANNELS)})")
    return [c for c in ALL_CHANNELS if c in value]


def hhmm_field(value: object, path: str) -> str:
    """A wall-clock time "HH:MM" (24-hour)."""
    if not isinstance(value, str) or not _HHMM.fullmatch(value.strip()):
        raise OnCallConfigError(path, 'must be a quoted "HH:MM" time such as "09:00"')
    return value.strip()


def parse_hhmm(value: str) -> time:
    """The ``time`` of a validated "HH:MM"."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def weekday_field(value: object, path: str) -> int:
    """A weekday as 0 (Monday) to 6, from that number or a name such as "mon"."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().lower()[:3] in WEEKDAYS:
        return WEEKDAYS.index(value.strip().lower()[:3])
    raise OnCallConfigError(path, "must be a weekday: mon..sun, or 0 (Monday) to 6")


def date_field(value: object, path: str) -> date:
    """A calendar date in the hotline's years, from a ``date`` or "YYYY-MM-DD"."""
    day = value if isinstance(value, date) and not isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            pass
    if day is None:
        raise OnCallConfigError(path, "must be a date YYYY-MM-DD")
    if not in_years(day):
        raise OnCallConfigError(path, OUT_OF_RANGE)
    return day


def instant_field(value: object, path: str) -> datetime:
    """An aware instant (as UTC) in the hotline's years, from an aware ``datetime`` or ISO 8601 text with an offset."""
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise OnCallConfigError(path, str(exc)) from None


def int_field(value: object, path: str, low: int, high: int) -> int:
    """An integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OnCallConfigError(path, f"must be an integer from {low} to {high}")
    return value


def bool_field(value: object, path: str) -> bool:
    """A boolean."""
    if not isinstance(value, bool):
        raise OnCallConfigError(path, "must be true or false")
    return value


def known_keys(data: object, allowed: set[str], path: str, required: tuple[str, ...] = ()) -> dict:
    """``data`` as a dict with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(data, dict):
        raise OnCallConfigError(path, "must be a mapping")
    for key in data:
        if key not in allowed:
            raise OnCallConfigError(_join(path, str(key)), "unknown field")
    for key in required:
        if data.get(key) is None:
            raise OnCallConfigError(_join(path, key), "is required")
    return data


def iso_z(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
