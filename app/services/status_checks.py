"""Final statuses whose status callbacks never came: asked of Twilio, applied as their callback would have been.

Twilio posts each status callback once. One lost on the way, or posted to a process that died before it
committed, leaves a page SMS, a voice page, a callback's leg, or another SMS (the customer's update or resolution
proposal, a reminder, a notice) without its end for good: an undelivered page SMS would not turn into a voice
page, the board would show a page or an update "sent" for ever, a callback would stay pending, and an undelivered
proposal would count as having reached the customer (their silence would close the incident). So the watchdog
hands each resource that has a Twilio SID and still no final status, some minutes after it should have had one,
to a job (``workers.jobs.check_*_status``, in the slow queue; when: ``status_lookups``) that asks Twilio's REST
API for it by its SID and applies a *final* status through the status callbacks' own code
(``status_callbacks.APPLY``), while the row still waits for it: a status callback that arrives afterwards, once
or twice, moves nothing, by the same forward-only rules as any late callback.

A status that is not final (queued, sent, ringing, in-progress) is never applied: it proves no end, and the
resource is asked again at its next time. One exception, which proves what it applies: a callback's customer leg
Twilio says is in progress, on which the customer pressed the key, is counted at the key press while the call
goes on (``callbacks.leg_in_progress``), as its end would count it. Each ask is logged (``status_asked``) before
Twilio is asked, so an ask cut short by a dying process still counts; a resource is asked at most once per entry
of its schedule. Twilio failing the lookup (a 5xx, a 429, a time-out, a 404) is logged and asked again at the next
time.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from email.utils import format_datetime

from sqlalchemy import select

from app.event_kind import EventKind
from app.models import (
    Callback,
    CallbackKind,
    CallbackOutcome,
    Channel,
    Delivery,
    DeliveryChannel,
    Notice,
    NoticeStatus,
    Page,
    UpdateDeliveryStatus,
)
from app.models.call import ENDED_STATUSES
from app.services.callbacks import leg_in_progress
from app.services.events import log_event
from app.services.row_locks import lock_callback
from app.services.status_callbacks import APPLY
from app.services.status_lookups import (
    CALL_ASKS,
    CALLBACKS,
    DELIVERIES,
    LEG_ASKS,
    MESSAGE_ASKS,
    NOTICES,
    PAGES,
    SMS_ASKS,
    WAITING_PAGE,
    Kind,
    claim_ask,
)
from app.telephony.protocol import Reported, TelephonyError

log = logging.getLogger(__name__)
_NUMBERS = re.compile(r"\+?\d[\d ()-]{5,}\d")  # phone numbers never reach the logs

SMS_FINAL = frozenset({"delivered", "failed", "undelivered"})  # a message's statuses that nothing follows
SMS_PATH, CALL_PATH = "/twilio/sms/status", "/twilio/page/voice/status"
REP_LEG_PATH, CUSTOMER_LEG_PATH = "/twilio/bridge/rep-status", "/twilio/bridge/customer-status"
UPDATE_SMS_PATH = "/twilio/updates/sms-status"


def check_page(db, telephony, settings, page_id: int, now: datetime) -> None:
    """Ask Twilio for page ``page_id``'s status if its end is overdue; apply it as its status callback if final."""
    with db.transaction() as session:
        page = session.get(Page, page_id, with_for_update=True)
        if page is None or page.status not in WAITING_PAGE or not page.twilio_sid or page.sent_at is None:
            return
        sid, sms = page.twilio_sid, page.channel == Channel.SMS
        if not _claim(session, PAGES, page.id, page.incident_id, sid, page.sent_at, SMS_ASKS if sms else CALL_ASKS,
                      now):
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
        if page.status in WAITING_PAGE and page.twilio_sid == sid:  # else its status callback came meanwhile
            APPLY[path](session, form, {"page": str(page_id)}, now, settings)


def check_delivery(db, telephony, settings, delivery_id: int, now: datetime) -> None:
    """Ask Twilio for SMS delivery ``delivery_id``'s status if its report is overdue; apply it if final."""
    with db.transaction() as session:
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None or not _delivery_waiting(delivery):
            return
        sid = delivery.provider_id
        if not _claim(session, DELIVERIES, delivery.id, delivery.incident_id, sid, delivery.sent_at, MESSAGE_ASKS,
                      now):
            return
    reported = _ask(telephony.fetch_sms, sid, f"delivery {delivery_id}")
    if reported is None or reported.status not in SMS_FINAL:
        return
    with db.transaction() as session:
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if _delivery_waiting(delivery) and delivery.provider_id == sid:  # else its report came meanwhile
            APPLY[UPDATE_SMS_PATH](session, {"MessageSid": sid, "MessageStatus": reported.status,
                                             "ErrorCode": reported.error_code}, {"delivery": str(delivery_id)}, now,
                                   settings)


def check_notice(db, telephony, settings, notice_id: int, now: datetime) -> None:
    """Ask Twilio for notice ``notice_id``'s status if its delivery report is overdue; apply it if final."""
    with db.transaction() as session:
        notice = session.get(Notice, notice_id, with_for_update=True)
        if notice is None or notice.status != NoticeStatus.SENT or not notice.twilio_sid or notice.sent_at is None:
            return
        sid = notice.twilio_sid
        if not _claim(session, NOTICES, notice.id, None, sid, notice.sent_at, MESSAGE_ASKS, now):
            return
    reported = _ask(telephony.fetch_sms, sid, f"notice {notice_id}")
    if reported is None or reported.status not in SMS_FINAL:
        return
    with db.transaction() as session:
        notice = session.get(Notice, notice_id, with_for_update=True)
        if notice.status == NoticeStatus.SENT and notice.twilio_sid == sid:  # else its report came meanwhile
            APPLY[SMS_PATH](session, {"MessageSid": sid, "MessageStatus": reported.status,
                                      "ErrorCode": reported.error_code}, {"notice": str(notice_id)}, now, settings)


def check_callback(db, telephony, settings, callback_id: int, now: datetime) -> None:
    """Ask Twilio for the legs of pending callback ``callback_id`` if their end is overdue; apply a final one.

    The customer's leg when the hotline knows it; else the call the rep's leg's ``<Dial>`` placed, if Twilio
    lists one (its customer leg, whose callbacks were lost too); else the rep's leg itself. Only with no child
    call at all does the rep's leg's end say that nobody was dialled. A retry placed on the rep's call (the rep
    pressed 1) shares it: a child call another callback on it already names is that callback's leg, never this one's
    (the first try's busy leg was taken for the retry's). A customer's leg still in progress counts only if the
    customer pressed the key (``callbacks.leg_in_progress``).
    """
    with db.transaction() as session:
        callback = lock_callback(session, callback_id)[0]
        if callback is None or not _leg_waiting(callback):
            return
        rep_sid, customer_sid = callback.rep_call_sid, callback.customer_call_sid
        others = set(session.scalars(select(Callback.customer_call_sid).where(
            Callback.rep_call_sid == rep_sid, Callback.id != callback.id, Callback.customer_call_sid != ""))) \
            if rep_sid and not customer_sid else set()
        if not _claim(session, CALLBACKS, callback.id, callback.incident_id, customer_sid or rep_sid,
                      callback.placed_at, LEG_ASKS, now):
            return
    what = f"callback {callback_id}"
    if customer_sid:
        path, leg = CUSTOMER_LEG_PATH, _ask(telephony.fetch_call, customer_sid, what)
    else:
        children = _ask(telephony.child_calls, rep_sid, what)
        if children is None:
            return
        children = [child for child in children if child.sid not in others]
        path, leg = (CUSTOMER_LEG_PATH, children[0]) if children else (REP_LEG_PATH,
                                                                       _ask(telephony.fetch_call, rep_sid, what))
    if leg is None or (leg.status not in ENDED_STATUSES and not (path == CUSTOMER_LEG_PATH
                                                                 and leg.status == "in-progress")):
        return
    with db.transaction() as session:
        callback = lock_callback(session, callback_id)[0]
        if not _leg_waiting(callback):  # a status callback (or the bridge) settled it meanwhile
            return
        if leg.status == "in-progress":
            leg_in_progress(session, callback_id, leg.sid, now)
            return
        form = {"CallSid": leg.sid, "CallStatus": leg.status, "AnsweredBy": leg.answered_by,
                "Timestamp": format_datetime(leg.ended_at) if leg.ended_at else ""}
        APPLY[path](session, form, {"callback": str(callback_id)}, now, settings)


def _delivery_waiting(delivery: Delivery) -> bool:
    return (delivery.channel == DeliveryChannel.SMS and delivery.status == UpdateDeliveryStatus.SENT and bool(delivery.provider_id)
            and delivery.sent_at is not None)


def _leg_waiting(callback: Callback) -> bool:
    return (callback.kind == CallbackKind.BRIDGED and callback.outcome == CallbackOutcome.PENDING
            and bool(callback.rep_call_sid or callback.customer_call_sid) and callback.placed_at is not None)


def _claim(session, kind: Kind, target_id: int, incident_id: int | None, sid: str, start: datetime,
           schedule, now: datetime) -> bool:
    """Count and log the next ask (in the row-locked transaction) when it has come; False when it has not."""
    ask = claim_ask(session, kind, target_id, start, schedule, now)
    if ask is None:
        return False
    log_event(session, at=now, actor="system", kind=EventKind.STATUS_ASKED, incident_id=incident_id,
              detail={kind.key: target_id, "sid": sid, "ask": ask})
    return True


def _ask(fetch, sid: str, what: str) -> Reported | list[Reported] | None:
    """``fetch(sid)``; None (logged, asked again at the next time) when Twilio fails it."""
    try:
        return fetch(sid)
    except TelephonyError as exc:
        log.warning("could not ask Twilio for the status of %s (%s): %s: %s; asked again later", what, sid,
                    type(exc).__name__, _NUMBERS.sub("<number>", str(exc)[:200]))
        return None
