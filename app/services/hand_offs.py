"""The rota hands over while an incident is open and nobody owns it (probe O6).

Whoever a schedule the incident's levels paged puts on call since, and who never had its page, gets it at the
hand-off, as a first page saying it was handed over and how long is left: a step row (``StepKind.HANDOFF``) the
watchdog writes when its pass sees such a rep (``write_hand_off_steps``), run by the escalation core as every step.
Its alerts then reach a rep gone off shift no more once whoever took over from them had the page
(``handed_over_from``); at the hand-off their escalation pages not sent yet are canceled and, paged about it before,
they are told once by SMS to whom it went (``handed_over_now``, ``told_of_hand_off``: the core's
``Decision.cancel_handed_over_pages``, ``Audience.HANDED_OVER_FROM``), on their other number (``phone_alt``) if that
SMS fails for good. The same rule whichever step pages the rep on call since first: a level's step that names their
schedule (due before the watchdog's pass saw them: then no hand-off step is written) or the hand-off step
(``decide._paging``). An incident someone acknowledged stays theirs: no hand-off page, its owner alerted as before
(unless they were deactivated since: as for a level, ``decide._page``).

Until this change the rep on call since heard of such an incident at the next level that named their schedule, or
only at the at-risk alert, and the rep off shift got every alert of it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.escalation import counts_as_paged
from app.escalation.decide import HANDED_OVER
from app.models import (
    Callback,
    CallbackKind,
    DueStep,
    Incident,
    IncidentStatus,
    Page,
    PageStatus,
    Rep,
    StepKind,
    StepStatus,
)
from app.models import Schedule as ScheduleRow
from app.oncall.contactable import Contactable
from app.oncall.errors import OnCallConfigError
from app.oncall.policy import TargetType
from app.queue import schedule
from app.services.oncall import contactable, on_call_everywhere, resolve_target

log = logging.getLogger(__name__)
SCHEDULE_ROLE = "oncall:"  # ``Page.role`` of a page to a rep a schedule target reached: "oncall:primary"
# a page step that reached its level (or found nobody there and paged the managers): its schedules were paged
LEVEL_PAGED = ("paged", "nobody_to_page")
Reach = Callable[[dict], list[Contactable]]  # whom a target reaches now
FAILED_FOR_GOOD = (PageStatus.FAILED, PageStatus.UNDELIVERED)


def newly_on_call(levels: list[dict], paged_levels: set[int], paged_numbers: set[str],
                  reach: Reach) -> list[tuple[Contactable, tuple[str, ...]]]:
    """Whom the schedule targets of the levels paged so far (``paged_levels``) reach now (``reach``) who never had a
    page of the incident (``paged_numbers``: any page, whatever became of it), each once, with the channels of the
    first level that names the schedule (a first page: the default policy's SMS and voice), else their own."""
    found: dict[str, tuple[Contactable, tuple[str, ...]]] = {}
    for level in sorted(paged_levels):
        if level >= len(levels):
            continue
        for target in levels[level].get("targets", []):
            if target.get("type") != TargetType.SCHEDULE:
                continue
            first = _first_naming(levels, target["schedule"]) or target
            for who in reach(target):
                if who.phone and who.phone not in paged_numbers and who.phone not in found:
                    found[who.phone] = (who, tuple(first.get("channels") or who.channels))
    return list(found.values())


def _first_naming(levels: list[dict], schedule_name: str) -> dict | None:
    """The first target of the policy that pages ``schedule_name``."""
    return next((t for spec in levels for t in spec.get("targets", [])
                 if t.get("type") == TargetType.SCHEDULE and t.get("schedule") == schedule_name), None)


def hand_off_people(session: Session, incident: Incident, now: datetime,
                    reach: Reach) -> list[tuple[Contactable, tuple[str, ...]]]:
    """Whom the hand-off step of ``incident`` pages now (``newly_on_call``)."""
    levels = incident.escalation.get("levels", []) if incident.escalation else []
    return newly_on_call(levels, _levels_paged(session, [incident.id]).get(incident.id, set()),
                         _page_numbers(session, [incident.id]).get(incident.id, set()), reach)


def _unowned_open():
    """Open incidents nobody owns (or whose owner was deactivated since) whose customer nobody reached (the core's
    own skips: a hand-off step would page nobody), with no page step due at ``:now`` (it runs first and pages whoever
    is on call then). Built once: a watchdog pass runs it every 10 s, and the tests' back office thousands of times."""
    unowned = Incident.acknowledged_at.is_(None) & Incident.acknowledged_by.is_(None)
    owner_gone = exists().where(Rep.id == Incident.acknowledged_by, Rep.active.is_(False))
    return select(Incident.id, Incident.escalation, Incident.captured_at).where(
        Incident.status == IncidentStatus.OPEN, or_(unowned, owner_gone), Incident.callback_answered_at.is_(None),
        Incident.reached_by_email_at.is_(None),
        ~exists().where(Callback.incident_id == Incident.id, Callback.kind == CallbackKind.SELF_REPORTED),
        ~exists().where(DueStep.incident_id == Incident.id, DueStep.kind.in_((StepKind.PAGE, StepKind.HANDOFF)),
                        DueStep.status == StepStatus.PENDING, DueStep.due_at <= bindparam("now")))


UNOWNED_OPEN = _unowned_open()


def _levels_paged(session: Session, incident_ids: list[int]) -> dict[int, set[int]]:
    """Per incident, the levels whose page step paged (or paged the managers for want of anyone there)."""
    rows = session.execute(select(DueStep.incident_id, DueStep.level, DueStep.outcome).where(
        DueStep.incident_id.in_(incident_ids), DueStep.kind == StepKind.PAGE, DueStep.status == StepStatus.DONE))
    found: dict[int, set[int]] = {}
    for incident_id, level, outcome in rows:
        if (outcome or "").startswith(LEVEL_PAGED):
            found.setdefault(incident_id, set()).add(level)
    return found


def _page_numbers(session: Session, incident_ids: list[int]) -> dict[int, set[str]]:
    """Per incident, the numbers an escalation page was written for (sent, failed, canceled: any)."""
    found: dict[int, set[str]] = {}
    for incident_id, number in session.execute(select(Page.incident_id, Page.to_number).where(
            Page.incident_id.in_(incident_ids), Page.purpose == "page")):
        found.setdefault(incident_id, set()).add(number)
    return found


def hand_offs_due(session: Session, now: datetime, reach: Reach) -> list[tuple[int, int]]:
    """The open incidents nobody owns whose paged schedules reach someone now who never had their page, each with
    its hand-off step's level: the whole minutes since the incident was captured (one hand-off step per incident
    and minute, whichever watchdog writes it)."""
    candidates = session.execute(UNOWNED_OPEN, {"now": now}).all()
    if not candidates:
        return []
    ids = [row.id for row in candidates]
    paged_levels, numbers = _levels_paged(session, ids), _page_numbers(session, ids)
    due = []
    for row in candidates:
        levels = row.escalation.get("levels", []) if row.escalation else []
        if row.id in paged_levels and newly_on_call(levels, paged_levels[row.id], numbers.get(row.id, set()), reach):
            due.append((row.id, max(0, int((now - row.captured_at).total_seconds() // 60))))
    return due


def write_hand_off_steps(db: Database, now: datetime) -> int:
    """The watchdog's pass: a hand-off step, due now, for each incident ``hand_offs_due`` finds, each in its own
    transaction (another watchdog may write the same one: the step's unique key keeps one). Every schedule is
    resolved at once, the first time a paged level needs one, in five statements however many schedules and
    incidents (``on_call_everywhere``); a pass with no candidate reads no rota. Returns the steps written."""
    with db.session() as session:
        resolved: dict[str, list[Contactable]] | None = None

        def reach(target: dict) -> list[Contactable]:
            nonlocal resolved
            if resolved is None:
                resolved = _everyone_on_call(session, now)
            return resolved.get(target["schedule"], [])

        due = hand_offs_due(session, now, reach)
    written = 0
    for incident_id, level in due:
        try:
            with db.transaction() as session:
                step = DueStep(incident_id=incident_id, kind=StepKind.HANDOFF, level=level, due_at=now)
                session.add(step)
                session.flush()
                schedule(session, "step", step.id, now)
            written += 1
        except IntegrityError:  # written by another watchdog's pass this minute
            log.debug("incident %d's hand-off step %d exists already", incident_id, level)
    return written


def _everyone_on_call(session: Session, now: datetime) -> dict[str, list[Contactable]]:
    """Each schedule's name with whom its schedule target reaches now (as ``resolve_target`` makes them); when the
    rota does not resolve as a whole, each schedule alone (``on_call``: none for one that fails)."""
    try:
        return {s.name: [contactable(r, f"{SCHEDULE_ROLE}{s.name}") for r in reps]
                for s, reps in on_call_everywhere(session, now)}
    except (OnCallConfigError, LookupError, KeyError, ValueError, ArithmeticError):
        names = session.scalars(select(ScheduleRow.name)).all()
        return {name: on_call(session, name, now) for name in names}


def on_call(session: Session, schedule_name: str, now: datetime) -> list[Contactable]:
    """The reps on call in ``schedule_name`` now, as a schedule target reaches them; none for a schedule that no
    longer resolves (its level's step logs why when it runs: ``decisions.resolve``)."""
    try:
        return resolve_target(session, {"type": TargetType.SCHEDULE, "schedule": schedule_name}, now)
    except (OnCallConfigError, LookupError, KeyError, ValueError, ArithmeticError):
        return []


def handed_over_from(paged: list[Contactable], on_call_now: Callable[[str], list[Contactable]],
                     paged_numbers: set[str]) -> set[str]:
    """The numbers of those ``paged`` so far who went off shift since and were handed over from: every page of theirs
    reached them as on call in a schedule (``SCHEDULE_ROLE``) that has someone else on call now (``on_call_now``),
    each of whom had the page too (``paged_numbers``). A rep also paged otherwise (by name, as a manager), or whose
    schedule has nobody on call now or someone who never heard of it, is still told."""
    roles: dict[str, set[str]] = {}
    reps: dict[str, int | None] = {}
    for who in paged:
        roles.setdefault(who.phone, set()).add(who.role)
        reps[who.phone] = who.rep_id
    gone = set()
    for number, their_roles in roles.items():
        if not all(role.startswith(SCHEDULE_ROLE) for role in their_roles):
            continue
        successors = [on_call_now(role.removeprefix(SCHEDULE_ROLE)) for role in their_roles]
        # a rep still on call there, paged on their other number (``phone_alt``), is still on call: by rep as by number
        if all(now and number not in {w.phone for w in now} and (reps[number] is None or reps[number] not in
                                                                 {w.rep_id for w in now})
               and {w.phone for w in now} <= paged_numbers for now in successors):
            gone.add(number)
    return gone


def on_call_cache(session: Session, now: datetime) -> Callable[[str], list[Contactable]]:
    """``on_call`` at ``now``, each schedule resolved once."""
    cache: dict[str, list[Contactable]] = {}

    def on_call_now(name: str) -> list[Contactable]:
        if name not in cache:
            cache[name] = on_call(session, name, now)
        return cache[name]

    return on_call_now


def handed_over_now(session: Session, incident: Incident, now: datetime, newcomers: list[Contactable]) -> set[str]:
    """The numbers of the reps gone off shift whom a hand-off paging ``newcomers`` takes ``incident`` from
    (``handed_over_from``): over every escalation page of it written so far, tried or not, the newcomers counted as
    having the page."""
    paged = [Contactable(rep_id=rep_id, name=name, phone=number, channels=("sms",), role=role)
             for rep_id, name, number, role in session.execute(select(Page.rep_id, Page.name, Page.to_number, Page.role)
                                                               .where(Page.incident_id == incident.id,
                                                                      Page.purpose == "page"))]
    return handed_over_from(paged, on_call_cache(session, now),
                            {who.phone for who in paged} | {who.phone for who in newcomers})


def told_of_hand_off(session: Session, incident: Incident, gone: set[str]) -> list[Contactable]:
    """Whom the SMS that the incident was handed over reaches (``Audience.HANDED_OVER_FROM``): of the reps gone off
    shift (``gone``: their numbers), each one who had been paged about it (a page tried: ``counts_as_paged``) and was
    not told of a hand-off of it yet, once, on the number of theirs a page did not fail for good on if there is one
    (their other number, ``phone_alt``, after their own was refused)."""
    pages = session.scalars(select(Page).where(Page.incident_id == incident.id,
                                               Page.purpose.in_(("page", HANDED_OVER))).order_by(Page.id)).all()
    told = {p.rep_id if p.rep_id is not None else p.to_number for p in pages if p.purpose == HANDED_OVER}
    found: dict[object, tuple[Contactable, bool]] = {}
    for p in pages:
        key = p.rep_id if p.rep_id is not None else p.to_number
        if p.purpose != "page" or p.to_number not in gone or not counts_as_paged(p.attempts) or key in told:
            continue
        reached = p.status not in FAILED_FOR_GOOD
        if key not in found or (reached and not found[key][1]):
            found[key] = (Contactable(rep_id=p.rep_id, name=p.name, phone=p.to_number, channels=("sms",),
                                      role=p.role), reached)
    return [who for who, _reached in found.values()]


def successor_names(role: str, newcomers: list[Contactable]) -> str:
    """Who took over from a rep paged as ``role`` (``oncall:primary``): the newcomers a hand-off pages in that
    schedule, by name ("Bob" or "Bob and Erin"); "the rep on call now" when none is named."""
    names = list(dict.fromkeys(who.name for who in newcomers if who.role == role and who.name))
    return " and ".join(names) or "the rep on call now"


def successors_of(session: Session, page: Page) -> str:
    """``successor_names`` for a hand-off notice ``page`` (``HANDED_OVER``): the reps its hand-off step paged."""
    newcomers = [Contactable(rep_id=p.rep_id, name=p.name, phone=p.to_number, channels=("sms",), role=p.role)
                 for p in session.scalars(select(Page).where(Page.step_id == page.step_id, Page.purpose == "page")
                                          .order_by(Page.id))] if page.step_id is not None else []
    return successor_names(page.role, newcomers)
