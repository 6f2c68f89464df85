"""Carrying out what the escalation core decided, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.escalation import Audience, Decision, PageOrder, counts_as_paged
from app.escalation.decide import (
    AGREED_CLOSING_NOTICE,
    BREACH_NOTICE,
    CHASING_PURPOSES,
    CLOSING_NOTICE,
    HANDED_OVER,
)
from app.event_kind import EventKind
from app.models import (
    Channel,
    DueStep,
    Incident,
    IncidentStatus,
    Page,
    PageStatus,
    ProposalState,
    Rep,
    ResolutionProposal,
    StepKind,
)
from app.models.paging import CUSTOMER_ROLE, TAM_EMAILS, TAM_ROLE
from app.oncall.contactable import EMAIL, TEXTED_NO_EMAIL, Contactable
from app.oncall.errors import OnCallConfigError
from app.oncall.policy import TargetType
from app.services.customer_mail import email_customer
from app.services.escalation import (
    add_repage,
    breach_alerts,
    first_channel,
    is_first_page_step,
    rerun_steps_since,
)
from app.services.events import log_event
from app.services.hand_offs import (
    handed_over_from,
    handed_over_now,
    on_call_cache,
    successor_names,
    told_of_hand_off,
)
from app.services.oncall import contactable, find_rep, resolve_target, tam_untold
from app.services.outage_callbacks import owe_outage_proposal
from app.services.page_verdicts import release_held
from app.services.pages import ESCALATION_PURPOSES, cancel_unsent, queue_page
from app.services.tam_mail import (
    breach_emailed_tam,
    email_tam,
    emailed_tam,
    log_tam_texted,
    log_tam_untold,
    owes_email,
)
from app.services.tickets import account_of
from app.services.updates import (
    close_follow_up,
    hand_over,
    reopen_follow_up,
    restart_follow_up,
    start_follow_up,
    withdraw_follow_up,
)


@dataclass
class Acting:
    """Who or what the decision is carried out for."""

    actor: str = "system"
    rep_id: int | None = None  # the acting rep (becomes the owner on ``set_owner``; owns updates it starts)
    step: DueStep | None = None
    level_people: list[tuple[Contactable, tuple[str, ...]]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)  # added to every line the decision logs
    hotline_number: str = ""  # the number customers call (TWILIO_NUMBER), for what they are told in writing


# how a resolve decision ends the incident's update schedule (FollowUp.closed_how; "verbal" when agreed on the phone)
CLOSED_HOW = {"resolved": "confirmed", "resolved_unconfirmed": "unconfirmed", "resolved_by_manager": "manager"}


@dataclass
class Done:
    """What carrying out a decision changed."""

    pages: list[Page] = field(default_factory=list)
    emailed: int = 0  # TAM e-mails written (delivery rows)
    canceled: int = 0
    previous_owner: int | None = None
    handed_over_from: set[str] = field(default_factory=set)  # a hand-off's reps gone off shift (their numbers)

    @property
    def alerted(self) -> int:
        """The messages written: pages and TAM e-mails, one per person, channel and purpose."""
        return len(self.pages) + self.emailed


@dataclass(frozen=True)
class Message:
    """One message a decision writes: to ``who`` on ``channel`` for ``order``, one of the person's ``channels``."""

    order: PageOrder
    who: Contactable
    channel: str
    channels: tuple[str, ...]


def carry_out(session: Session, incident: Incident, decision: Decision, now: datetime, acting: Acting) -> Done:
    """Apply ``decision`` to ``incident``: ownership, cancels, state, pages, customer e-mail, repage, log lines."""
    done = Done(previous_owner=incident.acknowledged_by)
    if decision.set_owner:
        incident.acknowledged_at = incident.acknowledged_at or now
        incident.acknowledged_by = acting.rep_id if acting.rep_id is not None else incident.acknowledged_by
        if acting.rep_id is not None:  # a take-over: the updates' owner follows the incident's
            hand_over(session, incident, acting.rep_id)
    if decision.cancel_escalation_pages:
        done.canceled = _cancel(session, incident, ESCALATION_PURPOSES, now)
    if decision.cancel_handed_over_pages:  # the rota handed over: the reps gone off shift are paged about it no more
        # (a level's page or a hand-off's: whichever pages the rep on call since first)
        done.canceled += _hand_over(session, incident, now, acting, done)
    if decision.record_breach and acting.step is not None:
        # at the deadline, though the step ran later (a worker down, a wait for a key press: ``rearm`` moves it)
        incident.breached_at = incident.breached_at or min(acting.step.due_at, incident.callback_due_at)
    if decision.mark_reached_by_email:
        incident.reached_by_email_at = now
    if decision.reopen:  # the close is undone: its schedule resumes below, after the lines that say why
        incident.status = IncidentStatus.OPEN
    if decision.resolve:
        incident.status = IncidentStatus.RESOLVED
        done.canceled += _cancel(session, incident, CHASING_PURPOSES, now)
        _withdraw_proposals(session, incident, now)
        # the schedule ends with the incident, here alone: how the customer's agreement came names how it closed
        how = CLOSED_HOW.get(decision.outcome, "resolved")
        close_follow_up(session, incident, now, "verbal" if how == "confirmed" and acting.detail.get("via") == "verbal"
                        else how)
    step_id = acting.step.id if acting.step is not None else None
    messages = _messages(session, incident, [(order, who, channels) for order in decision.pages
                                             for who, channels in _audience(session, incident, order, now, acting,
                                                                            done)])
    # the log tells what was decided before the pages it caused (the timeline reads in that order); "alerted" counts
    # the messages written below, each person once, not each time an audience names them
    for kind in decision.log:
        log_event(session, at=now, actor=acting.actor or "system", kind=kind, incident_id=incident.id,
                  detail={**acting.detail, "outcome": decision.outcome, "pages_canceled": done.canceled,
                          "alerted": len(messages), **_not_texted(decision),
                          # the timeline words the answer against the deadline as the correction does
                          **({"due_at": incident.callback_due_at.isoformat()} if kind == EventKind.BREACH_CORRECTED else {})})
    first_step = is_first_page_step(acting.step)
    for message in messages:
        order, who, name = message.order, message.who, message.channel
        if name == EMAIL:  # the TAM outside their business hours: a delivery row, once per incident and purpose
            if email_tam(session, incident, who, order.purpose, now) is not None:
                done.emailed += 1
            continue
        page = queue_page(session, incident, who, Channel(name), order.purpose, now, step_id=step_id,
                          first=first_step and name == first_channel(message.channels))
        if page is not None:
            done.pages.append(page)
            if who.why == TEXTED_NO_EMAIL:  # the timeline says why the TAM was texted at night, not e-mailed
                log_tam_texted(session, incident, order.purpose, now)
    if acting.step is not None and acting.step.kind == StepKind.PAGE and any(
            order.audience == Audience.LEVEL for order in decision.pages):
        _say_if_tam_untold(session, incident, acting.step.level, now)
    if decision.email_customer:  # a written message no SMS can carry: a delivery row, logged when queued
        email_customer(session, incident, decision.email_customer, now, acting.hotline_number)
    if decision.breach_notice:
        _tell_customer(session, incident, BREACH_NOTICE, decision.breach_notice, now, acting)
    if decision.closing_notice:
        _tell_customer(session, incident, AGREED_CLOSING_NOTICE if decision.agreed_close else CLOSING_NOTICE,
                       decision.closing_notice, now, acting)
    if decision.add_repage and acting.step is not None:
        add_repage(session, incident, acting.step, now)
    if decision.stop_updates:  # the answer that started them was withdrawn
        withdraw_follow_up(session, incident, now)
    if decision.reopen:  # the schedule the close ended, at the interval agreed (owed only once they were reached)
        reopen_follow_up(session, incident, now, owed=decision.start_updates)
    elif decision.start_updates:  # idempotent: a schedule already running is kept as it is
        restart_follow_up(session, incident, now)  # one a withdrawn answer stopped starts afresh
        start_follow_up(session, incident, now, owner_rep_id=acting.rep_id)
    if decision.verified_contact:  # an outage resolved before this customer was reached: its resolution is owed
        owe_outage_proposal(session, incident, now)
    if decision.release_held_pages:  # the callback they waited for ended: they go now
        release_held(session, incident, now)
    if decision.rerun_steps_since is not None:  # an answer withdrawn, a close undone: the promise is chased again
        rerun_steps_since(session, incident, decision.rerun_steps_since, now)
    return done


def _say_if_tam_untold(session: Session, incident: Incident, level: int, now: datetime) -> None:
    """A level paged whose TAM target reaches nobody for want of a TAM phone and address: the timeline says why the
    account's TAM was told nothing (``oncall.tam_untold``), as it says why one was texted, not e-mailed."""
    levels = incident.escalation.get("levels", []) if incident.escalation else []
    targets = levels[level].get("targets", []) if level < len(levels) else []
    if any(target.get("type") == TargetType.TAM for target in targets) and tam_untold(account_of(session, incident)):
        log_tam_untold(session, incident, now)


def _not_texted(decision: Decision) -> dict[str, Any]:
    """The keys a log line gets when the customer was not texted of an attempt (the timeline says why)."""
    quiet = decision.not_texted
    if quiet is None:
        return {}
    return {"customer_not_texted": quiet.why, "last_texted_at": quiet.last_at.isoformat(),
            "window_minutes": round(quiet.window.total_seconds() / 60)}


def _messages(session: Session, incident: Incident,
              planned: list[tuple[PageOrder, Contactable, tuple[str, ...]]]) -> list[Message]:
    """The messages ``planned`` comes to: one per number (or address), channel and purpose, since the same person may
    be reached twice over (the owner also paged so far, a manager also on call); a TAM's e-mail only when one is owed
    (``tam_mail.owes_email``: once per incident and notice). What the log counts as alerted, before they are written."""
    seen: set[tuple[str, str, str]] = set()
    messages = []
    for order, who, channels in planned:
        for name in channels:
            # the TAM's e-mail is one per incident and notice (``owes_email``), whichever address each audience has
            key = (TAM_ROLE if name == EMAIL else who.address, name, order.purpose)
            if key in seen or ((name != EMAIL and not who.phone)  # no number: nothing to text or ring
                               or (name == EMAIL and not owes_email(session, incident, who, order.purpose))):
                continue
            seen.add(key)
            messages.append(Message(order, who, name, channels))
    return messages


def _withdraw_proposals(session: Session, incident: Incident, now: datetime) -> None:
    """A proposal still awaiting the customer's answer is withdrawn: its link and a late YES or NO change nothing.

    The proposal the customer just answered (or let expire) is set to that answer by its caller afterwards.
    """
    session.execute(update(ResolutionProposal)
                    .where(ResolutionProposal.incident_id == incident.id,
                           ResolutionProposal.state == ProposalState.PROPOSED)
                    .values(state=ProposalState.WITHDRAWN, decided_at=now, decided_via="resolved"))


def _hand_over(session: Session, incident: Incident, now: datetime, acting: Acting, done: Done) -> int:
    """The cancel of a level's page, by its step or a hand-off step (``Decision.cancel_handed_over_pages``): the reps
    gone off shift whom the reps it pages (``acting.level_people``) take over from (``done.handed_over_from``, which
    ``Audience.HANDED_OVER_FROM`` tells), and their escalation pages not sent yet canceled, each line naming who took
    over. Whichever step pages the rep on call since first does it; a later one finds nothing left to cancel and
    everyone told already (``told_of_hand_off``). Returns how many."""
    newcomers = [who for who, _channels in acting.level_people]
    done.handed_over_from = handed_over_now(session, incident, now, newcomers)
    return cancel_unsent(session, incident.id, done.handed_over_from, ESCALATION_PURPOSES, HANDED_OVER, now,
                         lambda page: {"handed_over_to": successor_names(page.role, newcomers),
                                       **({"step_id": acting.step.id} if acting.step is not None else {})})


def _cancel(session: Session, incident: Incident, purposes: tuple[str, ...], now: datetime) -> int:
    return session.execute(
        update(Page)
        .where(Page.incident_id == incident.id, Page.status == PageStatus.QUEUED, Page.purpose.in_(purposes))
        .values(status=PageStatus.CANCELED, updated_at=now)
    ).rowcount


def _audience(session: Session, incident: Incident, order: PageOrder, now: datetime, acting: Acting,
              done: Done) -> list[tuple[Contactable, tuple[str, ...]]]:
    """The people an order reaches, each with the channels to use, without duplicates."""
    if order.audience == Audience.LEVEL:
        return acting.level_people
    people: list[Contactable] = []
    if order.audience == Audience.MANAGERS:
        people = managers(session, incident, now)
    elif order.audience == Audience.PAGED_SO_FAR:
        people = _still_concerned(session, incident, _without_deactivated(session, _paged_so_far(session, incident)),
                                  now) + emailed_tam(session, incident)
    elif order.audience == Audience.OWNER_OR_PRIMARY:
        # an owner deactivated since (left, lost their phone) is paged no more: whoever is on call now is
        owner = find_rep(session, incident.acknowledged_by) if incident.acknowledged_by else None
        if owner is None or not owner.active:  # whom the first level reaches now, not a schedule assumed "primary"
            # the TAM is told on their level's channels only (the default policy: SMS), never rung as if on call;
            # outside their business hours by e-mail alone; of the breach once, at the breach (``Audience.TAM``),
            # never again each repage round
            return [(who, order.channels if who.role != TAM_ROLE else
                     _in_writing(order) if told == (EMAIL,) else tuple(c for c in order.channels if c in told))
                    for who, told in level_people(session, incident, 0, now)
                    if who.role != TAM_ROLE or order.purpose != "breach"]
        people = [contactable(owner, "acknowledger")]
    elif order.audience == Audience.CALLBACK_REP:  # the rep on the callback the event is about (Acting.rep_id)
        rep = find_rep(session, acting.rep_id) if acting.rep_id is not None else None
        people = [contactable(rep, "callback_rep")] if rep is not None and rep.active else []
    elif order.audience == Audience.PREVIOUS_OWNER:
        previous = find_rep(session, done.previous_owner) if done.previous_owner else None
        people = [contactable(previous, "previous_owner")] if previous is not None else []
    elif order.audience == Audience.HANDED_OVER_FROM:  # found by the cancel the core decides with it
        people = _without_deactivated(session, told_of_hand_off(session, incident, done.handed_over_from))
    elif order.audience == Audience.CUSTOMER:
        people = [_customer(incident)]
    elif order.audience == Audience.BREACH_ALERTED:  # an alert of theirs said BREACHED: a manager, a rep, a TAM
        people = _without_deactivated(session, [
            Contactable(rep_id=p.rep_id, name=p.name, phone=p.to_number, channels=("sms",), role=p.role)
            for p in breach_alerts(session, incident)]) + breach_emailed_tam(session, incident)
    elif order.audience == Audience.TAM:  # as told of the incident so far: texted, else e-mailed
        people = [who for who in _paged_so_far(session, incident) if who.role == TAM_ROLE] + emailed_tam(
            session, incident)
    return [(who, order.channels if who.phone else _in_writing(order)) for who in distinct(people)]


def _in_writing(order: PageOrder) -> tuple[str, ...]:
    """The channels of a TAM told in writing for ``order``: e-mail for a notice of theirs or the breach correction,
    else none (they are not e-mailed that a number was corrected, say)."""
    return (EMAIL,) if order.purpose in TAM_EMAILS else ()


def _customer(incident: Incident) -> Contactable:
    """The incident's customer as the one an SMS to their callback number is for."""
    return Contactable(rep_id=None, name=incident.contact_name, phone=incident.callback_phone, channels=("sms",),
                       role=CUSTOMER_ROLE)


# the line each one-off notice to the customer logs first (the timeline shows it, also when nobody could be told)
_NOTICE_EVENTS = {BREACH_NOTICE: EventKind.CUSTOMER_BREACH_NOTICE, CLOSING_NOTICE: EventKind.CUSTOMER_CLOSING_NOTICE,
                  AGREED_CLOSING_NOTICE: EventKind.CUSTOMER_CLOSING_NOTICE}


def _tell_customer(session: Session, incident: Incident, purpose: str, channel: str, now: datetime,
                   acting: Acting) -> None:
    """Tell the customer, once, on the channel the core chose: that the deadline passed without reaching them
    (``BREACH_NOTICE``, with an apology), that the support team closed their incident (``CLOSING_NOTICE``), or that
    it was closed as agreed with them on the phone (``AGREED_CLOSING_NOTICE``: a rep's record of it). The
    log line comes first: it is what the timeline shows (also when ``channel`` is "none") and what makes the breach
    notice once per incident (``escalation_steps``: ``Snapshot.told_of_breach``)."""
    step_id = acting.step.id if acting.step is not None else None
    log_event(session, at=now, actor=acting.actor or "system", kind=_NOTICE_EVENTS[purpose],
              incident_id=incident.id, detail={"channel": channel, "step_id": step_id,
                                               **({"email_address": bool(incident.email)} if channel == "none" else {}),
                                               "due_at": incident.callback_due_at.isoformat(),
                                               **({"agreed": True} if purpose == AGREED_CLOSING_NOTICE else {})})
    if channel == "sms":
        queue_page(session, incident, _customer(incident), Channel.SMS, purpose, now, step_id=step_id)
    elif channel == "email":
        email_customer(session, incident, purpose, now, acting.hotline_number)


def level_people(session: Session, incident: Incident, level: int,
                 now: datetime) -> list[tuple[Contactable, tuple[str, ...]]]:
    """Everyone a level of the incident's own policy reaches now, each with the policy's channels (else their own)."""
    levels = incident.escalation.get("levels", []) if incident.escalation else []
    if level >= len(levels):
        return []
    paged = _paged_numbers(session, incident) if level else set()
    # one entry per number; a person two targets reach (a rep on call in two schedules) gets every channel
    # either target asks for, in the order first asked
    found: dict[str, tuple[Contactable, tuple[str, ...]]] = {}
    for target in levels[level].get("targets", []):
        earlier = _earlier_target(levels[:level], target)
        for who in resolve(session, incident, target, now):
            if not who.address:
                continue
            # a TAM told in writing (``oncall.tam_target``) is e-mailed whatever channels the target names
            # and one texted after hours for want of an address (``TEXTED_NO_EMAIL``) by SMS alone, never rung
            channels = tuple(target.get("channels") or who.channels) if who.phone and not who.why else who.channels
            if earlier is not None and who.phone and who.phone not in paged:
                # "the primary again by voice" is meant for whoever had the earlier level's page: someone this
                # target reaches for the first time (the rota handed over, an override began, a rep left) gets
                # that page too (the SMS with the reference, the callback number and the link), not a call alone
                earlier_channels = tuple(earlier.get("channels") or _own_channels(session, who))
                channels = earlier_channels + tuple(c for c in channels if c not in earlier_channels)
            first, before = found.get(who.address, (who, ()))
            found[who.address] = (first, before + tuple(c for c in channels if c not in before))
    return list(found.values())


def _paged_numbers(session: Session, incident: Incident) -> set[str]:
    """The numbers an escalation page of ``incident`` was written for (sent, queued or held)."""
    return set(session.scalars(select(Page.to_number).where(Page.incident_id == incident.id, Page.purpose == "page")))


def _earlier_target(levels: list[dict], target: dict) -> dict | None:
    """The same target (same schedule, rep, managers or TAM) in an earlier level, as that level pages it."""
    same = {k: v for k, v in target.items() if k != "channels"}
    for level in levels:
        for other in level.get("targets", []):
            if {k: v for k, v in other.items() if k != "channels"} == same:
                return other
    return None


def _own_channels(session: Session, who: Contactable) -> tuple[str, ...]:
    """A person's own channels (a target's channels replace them in ``who``)."""
    rep = find_rep(session, who.rep_id) if who.rep_id is not None else None
    return tuple(rep.channels) if rep is not None else who.channels


def resolve(session: Session, incident: Incident | None, target: dict, now: datetime) -> list[Contactable]:
    """Who a target reaches now; a target that no longer resolves is logged, never fatal."""
    try:
        return resolve_target(session, target, now, account=account_of(session, incident) if incident else None)
    except (OnCallConfigError, LookupError, KeyError, ValueError, ArithmeticError) as exc:
        log_event(session, at=now, actor="system", kind="target_unresolvable",
                  incident_id=incident.id if incident else None, detail={"target": target, "error": str(exc)})
        return []


def managers(session: Session, incident: Incident | None, now: datetime) -> list[Contactable]:
    """The managers, as the on-call config names them now."""
    return resolve(session, incident, {"type": "managers"}, now)


def _paged_so_far(session: Session, incident: Incident) -> list[Contactable]:
    """Everyone an escalation page was tried on (``counts_as_paged``), never someone whose page was canceled
    or refused before any try."""
    pages = session.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "page")).all()
    return [Contactable(rep_id=p.rep_id, name=p.name, phone=p.to_number, channels=("sms", "voice"), role=p.role)
            for p in pages if counts_as_paged(p.attempts)]


def _still_concerned(session: Session, incident: Incident, paged: list[Contactable], now: datetime) -> list[Contactable]:
    """``paged`` less the reps gone off shift since whom the rota handed over from (``hand_offs.handed_over_from``):
    the rep on call in their place had the page and hears of the incident from now on (probe O6)."""
    gone = handed_over_from(paged, on_call_cache(session, now), _paged_numbers(session, incident))
    return [who for who in paged if who.phone not in gone]


def _without_deactivated(session: Session, people: list[Contactable]) -> list[Contactable]:
    """``people`` less the reps deactivated since they were paged (someone who is no rep, a TAM, stays)."""
    ids = {who.rep_id for who in people if who.rep_id is not None}
    inactive = set(session.scalars(select(Rep.id).where(Rep.id.in_(ids), Rep.active.is_(False)))) if ids else set()
    return [who for who in people if who.rep_id not in inactive]


def distinct(people: list[Contactable]) -> list[Contactable]:
    """``people`` without a second entry for the same phone number (or, a TAM told in writing, e-mail address)."""
    seen: set[str] = set()
    out = []
    for who in people:
        if who and who.address and who.address not in seen:
            seen.add(who.address)
            out.append(who)
    return out

