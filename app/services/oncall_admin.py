"""Changing on-call configuration: reps, schedules with layers, overrides, escalation policies.

Each function works inside the caller's transaction and raises OnCallConfigError (or its
NameTaken) naming the offending field; nothing is half-applied when the caller rolls back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import EscalationPolicy, Override, Rep, Schedule, ScheduleLayer
from app.oncall.errors import NameTaken, OnCallConfigError
from app.oncall.fields import name_field
from app.oncall.layer_changes import members_keeping_now
from app.oncall.policy import TargetType, targets_of, validate_levels
from app.oncall.records import LayerInput, OverrideInput, RepInput, RepRef, ScheduleInput
from app.oncall.rotation import ScheduleSpec
from app.services.oncall import active_rep_ids, find_rep, find_schedule, layer_specs, reps_on_phone, schedule_clock


def save_rep(session: Session, data: RepInput, rep: Rep | None = None, path: str = "",
             hotline_number: str = "") -> tuple[Rep, bool]:
    """Create a rep, or update ``rep`` (or the one named ``data.name``); True if created. ``path``: where the rep
    is in an imported document, for the errors' field names; ``hotline_number``: TWILIO_NUMBER, never an active
    rep's."""
    named = session.scalar(select(Rep).where(Rep.name == data.name))
    if rep is not None and named is not None and named.id != rep.id:
        raise NameTaken("name", f"another rep is named {data.name!r}")
    rep = rep or named
    _refuse_name_differing_in_case(session, data.name, rep, path)
    if data.active:
        _refuse_hotline_number(data, hotline_number, path)
        _refuse_shared_phones(session, data, rep, path)
    created = rep is None
    if rep is None:
        rep = Rep(name=data.name, phone=data.phone)
        session.add(rep)
    rep.name = data.name
    rep.phone = data.phone
    rep.phone_alt = data.phone_alt
    rep.email = data.email
    rep.channels = list(data.channels)
    rep.time_zone = data.time_zone
    rep.is_manager = data.is_manager
    rep.active = data.active
    session.flush()
    return rep, created


def _refuse_name_differing_in_case(session: Session, name: str, rep: Rep | None, path: str) -> None:
    """Two reps are never named alike but for case (``erin`` and ``Erin``): the board, the pages and the reports
    name reps, and a manager could not tell which one acted. Overrides and schedules find a rep by exact name."""
    alike = session.scalar(
        select(Rep).where(func.lower(Rep.name) == name.lower(), Rep.name != name).order_by(Rep.id).limit(1)
    )
    if alike is not None and (rep is None or alike.id != rep.id):
        raise NameTaken(
            f"{path}.name" if path else "name",
            f"another rep is named {alike.name!r}, which differs from {name!r} only in case: use that name to "
            "change that rep, or a name of its own for another rep",
        )


def _refuse_hotline_number(data: RepInput, hotline_number: str, path: str) -> None:
    """An active rep's number is never the hotline's own: their pages would ring the hotline (and open an intake)
    and Twilio refuses an SMS to its sender. An outside probe's import stored it with no word; only `hotline check`
    said so. A number stored before (or TWILIO_NUMBER changed since) is still reported by the check."""
    for field in ("phone", "phone_alt"):
        if hotline_number and getattr(data, field) == hotline_number:
            raise OnCallConfigError(f"{path}.{field}" if path else field,
                                    f"{hotline_number} is TWILIO_NUMBER, the hotline's own number: pages to it would "
                                    "call the hotline instead of the rep. Give the rep their own phone")


def _refuse_shared_phones(session: Session, data: RepInput, rep: Rep | None, path: str) -> None:
    """Two active reps never share a number: an SMS command from it could not say which of them acknowledged."""
    for field in ("phone", "phone_alt"):
        number = getattr(data, field)
        others = [r for r in reps_on_phone(session, number) if rep is None or r.id != rep.id] if number else []
        if others:
            raise OnCallConfigError(f"{path}.{field}" if path else field, f"{number} is already the number of {others[0].name}: an SMS from it "
                                           "could not say which rep sent it. Give each active rep their own number "
                                           "(or deactivate the other rep first)")


def create_rep(session: Session, data: RepInput, hotline_number: str = "") -> Rep:
    """Create a rep; raise NameTaken if one already has this name."""
    if session.scalar(select(Rep.id).where(Rep.name == data.name)) is not None:
        raise NameTaken("name", f"a rep named {data.name!r} exists")
    return save_rep(session, data, hotline_number=hotline_number)[0]


def deactivate_rep(session: Session, rep: Rep) -> Rep:
    """Stop paging ``rep``: kept in history and rotations, skipped when on call."""
    rep.active = False
    session.flush()
    return rep


def rep_ids(session: Session, refs: tuple[RepRef, ...] | list[RepRef], path: str) -> list[int]:
    """The ids of rep references (ids or names); raise OnCallConfigError naming the unknown one."""
    ids = []
    for index, ref in enumerate(refs):
        rep = find_rep(session, ref)
        if rep is None:
            raise OnCallConfigError(f"{path}[{index}]", f"unknown rep {ref!r}")
        ids.append(rep.id)
    return ids


def save_schedule(session: Session, data: ScheduleInput, now: datetime, path: str = "") -> tuple[Schedule, bool]:
    """Create the schedule named ``data.name`` or replace its time zone and layers; True if created.

    A replaced layer keeps the rep on call in it at ``now`` until its next hand-off (``layer_changes``).
    """
    layers = [
        _layer(layer, rep_ids(session, layer.members, _path(path, f"layers[{i}].members")))
        for i, layer in enumerate(data.layers)
    ]
    schedule = find_schedule(session, data.name)
    created = schedule is None
    if schedule is None:
        schedule = Schedule(name=data.name, time_zone=data.time_zone)
        session.add(schedule)
    else:
        active = active_rep_ids(session)
        before = ScheduleSpec(schedule.name, schedule_clock(schedule), layer_specs(schedule.layers, active))
        after = ScheduleSpec(data.name, data.time_zone, layer_specs(layers, active))
        for layer, members in zip(layers, members_keeping_now(before, after, now), strict=True):
            layer.members = list(members)
    schedule.time_zone = data.time_zone
    schedule.layers.clear()
    session.flush()  # delete the old layers before their positions are reused
    schedule.layers.extend(layers)
    session.flush()
    return schedule, created


def create_schedule(session: Session, data: ScheduleInput, now: datetime) -> Schedule:
    """Create a schedule; raise NameTaken if one already has this name."""
    if session.scalar(select(Schedule.id).where(Schedule.name == data.name)) is not None:
        raise NameTaken("name", f"a schedule named {data.name!r} exists")
    return save_schedule(session, data, now)[0]


def add_override(
    session: Session, schedule: Schedule, data: OverrideInput, now: datetime, path: str = ""
) -> tuple[Override, bool]:
    """Add an override unless one with the same rep and times exists (its reason is updated); True if added."""
    rep = find_rep(session, data.rep)
    if rep is None:
        raise OnCallConfigError(_path(path, "rep"), f"unknown rep {data.rep!r}")
    rep_id = rep.id
    existing = session.scalar(
        select(Override).where(
            Override.schedule_id == schedule.id,
            Override.rep_id == rep_id,
            Override.starts_at == data.starts_at,
            Override.ends_at == data.ends_at,
        )
    )
    if existing is not None:
        existing.reason = data.reason
        return existing, False
    override = Override(
        schedule_id=schedule.id,
        rep_id=rep_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
        created_at=now,
    )
    session.add(override)
    session.flush()
    return override, True


def delete_override(session: Session, override_id: int) -> bool:
    """Delete an override; False if there was none with this id."""
    override = session.get(Override, override_id)
    if override is None:
        return False
    session.delete(override)
    session.flush()
    return True


def save_policy(
    session: Session, name: str, levels: object, is_default: bool = False, path: str = ""
) -> tuple[EscalationPolicy, bool]:
    """Create or replace the policy ``name`` after checking its schedules and reps exist; True if created.

    Making it the default unsets the previous default.
    """
    name = name_field(name, _path(path, "name"), 100)
    levels = validate_levels(levels, _path(path, "levels"))
    for where, target in targets_of(levels):
        where = _path(path, where)
        if target["type"] == TargetType.SCHEDULE and find_schedule(session, target["schedule"]) is None:
            raise OnCallConfigError(f"{where}.schedule", f"unknown schedule {target['schedule']!r}")
        if target["type"] == TargetType.REP and find_rep(session, target["rep"]) is None:
            raise OnCallConfigError(f"{where}.rep", f"unknown rep {target['rep']!r}")
    policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == name))
    created = policy is None
    if is_default:
        session.execute(
            update(EscalationPolicy)
            .where(EscalationPolicy.is_default.is_(True), EscalationPolicy.name != name)
            .values(is_default=False)
        )
    if policy is None:
        policy = EscalationPolicy(name=name, levels=levels, is_default=is_default)
        session.add(policy)
    policy.levels = levels
    policy.is_default = is_default
    session.flush()
    return policy, created


def _layer(data: LayerInput, members: list[int]) -> ScheduleLayer:
    return ScheduleLayer(
        position=data.position,
        rotation=data.rotation,
        handoff_time=data.handoff_time,
        handoff_weekday=data.handoff_weekday,
        shift_hours=data.shift_hours,
        starts_on=data.starts_on,
        members=members,
    )


def _path(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path
