"""Whether a rep's phone is on one of the hotline's own calls now: the one rule a voice page consults before it rings.

A phone takes one call. Two kinds of call the hotline placed itself keep a rep's phone busy:

- a bridged callback's rep leg (a CALL, a live bridge to a caller waiting on the line, any incident's): from the
  moment it is requested until its rep leg's end is heard (``callback_rep_leg_status`` with a final status), as long
  as it is in flight (``escalation.IN_FLIGHT_FOR``) or the customer is on the line (``escalation.on_the_line``);
- an earlier page call to the same number: from its claim until its end is heard (a final ``page_status``), at most
  ``PAGE_CALL_BUSY_FOR`` after it was placed.

A voice page to a busy phone is held (its SMS still goes): the escalation core decides so (``PageDue.line_busy``),
``page_verdicts.hold`` keeps it queued, and the end of the call that kept the phone busy releases it
(``release_line``). Before probe O (O1, O2) nothing in the page path looked at the rep's phone: a rep
talking with a customer got two page calls of other incidents mid-conversation, and a manager's phone was dialled
six times in 8 s, the 2nd to 6th calls going to call waiting or voicemail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Callback, CallbackKind, Channel, IncidentEvent, Page, PageStatus
from app.models.call import ENDED_STATUSES
from app.queue import schedule
from app.services.events import log_event

REP_ON_CALL = "rep_on_call"  # the rep is on a bridged callback (or live bridge) the hotline placed
PAGE_CALL = "page_call"  # an earlier page call to the same number is still ringing or being listened to
# An answered page call with no end heard counts as over this long after it was placed: a 30-s ring and the menu
# (the summary, 8 s for a key, the connect) take about a minute; a lost status callback holds the next page no longer.
PAGE_CALL_BUSY_FOR = timedelta(seconds=90)
# A page held for a rep's call is looked at again at least this often: the rep leg's end, if its status callback
# is lost, is seen no later (the callback's own bounds are 10 minutes and an hour).
RECHECK_EVERY = timedelta(seconds=30)
# a page call in one of these is Twilio's (or about to be): it may be ringing the phone now
_CALLING = (PageStatus.SENDING, PageStatus.SENT, PageStatus.RINGING, PageStatus.ANSWERED, PageStatus.MACHINE)
LINE_LOCK_SPACE = 727_001_017  # pg_advisory_xact_lock(space, key): the claims of voice pages to one number take turns


@dataclass(frozen=True)
class Busy:
    """Why a phone is busy with one of our calls, and until when that counts if its end is never heard."""

    why: str  # REP_ON_CALL or PAGE_CALL
    until: datetime
    incident_id: int  # the incident whose call it is
    callback_id: int | None = None  # REP_ON_CALL: the callback
    page_id: int | None = None  # PAGE_CALL: the earlier page call

    def detail(self) -> dict:
        """The log line's words for it (``page_held``)."""
        return {"why": self.why, "busy_incident_id": self.incident_id, "callback_id": self.callback_id,
                **({"page_call_id": self.page_id} if self.page_id is not None else {})}


def lock_line(session: Session, page: Page) -> None:
    """Make this transaction the only claim of a call to ``page``'s number until it ends: two pages to one phone
    claimed at once each saw no call to it and both rang. PostgreSQL: an advisory lock on the number. SQLite: a
    write to the page takes the database's write lock (pysqlite begins the transaction at the first write)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(page.to_number.encode()).digest()[:4], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": LINE_LOCK_SPACE, "key": key})
    else:
        session.execute(update(Page).where(Page.id == page.id).values(updated_at=Page.updated_at)
                        .execution_options(synchronize_session=False))


def line_busy(session: Session, page: Page, now: datetime) -> Busy | None:
    """The call keeping ``page``'s phone busy now (its rep on one of our calls first), or None. Voice pages only."""
    if page.channel != Channel.VOICE:
        return None
    return (rep_on_our_call(session, page.rep_id, now) if page.rep_id is not None else None) \
        or page_call_ringing(session, page, now)


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


def page_call_ringing(session: Session, page: Page, now: datetime) -> Busy | None:
    """The latest other page call to ``page``'s number that Twilio may be ringing, or a person listening to, now
    (claimed or placed within ``PAGE_CALL_BUSY_FOR``, its end not heard); None when there is none."""
    calls = session.scalars(select(Page).where(
        Page.channel == Channel.VOICE, Page.to_number == page.to_number, Page.id != page.id,
        Page.status.in_(_CALLING), Page.updated_at > now - PAGE_CALL_BUSY_FOR).order_by(Page.id.desc()))
    for call in calls:
        placed = call.sent_at or call.sending_since
        if placed is None or placed + PAGE_CALL_BUSY_FOR <= now or call_ended(session, call):
            continue
        return Busy(PAGE_CALL, placed + PAGE_CALL_BUSY_FOR, call.incident_id, page_id=call.id)
    return None


def call_ended(session: Session, call: Page) -> bool:
    """A final status of the page call ``call`` was heard (completed, no answer, busy, failed, canceled)."""
    lines = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == call.incident_id, IncidentEvent.kind == "page_status"))
    return any((d or {}).get("page_id") == call.id and (d or {}).get("status") in ENDED_STATUSES for d in lines)


def hold_until(busy: Busy | None, now: datetime) -> datetime:
    """When a page held for ``busy`` is looked at again: the end of a page call as bounded (its end releases it
    sooner); a rep's call's bound, looked at again every ``RECHECK_EVERY`` meanwhile."""
    if busy is None:
        return now
    return busy.until if busy.why == PAGE_CALL else min(busy.until, now + RECHECK_EVERY)


def release_line(session: Session, now: datetime, *, phone: str = "", rep_id: int | None = None) -> int:
    """The call that kept a phone busy ended: the voice pages held for it (to ``phone``, or to the rep ``rep_id``) are
    looked at now. The first to be claimed rings; the others are held again for that call in turn (``line_busy``),
    and of an incident's held rounds the latest rings (``page_verdicts.newer_held_page``). Returns how many."""
    from app.services.page_verdicts import held_ids  # page_verdicts -> this module

    where = Page.to_number == phone if phone else Page.rep_id == rep_id
    waiting = list(session.scalars(select(Page).where(
        where, Page.channel == Channel.VOICE, Page.status == PageStatus.QUEUED, Page.next_attempt_at > now)
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
