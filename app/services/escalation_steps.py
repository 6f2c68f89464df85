"""What each due step does when it runs (called by ``steps.run_step`` after its compare-and-set)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, Callback, CallbackKind, Channel, DueStep, Incident, IncidentStatus, Page, Ticket
from app.oncall.contactable import Contactable
from app.oncall.errors import OnCallConfigError
from app.queue import PendingJob
from app.services.escalation import add_repage
from app.services.events import log_event
from app.services.oncall import contactable, find_rep, resolve_target
from app.services.pages import queue_page
from app.services.phones import is_textable

Outcome = tuple[str, list[PendingJob]]


def send_receipt(session: Session, incident: Incident, step: DueStep, now: datetime) -> Outcome:
    """SMS the customer their reference and callback time (mobile numbers only)."""
    if not is_textable(incident.callback_phone):
        return "skipped_not_textable", []
    who = Contactable(rep_id=None, name=incident.contact_name, phone=incident.callback_phone,
                      channels=("sms",), role="customer")
    job = queue_page(session, incident, who, Channel.SMS, "receipt", now, step_id=step.id)
    return "receipt_queued", [job] if job else []


def page_level(session: Session, incident: Incident, step: DueStep, now: datetime) -> Outcome:
    """Page every target of escalation level ``step.level`` unless someone acknowledged."""
    if incident.status != IncidentStatus.OPEN:
        return "skipped_resolved", []
    if incident.acknowledged_at is not None:
        return "skipped_acknowledged", []
    if incident.callback_answered_at is not None:
        return "skipped_callback_done", []
    levels = incident.escalation.get("levels", [])
    if step.level >= len(levels):
        return "skipped_no_such_level", []
    jobs: list[PendingJob] = []
    for target in levels[step.level].get("targets", []):
        for who in _resolve(session, incident, target, now):
            jobs += _page(session, incident, who, target.get("channels") or who.channels, "page", now, step)
    if not jobs:
        log_event(session, at=now, actor="system", kind="nobody_to_page", incident_id=incident.id,
                  detail={"level": step.level})
        return "nobody_to_page", []
    return f"paged_{len(jobs)}", jobs


def at_risk(session: Session, incident: Incident, step: DueStep, now: datetime) -> Outcome:
    """T+10 and no callback started: alert the managers and everyone paged so far.

    A callback counts as started once the hotline placed the rep's leg (or the rep
    pressed 2 on a page call), not when someone merely asked for one.
    """
    if incident.callback_answered_at is not None or _callback_placed(session, incident):
        return "skipped_callback_started", []
    people = _managers(session, now) + _paged_so_far(session, incident)
    jobs: list[PendingJob] = []
    for who in _distinct(people):
        jobs += _page(session, incident, who, ("sms",), "at_risk", now, step)
    log_event(session, at=now, actor="system", kind="callback_at_risk", incident_id=incident.id,
              detail={"alerted": len(jobs)})
    return f"alerted_{len(jobs)}", jobs


def breach(session: Session, incident: Incident, step: DueStep, now: datetime) -> Outcome:
    """T+15 and no answered callback: record the breach, alert managers, keep paging."""
    answered = incident.callback_answered_at
    if answered is not None and answered <= incident.callback_due_at:
        return "met", []
    incident.breached_at = step.due_at
    log_event(session, at=now, actor="system", kind="callback_breached", incident_id=incident.id,
              detail={"due_at": incident.callback_due_at.isoformat(),
                      "acknowledged": incident.acknowledged_at is not None,
                      "callback_started": incident.callback_started_at is not None})
    jobs: list[PendingJob] = []
    for who in _distinct(_managers(session, now)):
        jobs += _page(session, incident, who, ("sms", "voice"), "breach", now, step)
    if answered is None and not _self_reported(session, incident):
        jobs.append(add_repage(session, incident, step))
    return "breached", jobs


def repage(session: Session, incident: Incident, step: DueStep, now: datetime) -> Outcome:
    """After a breach: page the acknowledger (or primary on call) and managers until a callback."""
    if incident.callback_answered_at is not None or _self_reported(session, incident):
        return "stopped_callback_done", []
    acknowledger = find_rep(session, incident.acknowledged_by) if incident.acknowledged_by else None
    if acknowledger is not None:
        people = [contactable(acknowledger, "acknowledger")]
    else:
        people = _resolve(session, incident, {"type": "schedule", "schedule": "primary"}, now)
    jobs: list[PendingJob] = []
    for who in _distinct([p for p in people if p] + _managers(session, now)):
        jobs += _page(session, incident, who, ("sms", "voice"), "breach", now, step)
    jobs.append(add_repage(session, incident, step))
    return f"repaged_{len(jobs) - 1}", jobs


def _page(session, incident, who: Contactable, channels, purpose, now, step) -> list[PendingJob]:
    """Queue ``who`` on each channel: the policy's channels win over the rep's preference."""
    jobs = []
    for name in channels:
        job = queue_page(session, incident, who, Channel(name), purpose, now, step_id=step.id)
        if job:
            jobs.append(job)
    return jobs


def _resolve(session: Session, incident: Incident | None, target: dict, now: datetime) -> list[Contactable]:
    """Who a target reaches now; a target that no longer resolves is logged, never fatal."""
    try:
        return resolve_target(session, target, now, account=_account(session, incident) if incident else None)
    except (OnCallConfigError, LookupError, KeyError, ValueError) as exc:
        log_event(session, at=now, actor="system", kind="target_unresolvable",
                  incident_id=incident.id if incident else None, detail={"target": target, "error": str(exc)})
        return []


def _managers(session: Session, now: datetime) -> list[Contactable]:
    return _resolve(session, None, {"type": "managers"}, now)


def _paged_so_far(session: Session, incident: Incident) -> list[Contactable]:
    pages = session.scalars(select(Page).where(Page.incident_id == incident.id, Page.purpose == "page")).all()
    return [Contactable(rep_id=p.rep_id, name=p.name, phone=p.to_number, channels=("sms", "voice"), role=p.role)
            for p in pages]


def _distinct(people: list[Contactable]) -> list[Contactable]:
    seen: set[str] = set()
    out = []
    for who in people:
        if who.phone and who.phone not in seen:
            seen.add(who.phone)
            out.append(who)
    return out


def _account(session: Session, incident: Incident) -> Account | None:
    if incident.ticket_id is None:
        return None
    ticket = session.get(Ticket, incident.ticket_id)
    return session.get(Account, ticket.account_id) if ticket else None


def _callback_placed(session: Session, incident: Incident) -> bool:
    return session.scalar(select(Callback.id).where(
        Callback.incident_id == incident.id, Callback.rep_call_sid != "").limit(1)) is not None


def _self_reported(session: Session, incident: Incident) -> bool:
    return session.scalar(select(Callback.id).where(
        Callback.incident_id == incident.id, Callback.kind == CallbackKind.SELF_REPORTED).limit(1)) is not None
