"""Who is on call at an instant, from a schedule's layers and overrides (pure).

Every rotation hands off at wall-clock times of the schedule's time zone, so a shift
spanning a daylight-saving change is an hour shorter or longer (see ``wallclock``): daily
and weekly ones at their hand-off time, custom ones every ``shift_hours`` of the wall clock
counted from the first hand-off. An 8-hour rotation from 06:00 hands off at 06:00, 14:00
and 22:00 local all year, its night shift 7 or 9 hours long on the nights of the changes
(until session 43 custom shifts counted elapsed hours and drifted to 07:00/15:00/23:00
for the summer: an outside probe's rep who believed they were off was the one paged).
Shifts are half-open: a shift starting at T is on at T; the previous one ends just before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.oncall.wallclock import local_instant, zone


class Rotation(StrEnum):
    """How often a layer hands off to the next member."""

    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"


@dataclass(frozen=True)
class LayerSpec:
    """One rotation layer; a higher ``position`` wins over lower ones."""

    position: int
    rotation: Rotation
    handoff_time: time
    starts_on: date
    members: tuple[int, ...]
    handoff_weekday: int | None = None
    shift_hours: int | None = None
    # members who keep their place in the rotation but are skipped (deactivated reps): the next
    # active member covers their turn, and nobody else's turn moves
    skipped: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.rotation == Rotation.WEEKLY and self.handoff_weekday not in range(7):
            raise ValueError("a weekly layer needs handoff_weekday 0 (Monday) to 6")
        if self.rotation == Rotation.CUSTOM and (self.shift_hours is None or self.shift_hours < 1):
            raise ValueError("a custom layer needs shift_hours of at least 1")


@dataclass(frozen=True)
class OverrideSpec:
    """A rep on call from ``starts_at`` until just before ``ends_at``, over every layer."""

    rep_id: int
    starts_at: datetime
    ends_at: datetime
    id: int | None = None


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule: its time zone, layers and overrides."""

    name: str
    time_zone: str
    layers: tuple[LayerSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()


@dataclass(frozen=True)
class Shift:
    """A stretch of time one rep is on call, and what put them there."""

    rep_id: int
    starts_at: datetime
    ends_at: datetime
    layer: int | None = None
    override_id: int | None = None

    @property
    def is_override(self) -> bool:
        """True when an override, not a layer, put the rep on call."""
        return self.layer is None


def on_call(schedule: ScheduleSpec, at: datetime) -> list[int]:
    """Rep ids on call at ``at``: active overrides, else the highest layer with someone."""
    return [rep_id for rep_id, _, _ in _resolve(schedule, _aware(at))]


def shifts(schedule: ScheduleSpec, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from ``start`` until ``end``, as shifts clipped to that window."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return []
    tz = zone(schedule.time_zone)
    bounds = {start}
    for layer in schedule.layers:
        bounds.update(t for t in handoffs(layer, tz, start, end))
    for o in schedule.overrides:
        bounds.update(t for t in (o.starts_at, o.ends_at) if start < t < end)
    result: list[Shift] = []
    open_: dict[tuple[int, int | None, int | None], datetime] = {}
    for seg_start in sorted(bounds):
        current = _resolve(schedule, seg_start)
        for key in [k for k in open_ if k not in current]:
            result.append(Shift(key[0], open_.pop(key), seg_start, key[1], key[2]))
        for key in current:
            open_.setdefault(key, seg_start)
    for key, began in open_.items():
        result.append(Shift(key[0], began, end, key[1], key[2]))
    return sorted(result, key=lambda s: (s.starts_at, s.ends_at, s.rep_id))


def shift_start(layer: LayerSpec, tz: ZoneInfo, index: int) -> datetime:
    """The instant shift number ``index`` (0 = the first) of ``layer`` begins.

    Raise ValueError (not OverflowError) for a shift beyond what ``datetime`` holds.
    """
    try:
        if layer.rotation == Rotation.CUSTOM:  # wall-clock hours from the first hand-off
            wall = _first_wall(layer) + timedelta(hours=layer.shift_hours * index)  # type: ignore[operator]
            return local_instant(wall.date(), wall.time(), tz)
        days = 7 if layer.rotation == Rotation.WEEKLY else 1
        return local_instant(_first_day(layer) + timedelta(days=days * index), layer.handoff_time, tz)
    except OverflowError:
        raise ValueError(f"shift {index} of layer {layer.position} is out of range") from None


def shift_index(layer: LayerSpec, tz: ZoneInfo, at: datetime) -> int:
    """The number of the shift of ``layer`` running at ``at`` (negative before the first)."""
    if layer.rotation == Rotation.CUSTOM:
        try:  # on the wall clock, as the hand-offs count (the loop below settles a gap or a fold)
            elapsed = at.astimezone(tz).replace(tzinfo=None) - _first_wall(layer)
        except OverflowError:
            raise ValueError(f"{at.isoformat()} is out of range for layer {layer.position}") from None
        index = elapsed // timedelta(hours=layer.shift_hours)  # type: ignore[arg-type]
    else:
        days = 7 if layer.rotation == Rotation.WEEKLY else 1
        try:
            index = (at.astimezone(tz).date() - _first_day(layer)).days // days
        except OverflowError:
            raise ValueError(f"{at.isoformat()} is out of range for layer {layer.position}") from None
    # Gaps and folds can move a hand-off across a local midnight: settle on the exact shift.
    while shift_start(layer, tz, index) > at:
        index -= 1
    while shift_start(layer, tz, index + 1) <= at:
        index += 1
    return index


def handoffs(layer: LayerSpec, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Hand-off instants of ``layer`` strictly after ``start`` and before ``end``."""
    if not layer.members:
        return []
    index = max(shift_index(layer, tz, start), -1) + 1
    found = []
    while (at := shift_start(layer, tz, index)) < end:
        if at > start:
            found.append(at)
        index += 1
    return found


def layer_rep(layer: LayerSpec, tz: ZoneInfo, at: datetime) -> int | None:
    """The member of ``layer`` on at ``at``, or None before the first hand-off or with no active member.

    Turns count over every member; a skipped member's turn goes to the next active one in order.
    """
    if not layer.members:
        return None
    index = shift_index(layer, tz, at)
    if index < 0:
        return None
    count = len(layer.members)
    return next((rep for step in range(count) if (rep := layer.members[(index + step) % count]) not in layer.skipped),
                None)


def _resolve(schedule: ScheduleSpec, at: datetime) -> dict[tuple[int, int | None, int | None], None]:
    # An ordered set of (rep id, layer position, override id).
    found: dict[tuple[int, int | None, int | None], None] = {}
    active = sorted(
        (o for o in schedule.overrides if o.starts_at <= at < o.ends_at),
        key=lambda o: (o.starts_at, o.id or 0),
    )
    seen: set[int] = set()
    for o in active:
        if o.rep_id not in seen:
            seen.add(o.rep_id)
            found[(o.rep_id, None, o.id)] = None
    if found:
        return found
    tz = zone(schedule.time_zone)
    for layer in sorted(schedule.layers, key=lambda lay: lay.position, reverse=True):
        rep_id = layer_rep(layer, tz, at)
        if rep_id is not None:
            return {(rep_id, layer.position, None): None}
    return found


def _first_wall(layer: LayerSpec) -> datetime:
    """A custom layer's first hand-off as its wall clock shows it (naive)."""
    return datetime.combine(layer.starts_on, layer.handoff_time)


def _first_day(layer: LayerSpec) -> date:
    if layer.rotation != Rotation.WEEKLY:
        return layer.starts_on
    ahead = (layer.handoff_weekday - layer.starts_on.weekday()) % 7  # type: ignore[operator]
    return layer.starts_on + timedelta(days=ahead)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: on-call times must be aware")
    return at.astimezone(UTC)
