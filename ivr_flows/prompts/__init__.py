"""Prompt catalog (one dict per language) and helpers that format values for speech."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_timezone

from ..model import Lang
from ..validate import email_for_caller
from . import de_de, en_us

GERMAN_ZONE_NAMES = {"CET": "MEZ", "CEST": "MESZ"}
_NUMERIC_ZONE = re.compile(r"([+-])(\d{2})(\d{2})?")  # tzdata's abbreviation of a zone without letters: "+13", "-0930"

CATALOGS: dict[Lang, dict[str, str]] = {
    Lang.EN: en_us.PROMPTS,
    Lang.DE: de_de.PROMPTS,
}


def text(lang: Lang | str, key: str, **params: object) -> str:
    """The prompt ``key`` in ``lang`` with ``params`` filled in."""
    return CATALOGS[Lang(lang)][key].format(**params)


def say_digits(value: str) -> str:
    """Read characters one by one: "4521" -> "4, 5, 2, 1" (separators dropped)."""
    return ", ".join(ch for ch in value if ch.isalnum())


def say_phone(lang: Lang | str, e164: str) -> str:
    """Read a phone number in its usual groups: "plus 1, 2 1 2, 5 5 5, 0 1 0 0"."""
    try:
        number = phonenumbers.parse(e164, None)
        formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        formatted = e164
    groups = []
    for group in formatted.replace("-", " ").split():
        digits = " ".join(ch for ch in group if ch.isdigit())
        if group.startswith("+"):
            digits = f"{text(lang, 'phone_plus')} {digits}"
        if digits:
            groups.append(digits)
    return ", ".join(groups)


def say_email(lang: Lang | str, email: str) -> str:
    """Read an e-mail address: "john dot smith at example dot com" (an internationalised domain in its own letters,
    not its stored ASCII form: ``validate.email_for_caller``)."""
    email = email_for_caller(email)
    names = _email_signs(lang)
    parts: list[str] = []
    word = ""
    for ch in email:
        if ch in names:
            if word:
                parts.append(word)
            parts.append(names[ch])
            word = ""
        else:
            word += ch
    if word:
        parts.append(word)
    return " ".join(parts)


def spell_email(lang: Lang | str, email: str) -> str:
    """Spell an e-mail address, as the recognizer wrote it: "J O H N, dot, D O E, at, E X A M P L E, dot, C O M".

    Read as words, "jon" and "john" sound the same: a caller checks a heard address by its letters. An
    internationalised domain is spelled in its own letters ("B Ä C K E R E I"), each letter one (an ß stays ß).
    """
    email = email_for_caller(email)
    names = _email_signs(lang)
    parts = []
    word = ""
    for ch in email + " ":
        if ch in names or ch == " ":
            if word:
                parts.append(" ".join(ch.upper() if len(ch.upper()) == 1 else ch for ch in word))
            if ch in names:
                parts.append(names[ch])
            word = ""
        else:
            word += ch
    return ", ".join(parts)


def _email_signs(lang: Lang | str) -> dict[str, str]:
    return {
        ".": text(lang, "email_dot"),
        "@": text(lang, "email_at"),
        "-": text(lang, "email_dash"),
        "_": text(lang, "email_underscore"),
        "+": text(lang, "email_plus"),
    }


def say_duration(lang: Lang | str, seconds: int) -> str:
    """Speak a recording limit: "2 minutes", "1 minute", "90 seconds"."""
    if seconds == 60:
        return text(lang, "duration_minute")
    if seconds % 60 == 0:
        return text(lang, "duration_minutes", n=seconds // 60)
    return text(lang, "duration_seconds", n=seconds)


# Instants spread over a year (both sides of every DST change): zones that agree on all keep the same clock.
_ZONE_PROBES = tuple(datetime(2025, month, 15, 12, tzinfo=UTC) for month in range(1, 13))


def zone_for_number(e164: str) -> ZoneInfo:
    """The time zone of a phone number if it has one clock (UK mobiles: London, Jersey, ... alike), else UTC.

    libphonenumber names one zone per offset, not per country: Irish numbers get London (BST, not IST),
    Portugal's neighbours and the Baltics other capitals. A zone outside the number's own country is
    replaced by that country's zones (tz database), so the label is the one the caller lives by.
    """
    try:
        number = phonenumbers.parse(e164, None)
        names = number_timezone.time_zones_for_number(number)
    except phonenumbers.NumberParseException:
        return ZoneInfo("UTC")
    own = _country_zones(phonenumbers.region_code_for_number(number) or "")
    if own and names and "Etc/Unknown" not in names:
        names = tuple(name for name in names if name in own) or tuple(sorted(own))
    zones = []
    for name in sorted(names):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")  # "Etc/Unknown" and the like: we cannot tell
    if zones and all(_same_clock(zones[0], zone) for zone in zones[1:]):
        return zones[0]
    return ZoneInfo("UTC")


@cache
def _country_zones(region: str) -> frozenset[str]:
    """The tz database's zones of an ISO country code (zone.tab), empty when unknown or unreadable."""
    zones: set[str] = set()
    for line in _zone_table().splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#") and region in fields[0].split(","):
            zones.add(fields[2])
    return frozenset(zones)


@cache
def _zone_table() -> str:
    """zone.tab from where zoneinfo reads its zones: the system's tz path first, then the tzdata package."""
    for root in TZPATH:
        try:
            return (Path(root) / "zone.tab").read_text(encoding="utf-8")
        except OSError:
            continue
    try:
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return ""


def _zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # a state saved by a host whose tz database knew a zone this one does not


def _same_clock(a: ZoneInfo, b: ZoneInfo) -> bool:
    return all(at.astimezone(a).utcoffset() == at.astimezone(b).utcoffset()
               and at.astimezone(a).tzname() == at.astimezone(b).tzname() for at in _ZONE_PROBES)


def zone_label(local: datetime, lang: Lang | str = Lang.EN, *, spoken: bool = False) -> str:
    """How a customer or a rep reads (``spoken``: hears) the zone of ``local``, an aware time on its clock: the one
    rule of every zone named after a time. A named abbreviation as it is ("EST", "NZDT"; German "MEZ" / "MESZ" for
    CET / CEST). A numeric one, which tzdata gives zones without letters (Tonga "+13", Dubai "+04", São Paulo "-03",
    Sri Lanka "+0530"), is written as an offset from UTC: "UTC+13", "UTC-3", "UTC+5:30" (an ASCII hyphen, so
    an SMS stays GSM-7), and spoken "U T C plus 13" / "U T C minus 3" (German "UTC plus 13"): said bare, "+13" was
    read out as "plus thirteen" after the time."""
    abbr = local.tzname() or "UTC"
    numeric = _NUMERIC_ZONE.fullmatch(abbr)
    if numeric is None:
        return GERMAN_ZONE_NAMES.get(abbr, abbr) if Lang(lang) is Lang.DE else abbr
    sign, hours, minutes = numeric.group(1), int(numeric.group(2)), int(numeric.group(3) or 0)
    if not hours and not minutes:
        return "UTC"  # "-00": a zone tzdata leaves without local time
    offset = f"{hours}:{minutes:02d}" if minutes else f"{hours}"
    if not spoken:
        return f"UTC{sign}{offset}"
    utc = "UTC" if Lang(lang) is Lang.DE else "U T C"
    return f"{utc} {'plus' if sign == '+' else 'minus'} {offset}"


def say_time(lang: Lang | str, when: datetime, phone: str = "", zone_name: str = "", *, now: datetime | None = None,
             at: bool = False, moment: bool = False) -> str:
    """Speak a time in the caller's zone: "3:27 a.m. UTC" / "16:21 Uhr (MEZ)". The zone is ``phone``'s, else
    ``zone_name`` (one kept once the number was forgotten), else UTC.

    With ``now``, the time names its day when that is not ``now``'s day on the same clock ("tomorrow at 5:08 p.m.
    EST", "morgen um 17:08 Uhr (MEZ)", "Tuesday, December 8 at ...": ``say_day``): an update due in 24 hours said
    "by 5:08 p.m." at 5:08 p.m. read as due right now. ``at``: the phrase stands where a prompt had "um {time}"
    (German "spätestens {time}": "um 17:08 Uhr", "am Dienstag, ..."); "by {time}" and "bis {time}" take it bare.
    ``moment``: where a prompt had "at {time}" (``say_day``).
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    zone = zone_for_number(phone) if phone else _zone_named(zone_name)
    local = when.astimezone(zone)
    abbr = zone_label(local, lang, spoken=True)  # German listeners know Central European time as MEZ / MESZ
    if Lang(lang) is Lang.DE:
        clock = f"{local.hour}:{local.minute:02d} Uhr ({abbr})"
    else:
        hour12 = local.hour % 12 or 12
        ampm = "a.m." if local.hour < 12 else "p.m."
        clock = f"{hour12}:{local.minute:02d} {ampm} {abbr}"
    return say_day(lang, local, clock, now, at=at, moment=moment)


def say_day(lang: Lang | str, local: datetime, clock: str, now: datetime | None, *, at: bool = False,
            moment: bool = False) -> str:
    """``clock`` (the spoken or written time of ``local``) with its day when ``local`` falls on another day than
    ``now`` on ``local``'s clock (``days_apart``): today as it was, else "tomorrow at", "yesterday at", or the weekday
    and date. The one rule for every time a customer hears or reads (``customer_text.written_time`` writes with it).

    ``at``: the phrase stands where a German text had "um {time}" ("spätestens {time}"; English "by {time}" takes
    it bare). ``moment``: it stands where a text had "at {time}" / "um {time}", in both languages: "at 11:58 p.m.",
    "yesterday at ...", "on Monday, December 7 at ..." ("we tried to call you {at}", "was closed {at}")."""
    days = days_apart(local, now)
    form = "_moment" if moment else "_at" if at else ""
    if days == 0:
        return text(lang, f"time_today{form}", time=clock) if form else clock
    if days in (1, -1):
        return text(lang, "time_tomorrow" if days == 1 else "time_yesterday", time=clock)
    weekdays, months = text(lang, "weekdays").split(", "), text(lang, "months").split(", ")
    when = text(lang, "time_date", time=clock, weekday=weekdays[local.weekday()], month=months[local.month - 1],
                day=local.day)
    return text(lang, f"time_date{form}", when=when) if form else when


def days_apart(local: datetime, now: datetime | None) -> int:
    """How many days ``local``'s date lies after ``now``'s on ``local``'s own clock (negative: before; 0 without
    ``now``): whether a time names its day, spoken or written, to a customer or a rep."""
    return 0 if now is None else (local.date() - now.astimezone(local.tzinfo).date()).days


__all__ = [
    "CATALOGS",
    "days_apart",
    "say_day",
    "say_digits",
    "say_duration",
    "say_email",
    "say_phone",
    "say_time",
    "spell_email",
    "text",
    "zone_for_number",
    "zone_label",
]
