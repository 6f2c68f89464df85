"""A queued page about to leave, put to the escalation core (``PageDue``): send it, hold it, or cancel it.

Holding a voice page while its rep's phone is on one of our calls (this or another incident's bridged callback,
a live bridge, an earlier page call to the number: ``busy_lines``; call waiting would ring into it) and releasing it
the moment that call ends; of the calls held over several repage rounds
only the latest rings, the others are superseded by it (never sent); of a rep's chasing pages that waited while
Twilio failed, only the latest round's goes on each channel; a page to a rep deactivated since it was queued is never
sent, and its level is paged again at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.escalation import Decision, PageDue, decide
from app.escalation.decide import SUPERSEDED_BY
from app.event_kind import EventKind
from app.models import Callback, Channel, DueStep, Incident, IncidentEvent, Page, PageStatus, Rep, StepKind
from app.models.paging import CUSTOMER_ROLE, OUTCOME_UNKNOWN, SUPERSEDED, SUPERSEDED_BY_ROUND, outcome_unknown
from app.queue import schedule
from app.services.busy_lines import Busy, hold_until, line_busy
from app.services.events import log_event
from app.services.sms_opt_outs import is_opted_out

log = logging.getLogger(__name__)


def verdict(session: Session, page: Page, incident: Incident, now: datetime) -> Decision | None:
    """The core's word on a page to a rep about to be sent; None for a page to someone who is no rep."""
    from app.services.escalation import snapshot  # escalation -> this module (held_pages)

    if page.rep_id is None:
        return None
    rep = session.get(Rep, page.rep_id)
    busy = line_busy(session, page, now)
    due = PageDue(channel=str(page.channel), purpose=page.purpose, rep_id=page.rep_id,
                  rep_active=rep is None or rep.active, newer_held_page=newer_held_page(session, page) is not None,
                  newer_round_page=newer_round_page(session, page, incident) is not None,
                  last_call_at=last_call_at(session, page),
                  line_busy=busy.why if busy is not None else "")
    return decide(due, snapshot(session, incident, now), now)


def last_call_at(session: Session, page: Page) -> datetime | None:
    """For a call: when the latest other call of its incident to the same rep or number actually left (Twilio took
    it: ``sent_at``; or a run is placing it now: ``sending_since``); None for none, or for an SMS. A call that
    ended FAILED (Twilio could not place it; or ``canceled``, which the hotline never asks) rang nobody: the call to
    the rep's other number that follows it is not spaced from it."""
    if page.channel != Channel.VOICE:
        return None
    others = session.execute(select(Page.sent_at, Page.sending_since, Page.status).where(
        Page.incident_id == page.incident_id, Page.id != page.id, Page.channel == Channel.VOICE,
        (Page.rep_id == page.rep_id) | (Page.to_number == page.to_number), Page.status != PageStatus.FAILED,
        Page.sent_at.is_not(None) | (Page.status == PageStatus.SENDING)))
    times = [sent_at or sending_since for sent_at, sending_since, _status in others if sent_at or sending_since]
    return max(times) if times else None


# a later held call in one of these never rang and never will: it supersedes nothing (a duplicate beats a miss)
_UNSENT_ENDS = (PageStatus.CANCELED, PageStatus.FAILED, PageStatus.UNDELIVERED)


def newer_held_page(session: Session, page: Page) -> Page | None:
    """For a held voice page: the latest page held after it (a later round) calling the same rep or number, still
    going or gone; None when there is none (or ``page`` was never held, or is no call)."""
    if page.channel != Channel.VOICE:
        return None
    held = held_ids(session, page.incident_id)
    if page.id not in held:
        return None
    return session.scalars(select(Page).where(
        Page.incident_id == page.incident_id, Page.id.in_(held), Page.id > page.id, Page.channel == Channel.VOICE,
        (Page.rep_id == page.rep_id) | (Page.to_number == page.to_number), Page.status.not_in(_UNSENT_ENDS))
        .order_by(Page.id.desc()).limit(1)).first()


def newer_round_page(session: Session, page: Page, incident: Incident) -> Page | None:
    """For a page to a rep: the latest later page of the incident that carries all it tells (``SUPERSEDED_BY``) to
    the same rep or number on the same channel that has gone, or will go (queued or sending, still wanted, not to a number that texted STOP); None when
    there is none. A later page that will not go supersedes nothing: the earlier one is still the rep's page."""
    later = session.scalars(select(Page).where(
        Page.incident_id == page.incident_id, Page.id > page.id, Page.channel == page.channel,
        Page.purpose.in_(SUPERSEDED_BY.get(page.purpose, ())), Page.role != CUSTOMER_ROLE,
        (Page.rep_id == page.rep_id) | (Page.to_number == page.to_number), Page.status.not_in(_UNSENT_ENDS))
        .order_by(Page.id.desc()))
    for newer in later:
        if newer.status not in (PageStatus.QUEUED, PageStatus.SENDING) or _will_go(session, newer, incident):
            return newer
    return None


def _will_go(session: Session, page: Page, incident: Incident) -> bool:
    """A page waiting to be (re)sent is still to go: wanted, to an active rep, not an SMS to a number that texted
    STOP (the checks its own claim makes first; its Twilio outcome is for Twilio to say)."""
    from app.services.pages import no_longer_wanted  # pages -> this module (verdict)

    rep = session.get(Rep, page.rep_id) if page.rep_id is not None else None
    if no_longer_wanted(page, incident) or (rep is not None and not rep.active):
        return False
    return not (page.channel == Channel.SMS and is_opted_out(session, page.to_number))


def supersede(session: Session, page: Page, now: datetime, incident: Incident, uncertain: bool = False) -> None:
    """A page the core found superseded (a held call by a later held call to the same rep; a chasing page by a later
    round's page to them on its channel): never sent, and said so.

    ``uncertain``: an earlier attempt's outcome was unknown, and stays so (never "not sent" then)."""
    newer, why = newer_held_page(session, page), SUPERSEDED
    if newer is None:
        newer, why = newer_round_page(session, page, incident), SUPERSEDED_BY_ROUND
    by = f"{why} (page {newer.id})" if newer is not None else why
    page.status = PageStatus.CANCELED
    page.last_error = (f"{page.last_error}; then {by}" if uncertain and outcome_unknown(page.last_error) else by)[:500]
    page.updated_at = now
    detail = {"page_id": page.id, "superseded_by": newer.id if newer is not None else None, "rep_id": page.rep_id}
    if why == SUPERSEDED_BY_ROUND:  # new in session 34: lines without it are held calls
        detail.update(why="later_round", later_purpose=newer.purpose if newer is not None else None)
    if uncertain:
        detail["earlier_attempt"] = "outcome_unknown"
    log_event(session, at=now, actor="system", kind=EventKind.PAGE_NOT_SENT_SUPERSEDED, incident_id=page.incident_id,
              detail=detail)


SPACED_FROM_LAST_CALL = "spaced_from_last_call"  # a ``page_held`` line's ``why``: not held for a callback


def hold(session: Session, page: Page, incident: Incident, now: datetime, first: bool = False,
         uncertain: bool = False, until: datetime | None = None) -> None:
    """Keep ``page`` queued, untried, while its rep's phone is on one of our calls (``busy_lines.line_busy``), or,
    with ``until`` (``Decision.hold_until``: the rep's previous call of this incident left moments ago), until then.

    Held for this incident's own callback in flight: until it counts as over even if its end is never heard of
    (``IN_FLIGHT_FOR``); that end releases it sooner (``release_held``). Held for another call of ours (another
    incident's callback, an earlier page call): until ``busy_lines.hold_until``; the end of that call releases it
    sooner (``busy_lines.release_line``). A job for that time is registered; the line is written once per page and
    reason (a page looked at again every 30 s while a rep talks writes no line each time)."""
    from app.services.escalation import IN_FLIGHT_FOR, callbacks_in_flight

    callback: Callback | None = None
    busy = None
    spaced = until is not None
    if until is None:
        theirs = [c for c in callbacks_in_flight(session, incident, now) if c.rep_id == page.rep_id]
        callback = theirs[0] if theirs else None
        busy = None if callback is not None else line_busy(session, page, now)
        until = callback.requested_at + IN_FLIGHT_FOR if callback is not None else hold_until(busy, now)
    if uncertain and not outcome_unknown(page.last_error):  # a dead run's attempt may have rung: never "not sent"
        page.last_error = f"{OUTCOME_UNKNOWN}: the run sending attempt {page.attempts} died mid-request"
    page.status = PageStatus.QUEUED
    page.next_attempt_at = until
    page.updated_at = now
    schedule(session, "page", page.id, until, attempt=page.attempts, tag="held", first=first)
    detail = {"page_id": page.id, "rep_id": page.rep_id, "until": until.isoformat(),
              "callback_id": callback.id if callback is not None else None}
    if spaced:
        detail |= {"why": SPACED_FROM_LAST_CALL}
    if busy is not None:  # new with probe O (O1, O2): lines without "why" are holds for the incident's own callback
        detail |= busy.detail() | {"other_incident": busy.incident_id != page.incident_id}
        if _said_held(session, page, busy):
            return
        log.info("voice page %s of incident %s held: the rep is on a callback of incident %s; looked at again at %s",
                 page.id, page.incident_id, busy.incident_id, until.isoformat())
    log_event(session, at=now, actor="system", kind=EventKind.PAGE_HELD, incident_id=page.incident_id, detail=detail)


def _said_held(session: Session, page: Page, busy: Busy) -> bool:
    """The page's latest hold line names the same call keeping its phone busy: it is not written again."""
    lines = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == page.incident_id, IncidentEvent.kind == EventKind.PAGE_HELD)
        .order_by(IncidentEvent.id.desc()))
    last = next((d for d in lines if (d or {}).get("page_id") == page.id), None) or {}
    return (last.get("why"), last.get("callback_id")) == (busy.why, busy.callback_id)


def held_pages(session: Session, incident_id: int, now: datetime) -> list[Page]:
    """Pages of the incident held for a callback and not yet released (still queued for later)."""
    ids = held_ids(session, incident_id)
    if not ids:
        return []
    return list(session.scalars(select(Page).where(
        Page.id.in_(ids), Page.status == PageStatus.QUEUED, Page.next_attempt_at > now).order_by(Page.id)))


def held_ids(session: Session, incident_id: int) -> set[int]:
    """The ids of the incident's pages ever held for a callback (its ``page_held`` lines)."""
    ids = {(event.detail or {}).get("page_id") for event in session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident_id, IncidentEvent.kind == EventKind.PAGE_HELD))}
    return {i for i in ids if isinstance(i, int)}


def release_held(session: Session, incident: Incident, now: datetime) -> int:
    """The callback ended: every page held for it goes at once (a page no longer wanted is canceled as it goes)."""
    released = held_pages(session, incident.id, now)
    for page in released:
        page.next_attempt_at = now
        page.updated_at = now
        schedule(session, "page", page.id, now, attempt=page.attempts, tag="released")
        log_event(session, at=now, actor="system", kind=EventKind.PAGE_RELEASED, incident_id=incident.id,
                  detail={"page_id": page.id, "rep_id": page.rep_id})
    return len(released)


def page_level_again(session: Session, incident: Incident, page: Page, now: datetime) -> None:
    """A level's page was canceled unsent (its rep deactivated): the level is paged again now, as its step
    would be (who is on call there now; nobody: the managers at once). Pages already written for the step
    are not written twice."""
    from app.services.escalation_steps import run_due_step  # escalation_steps -> decisions -> pages -> here

    step = session.get(DueStep, page.step_id) if page.step_id is not None else None
    if step is None or step.kind != StepKind.PAGE:
        return
    outcome = run_due_step(session, incident, step, now)
    log_event(session, at=now, actor="system", kind=EventKind.STEP_PAGE, incident_id=incident.id,
              detail={"step_id": step.id, "level": step.level, "outcome": outcome, "due_at": now.isoformat(),
                      "lateness_seconds": 0, "after_page_id": page.id, "reason": "rep_deactivated"})
