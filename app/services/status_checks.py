"""Final statuses whose status callbacks never came: asked of Twilio, applied as their callback would have been.

Twilio posts each status callback once. One lost on the way, or posted to a process that died before it
committed, leaves a page SMS, a voice page or a callback's leg without its end for good: an undelivered page
SMS would not turn into a voice page, the board would show a page "sent" for ever, a callback would stay
pending. So the watchdog hands each resource that has a Twilio SID and still no final status, some minutes
after it should have had one, to a job (``workers.jobs.check_page_status`` / ``check_callback_status``, in
the slow queue) that asks Twilio's REST API for it by its SID and applies a *final* status through the status
callbacks' own code (``status_callbacks.APPLY``), while the row still waits for it: a status callback that
arrives afterwards, once or twice, moves nothing, by the same forward-only rules as any late callback.

A status that is not final (queued, sent, ringing, in-progress) is never applied: it proves no end, and the
resource is asked again at its next time. Each ask is logged (``status_asked``) before Twilio is asked, so an
ask cut short by a dying process still counts; a resource is asked at most once per entry of its schedule.
Twilio failing the lookup (a 5xx, a 429, a time-out, a 404) is logged and asked again at the next time.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Callback, CallbackKind, CallbackOutcome, Channel, IncidentEvent, Page, PageStatus
from app.models.call import ENDED_STATUSES
from app.queue import PendingJob
from app.services.events import log_event
from app.services.status_callbacks import APPLY
from app.telephony.protocol import Reported, Telephony, TelephonyError

log = logging.getLogger(__name__)
_NUMBERS = re.compile(r"\+?\d[\d ()-]{5,}\d")  # phone numbers never reach the logs

# When each resource is asked, from when Twilio accepted it. A page SMS: its delivery report comes within
# seconds, and after its validity (``pages.SMS_VALIDITY_SECONDS``, 10 min) Twilio has failed one still queued.
SMS_ASKS = (timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=12))
# A voice page: the ring time-out (``place_call``'s 30 s) and a margin, then an answered call's length.
CALL_ASKS = (timedelta(seconds=90), timedelta(minutes=3), timedelta(minutes=10), timedelta(minutes=30))
# A callback's legs (from when the rep's call was placed): a bridged call may last long.
LEG_ASKS = (timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=30),
            timedelta(minutes=60))
MIN_GAP = timedelta(minutes=1)  # between two asks of one resource (a watchdog that was down asks once, not in a burst)
HORIZON = timedelta(hours=2)  # a resource accepted longer ago is no longer looked at
PER_PASS = 20  # lookups one watchdog pass hands over (the rest at the next pass)

SMS_FINAL = frozenset({"delivered", "failed", "undelivered"})  # a message's statuses that nothing follows
WAITING = (PageStatus.SENT, PageStatus.RINGING)  # a page accepted by Twilio whose end is not known
SMS_PATH, CALL_PATH = "/twilio/sms/status", "/twilio/page/voice/status"
REP_LEG_PATH, CUSTOMER_LEG_PATH = "/twilio/bridge/rep-status", "/twilio/bridge/customer-status"


def due_status_checks(session: Session, now: datetime) -> list[PendingJob]:
    """The pages and callbacks whose final status is overdue and whose next ask has come: for the watchdog."""
    first = min(SMS_ASKS[0], CALL_ASKS[0])
    pages = session.execute(select(Page.id, Page.incident_id, Page.channel, Page.sent_at).where(
        Page.status.in_(WAITING), Page.twilio_sid != "", Page.sent_at <= now - first, Page.sent_at > now - HORIZON)
        .order_by(Page.sent_at.desc()).limit(PER_PASS * 5)).all()
    callbacks = session.execute(select(Callback.id, Callback.incident_id, Callback.placed_at).where(
        *_leg_waits(), Callback.placed_at <= now - LEG_ASKS[0], Callback.placed_at > now - HORIZON)
        .order_by(Callback.placed_at.desc()).limit(PER_PASS * 5)).all()
    asked_pages = _asked(session, "page_id", {row.incident_id for row in pages})
    asked_legs = _asked(session, "callback_id", {row.incident_id for row in callbacks})
    jobs = [PendingJob("page_status", row.id, now, attempt=len(asked_pages[row.id]) + 1) for row in pages
            if _due(row.sent_at, _schedule(row.channel), asked_pages[row.id], now)]
    jobs += [PendingJob("callback_status", row.id, now, attempt=len(asked_legs[row.id]) + 1) for row in callbacks
             if _due(row.placed_at, LEG_ASKS, asked_legs[row.id], now)]
    return jobs[:PER_PASS]


def check_page(db, telephony: Telephony, settings, page_id: int, now: datetime) -> None:
    """Ask Twilio for page ``page_id``'s status if its end is overdue; apply it as its status callback if final."""
    with db.transaction() as session:
        page = session.get(Page, page_id, with_for_update=True)
        if page is None or page.status not in WAITING or not page.twilio_sid:
            return
        sid, sms = page.twilio_sid, page.channel == Channel.SMS
        if not _claim(session, page.incident_id, "page_id", page.id, sid, page.sent_at, _schedule(page.channel), now):
            return
    reported = _ask(telephony.fetch_sms if sms else telephony.fetch_call, sid, f"page {page_id}")
    if reported is None or reported.status not in (SMS_FINAL if sms else ENDED_STATUSES):
        return
    if sms:
        path, form = SMS_PATH, {"MessageSid": sid, "MessageStatus": reported.status, "ErrorCode": reported.error_code}
    else:
        path, form = CALL_PATH, {"CallSid": sid, "CallStatus": reported.status, "AnsweredBy": reported.answered_by}
    with db.transaction() as session:
        page = session.get(Page, page_id, with_for_update=True)
        if page.status in WAITING and page.twilio_sid == sid:  # else its status callback came meanwhile
            APPLY[path](session, form, {"page": str(page_id)}, now, settings)


def check_callback(db, telephony: Telephony, settings, callback_id: int, now: datetime) -> None:
    """Ask Twilio for the legs of pending callback ``callback_id`` if their end is overdue; apply a final one.

    The customer's leg when the hotline knows it; else the call the rep's leg's ``<Dial>`` placed, if Twilio
    lists one (its customer leg, whose callbacks were lost too); else the rep's leg itself. Only with no child
    call at all does the rep's leg's end say that nobody was dialled.
    """
    with db.transaction() as session:
        callback = session.get(Callback, callback_id, with_for_update=True)
        if callback is None or not _leg_waiting(callback):
            return
        rep_sid, customer_sid = callback.rep_call_sid, callback.customer_call_sid
        if not _claim(session, callback.incident_id, "callback_id", callback.id, customer_sid or rep_sid,
                      callback.placed_at, LEG_ASKS, now):
            return
    what = f"callback {callback_id}"
    if customer_sid:
        path, leg = CUSTOMER_LEG_PATH, _ask(telephony.fetch_call, customer_sid, what)
    else:
        children = _ask(telephony.child_calls, rep_sid, what)
        if children is None:
            return
        path, leg = (CUSTOMER_LEG_PATH, children[0]) if children else (REP_LEG_PATH,
                                                                       _ask(telephony.fetch_call, rep_sid, what))
    if leg is None or leg.status not in ENDED_STATUSES:
        return
    form = {"CallSid": leg.sid, "CallStatus": leg.status, "AnsweredBy": leg.answered_by,
            "Timestamp": format_datetime(leg.ended_at) if leg.ended_at else ""}
    with db.transaction() as session:
        callback = session.get(Callback, callback_id, with_for_update=True)
        if _leg_waiting(callback):  # else a status callback (or the bridge) settled it meanwhile
            APPLY[path](session, form, {"callback": str(callback_id)}, now, settings)


def _schedule(channel: str) -> tuple[timedelta, ...]:
    return SMS_ASKS if channel == Channel.SMS else CALL_ASKS


def _leg_waits() -> tuple:
    """A bridged callback still pending whose rep's call (or customer's) Twilio has: its end is awaited."""
    return (Callback.kind == CallbackKind.BRIDGED, Callback.outcome == CallbackOutcome.PENDING,
            or_(Callback.rep_call_sid != "", Callback.customer_call_sid != ""))


def _leg_waiting(callback: Callback) -> bool:
    return (callback.kind == CallbackKind.BRIDGED and callback.outcome == CallbackOutcome.PENDING
            and bool(callback.rep_call_sid or callback.customer_call_sid) and callback.placed_at is not None)


def _due(start: datetime, schedule: tuple[timedelta, ...], asked: list[datetime], now: datetime) -> bool:
    """Whether the next ask of a resource accepted at ``start`` and asked at ``asked`` has come."""
    n = len(asked)
    return n < len(schedule) and now >= start + schedule[n] and (not asked or now >= max(asked) + MIN_GAP)


def _asked(session: Session, key: str, incident_ids: Iterable[int]) -> defaultdict[int, list[datetime]]:
    """When each page or callback (``key``: the detail naming it) of these incidents was asked of Twilio."""
    asked: defaultdict[int, list[datetime]] = defaultdict(list)
    ids = list(incident_ids)
    if not ids:
        return asked
    for detail, at in session.execute(select(IncidentEvent.detail, IncidentEvent.at).where(
            IncidentEvent.incident_id.in_(ids), IncidentEvent.kind == EventKind.STATUS_ASKED)):
        if isinstance(detail, dict) and isinstance(detail.get(key), int):
            asked[detail[key]].append(at)
    return asked


def _claim(session: Session, incident_id: int, key: str, target_id: int, sid: str, start: datetime,
           schedule: tuple[timedelta, ...], now: datetime) -> bool:
    """Log the next ask (in the row-locked transaction) when it has come; False when it has not."""
    asked = _asked(session, key, [incident_id])[target_id]
    if not _due(start, schedule, asked, now):
        return False
    log_event(session, at=now, actor="system", kind=EventKind.STATUS_ASKED, incident_id=incident_id,
              detail={key: target_id, "sid": sid, "ask": len(asked) + 1})
    return True


def _ask(fetch, sid: str, what: str) -> Reported | list[Reported] | None:
    """``fetch(sid)``; None (logged, asked again at the next time) when Twilio fails it."""
    try:
        return fetch(sid)
    except TelephonyError as exc:
        log.warning("could not ask Twilio for the status of %s (%s): %s: %s; asked again later", what, sid,
                    type(exc).__name__, _NUMBERS.sub("<number>", str(exc)[:200]))
        return None
