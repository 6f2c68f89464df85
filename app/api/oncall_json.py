"""The API forms of reps, schedules, layers, overrides and shifts."""

from __future__ import annotations

from collections.abc import Collection

from app.api.formats import iso_utc
from app.models import Override, Rep, Schedule, ScheduleLayer
from app.oncall.rotation import Shift


def rep_json(rep: Rep, sms_opted_out: Collection[str] = ()) -> dict[str, object]:
    """The API form of a rep; ``sms_opted_out``: the numbers that texted STOP (read-only: their pages are calls)."""
    return {
        "id": rep.id,
        "name": rep.name,
        "phone": rep.phone,
        "phone_alt": rep.phone_alt,
        "email": rep.email,
        "channels": list(rep.channels),
        "time_zone": rep.time_zone,
        "is_manager": rep.is_manager,
        "active": rep.active,
        "sms_opted_out": rep.phone in sms_opted_out,
    }


def rep_input(rep: Rep) -> dict[str, object]:
    """A rep as the input fields a PUT may change."""
    body = rep_json(rep)
    del body["id"], body["sms_opted_out"]
    return body


def layer_json(layer: ScheduleLayer, names: dict[int, str]) -> dict[str, object]:
    """The API form of a layer; ``members`` are rep ids, ``member_names`` their names."""
    return {
        "position": layer.position,
        "rotation": str(layer.rotation),
        "handoff_time": layer.handoff_time,
        "handoff_weekday": layer.handoff_weekday,
        "shift_hours": layer.shift_hours,
        "starts_on": layer.starts_on.isoformat(),
        "members": list(layer.members),
        "member_names": [names.get(m) for m in layer.members],
    }


def override_json(override: Override) -> dict[str, object]:
    """The API form of an override."""
    return {
        "id": override.id,
        "schedule": override.schedule.name,
        "rep_id": override.rep_id,
        "rep_name": override.rep.name,
        "starts_at": iso_utc(override.starts_at),
        "ends_at": iso_utc(override.ends_at),
        "reason": override.reason,
    }


def schedule_json(schedule: Schedule, names: dict[int, str]) -> dict[str, object]:
    """The API form of a schedule with its layers."""
    return {
        "id": schedule.id,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "layers": [layer_json(layer, names) for layer in schedule.layers],
    }


def shift_json(shift: Shift, names: dict[int, str]) -> dict[str, object]:
    """The API form of a shift."""
    return {
        "rep_id": shift.rep_id,
        "rep_name": names.get(shift.rep_id),
        "starts_at": iso_utc(shift.starts_at),
        "ends_at": iso_utc(shift.ends_at),
        "layer": shift.layer,
        "override_id": shift.override_id,
    }
