"""Whether a rep's phone is on one of the hotline's own calls now: the one rule a voice page consults before it rings.

A phone takes one call. A call the hotline placed itself keeps a rep's phone busy: a bridged callback's rep leg (a
CALL, a live bridge to a caller waiting on the line, any incident's), from the moment it is requested until its rep
leg's end is heard (``callback_rep_leg_status`` with a final status), as long as it is in flight
(``escalation.IN_FLIGHT_FOR``) or the customer is on the line (``escalation.on_the_line``).

A voice page to a busy phone is held (its SMS still goes): the escalation core decides so (``PageDue.line_busy``),
``page_verdicts.hold`` keeps it queued, and the end of the call that kept the phone busy releases it
(``release_line``). Before probe O (O1) a rep talking with a customer got two page calls of other incidents
mid-conversation. Page calls to one phone are not spaced by each other (probe O, O2): tried in session 45, holding
each voice page while an earlier page call to the number might still ring serialised an outage's pages to one rep,
and the chaos check's 30 incidents in 100 s ended with 15 to 23 level pages still held; a call naming several
incidents at once is what O2 needs, and it is not built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Callback, CallbackKind, Channel, Page, PageStatus
from app.models.call import ENDED_STATUSES
from app.queue import schedule
from app.services.events import log_event

REP_ON_CALL = "rep_on_call"  # the rep is on a bridged callback (or live bridge) the hotline placed
# A page held for a rep's call is looked at again at least this often: the rep leg's end, if its status callback
# is lost, is seen no later (the callback's own bounds are 10 minutes and an hour).
RECHECK_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Busy:
    """Why a phone is busy with one of our calls, and until when that counts if its end is never heard."""

    why: str  # REP_ON_CALL
    until: datetime
    incident_id: int  # the incident whose call it is
    callback_id: int | None = None  # the callback

    def detail(self) -> dict:
        """The log line's words for it (``page_held``)."""
        return {"why": self.why, "busy_incident_id": self.incident_id, "callback_id": self.callback_id}


def line_busy(session: Session, page: Page, now: datetime) -> Busy | None:
    """The call keeping ``page``'s phone busy now (its rep on one of our calls), or None. Voice pages only."""
    if page.channel != Channel.VOICE or page.rep_id is None:
        return None
    return rep_on_our_call(session, page.rep_id, now)


def rep_on_our_call(session: Session, rep_id: int, now: datetime) -> Busy | None:
    """The bridged callback (a CALL or a live bridge, of any incident) the rep is on now: its rep leg not heard
    ending, and in flight or with the customer on the line; None when there is none."""
    from app.services.escalation import IN_FLIGHT_FOR, ON_THE_LINE_FOR, callback_in_flight, on_the_line

    callbacks = session.scalars(select(Callback).where(
        Callback.rep_id == rep_id, Callback.kind == CallbackKind.BRIDGED,
        Callback.requested_at > now - ON_THE_LINE_FOR - IN_FLIGHT_FOR).order_by(Callback.id.desc()))
    for callback in callbacks:
        if callback_in_flight(callback, now):
            until = callback.requested_at + IN_FLIGHT_FOR
        elif on_the_line(callback, now):
            until = callback.answered_at + ON_THE_LINE_FOR
        else:
            continue
        if not _rep_leg_over(session, callback):
            return Busy(REP_ON_CALL, until, callback.incident_id, callback_id=callback.id)
    return None


def _rep_leg_over(session: Session, callback: Callback) -> bool:
    from app.services.callbacks import leg_lines  # callbacks -> decisions -> pages -> page_verdicts -> here

    return any(status in ENDED_STATUSES
               for _, status in leg_lines(session, callback.incident_id, callback.id, EventKind.CALLBACK_REP_LEG_STATUS))


def hold_until(busy: Busy | None, now: datetime) -> datetime:
    """When a page held for ``busy`` is looked at again: a rep's call's bound, looked at again every
    ``RECHECK_EVERY`` meanwhile (the end of the call releases it sooner)."""
    if busy is None:
        return now
    return min(busy.until, now + RECHECK_EVERY)


def release_line(session: Session, now: datetime, *, rep_id: int) -> int:
    """The call that kept a phone busy ended: the voice pages held for it (to the rep ``rep_id``) are
    looked at now. The first to be claimed rings; the others are held again for that call in turn (``line_busy``),
    and of an incident's held rounds the latest rings (``page_verdicts.newer_held_page``). Returns how many."""
    from app.services.page_verdicts import held_ids  # page_verdicts -> this module

    waiting = list(session.scalars(select(Page).where(
        Page.rep_id == rep_id, Page.channel == Channel.VOICE, Page.status == PageStatus.QUEUED, Page.next_attempt_at > now)
        .order_by(Page.id)))
    held = {incident_id: held_ids(session, incident_id) for incident_id in {p.incident_id for p in waiting}}
    released = [page for page in waiting if page.id in held[page.incident_id]]  # not one put off by the rate
    for page in released:
        page.next_attempt_at = now
        page.updated_at = now
        schedule(session, "page", page.id, now, attempt=page.attempts, tag="released")
        log_event(session, at=now, actor="system", kind=EventKind.PAGE_RELEASED, incident_id=page.incident_id,
                  detail={"page_id": page.id, "rep_id": page.rep_id, "why": "line_free"})
    return len(released)
