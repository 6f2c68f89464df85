"""Escalation policies: levels of targets paged after a delay (validation only, pure)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from enum import StrEnum

from app.oncall.errors import OnCallConfigError
from app.oncall.fields import channels_field, int_field, known_keys, name_field

MAX_LEVELS = 10
MAX_DELAY_MINUTES = 24 * 60


class TargetType(StrEnum):
    """Whom one target of a level pages."""

    SCHEDULE = "schedule"
    REP = "rep"
    MANAGERS = "managers"
    TAM = "tam"


DEFAULT_POLICY_NAME = "default"
DEFAULT_POLICY: list[dict] = [
    {"delay_minutes": 0, "targets": [
        {"type": "schedule", "schedule": "primary", "channels": ["sms", "voice"]},
        # the account's TAM hears of it: by SMS in their business hours, by e-mail outside them (oncall.tam_target)
        {"type": "tam", "channels": ["sms"]},
    ]},
    {
        "delay_minutes": 3,
        "targets": [
            {"type": "schedule", "schedule": "primary", "channels": ["voice"]},
            {"type": "schedule", "schedule": "secondary", "channels": ["sms", "voice"]},
        ],
    },
    {"delay_minutes": 6, "targets": [{"type": "managers", "channels": ["sms", "voice"]}]},
]

_TARGET_KEYS = {
    TargetType.SCHEDULE: ("schedule",),
    TargetType.REP: ("rep",),
    TargetType.MANAGERS: (),
    TargetType.TAM: (),
}


# the targets that ask someone on the rota to acknowledge: a TAM is told, never asked, and the managers are the
# escalation's last resort (``first_rota_level``)
ROTA_TARGETS = (TargetType.SCHEDULE, TargetType.REP)


def default_levels() -> list[dict]:
    """A fresh copy of the default policy's levels."""
    return copy.deepcopy(DEFAULT_POLICY)


def validate_levels(levels: object, path: str = "levels") -> list[dict]:
    """Levels in canonical form; raise OnCallConfigError naming the first bad field.

    Delays are minutes after the incident was raised and must not decrease from level to level.
    """
    if not isinstance(levels, list) or not 1 <= len(levels) <= MAX_LEVELS:
        raise OnCallConfigError(path, f"must be a list of 1 to {MAX_LEVELS} levels")
    result = []
    previous = 0
    for index, level in enumerate(levels):
        where = f"{path}[{index}]"
        level = known_keys(level, {"delay_minutes", "targets"}, where, ("delay_minutes", "targets"))
        delay = int_field(level["delay_minutes"], f"{where}.delay_minutes", 0, MAX_DELAY_MINUTES)
        if delay < previous:
            raise OnCallConfigError(f"{where}.delay_minutes", f"must not be less than the previous level's {previous}")
        previous = delay
        targets = level["targets"]
        if not isinstance(targets, list) or not targets:
            raise OnCallConfigError(f"{where}.targets", "must be a non-empty list")
        result.append(
            {"delay_minutes": delay, "targets": [_target(t, f"{where}.targets[{i}]") for i, t in enumerate(targets)]}
        )
    return result


def targets_of(levels: list[dict]) -> Iterator[tuple[str, dict]]:
    """Each target of canonical ``levels`` with its path, e.g. ("levels[1].targets[0]", {...})."""
    for index, level in enumerate(levels):
        for t_index, target in enumerate(level["targets"]):
            yield f"levels[{index}].targets[{t_index}]", target


def first_rota_level(levels: list[dict]) -> tuple[int, int] | None:
    """(index, delay_minutes) of the first level of canonical ``levels`` that pages a schedule or a rep (a target
    that asks someone on the rota to acknowledge), or None when no level does."""
    for index, level in enumerate(levels):
        if any(target["type"] in ROTA_TARGETS for target in level["targets"]):
            return index, int(level["delay_minutes"])
    return None


def _target(data: object, path: str) -> dict:
    if not isinstance(data, dict):
        raise OnCallConfigError(path, "must be a mapping with a type")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _TARGET_KEYS:
        raise OnCallConfigError(f"{path}.type", f"must be one of {', '.join(t.value for t in TargetType)}")
    kind = TargetType(kind)
    extra = _TARGET_KEYS[kind]
    data = known_keys(data, {"type", "channels", *extra}, path, extra)
    target: dict = {"type": kind.value}
    if kind == TargetType.SCHEDULE:
        target["schedule"] = name_field(data["schedule"], f"{path}.schedule", 100)
    elif kind == TargetType.REP:
        ref = data["rep"]
        if isinstance(ref, bool) or not isinstance(ref, int | str):
            raise OnCallConfigError(f"{path}.rep", "must be a rep id or name")
        target["rep"] = ref if isinstance(ref, int) else name_field(ref, f"{path}.rep")
    if data.get("channels") is not None:
        target["channels"] = channels_field(data["channels"], f"{path}.channels")
    return target
