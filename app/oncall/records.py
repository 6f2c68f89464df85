"""Reps, schedules, layers and overrides as the API and YAML give them, validated (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.oncall.errors import OnCallConfigError
from app.oncall.fields import (
    ALL_CHANNELS,
    bool_field,
    channels_field,
    date_field,
    email_field,
    hhmm_field,
    instant_field,
    int_field,
    known_keys,
    name_field,
    phone_field,
    time_zone_field,
    weekday_field,
)
from app.oncall.rotation import Rotation
from app.plain_text import is_plain

REP_FIELDS = {"name", "phone", "phone_alt", "email", "channels", "time_zone", "is_manager", "active"}
LAYER_FIELDS = {"position", "rotation", "handoff_time", "handoff_weekday", "shift_hours", "starts_on", "members"}
SCHEDULE_FIELDS = {"name", "time_zone", "layers"}
OVERRIDE_FIELDS = {"rep", "starts_at", "ends_at", "reason"}
MAX_SHIFT_HOURS = 24 * 28
MAX_MEMBERS = 100
MAX_LAYERS = 10
MAX_OVERRIDE = timedelta(days=366)

RepRef = int | str


@dataclass(frozen=True)
class RepInput:
    """A validated rep."""

    name: str
    phone: str
    phone_alt: str | None = None
    email: str | None = None
    channels: tuple[str, ...] = ALL_CHANNELS
    time_zone: str = "UTC"
    is_manager: bool = False
    active: bool = True


@dataclass(frozen=True)
class LayerInput:
    """A validated layer; members are rep ids or names, resolved by the service."""

    position: int
    rotation: Rotation
    handoff_time: str
    starts_on: date
    members: tuple[RepRef, ...]
    handoff_weekday: int | None = None
    shift_hours: int | None = None


@dataclass(frozen=True)
class ScheduleInput:
    """A validated schedule with its layers."""

    name: str
    time_zone: str
    layers: tuple[LayerInput, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class OverrideInput:
    """A validated override."""

    rep: RepRef
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


def parse_rep(data: object, path: str = "") -> RepInput:
    """A RepInput from a mapping; raise OnCallConfigError naming the first bad field."""
    data = known_keys(data, REP_FIELDS, path, ("name", "phone"))
    at = _at(path)
    name = name_field(data["name"], at("name"))
    if name.strip().isdecimal():  # members, targets and overrides name reps by name or by id: digits are ids
        raise OnCallConfigError(at("name"), f"{name!r} is all digits, which reads as a rep's id; add a letter")
    return RepInput(
        name=name,
        phone=phone_field(data["phone"], at("phone")),
        phone_alt=None if data.get("phone_alt") in (None, "") else phone_field(data["phone_alt"], at("phone_alt")),
        email=email_field(data.get("email"), at("email")),
        channels=tuple(channels_field(data.get("channels", list(ALL_CHANNELS)), at("channels"))),
        time_zone=time_zone_field(data.get("time_zone", "UTC"), at("time_zone")),
        is_manager=bool_field(data.get("is_manager", False), at("is_manager")),
        active=bool_field(data.get("active", True), at("active")),
    )


def parse_schedule(data: object, path: str = "") -> ScheduleInput:
    """A ScheduleInput (with layers) from a mapping."""
    data = known_keys(data, SCHEDULE_FIELDS, path, ("name", "time_zone"))
    at = _at(path)
    raw_layers = data.get("layers") or []
    if not isinstance(raw_layers, list) or len(raw_layers) > MAX_LAYERS:
        raise OnCallConfigError(at("layers"), f"must be a list of at most {MAX_LAYERS} layers")
    layers = tuple(parse_layer(item, f"{at('layers')}[{i}]", default_position=i) for i, item in enumerate(raw_layers))
    positions = [layer.position for layer in layers]
    for index, position in enumerate(positions):
        if position in positions[:index]:
            raise OnCallConfigError(f"{at('layers')}[{index}].position", f"position {position} is used twice")
    return ScheduleInput(
        name=name_field(data["name"], at("name"), 100),
        time_zone=time_zone_field(data["time_zone"], at("time_zone")),
        layers=layers,
    )


def parse_layer(data: object, path: str = "", default_position: int = 0) -> LayerInput:
    """A LayerInput from a mapping; weekly layers need handoff_weekday, custom ones shift_hours."""
    data = known_keys(data, LAYER_FIELDS, path, ("rotation", "handoff_time", "starts_on"))
    at = _at(path)
    if not isinstance(data["rotation"], str) or data["rotation"] not in {r.value for r in Rotation}:
        raise OnCallConfigError(at("rotation"), f"must be one of {', '.join(r.value for r in Rotation)}")
    rotation = Rotation(data["rotation"])
    weekday = data.get("handoff_weekday")
    if rotation == Rotation.WEEKLY:
        if weekday is None:
            raise OnCallConfigError(at("handoff_weekday"), "is required for a weekly rotation")
        weekday = weekday_field(weekday, at("handoff_weekday"))
    elif weekday is not None:
        raise OnCallConfigError(at("handoff_weekday"), "only a weekly rotation has a hand-off weekday")
    hours = data.get("shift_hours")
    if rotation == Rotation.CUSTOM:
        if hours is None:
            raise OnCallConfigError(at("shift_hours"), "is required for a custom rotation")
        hours = int_field(hours, at("shift_hours"), 1, MAX_SHIFT_HOURS)
    elif hours is not None:
        raise OnCallConfigError(at("shift_hours"), "only a custom rotation has shift_hours")
    members = data.get("members") or []
    if not isinstance(members, list) or len(members) > MAX_MEMBERS:
        raise OnCallConfigError(at("members"), f"must be a list of at most {MAX_MEMBERS} reps")
    refs = tuple(_rep_ref(m, f"{at('members')}[{i}]") for i, m in enumerate(members))
    return LayerInput(
        position=int_field(data.get("position", default_position), at("position"), 0, 1000),
        rotation=rotation,
        handoff_time=hhmm_field(data["handoff_time"], at("handoff_time")),
        starts_on=date_field(data["starts_on"], at("starts_on")),
        members=refs,
        handoff_weekday=weekday,
        shift_hours=hours,
    )


def parse_override(data: object, path: str = "") -> OverrideInput:
    """An OverrideInput; it must end after it starts and last at most a year."""
    data = known_keys(data, OVERRIDE_FIELDS, path, ("rep", "starts_at", "ends_at"))
    at = _at(path)
    starts_at = instant_field(data["starts_at"], at("starts_at"))
    ends_at = instant_field(data["ends_at"], at("ends_at"))
    if ends_at <= starts_at:
        raise OnCallConfigError(at("ends_at"), "must be later than starts_at")
    if ends_at - starts_at > MAX_OVERRIDE:
        raise OnCallConfigError(at("ends_at"), "an override lasts at most 366 days")
    return OverrideInput(
        rep=_rep_ref(data["rep"], at("rep")), starts_at=starts_at, ends_at=ends_at, reason=_reason(data, at("reason"))
    )


def _reason(data: dict, path: str) -> str:
    reason = data.get("reason") or ""
    if not isinstance(reason, str) or len(reason) > 500:
        raise OnCallConfigError(path, "must be a string of at most 500 characters")
    if not is_plain(reason, "\n\t"):
        raise OnCallConfigError(path, "must be printable text (no control, bidi or zero-width characters)")
    return reason.strip()


def _rep_ref(value: object, path: str) -> RepRef:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return name_field(value, path)
    raise OnCallConfigError(path, "must be a rep id or name")


def _at(path: str):
    return lambda key: f"{path}.{key}" if path else key
