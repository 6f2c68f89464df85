"""A due step, put to the escalation core: resolve whom it concerns, decide, carry out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.escalation import StepDue, decide
from app.event_kind import EventKind
from app.models import DueStep, Incident, IncidentEvent, Page, StepKind, StepStatus
from app.models.paging import CUSTOMER_ROLE, TAM_ROLE
from app.queue import schedule
from app.reports.facts import PAGED
from app.services.decisions import Acting, carry_out, level_people, resolve
from app.services.escalation import caller_on_hotline, callers_on_hotline, snapshot
from app.services.hand_offs import hand_off_people
from app.services.page_text import callbacks_so_far
from app.services.sms_opt_outs import is_opted_out
from app.services.unproven_reports import receipt_withheld

REARM_AFTER = timedelta(minutes=1)  # a step waiting for the caller's details looks again this often


def _told_of_breach(session: Session, incident: Incident) -> bool:
    """The customer was told the deadline passed (or the log says nothing could tell them): by an earlier breach or
    repage step, which may be another row (a breach step run again: ``escalation.rerun_steps_since``)."""
    return session.scalar(select(IncidentEvent.id).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CUSTOMER_BREACH_NOTICE).limit(1)) \
        is not None


def paged_by(session: Session, incident: Incident, due: datetime) -> bool:
    """True when a page of the incident to someone who can acknowledge it (a rep or a manager, at any level or alert:
    not the customer's receipt, not the TAM, who is only told) was sent by ``due``, or created by then and handed to
    Twilio with no acceptance on record (its outcome may be unknown): the breach reason "nobody paged by the
    deadline" is claimed only when no such page was even tried by then. An outside probe's policy, whose first level
    paged after the deadline, had its breach read "nobody acknowledged", as if reps had been paged and ignored it."""
    return session.scalar(select(Page.id).where(
        Page.incident_id == incident.id, Page.created_at <= due, Page.role.not_in((CUSTOMER_ROLE, TAM_ROLE)),
        (Page.sent_at <= due) | (Page.sent_at.is_(None) & (Page.attempts > 0))).limit(1)) is not None


def run_due_step(session: Session, incident: Incident, step: DueStep, now: datetime, hotline_number: str = "") -> str:
    """Carry out ``step`` for ``incident`` as the core decides; returns the outcome code.

    ``hotline_number``: the number the customer is told to call (the receipt e-mail)."""
    people = (level_people(session, incident, step.level, now) if step.kind == StepKind.PAGE else
              hand_off_people(session, incident, now, lambda target: resolve(session, incident, target, now))
              if step.kind == StepKind.HANDOFF else [])
    trigger = StepDue(kind=str(step.kind), level=step.level,
                      nobody_at_level=step.kind in (StepKind.PAGE, StepKind.HANDOFF) and not people,
                      only_told_at_level=bool(people) and all(who.role == TAM_ROLE for who, _channels in people))
    snap = snapshot(session, incident, now)
    writes = step.kind in (StepKind.RECEIPT, StepKind.BREACH, StepKind.REPAGE)  # may write to the customer
    if writes and snap.textable_customer and is_opted_out(session, incident.callback_phone):
        snap = replace(snap, textable_customer=False)  # they texted STOP: no SMS (by e-mail if they can)
    if step.kind in (StepKind.BREACH, StepKind.REPAGE):  # the customer is told once that the deadline passed
        snap = replace(snap, told_of_breach=_told_of_breach(session, incident),
                       deadline_provisional=incident.id in callers_on_hotline(session, incident.id))
    if step.kind == StepKind.RECEIPT:  # it states the deadline: the one that counts, set once the call is over
        snap = replace(snap, caller_on_hotline=incident.id in callers_on_hotline(session, incident.id),
                       receipt_withheld=snap.textable_customer and receipt_withheld(session, incident, now))
    elif step.kind in (StepKind.AT_RISK, StepKind.BREACH):  # they hang on the deadline
        snap = replace(snap, caller_on_hotline=caller_on_hotline(session, incident, now))
    decision = decide(trigger, snap, now)
    if decision.rearm:
        step.status, step.done_at, step.due_at = StepStatus.PENDING, None, now + REARM_AFTER
        schedule(session, "step", step.id, step.due_at)
        return decision.outcome
    if decision.outcome == "nobody_to_page":
        incident.nobody_to_page_at = incident.nobody_to_page_at or now
    detail = {"level": step.level, "step_id": step.id}
    if step.kind == StepKind.AT_RISK:  # what became of the callbacks so far, in the alert's words (the timeline's)
        detail["so_far"] = callbacks_so_far(incident, now) or "no callback started"
    if step.kind == StepKind.BREACH:
        detail.update(due_at=incident.callback_due_at.isoformat(),
                      acknowledged=incident.acknowledged_at is not None,
                      callback_started=snap.callback_started,
                      **{PAGED: paged_by(session, incident, incident.callback_due_at)})
    done = carry_out(session, incident, decision, now, Acting(step=step, level_people=people, detail=detail,
                                                                hotline_number=hotline_number))
    counted = decision.outcome in ("paged", "alerted", "repaged", "handed_over")
    return f"{decision.outcome}_{done.alerted}" if counted else decision.outcome  # the count the log line gives
