"""Whether the escalation policies can reach anyone: missing schedules, policies that page no schedule or rep
before the at-risk alert, late levels, gaps in coverage, overlaps,
overrides and policy targets of deactivated reps; reps, schedules and TAMs whose stored time zone does not load; and
TAMs whose stored business hours do not read.

Read-only queries for ``hotline check``, the start-up checks of ``serve``/``worker`` and
the on-call import, which refuses a configuration whose policy names a schedule that
does not exist (the incident would log ``nobody_to_page`` and nobody would hear of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import Account, EscalationPolicy, FollowUp, Incident, IncidentStatus, Override, Rep, Schedule, SmsOptOut
from app.oncall.business_hours import DEFAULT_BUSINESS_HOURS, parse_business_hours
from app.oncall.errors import OnCallConfigError, UnknownRep, UnknownSchedule
from app.oncall.fields import iso_z
from app.oncall.policy import DEFAULT_POLICY_NAME, TargetType, default_levels, first_rota_level, targets_of
from app.oncall.wallclock import zone
from app.services.escalation import AT_RISK_BEFORE_DUE
from app.services.oncall import (
    find_rep,
    managers,
    next_incident_policy,
    on_call_everywhere,
    resolve_target,
    schedule_shifts,
    stored_default_policy,
)

COVERAGE_DAYS = 14


@dataclass(frozen=True)
class MissingSchedule:
    """A schedule target of a policy that names no existing schedule."""

    policy: str
    path: str  # e.g. "levels[1].targets[1].schedule"
    schedule: str
    built_in: bool  # the built-in default policy (no policy row is the default yet)

    def describe(self) -> str:
        """One line naming the policy, the YAML path and the schedule."""
        which = "the built-in default escalation policy" if self.built_in else f"escalation policy {self.policy!r}"
        return f"{which} pages schedule {self.schedule!r} at {self.path}, but no schedule has that name"


@dataclass(frozen=True)
class Gap:
    """A stretch of time in which a schedule has nobody on call."""

    schedule: str
    starts_at: datetime
    ends_at: datetime

    def describe(self) -> str:
        """One line with the schedule and the gap in UTC."""
        return f"schedule {self.schedule!r} has nobody on call from {iso_z(self.starts_at)} to {iso_z(self.ends_at)}"


@dataclass(frozen=True)
class Overlap:
    """Two overrides of one schedule for different reps at the same time (both are paged)."""

    schedule: str
    reps: tuple[str, str]
    starts_at: datetime
    ends_at: datetime

    def describe(self) -> str:
        """One line naming both reps and the overlap."""
        return (f"schedule {self.schedule!r}: overrides for {self.reps[0]} and {self.reps[1]} overlap from "
                f"{iso_z(self.starts_at)} to {iso_z(self.ends_at)} (both are paged)")


@dataclass(frozen=True)
class IgnoredOverride:
    """A current or future override of a deactivated rep: it pages nobody while they stay deactivated."""

    schedule: str
    rep: str
    starts_at: datetime
    ends_at: datetime
    instead: tuple[str, ...]  # who the layers put on call in that window instead
    override_id: int

    def describe(self) -> str:
        """One line naming the rep, the window and who is on call instead."""
        instead = f"{', '.join(self.instead)} {'is' if len(self.instead) == 1 else 'are'}" if self.instead \
            else "nobody is"
        return (f"schedule {self.schedule!r}: the override for {self.rep} from {iso_z(self.starts_at)} to "
                f"{iso_z(self.ends_at)} pages nobody while {self.rep} is deactivated ({instead} on call instead)")


@dataclass(frozen=True)
class LateLevel:
    """A policy level that pages at or after the callback deadline (CALLBACK_SLA_MINUTES)."""

    policy: str
    path: str  # e.g. "levels[2].delay_minutes"
    delay_minutes: int
    built_in: bool

    def describe(self, sla_minutes: int) -> str:
        """One line naming the policy, the level and the deadline it misses."""
        which = "the built-in default escalation policy" if self.built_in else f"escalation policy {self.policy!r}"
        return (f"{which} pages at {self.path} {self.delay_minutes} minutes after the details are captured, "
                f"at or after the callback deadline (CALLBACK_SLA_MINUTES={sla_minutes})")


@dataclass(frozen=True)
class UnansweredPolicy:
    """A policy none of whose levels before the at-risk alert pages a schedule or a rep: only a TAM (told, never
    asked) or the managers (the last resort) would hear of an incident by then, so no on-call rep is asked to
    acknowledge in time to keep the promise."""

    policy: str
    built_in: bool
    answer_by: int  # minutes after the details are captured: the at-risk alert (``answer_by_minutes``)
    first: tuple[int, int] | None  # (index, delay) of the first level paging a schedule or a rep, if any

    def describe(self, sla_minutes: int) -> str:
        """What is wrong, without naming the policy (the import and the API prefix it; ``hotline check`` names it
        in ``where``)."""
        late = (f"the first that does, levels[{self.first[0]}], pages {self.first[1]} minutes after the details are "
                "captured" if self.first is not None else "none of its levels does")
        return (f"no level before the at-risk alert ({self.answer_by} minutes after the details are captured, "
                f"CALLBACK_SLA_MINUTES={sla_minutes} less {_at_risk_minutes()}) pages a schedule or a rep: {late}. A "
                "TAM is told, never asked, and the managers are the last resort: no on-call rep would be paged in "
                "time to acknowledge")


@dataclass(frozen=True)
class NoSmsPages:
    """Someone the escalation policy pages now whose number texted STOP: Twilio refuses SMS to it (21610),
    so their pages are calls only (``pages.not_sent_opted_out``) until they text START."""

    name: str
    since: datetime

    def describe(self) -> str:
        """One line naming the rep and since when."""
        return (f"{self.name} is paged now but cannot get SMS pages: their number texted STOP "
                f"({iso_z(self.since)}); pages reach them by call only")

    @staticmethod
    def fix(hotline_number: str) -> str:
        """What lifts it (only the rep's phone can: Twilio keeps the opt-out)."""
        return f"the rep texts START to the hotline number {hotline_number or '(TWILIO_NUMBER)'}"


@dataclass(frozen=True)
class NoSmsShift:
    """A rep whose number texted STOP who is not paged now but comes on call for a paged schedule within the
    coverage window: their pages there will be calls only (no reference, number or link in writing) from then."""

    name: str
    since: datetime
    schedule: str
    starts_at: datetime

    def describe(self) -> str:
        """One line naming the rep, the schedule and when their shift starts."""
        return (f"{self.name} comes on call for schedule {self.schedule!r} at {iso_z(self.starts_at)} but cannot get "
                f"SMS pages: their number texted STOP ({iso_z(self.since)}); from then their pages reach them by "
                "call only")


@dataclass(frozen=True)
class UnloadableZone:
    """A rep, a schedule or an account's TAM whose stored time zone this host's tz database does not have (stored
    under an older one, or around the validator): its times are worked out in UTC (``wallclock.stored_zone``)."""

    kind: str  # "reps" or "schedules", as the YAML names them, or "accounts" (a TAM's zone)
    name: str
    time_zone: str

    @property
    def where(self) -> str:
        """The YAML path of the zone (an account's column: no YAML holds it)."""
        return f"{self.kind}[{self.name}].{'tam_time_zone' if self.kind == 'accounts' else 'time_zone'}"

    def describe(self) -> str:
        """One line naming the rep, schedule or account, the zone and what it changes."""
        effect = {"reps": "their pages give the deadline in UTC, not on their clock",
                  "schedules": "its hand-offs are worked out in UTC, so its shifts change at other hours than it says",
                  "accounts": "its TAM's business hours and the deadline in their texts are worked out in UTC, so "
                              "they are told at other hours than their business hours say"}[self.kind]
        which = f"the TAM time zone of account {self.name}" if self.kind == "accounts" else f"{self.name}'s time zone"
        return f"{which} {self.time_zone[:64]!r} does not load in this host's tz database: {effect}"


def unloadable_zones(session: Session) -> list[UnloadableZone]:
    """Every rep, then every schedule, then every account with a TAM, whose stored time zone does not load, by name."""
    found = []
    for kind, name_column, zone_column, where in (
            ("reps", Rep.name, Rep.time_zone, ()),
            ("schedules", Schedule.name, Schedule.time_zone, ()),
            ("accounts", Account.name, Account.tam_time_zone, (Account.tam_phone != "",))):
        for name, time_zone in session.execute(select(name_column, zone_column).where(*where).order_by(name_column)):
            if not time_zone:
                continue  # an empty zone is UTC (wallclock.stored_zone)
            try:
                zone(time_zone)
            except ValueError:
                found.append(UnloadableZone(kind, name, time_zone))
    return found


@dataclass(frozen=True)
class UnreadableHours:
    """An account's TAM whose stored business hours this code cannot read (written in SQL: the API and import refuse
    them): the TAM is told in the default hours instead (``business_hours.stored_hours``)."""

    account: str
    hours: str
    error: str

    @property
    def where(self) -> str:
        """The account's column (no YAML holds it)."""
        return f"accounts[{self.account}].tam_business_hours"

    def describe(self) -> str:
        """One line naming the account, the hours, why they do not read and what is used instead."""
        return (f"the TAM business hours of account {self.account} {self.hours[:100]!r} do not read ({self.error}): "
                f"its TAM is told in {DEFAULT_BUSINESS_HOURS!r} on their clock instead")


def accounts_with_tam_email(session: Session) -> int:
    """How many accounts give their TAM an e-mail address (told by e-mail outside their business hours)."""
    return session.scalar(select(func.count(Account.id)).where(Account.tam_email != "")) or 0


def tams_without_email(session: Session) -> list[str]:
    """The accounts, by name, whose TAM has a phone but no e-mail address (texted outside their business hours)."""
    return list(session.scalars(select(Account.name).where(Account.tam_phone != "", Account.tam_email == "")
                                .order_by(Account.name)))


def tams_untold(session: Session) -> list[str]:
    """The accounts, by name, that name a TAM with neither a phone nor an e-mail address (``oncall.tam_untold``,
    in SQL): their TAM is told of no Sev-1 at any hour."""
    return list(session.scalars(select(Account.name).where(Account.tam_name != "", Account.tam_phone == "",
                                                           Account.tam_email == "").order_by(Account.name)))


def unreadable_business_hours(session: Session) -> list[UnreadableHours]:
    """Every account with a TAM whose stored business hours do not read, by name."""
    found = []
    rows = select(Account.name, Account.tam_business_hours).where(Account.tam_phone != "").order_by(Account.name)
    for name, hours in session.execute(rows):
        try:
            parse_business_hours(hours or "")
        except OnCallConfigError as exc:
            found.append(UnreadableHours(name, hours or "", exc.message))
    return found


def sms_opted_out_numbers(session: Session) -> dict[str, datetime]:
    """Every number that opted out of SMS (texted STOP), with when."""
    return {phone: at for phone, at in session.execute(select(SmsOptOut.phone, SmsOptOut.opted_out_at))}


def no_sms_pages_now(session: Session, now: datetime) -> list[NoSmsPages]:
    """Whom an incident opened ``now`` would page (the policy in use, and the managers) who cannot get SMS pages."""
    opted_out = sms_opted_out_numbers(session)
    if not opted_out:
        return []
    policy = stored_default_policy(session)
    paged: dict[str, str] = {}
    for _, target in targets_of(policy.levels if policy is not None else default_levels()):
        if target["type"] == TargetType.TAM:
            continue  # a TAM is paged for some accounts only
        try:
            paged.update((who.phone, who.name) for who in resolve_target(session, target, now))
        except (UnknownRep, UnknownSchedule):
            continue  # reported as a missing schedule
    paged.update((rep.phone, rep.name) for rep in managers(session))
    return sorted((NoSmsPages(name, opted_out[phone]) for phone, name in paged.items() if phone in opted_out),
                  key=lambda n: n.name)


def no_sms_shifts_coming(session: Session, now: datetime, days: int = COVERAGE_DAYS) -> list[NoSmsShift]:
    """Reps whose number texted STOP with a shift of a paged schedule starting within ``days`` days, the first such
    shift of each, leaving out whoever is paged now (``no_sms_pages_now`` names them): an opt-out found before the
    shift, not at night when it begins."""
    opted_out = sms_opted_out_numbers(session)
    if not opted_out:
        return []
    reps = {rep.id: rep for rep in session.scalars(select(Rep).where(Rep.phone.in_(opted_out), Rep.active.is_(True)))}
    if not reps:
        return []
    now_paged = {n.name for n in no_sms_pages_now(session, now)}
    first: dict[int, NoSmsShift] = {}
    end = now + timedelta(days=days)
    schedules = session.scalars(select(Schedule).where(Schedule.name.in_(paged_schedules(session)))
                                .order_by(Schedule.name).options(selectinload(Schedule.layers)))
    for schedule in schedules:
        for shift in schedule_shifts(session, schedule, now, end):
            rep = reps.get(shift.rep_id)
            if rep is None or rep.name in now_paged or shift.starts_at <= now:
                continue
            if rep.id not in first or shift.starts_at < first[rep.id].starts_at:
                first[rep.id] = NoSmsShift(rep.name, opted_out[rep.phone], schedule.name, shift.starts_at)
    return sorted(first.values(), key=lambda n: (n.starts_at, n.name))


def effective_policies(session: Session) -> list[tuple[str, list[dict], bool]]:
    """Every stored policy as (name, levels, built_in), plus the built-in default when none is the default."""
    stored = list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name)))
    result = [(p.name, p.levels, False) for p in stored]
    if not any(p.is_default for p in stored) and DEFAULT_POLICY_NAME not in {p.name for p in stored}:
        result.append((DEFAULT_POLICY_NAME, default_levels(), True))
    return result


def missing_schedules(session: Session) -> list[MissingSchedule]:
    """Schedule targets of any policy (or the built-in default) whose schedule does not exist."""
    names = set(session.scalars(select(Schedule.name)))
    found = []
    for name, levels, built_in in effective_policies(session):
        for path, target in targets_of(levels):
            if target["type"] == TargetType.SCHEDULE and target["schedule"] not in names:
                found.append(MissingSchedule(name, f"{path}.schedule", target["schedule"], built_in))
    return found


def _at_risk_minutes() -> int:
    return int(AT_RISK_BEFORE_DUE.total_seconds() // 60)


def answer_by_minutes(sla_minutes: int) -> int:
    """Minutes after the details are captured before which some level must page the rota: the at-risk alert's
    (at least 1, so a level at once still counts when CALLBACK_SLA_MINUTES leaves no room before the alert,
    which ``config_rules`` warns of)."""
    return max(1, sla_minutes - _at_risk_minutes())


def unanswered(name: str, levels: list[dict], built_in: bool, sla_minutes: int) -> UnansweredPolicy | None:
    """The one rule: canonical ``levels`` must page a schedule or a rep before the at-risk alert."""
    first, answer_by = first_rota_level(levels), answer_by_minutes(sla_minutes)
    if first is not None and first[1] < answer_by:
        return None
    return UnansweredPolicy(name, built_in, answer_by, first)


def unanswered_policies(session: Session, sla_minutes: int) -> list[UnansweredPolicy]:
    """Every policy (or the built-in default) that pages no schedule or rep before the at-risk alert: any stored
    policy can be made the default."""
    found = [unanswered(name, levels, built_in, sla_minutes) for name, levels, built_in in effective_policies(session)]
    return [policy for policy in found if policy is not None]


def rota_paged_in_time(session: Session, sla_minutes: int) -> bool:
    """True when the policy the next incident uses pages a schedule or a rep before the at-risk alert (/healthz)."""
    policy = next_incident_policy(session)
    return unanswered(policy["name"], policy["levels"], False, sla_minutes) is None


def late_levels(session: Session, sla_minutes: int) -> list[LateLevel]:
    """Levels of any policy (or the built-in default) whose delay reaches the callback deadline."""
    return [late for name, levels, built_in in effective_policies(session)
            for late in _late_in(name, levels, built_in, sla_minutes)]


def _late_in(name: str, levels: list[dict], built_in: bool, sla_minutes: int) -> list[LateLevel]:
    """The levels of one policy whose delay reaches the callback deadline (the one rule for ``late_levels`` and
    ``late_level_warnings``)."""
    return [LateLevel(name, f"levels[{index}].delay_minutes", int(level["delay_minutes"]), built_in)
            for index, level in enumerate(levels) if int(level["delay_minutes"]) >= sla_minutes]


def paged_schedules(session: Session) -> set[str]:
    """The names of the schedules some policy (or the built-in default) pages."""
    return {t["schedule"] for _, levels, _ in effective_policies(session)
            for _, t in targets_of(levels) if t["type"] == TargetType.SCHEDULE}


def coverage_gaps(session: Session, now: datetime, days: int = COVERAGE_DAYS) -> list[Gap]:
    """Gaps in the next ``days`` days of every schedule a policy pages."""
    wanted = paged_schedules(session)
    end = now + timedelta(days=days)
    gaps = []
    schedules = session.scalars(select(Schedule).where(Schedule.name.in_(wanted)).order_by(Schedule.name)
                                .options(selectinload(Schedule.layers)))
    for schedule in schedules:
        covered_until = now
        for shift in schedule_shifts(session, schedule, now, end):
            if shift.starts_at > covered_until:
                gaps.append(Gap(schedule.name, covered_until, shift.starts_at))
            covered_until = max(covered_until, shift.ends_at)
        if covered_until < end:
            gaps.append(Gap(schedule.name, covered_until, end))
    return gaps


def overlapping_overrides(session: Session, now: datetime) -> list[Overlap]:
    """Pairs of current or future overrides of one schedule, for different active reps, that overlap (a
    deactivated rep's override pages nobody: ``ignored_overrides``)."""
    rows = session.execute(
        select(Override, Schedule.name, Rep.name)
        .join(Schedule, Schedule.id == Override.schedule_id)
        .join(Rep, Rep.id == Override.rep_id)
        .where(Override.ends_at > now, Rep.active.is_(True))
        .order_by(Schedule.name, Override.starts_at, Override.id)
    ).all()
    found = []
    for i, (first, schedule, first_rep) in enumerate(rows):
        for second, other_schedule, second_rep in rows[i + 1:]:
            if other_schedule != schedule or second.starts_at >= first.ends_at:
                continue
            if second.rep_id != first.rep_id:
                found.append(Overlap(schedule, (first_rep, second_rep), max(first.starts_at, second.starts_at),
                                     min(first.ends_at, second.ends_at)))
    return found


def ignored_overrides(session: Session, now: datetime) -> list[IgnoredOverride]:
    """Current and future overrides of deactivated reps, with who is on call instead."""
    rows = session.execute(
        select(Override, Schedule, Rep.name)
        .join(Schedule, Schedule.id == Override.schedule_id)
        .join(Rep, Rep.id == Override.rep_id)
        .where(Override.ends_at > now, Rep.active.is_(False))
        .order_by(Schedule.name, Override.starts_at, Override.id)
    ).all()
    names = {rep_id: name for rep_id, name in session.execute(select(Rep.id, Rep.name))} if rows else {}
    found = []
    for override, schedule, rep in rows:
        instead = dict.fromkeys(names[s.rep_id] for s in
                                schedule_shifts(session, schedule, max(override.starts_at, now), override.ends_at))
        found.append(IgnoredOverride(schedule.name, rep, override.starts_at, override.ends_at, tuple(instead),
                                     override.id))
    return found


@dataclass(frozen=True)
class DeactivatedTarget:
    """A rep target of a policy naming a deactivated rep: it pages nobody (the level's other targets still page)."""

    policy: str
    path: str  # e.g. "levels[1].targets[0].rep"
    rep: str

    def describe(self) -> str:
        """The path and what it means, as the API and the on-call page say it when the policy is saved."""
        return f"{self.path}: {self.rep} is deactivated: this target pages nobody"


def _deactivated_targets(session: Session, policy: str, levels: list[dict]) -> list[DeactivatedTarget]:
    found = []
    for path, target in targets_of(levels):
        rep = find_rep(session, target["rep"]) if target["type"] == TargetType.REP else None
        if rep is not None and not rep.active:
            found.append(DeactivatedTarget(policy, f"{path}.rep", rep.name))
    return found


def policy_warnings(session: Session, levels: list[dict], sla_minutes: int) -> list[str]:
    """What is worth a look in a saved policy's canonical ``levels``: rep targets naming a deactivated rep, and
    what ``level_warnings`` says."""
    return [t.describe() for t in _deactivated_targets(session, "", levels)] + level_warnings(levels, sla_minutes)


def level_warnings(levels: list[dict], sla_minutes: int) -> list[str]:
    """A line for each level of ``levels`` that pages at or after the callback deadline (``late_levels``), and one
    when no level pages a schedule or a rep before the at-risk alert (``unanswered_policies``): ``hotline check``
    calls either an error, so saving or importing such a policy is never silent."""
    lines = [f"{late.path}: {late.delay_minutes} minutes after the details are captured is at or after the callback "
             f"deadline (CALLBACK_SLA_MINUTES={sla_minutes}): that level cannot help keep the promise, and `hotline "
             "check` reports it as an error" for late in _late_in("", levels, False, sla_minutes)]
    policy = unanswered("", levels, False, sla_minutes)
    if policy is not None:
        lines.append(f"levels: {policy.describe(sla_minutes)}; `hotline check` reports it as an error")
    return lines


def deactivated_rep_targets(session: Session) -> list[DeactivatedTarget]:
    """The rep targets of every stored policy that name a deactivated rep (the import, `hotline check`)."""
    return [t for name, levels, _ in effective_policies(session) for t in _deactivated_targets(session, name, levels)]


def reps_on_hotline_number(session: Session, hotline_number: str) -> list[str]:
    """The active reps whose phone or alternative phone is the hotline's own number (TWILIO_NUMBER)."""
    if not hotline_number:
        return []
    return list(session.scalars(select(Rep.name).where(
        Rep.active.is_(True), or_(Rep.phone == hotline_number, Rep.phone_alt == hotline_number)).order_by(Rep.id)))


def tams_on_hotline_number(session: Session, hotline_number: str) -> list[str]:
    """The accounts whose TAM's phone is the hotline's own number (stored before a ticket import refused it)."""
    if not hotline_number:
        return []
    return list(session.scalars(select(Account.name).where(Account.tam_phone == hotline_number).order_by(Account.id)))


def shared_rep_phones(session: Session) -> dict[str, list[str]]:
    """The numbers two or more active reps share (stored before ``save_rep`` refused it), with their names: an SMS
    command from one is carried out for none of them (``sms_commands.shared_phone_answer``)."""
    holders: dict[str, list[str]] = {}
    for name, phone, phone_alt in session.execute(select(Rep.name, Rep.phone, Rep.phone_alt)
                                                  .where(Rep.active.is_(True)).order_by(Rep.id)):
        for number in {phone, phone_alt} - {"", None}:
            holders.setdefault(number, []).append(name)
    return {number: names for number, names in holders.items() if len(names) > 1}


def on_call_now(session: Session, now: datetime) -> dict[str, tuple[tuple[int, str], ...]]:
    """The reps on call at ``now`` (id and name), by schedule (to compare before and after a change)."""
    return {schedule.name: tuple((r.id, r.name) for r in reps) for schedule, reps in on_call_everywhere(session, now)}


def open_incidents_left(session: Session, rep: Rep) -> list[str]:
    """A line for a deactivated rep who still works open incidents (owns their updates, else acknowledged them,
    as ``oncall.incident_owner`` reads it): nobody pages or texts them about those any more, so the manager
    deactivating them is told which incidents to hand over. Empty for an active rep or one who owns none."""
    if rep.active:
        return []
    owner = func.coalesce(FollowUp.owner_rep_id, Incident.acknowledged_by)
    references = session.scalars(
        select(Incident.reference).outerjoin(FollowUp, FollowUp.incident_id == Incident.id)
        .where(Incident.status == IncidentStatus.OPEN, owner == rep.id).order_by(Incident.id)).all()
    if not references:
        return []
    one = len(references) == 1
    which = f"incident {references[0]}" if one else f"{len(references)} open incidents: {', '.join(references)}"
    it, takes = ("it", "takes it over") if one else ("them", "takes each over")
    return [f"rep {rep.name!r} is deactivated but still owns {which}. They are paged and texted about {it} no "
            f"more; the customer's texts and update reminders go to the managers until an on-call rep {takes} "
            "(an ACK to its page, or Take over on the board)"]


def handovers(before: dict[str, tuple[tuple[int, str], ...]],
              after: dict[str, tuple[tuple[int, str], ...]]) -> list[str]:
    """A line for each schedule whose reps on call now differ between two ``on_call_now`` answers: other people (rep
    ids), not other names, so a renamed rep still on call hands nothing over (an outside probe's rename of Bob to
    Robert was answered "Robert is on call now instead of Bob"). Each is named as they are called at each side."""
    lines = []
    for name, was in before.items():
        now = after.get(name, ())
        if sorted(rep_id for rep_id, _ in now) != sorted(rep_id for rep_id, _ in was):  # names may sort anew
            names = [rep_name for _, rep_name in now]
            who = f"{', '.join(names)} {'is' if len(names) == 1 else 'are'}" if names else "nobody is"
            lines.append(f"schedule {name!r}: {who} on call now instead of "
                         f"{', '.join(rep_name for _, rep_name in was) or 'nobody'}")
    return lines


def nobody_to_page_now(session: Session, now: datetime) -> bool:
    """True when an incident opened ``now`` would reach nobody: no target of the policy in use reaches an
    active rep, and there is no active manager (whom a level that reaches nobody alerts instead).

    TAM targets are left out: they reach a TAM only for some accounts (and a TAM never acts on an incident).
    """
    if managers(session):
        return False
    policy = stored_default_policy(session)
    for _, target in targets_of(policy.levels if policy is not None else default_levels()):
        if target["type"] == TargetType.TAM:
            continue
        try:
            if resolve_target(session, target, now):
                return False
        except (UnknownRep, UnknownSchedule):
            continue  # reported as a missing schedule (a rep is deleted only with its targets)
    return True


def has_managers(session: Session) -> bool:
    """True when at least one active manager exists (the last escalation level pages them)."""
    return bool(managers(session))


def override_warnings(session: Session, override: Override, now: datetime) -> list[str]:
    """What is worth a look about ``override``, as lines: it is over already or its rep is deactivated (either way
    it pages nobody), or it overlaps other reps' overrides on its schedule (both are paged). An outside probe's
    override typed with the wrong month was stored without a word (the import says "skipped as over")."""
    schedule = session.get(Schedule, override.schedule_id)
    if schedule is None:
        return []
    if override.ends_at <= now:
        return [f"this override ended at {override.ends_at.isoformat().replace('+00:00', 'Z')}, before now: it pages "
                "nobody (check its dates)"]
    ignored = [i.describe() for i in ignored_overrides(session, now) if i.override_id == override.id]
    return ignored + [o.describe() for o in overlapping_overrides(session, now)
                      if o.schedule == schedule.name
                      and o.starts_at < override.ends_at and override.starts_at < o.ends_at]
