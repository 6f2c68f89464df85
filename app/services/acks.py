"""Acknowledge, take over, connect, report reached, resolve: one service each, for every channel.

The voice keypress, SMS, the acknowledgement link and the dashboard all call these,
with the same guards (the incident is open; one bridged callback in flight per
incident; who may act). The rules themselves are the escalation core's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.escalation import Acknowledge, Connect, Decision, ReachedByEmail, Resolve, decide
from app.event_kind import EventKind
from app.models import (
    Callback,
    CallbackOutcome,
    DueStep,
    Incident,
    IncidentEvent,
    Page,
    Rep,
    StepKind,
    StepStatus,
)
from app.prompts import en_us, text
from app.queue import schedule
from app.services import row_locks
from app.services.callback_extensions import callback_extension, phone_with_extension
from app.services.callbacks import open_callback
from app.services.company_label import said_company
from app.services.decisions import Acting, carry_out
from app.services.escalation import caller_on_hotline, snapshot
from app.services.oncall import on_call_everywhere
from app.services.ownership import owned_words, ownership
from app.services.page_text import (
    due_text,
    email_where,
    reach_in_writing,
    rep_clock,
    sms_how,
    spoken_number,
    spoken_time,
)
from app.services.refusal_lines import DASHBOARD, log_refusal, refusal_lined
from app.settings import PROMISED_CALLBACK_MINUTES
from app.watchdog_state import worker_runs

AFTER_CALL_CHECK = timedelta(minutes=1)  # a held connect checks this often whether the intake is over


@dataclass(frozen=True)
class Actor:
    """Who acts, and through which channel (voice, sms, link, dashboard)."""

    name: str
    via: str
    rep: Rep | None = None
    is_manager: bool = False
    # on a page call (``via`` voice): how to send an SMS command and where the customer's e-mail address is, by
    # whether the page's SMS went (``page_text.sms_how``, ``email_where``); "" for the page's SMS
    sms_how: str = ""
    email_where: str = ""

    @property
    def rep_id(self) -> int | None:
        """The acting rep's id (None: a login without a rep)."""
        return self.rep.id if self.rep is not None else None


@dataclass
class Answer:
    """What the action did and what to tell the person (jobs ride on the unit of work, not here)."""

    ok: bool
    outcome: str
    message: str
    callback: Callback | None = None
    no_worker: bool = False  # a call was asked for while no hotline worker runs to place it (``no_worker_hint``)

    def __post_init__(self) -> None:
        if self.no_worker:
            self.message += no_worker_hint(self.callback)


def no_worker_hint(callback: Callback | None) -> str:
    """What a rep reads after "calling you now" when no hotline worker runs (``watchdog_state.worker_runs``): the call
    leaves once one does, so they may call the customer themselves (an outside probe's rep read "Calling you now"
    with the worker killed: the call left only when it was started again)."""
    phone = callback.customer_number if callback is not None and callback.customer_number else "their number"
    return " " + text("connect_no_worker", phone=phone)


def lock_incident(session: Session, reference: str) -> Incident | None:
    """The incident with this reference, row-locked for the rest of the transaction (``row_locks.incident_lock``)."""
    return row_locks.lock_incident_by_reference(session, reference)


def may_act(session: Session, incident: Incident, rep: Rep | None, now: datetime) -> bool:
    """An active rep acts on incidents they own, were paged for, or while on call (active managers always)."""
    if rep is None or not rep.active:  # a rep deactivated since the page: as unknown as by SMS
        return False
    if rep.is_manager or incident.acknowledged_by == rep.id:  # the owner keeps their incident off call too
        return True
    paged = session.scalar(select(Page.id).where(
        Page.incident_id == incident.id, or_(Page.rep_id == rep.id, Page.to_number == rep.phone)).limit(1))
    if paged is not None:
        return True
    return any(rep.id == r.id for _schedule, reps in on_call_everywhere(session, now) for r in reps)


def allowed(session: Session, incident: Incident, actor: Actor, now: datetime) -> bool:
    """The one guard of who may acknowledge, take over, connect or record a contact on ``incident``, whatever the
    channel (``acknowledge``, ``connect`` and ``reached_by_email`` apply it themselves): ``may_act`` for the acting
    rep; a manager (a manager's login on the dashboard, whether or not its rep is one); with no rep, refused, but
    that a dashboard login linked to none hears the core's own refusal of it (``refused_not_a_rep``). Until probe AT
    the dashboard skipped it: a rep's login paged for nothing took incidents over and had their customers bridged to
    its phone, which the same rep's SMS was refused."""
    if actor.rep is None:
        return actor.via == DASHBOARD
    return (actor.is_manager and actor.rep.active) or may_act(session, incident, actor.rep, now)


def page_actor(session: Session, page: Page, incident: Incident, via: str, now: datetime) -> tuple[Actor, bool]:
    """The person a page reached (voice keypress, ack link) as an actor, and whether they may act on its incident.

    The SMS channel's guard (``allowed``): someone paged who is no rep, such as the account's TAM, is told
    but never owns the incident, or acknowledging would stop the reps' escalation with nobody to call back.
    """
    rep = session.get(Rep, page.rep_id) if page.rep_id else None
    actor = Actor(name=rep.name if rep else page.name, via=via, rep=rep, is_manager=bool(rep and rep.is_manager))
    return actor, allowed(session, incident, actor, now)


def acknowledge(session: Session, incident: Incident, actor: Actor, now: datetime, *,
                take_over: bool = False) -> Answer:
    """Acknowledge (or, with ``take_over``, take the incident from its owner), if ``allowed``."""
    snap = snapshot(session, incident, now)
    may = allowed(session, incident, actor, now)
    decision = _lined(session, incident, decide(Acknowledge(actor.rep_id, paged_or_on_call=may,
                                                            take_over=take_over), snap, now), actor, now)
    done = carry_out(session, incident, decision, now, _acting(actor, incident))
    return Answer(decision.ok, decision.outcome, _message(decision.outcome, incident, actor, done.previous_owner,
                                                         session, now=now))


def connect(session: Session, incident: Incident, actor: Actor, now: datetime, *, rep_call_sid: str = "") -> Answer:
    """Acknowledge or take over if needed, then open one bridged callback (the hotline rings the rep first), if
    ``allowed``.

    With ``rep_call_sid`` the rep is already on the line (pressed 2 on a page call). While the caller is
    still in the intake the callback waits for it to be over (``connect_after_call``).
    """
    rep = actor.rep
    has_phone = rep is not None and (bool(rep.phone) or bool(rep_call_sid))
    facts = replace(snapshot(session, incident, now), caller_on_hotline=caller_on_hotline(session, incident, now))
    may = allowed(session, incident, actor, now)
    decision = _lined(session, incident, decide(Connect(actor.rep_id, paged_or_on_call=may, has_phone=has_phone),
                                                facts, now), actor, now)
    done = carry_out(session, incident, decision, now, _acting(actor, incident))
    callback = None
    if decision.defer_callback:
        _check_after_call(session, incident, now)
    if decision.open_callback:
        callback = open_callback(session, incident, actor.rep_id, now, rep_call_sid=rep_call_sid)
    message = _message(decision.outcome, incident, actor, done.previous_owner, session, now=now)
    # the hotline places the rep's call from a worker: with none running, "calling you now" would be believed
    # (``watchdog_state.worker_runs``: the rule /healthz and the IVR's live-connect offer follow, lease and presence)
    unsure = callback is not None and not rep_call_sid and not worker_runs(session, now)
    return Answer(decision.ok, decision.outcome, message, callback, no_worker=unsure)


def connect_after_call(session: Session, incident_id: int, now: datetime) -> str:
    """The intake is over (its call ended, or the check below found it over): carry out the connect a rep
    asked for while it went on (``Decision.defer_callback``), unless a callback was opened since (the caller
    took the live connection). Returns what it did, for the step row."""
    deferred = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident_id, IncidentEvent.kind == EventKind.CONNECT_DEFERRED)
        .order_by(IncidentEvent.id.desc()).limit(1)).first()
    if deferred is None:
        return "nothing_deferred"
    if session.scalar(select(Callback.id).where(
            Callback.incident_id == incident_id, Callback.requested_at >= deferred.at).limit(1)) is not None:
        return "callback_opened_since"
    rep = session.get(Rep, (deferred.detail or {}).get("rep_id") or 0)
    incident = row_locks.lock_incident(session, incident_id)
    if rep is None or not rep.active or incident is None:
        return "rep_gone"
    if incident.acknowledged_by != rep.id:  # taken over since: the new owner calls when they choose
        return "owner_changed"
    return connect(session, incident, Actor(name=rep.name, via="after_call", rep=rep, is_manager=rep.is_manager),
                   now).outcome


def connect_after_call_step(session: Session, incident: Incident, step: DueStep, now: datetime) -> str:
    """The backstop of ``connect_after_call`` should the end of the call never be heard of: check again
    every ``AFTER_CALL_CHECK`` while the caller is still in the intake, then connect."""
    if caller_on_hotline(session, incident, now):
        _check_after_call(session, incident, now)
        return "caller_on_hotline"
    return connect_after_call(session, incident.id, now)


def _check_after_call(session: Session, incident: Incident, now: datetime) -> None:
    """Write the step that connects should the end of the caller's call be lost, unless one is pending
    (each check has the next level; only the latest can be pending)."""
    latest = session.execute(select(DueStep.level, DueStep.status).where(
        DueStep.incident_id == incident.id, DueStep.kind == StepKind.CONNECT_AFTER_CALL)
        .order_by(DueStep.level.desc()).limit(1)).first()
    if latest is not None and latest.status == StepStatus.PENDING:
        return
    step = DueStep(incident_id=incident.id, kind=StepKind.CONNECT_AFTER_CALL,
                   level=latest.level + 1 if latest is not None else 1, due_at=now + AFTER_CALL_CHECK)
    session.add(step)
    session.flush()
    schedule(session, "step", step.id, step.due_at)


def reached_by_email(session: Session, incident: Incident, actor: Actor, how: str, now: datetime) -> Answer:
    """The owner of an incident without a callback number records how the customer was reached (if ``allowed``: it
    makes them the owner of an unowned one and stops its repages)."""
    decision = _lined(session, incident, decide(ReachedByEmail(
        actor.rep_id, paged_or_on_call=allowed(session, incident, actor, now)), snapshot(session, incident, now), now),
        actor, now)
    if decision.mark_reached_by_email:
        incident.reached_how = how.strip()[:500]
    # the customer is being worked: the decision starts policy step 5's updates (``Decision.start_updates``)
    carry_out(session, incident, decision, now, _acting(actor, incident, how=how.strip()[:200]))
    return Answer(decision.ok, decision.outcome, _message(decision.outcome, incident, actor, None, session, now=now))


def resolve(session: Session, incident: Incident, actor: Actor, now: datetime, reason: str = "",
            agreed_by: str = "", after_silence: bool = False,
            sla_minutes: int = PROMISED_CALLBACK_MINUTES, hotline_number: str = "") -> Answer:
    """Resolve with the customer's agreement after a verified callback (or e-mail contact); a manager, with a reason
    (the customer is then told the support team closed it: ``hotline_number`` is how they come back)."""
    trigger = Resolve(by_manager=actor.is_manager, reason=reason, agreed_by=agreed_by, after_silence=after_silence,
                      verbal=actor.via == "verbal")
    decision = decide(trigger, snapshot(session, incident, now), now)
    if decision.refused:  # a line an hour through a link (``refusal_lines``)
        log_refusal(session, now, EventKind.RESOLVE_REFUSED, actor.name or "rep", actor.via, incident.id,
                    {"outcome": decision.outcome})
    acting = _acting(actor, incident, reason=reason.strip()[:500], by_manager=decision.outcome == "resolved_by_manager",
                     agreed_by=agreed_by.strip()[:200])
    acting.hotline_number = hotline_number
    carry_out(session, incident, decision, now, acting)
    message = _message(decision.outcome, incident, actor, None, session, sla_minutes, now=now)
    if decision.closing_notice:  # the manager (or the rep who recorded an agreement) hears whether the customer will know
        told = "agreed_customer_told" if decision.agreed_close else "resolved_customer_told"
        message += " " + text(f"{told}_{decision.closing_notice}")
    return Answer(decision.ok, decision.outcome, message)


def _lined(session: Session, incident: Incident, decision: Decision, actor: Actor, now: datetime) -> Decision:
    """The core's refusal without the log lines ``refusal_lines`` rules out (a link's repeated POSTs, a phone's
    repeated SMS or keys)."""
    if not decision.refused:
        return decision
    return replace(decision, log=tuple(kind for kind in decision.log if refusal_lined(
        session, now, kind, incident.id, actor.name or "rep", actor.via)))


def _acting(actor: Actor, incident: Incident, **detail) -> Acting:
    return Acting(actor=actor.name or "rep", rep_id=actor.rep_id,
                  detail={"rep_id": actor.rep_id, "via": actor.via, **detail})


_MESSAGES = {
    "acknowledged": "ack_done", "acknowledged_and_connecting": "connect_calling", "already_owner": "ack_already_yours",
    "refused_closed": "ack_closed", "refused_owned_by_other": "ack_owned_by_other", "refused_not_paged": "ack_not_paged",
    "refused_not_a_rep": "ack_login_not_a_rep",  # a dashboard login linked to no active rep
    "taken_over": "taken_over", "taken_over_and_connecting": "taken_over_calling", "connecting": "connect_calling",
    "callback_in_flight": "connect_in_flight", "refused_no_number": "connect_no_number",
    "customer_on_the_line": "connect_on_the_line",
    "connect_after_call": "connect_after_call", "acknowledged_connect_after_call": "connect_after_call",
    "taken_over_connect_after_call": "connect_after_call",
    "refused_no_phone": "connect_no_phone", "reached_by_email": "reached_by_email",
    "already_reached_by_email": "reached_by_email", "refused_has_number": "reached_has_number",
    "resolved": "resolved", "resolved_by_manager": "resolved", "refused_already_resolved": "resolve_already",
    "refused_no_verified_callback": "resolve_needs_callback",
    "resolved_unconfirmed": "resolved", "refused_needs_agreement": "resolve_needs_agreement",  # issue 11
}


def _rep_name(session: Session, rep_id: int | None) -> str:
    rep = session.get(Rep, rep_id) if rep_id else None
    return rep.name if rep is not None else "another rep"


def _owned(session: Session, incident: Incident, clock) -> str:
    """Who has ``incident`` and since when (the owner's own time, not the first acknowledgement's after a take-over)."""
    own = ownership(session, incident, "another rep")
    return owned_words(own, clock) if own is not None else ""


def _message(outcome: str, incident: Incident, actor: Actor, previous: int | None, session: Session,
             sla_minutes: int = PROMISED_CALLBACK_MINUTES, *, now: datetime | None = None) -> str:
    """What to tell the person who acted, at ``now``, from the prompt catalog (a written time names its day when it
    is not ``now``'s: ``due_text``); on a call (``via`` voice) in words for the ear: the reference and numbers digit
    by digit, times with the zone's letters one by one, no "Reply CALL 123456"."""
    in_flight = session.scalars(select(Callback).where(
        Callback.incident_id == incident.id, Callback.outcome == CallbackOutcome.PENDING)
        .order_by(Callback.requested_at.desc())).first()
    if outcome == "customer_on_the_line":  # the answered callback under way: who talks with the customer, since when
        in_flight = session.scalars(select(Callback).where(
            Callback.incident_id == incident.id, Callback.outcome.in_((CallbackOutcome.MET, CallbackOutcome.LATE)),
            Callback.ended_at.is_(None)).order_by(Callback.answered_at.desc())).first()
    tz, spoken = rep_clock(actor.rep), actor.via == "voice"
    clock = spoken_time if spoken else (lambda when, zone: due_text(when, zone, now))
    extension = callback_extension(incident, session)
    phone = (spoken_number(incident.callback_phone, extension) if spoken
             else phone_with_extension(incident.callback_phone, extension))
    params = {
        "ref": ", ".join(incident.reference) if spoken else incident.reference,
        "company": said_company(incident.company) or "the customer",
        "phone": phone or "the number in the incident", "due": clock(incident.callback_due_at, tz),
        "at": clock(in_flight.requested_at if outcome == "callback_in_flight" and in_flight
                    else in_flight.answered_at if outcome == "customer_on_the_line" and in_flight
                    else incident.acknowledged_at or incident.callback_due_at, tz),
        "previous": _rep_name(session, previous),
        "owned": _owned(session, incident, lambda when: clock(when, tz)) if outcome == "refused_owned_by_other" else "",
        "calling": _rep_name(session, in_flight.rep_id) if in_flight is not None else "another rep",
        "rep_phone": actor.rep.phone if actor.rep else "",
        "in_writing": reach_in_writing(incident),
        "how": actor.sms_how or sms_how(True), "where": actor.email_where or email_where(True),
        "minutes": sla_minutes,  # the configured promise (CALLBACK_SLA_MINUTES)
    }
    key = "ack_not_a_rep" if outcome == "refused_not_paged" and actor.rep is None else (  # paged as the TAM
        _MESSAGES.get(outcome, "ack_closed"))
    if key == "connect_on_the_line" and in_flight is not None and in_flight.rep_id == actor.rep_id:
        key = "connect_on_the_line_yours"
    if key == "connect_in_flight" and in_flight is not None and in_flight.rep_id != actor.rep_id:
        key = "connect_in_flight_other"  # another rep's call: "calling you" had this one wait for a call never placed
    if key == "ack_done" and not incident.callback_phone:  # "Call them on the number in the incident": there is none
        key = "ack_done_no_number"
    elif key == "ack_done" and incident.acknowledged_at and incident.acknowledged_at > incident.callback_due_at:
        key = "ack_done_late"  # "call them by 09:30" at 09:34: the deadline has passed, call now
    if spoken and f"{key}_spoken" in en_us.PROMPTS:  # the SMS words would tell a listener to reply to this call
        key = f"{key}_spoken"
    return text(key, **params)
