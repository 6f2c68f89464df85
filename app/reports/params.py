"""Reading a report's range from query parameters: local dates, a time zone, an optional as-of instant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.db_time_limit import LONGEST_TRANSACTION_SECONDS
from app.oncall.wallclock import NotAPlace, place_zone

DEFAULT_DAYS = 7
MAX_DAYS = 366
# a day inside the calendar's edges: any zone's local midnight (and the next UTC day) is a datetime in UTC
FIRST_DATE, LAST_DATE = date.min + timedelta(days=1), date.max - timedelta(days=1)
# How long after ``as_of`` a log line written before it may still commit (a transaction open then: the request and
# worker time limits end it) and so join the report: its figures are provisional until then. Twice the limit: the
# hosts' clocks (each stamps its own lines) may differ by a few seconds.
SETTLING = timedelta(seconds=2 * LONGEST_TRANSACTION_SECONDS)


# A report's range comes in one of two forms: local dates of a zone (``parse_range``: the compliance report, the
# missed calls, and the updates report when asked so) or, for the updates report only, UTC instants
DATES, INSTANTS = ("start", "end", "tz"), ("from", "to")


class InvalidRange(ValueError):
    """A parameter a manager can fix; the message says how."""


@dataclass(frozen=True)
class RangeParams:
    """[start, end) in local dates of ``tz``, judged from the log as it was at ``as_of``.

    ``provisional``: ``as_of`` is so recent that a transaction open then may still commit a line written before
    it (``SETTLING``): the same parameters may give other figures and bytes until ``final_from``.
    """

    start: date
    end: date
    tz: str
    as_of: datetime
    provisional: bool = False

    @property
    def final_from(self) -> datetime:
        """From when the report of these parameters can no longer change."""
        return self.as_of + SETTLING

    def provisional_until(self, undecided_until: datetime | None, now: datetime) -> datetime | None:
        """Until when these figures are not final (None: they are): ``final_from``, or later when a callback was under
        way at ``as_of`` (``compliance.undecided_until``, when the last one is decided): the instant from which a report
        as of that decision is final (one as of ``as_of`` keeps saying "pending" of it)."""
        until = max(self.final_from, undecided_until + SETTLING if undecided_until is not None else self.final_from)
        return until if now < until else None

    def query(self) -> dict[str, str]:
        """The query string that reproduces this exact report (exports, digests)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "tz": self.tz,
                "as_of": self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def parse_range(args: Mapping[str, str], now: datetime) -> RangeParams:
    """The range asked for; defaults: the last 7 days up to and including today, UTC, as of now.

    ``from``/``to`` (the updates report's UTC instants) are refused, not dropped: until probe P the compliance
    report answered ``?from=2026-12-01&to=2026-12-02``, and ``?from=garbage``, with the last 7 days."""
    instants = [name for name in INSTANTS if (args.get(name) or "").strip()]
    if instants:
        raise InvalidRange(f"This report takes its range as start and end (local dates, YYYY-MM-DD, the end date "
                           f"not included) and tz, e.g. start=2026-12-01&end=2026-12-08&tz=UTC, not "
                           f"{' and '.join(instants)} (times in UTC, which only the updates report takes).")
    tz = (args.get("tz") or "UTC").strip()
    try:
        today = now.astimezone(place_zone(tz)).date()  # the one rule of a zone a user names (on-call, API, reports)
    except NotAPlace as exc:
        raise InvalidRange(f"Time zone {str(exc)[:300]}.") from None
    except ValueError:
        raise InvalidRange(f"Unknown time zone {tz[:64]!r}. Use an IANA name such as Europe/Berlin or UTC.") from None
    end = _date(args, "end") or today + timedelta(days=1)
    outside = InvalidRange(f"Dates must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}.")
    if not FIRST_DATE < end <= LAST_DATE:
        raise outside
    start = _date(args, "start") or end - timedelta(days=min(DEFAULT_DAYS, (end - FIRST_DATE).days))
    if end <= start:
        raise InvalidRange("The end date must be after the start date (the end date itself is not included).")
    if start < FIRST_DATE:
        raise outside
    if (end - start).days > MAX_DAYS:
        raise InvalidRange(f"A report covers at most {MAX_DAYS} days; choose a shorter range.")
    as_of = _as_of(args.get("as_of"), now)
    return RangeParams(start, end, tz, as_of, provisional=now < as_of + SETTLING)


def _date(args: Mapping[str, str], name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRange(f"The {name} date {raw[:32]!r} is not a date: use YYYY-MM-DD, e.g. 2026-10-19.") from None


def _as_of(raw: str | None, now: datetime) -> datetime:
    """An ISO instant with offset that has passed (up to now, taken to the second); default: now, to the second.

    An instant still to come is refused, not taken as now: the same parameters would give other figures and
    export bytes later (the log grown, the deadlines judged at it), so its exports could never match their
    ``.sha256``."""
    current = now.astimezone(UTC).replace(microsecond=0)
    if not raw or not raw.strip():
        return current
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidRange("as_of must be an ISO 8601 instant with offset, e.g. 2026-10-26T08:00:00Z.") from None
    if value.tzinfo is None:
        raise InvalidRange("as_of must include a UTC offset, e.g. 2026-10-26T08:00:00Z.")
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00: before the first instant UTC can hold
        raise InvalidRange("as_of is outside the calendar; use an instant such as 2026-10-26T08:00:00Z.") from None
    if value > now:
        shown = value.isoformat().replace("+00:00", "Z")
        raise InvalidRange(f"as_of {shown} is still to come: a report can be pinned only to an instant that has "
                           "passed (leave as_of out for a report as of now).")
    return min(value, current)
