"""Twilio's status callbacks, applied from what Twilio posted: by their routes at once, or from the spool later.

Twilio does not retry a status callback its webhook failed, and nothing asks Twilio for it afterwards. So a
route that cannot reach the database keeps the callback on disk (``app.webhooks.answer_status``) and the
watchdog's spool replay applies it here once the database is back: the same function either way, once per
delivery (its key, ``app.webhooks.delivery_key``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from app.models.call import ENDED_STATUSES
from app.services import intake
from app.services.callbacks import customer_leg_status, rep_leg_status, short_leg
from app.services.caller_limits import limits_from
from app.services.deliveries import sms_status as delivery_sms_status
from app.services.notices import notice_status
from app.services.page_status import call_status, sms_status
from app.services.unseen_calls import is_unseen_inbound

Fields = Mapping[str, str]
Apply = Callable[[Session, Fields, Fields, datetime, object], None]  # (session, form, query, now, settings)


def _id(query: Fields, name: str) -> int:
    """A numeric id from the callback URL's query (0 when absent or not a number, as the routes read it)."""
    try:
        return int(query.get(name, 0))
    except (TypeError, ValueError):
        return 0


def page_sms(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """SMS delivery status of a page (a failed one turns into a voice page at once) or of a notice."""
    if _id(query, "notice"):
        notice_status(session, _id(query, "notice"), form.get("MessageStatus", ""), form.get("ErrorCode", ""),
                      form.get("MessageSid", ""), now)
        return
    sms_status(session, _id(query, "page"), form.get("MessageStatus", ""), form.get("MessageSid", ""),
               form.get("ErrorCode", ""), now)


def page_call(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of a voice page call; only moves the page forward."""
    call_status(session, _id(query, "page"), form.get("CallStatus", ""), form.get("AnsweredBy", ""),
                form.get("CallSid", ""), now)


def rep_leg(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of the hotline's call to the rep for a bridged callback."""
    rep_leg_status(session, _id(query, "callback"), form.get("CallStatus", ""), now, call_sid=form.get("CallSid", ""))


def customer_leg(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of a callback's customer leg: Twilio's Timestamp of the answer decides met or late."""
    callback_id, status, call_sid = _id(query, "callback"), form.get("CallStatus", ""), form.get("CallSid", "")
    customer_leg_status(session, callback_id, status, form.get("Timestamp", ""), call_sid, now,
                        answered_by=form.get("AnsweredBy", ""))
    # a conversation under the minimum is no callback, whether or not the <Dial action> request ever comes
    short_leg(session, callback_id, status, form.get("CallDuration", ""), call_sid, now)


def update_sms(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Delivery report of a customer update, proposal or reminder SMS."""
    delivery_sms_status(session, _id(query, "delivery"), form.get("MessageStatus", ""), form.get("ErrorCode", ""),
                        now)


def intake_call(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of a call to the hotline: a caller who hung up mid-intake is saved; one whose start was never heard
    of (``unseen_calls``) is a missed call."""
    reported, caller, called = form.get("CallStatus", ""), form.get("From", ""), form.get("To", "")
    intake.end_call(session, call_sid=form.get("CallSid", ""), call_status=reported,
                    duration=form.get("CallDuration", ""), ended=reported in ENDED_STATUSES,
                    policy=intake.policy_from(settings), now=now, limits=limits_from(settings),
                    inbound=is_unseen_inbound(form.get("Direction", ""), caller, called, settings.twilio_number),
                    from_number=caller, to_number=called)


# Every status callback URL the hotline gives Twilio, by path: the routes answer these, the spool replays them.
APPLY: dict[str, Apply] = {
    "/twilio/sms/status": page_sms,
    "/twilio/page/voice/status": page_call,
    "/twilio/bridge/rep-status": rep_leg,
    "/twilio/bridge/customer-status": customer_leg,
    "/twilio/updates/sms-status": update_sms,
    "/twilio/voice/status": intake_call,
}
