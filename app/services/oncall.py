"""Who is on call and whom a page reaches: schedules, managers, escalation targets.

Every function works inside the caller's transaction (``hotline.db.transaction()``).
Deactivated reps are never returned: they keep their place in layer rotations, and the
next active member covers each of their turns (nobody else's turn moves); their overrides
are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.models import Account, EscalationPolicy, FollowUp, Incident, Override, Rep, Schedule, ScheduleLayer
from app.models.base import ID_MAX
from app.models.paging import CUSTOMER_ROLE, TAM_ROLE, Page
from app.oncall.business_hours import is_open, stored_hours
from app.oncall.contactable import EMAIL, TEXTED_NO_EMAIL, Contactable
from app.oncall.errors import OnCallConfigError, UnknownRep, UnknownSchedule
from app.oncall.fields import ALL_CHANNELS, iso_z, parse_hhmm
from app.oncall.policy import DEFAULT_POLICY_NAME, TargetType, default_levels
from app.oncall.rotation import LayerSpec, OverrideSpec, Rotation, ScheduleSpec, Shift, on_call, shifts
from app.oncall.wallclock import stored_zone, zone
from ivr_flows.prompts import zone_label


def find_rep(session: Session, ref: int | str) -> Rep | None:
    """The rep with this id (an int or digits) or this exact name, else None."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdecimal()):
        rep = session.get(Rep, int(ref)) if 0 < int(ref) <= ID_MAX else None  # a larger id overflows the column
        if rep is not None or isinstance(ref, int):
            return rep
    return session.scalar(select(Rep).where(Rep.name == str(ref).strip()))


def find_schedule(session: Session, name: str) -> Schedule | None:
    """The schedule with this name (its layers loaded), else None."""
    return session.scalar(select(Schedule).where(Schedule.name == name).options(selectinload(Schedule.layers)))


def schedule_clock(schedule: Schedule) -> str:
    """The time zone a schedule's hand-offs are worked out in: its own; UTC (logged) when its stored zone does not
    load (``wallclock.stored_zone``), so nobody's page fails for it (``hotline check`` names the schedule)."""
    return stored_zone(schedule.time_zone, f"schedule {schedule.name}")


def schedule_spec(session: Session, schedule: Schedule, start: datetime, end: datetime | None = None) -> ScheduleSpec:
    """The pure form of ``schedule`` with active reps and the overrides overlapping ``[start, end]``."""
    return _specs(session, [schedule], start, end)[schedule.id]


def _specs(session: Session, schedules: list[Schedule], start: datetime,
           end: datetime | None = None) -> dict[int, ScheduleSpec]:
    """The pure form of each of ``schedules`` (by id) with active reps and the overrides overlapping ``[start, end]``:
    two statements however many schedules (a watchdog pass reads every paged schedule's)."""
    end = end or start
    active = active_rep_ids(session)
    overrides: dict[int, list[Override]] = {}
    for o in session.scalars(select(Override).where(Override.schedule_id.in_([s.id for s in schedules]),
                                                    Override.starts_at <= end, Override.ends_at > start)):
        overrides.setdefault(o.schedule_id, []).append(o)
    return {schedule.id: ScheduleSpec(
        name=schedule.name,
        time_zone=schedule_clock(schedule),
        layers=layer_specs(schedule.layers, active),
        overrides=tuple(
            OverrideSpec(rep_id=o.rep_id, starts_at=o.starts_at, ends_at=o.ends_at, id=o.id)
            for o in overrides.get(schedule.id, ())
            if o.rep_id in active
        ),
    ) for schedule in schedules}


def reps_on_phone(session: Session, number: str) -> list[Rep]:
    """The active reps whose phone (or alternative phone) is ``number``, by id: one, or none, unless the on-call
    configuration predates the rule that two active reps never share a number (``oncall_admin.save_rep``)."""
    if not number:
        return []
    return list(session.scalars(select(Rep).where(or_(Rep.phone == number, Rep.phone_alt == number),
                                                  Rep.active.is_(True)).order_by(Rep.id)))


def active_rep_ids(session: Session) -> set[int]:
    """The ids of the active reps (the others are skipped in rotations and their overrides ignored)."""
    return set(session.scalars(select(Rep.id).where(Rep.active.is_(True))))


def layer_specs(layers: Iterable[ScheduleLayer], active: set[int]) -> tuple[LayerSpec, ...]:
    """The pure form of layer rows (stored or about to be), skipping members not in ``active``."""
    return tuple(
        LayerSpec(
            position=layer.position,
            rotation=Rotation(layer.rotation),
            handoff_time=parse_hhmm(layer.handoff_time),
            starts_on=layer.starts_on,
            members=tuple(layer.members),
            skipped=frozenset(m for m in layer.members if m not in active),
            handoff_weekday=layer.handoff_weekday,
            shift_hours=layer.shift_hours,
        )
        for layer in layers
    )


def who_is_on_call(session: Session, schedule_name: str, at: datetime) -> list[Rep]:
    """The active reps on call for ``schedule_name`` at ``at``; raise UnknownSchedule if none has that name."""
    schedule = find_schedule(session, schedule_name)
    if schedule is None:
        raise UnknownSchedule(f"no schedule {schedule_name!r}")
    return _reps(session, on_call(schedule_spec(session, schedule, at), at))


def on_call_everywhere(session: Session, at: datetime) -> list[tuple[Schedule, list[Rep]]]:
    """Every schedule, by name, with the reps on call at ``at`` (five statements, however many schedules)."""
    schedules = list(session.scalars(select(Schedule).order_by(Schedule.name).options(selectinload(Schedule.layers))))
    if not schedules:
        return []
    specs = _specs(session, schedules, at)
    rep_ids = {s.id: on_call(specs[s.id], at) for s in schedules}
    reps = _reps(session, [i for ids in rep_ids.values() for i in ids])
    by_id = {r.id: r for r in reps}
    return [(s, [by_id[i] for i in rep_ids[s.id] if i in by_id]) for s in schedules]


def schedule_shifts(session: Session, schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The shifts of ``schedule`` from ``start`` until ``end`` (e.g. the next 14 days)."""
    return shifts(schedule_spec(session, schedule, start, end), start, end)


def managers(session: Session) -> list[Rep]:
    """Active managers, by name."""
    return list(session.scalars(select(Rep).where(Rep.is_manager.is_(True), Rep.active.is_(True)).order_by(Rep.name)))


def owner_or_managers(session: Session, owner: Rep) -> list[Rep]:
    """Who reads what is meant for an incident's owner (a customer's texts, the update reminder): the owner while
    active; once deactivated (left, removed from the rota), the active managers, never the former rep."""
    return [owner] if owner.active else managers(session)


def customer_readers(session: Session, incident: Incident) -> tuple[list[Rep], Rep | None]:
    """Who reads the customer's words on ``incident`` (their texts, their answer to a proposed resolution), and its
    owner: the owner (``owner_or_managers``); with no owner yet, the active reps paged for it so far, else the
    active managers: a customer who texts "nobody called yet" before anyone acknowledged reached nobody."""
    owner = incident_owner(session, incident)
    if owner is not None:
        return owner_or_managers(session, owner), owner
    paged = list(session.scalars(select(Rep).where(Rep.active.is_(True), Rep.phone != "", Rep.id.in_(
        select(Page.rep_id).where(Page.incident_id == incident.id, Page.role.not_in((CUSTOMER_ROLE, TAM_ROLE)))))
        .order_by(Rep.id)))
    return paged or managers(session), None


def reader_role(rep: Rep, owner: Rep | None) -> str:
    """A delivery's ``recipient`` for a reader of ``customer_readers``: owner, manager or rep."""
    return "owner" if owner is not None and rep.id == owner.id else "manager" if rep.is_manager else "rep"


def incident_owner(session: Session, incident: Incident) -> Rep | None:
    """Who works the incident now: the owner of its updates, else the rep who acknowledged it (None: nobody with a
    phone)."""
    rep_id = session.scalar(select(FollowUp.owner_rep_id).where(FollowUp.incident_id == incident.id))
    rep_id = rep_id or incident.acknowledged_by
    rep = session.get(Rep, rep_id) if rep_id else None
    return rep if rep is not None and rep.phone else None


def policy_dict(policy: EscalationPolicy) -> dict:
    """A policy as ``{"name", "is_default", "levels"}``."""
    return {"name": policy.name, "is_default": policy.is_default, "levels": policy.levels}


def stored_default_policy(session: Session) -> EscalationPolicy | None:
    """The stored policy incidents use: the one marked default, else the one named "default" (None: the built-in)."""
    with session.no_autoflush:  # policies are saved by the admin pages' own transactions
        policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.is_default.is_(True)))
    if policy is not None:
        return policy
    return session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == DEFAULT_POLICY_NAME))


def next_incident_policy(session: Session) -> dict:
    """The escalation policy the next incident will use, as ``policy_dict`` and marked the default: the stored one
    (``stored_default_policy``), else the built-in one; writes nothing (``default_policy`` stores it when needed)."""
    policy = stored_default_policy(session)
    if policy is None:
        return {"name": DEFAULT_POLICY_NAME, "is_default": True, "levels": default_levels()}
    return policy_dict(policy) | {"is_default": True}


def default_policy(session: Session) -> dict:
    """The default escalation policy as a dict; created from DEFAULT_POLICY on first use."""
    policy = stored_default_policy(session)
    if policy is not None and policy.is_default:
        return policy_dict(policy)
    if policy is None:
        try:
            with session.begin_nested():  # a concurrent first use may create it first
                policy = EscalationPolicy(name=DEFAULT_POLICY_NAME, is_default=True, levels=default_levels())
                session.add(policy)
        except IntegrityError:
            policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == DEFAULT_POLICY_NAME))
    assert policy is not None
    policy.is_default = True
    return policy_dict(policy)


def contactable(rep: Rep, role: str, channels: list[str] | tuple[str, ...] | None = None) -> Contactable:
    """A rep as someone to page; ``channels`` (a target's) replace the rep's own preference."""
    return Contactable(
        rep_id=rep.id,
        name=rep.name,
        phone=rep.phone,
        channels=tuple(channels or rep.channels),
        role=role,
        phone_alt=rep.phone_alt,
    )


def resolve_target(session: Session, target: dict, at: datetime, account: Account | None = None) -> list[Contactable]:
    """Whom one escalation target reaches at ``at``.

    Raise UnknownSchedule or UnknownRep for a reference that no longer exists.
    The TAM target reaches ``account``'s TAM as ``tam_target`` says (by phone in their business hours, else by e-mail,
    or by SMS when no e-mail address is on file).
    """
    kind = TargetType(target["type"])
    channels = target.get("channels")
    if kind == TargetType.SCHEDULE:
        name = target["schedule"]
        return [contactable(r, f"oncall:{name}", channels) for r in who_is_on_call(session, name, at)]
    if kind == TargetType.REP:
        rep = find_rep(session, target["rep"])
        if rep is None:
            raise UnknownRep(f"no rep {target['rep']!r}")
        return [contactable(rep, "rep", channels)] if rep.active else []
    if kind == TargetType.MANAGERS:
        return [contactable(r, "manager", channels) for r in managers(session)]
    return tam_target(account, at, channels)


def format_now(session: Session, at: datetime) -> str:
    """Each schedule and who is on call at ``at``, then the managers, as text for the CLI."""
    lines = [f"On call at {iso_z(at)}"]
    found = on_call_everywhere(session, at)
    if not found:
        lines.append("  (no schedules)")
    for schedule, reps in found:
        local = at.astimezone(zone(schedule_clock(schedule)))
        who = ", ".join(f"{r.name} ({r.phone})" for r in reps) or "NOBODY"
        lines.append(f"  {schedule.name} [{schedule.time_zone}, {local:%a %H:%M} {zone_label(local)}]: {who}")
    people = managers(session)
    lines.append("Managers: " + (", ".join(f"{r.name} ({r.phone})" for r in people) or "none"))
    return "\n".join(lines)


def _reps(session: Session, rep_ids: list[int]) -> list[Rep]:
    if not rep_ids:
        return []
    by_id = {r.id: r for r in session.scalars(select(Rep).where(Rep.id.in_(rep_ids)))}
    return [by_id[i] for i in rep_ids if i in by_id]


def tam_target(account: Account | None, at: datetime, channels: list[str] | None = None) -> list[Contactable]:
    """How the TAM target reaches ``account``'s TAM at ``at``, the one place this is decided: in their business
    hours, on their phone by ``channels`` (SMS and voice by default); outside them, or with no TAM phone, by
    e-mail to ``tam_email`` (written, it wakes nobody); outside them with a phone but no address, by SMS alone (never
    a call, whatever ``channels`` say: policy says a TAM should hear of their account's Sev-1s, and an outside
    probe's TAM with no address heard nothing at all); with neither a phone nor an address, nobody."""
    if account is None or not (account.tam_phone or account.tam_email):
        return []  # a named TAM without either is told nothing: the timeline and `hotline check` say so (``tam_untold``)
    if account.tam_phone and _tam_at_work(account, at):
        return [Contactable(None, tam_name(account), account.tam_phone, tuple(channels or ALL_CHANNELS), TAM_ROLE)]
    if account.tam_email:
        return [Contactable(None, tam_name(account), "", (EMAIL,), TAM_ROLE, email=account.tam_email)]
    return [Contactable(None, tam_name(account), account.tam_phone, ("sms",), TAM_ROLE, why=TEXTED_NO_EMAIL)]


def tam_untold(account: Account | None) -> bool:
    """Whether ``account`` names a TAM (``tam_name``) whom ``tam_target`` reaches at no hour: neither a TAM phone nor
    a TAM e-mail address is on file. An account that names no TAM at all has none to tell."""
    return account is not None and bool(account.tam_name) and not (account.tam_phone or account.tam_email)


def tam_may_call(account: Account | None, at: datetime) -> bool:
    """Whether ``account``'s TAM may be rung at ``at`` (a failed SMS followed by a call): only in their business
    hours, as ``tam_target`` says."""
    return any("voice" in who.channels for who in tam_target(account, at))


def tam_name(account: Account) -> str:
    """How pages and the log name ``account``'s TAM."""
    return account.tam_name or f"TAM of {account.name}"


def _tam_at_work(account: Account, at: datetime) -> bool:
    """True when ``at`` falls in the business hours of ``account``'s TAM, on their clock."""
    # a zone this tz database lacks is worked out in UTC (logged, and `hotline check` names it), as a rep's or a
    # schedule's: refusing the target would tell the TAM nothing at all
    time_zone = stored_zone(account.tam_time_zone, f"account {account.id}'s TAM")
    # hours set in SQL in a shape this code cannot read are the default hours (logged; `hotline check` names them)
    hours = stored_hours(account.tam_business_hours, f"account {account.id}'s TAM")
    return is_open(hours, time_zone, at.astimezone(UTC))


__all__ = [
    "Contactable",
    "OnCallConfigError",
    "UnknownRep",
    "UnknownSchedule",
    "active_rep_ids",
    "contactable",
    "default_policy",
    "find_rep",
    "find_schedule",
    "format_now",
    "layer_specs",
    "managers",
    "on_call_everywhere",
    "policy_dict",
    "resolve_target",
    "schedule_clock",
    "schedule_shifts",
    "schedule_spec",
    "tam_may_call",
    "tam_name",
    "tam_target",
    "tam_untold",
    "who_is_on_call",
]
