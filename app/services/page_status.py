"""Status callbacks of pages (SMS delivery reports, page calls): forward-only, per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Channel, Page, PageStatus
from app.models.call import ENDED_STATUSES
from app.services.callbacks import page_call_ended
from app.services.events import log_event
from app.services.pages import adopt_sid, answer_page_failure, move_status
from app.services.sms_opt_outs import record_opt_out
from app.telephony.protocol import UNSUBSCRIBED_RECIPIENT, is_machine

SMS_STATUS = {"accepted": PageStatus.SENT, "queued": PageStatus.SENT, "sending": PageStatus.SENT,
              "sent": PageStatus.SENT, "delivered": PageStatus.DELIVERED, "failed": PageStatus.FAILED,
              "undelivered": PageStatus.UNDELIVERED}
CALL_STATUS = {"queued": PageStatus.SENT, "initiated": PageStatus.SENT, "ringing": PageStatus.RINGING,
               "in-progress": PageStatus.ANSWERED, "answered": PageStatus.ANSWERED, "no-answer": PageStatus.NO_ANSWER,
               "busy": PageStatus.BUSY, "failed": PageStatus.FAILED, "canceled": PageStatus.FAILED,
               "completed": PageStatus.ANSWERED}  # Twilio: completed = answered, then hung up


def sms_status(session: Session, page_id: int, reported: str, message_sid: str, error_code: str,
               now: datetime) -> Page | None:
    """Apply an SMS delivery report; a page SMS that failed turns into a voice page at once (a missed-call SMS that
    had held back later attempts' SMS is sent anew, a customer's receipt SMS is followed by the e-mail receipt:
    ``pages.answer_page_failure``)."""
    page = session.get(Page, page_id, with_for_update=True) if page_id else None
    if page is None:
        log_event(session, at=now, actor="twilio", kind="sms_status_unmatched",
                  detail={"message_sid": message_sid, "status": reported})
        return None
    new = SMS_STATUS.get(reported)
    if new:
        adopt_sid(session, page, message_sid, now)
    moved = bool(new) and move_status(page, new, now)
    log_event(session, at=now, actor="twilio", kind="page_status", incident_id=page.incident_id,
              detail={"page_id": page.id, "channel": "sms", "status": reported, "applied": moved,
                      "error_code": error_code})
    if moved and new in (PageStatus.FAILED, PageStatus.UNDELIVERED):
        if error_code.strip() == str(UNSUBSCRIBED_RECIPIENT):  # the number texted STOP: no later SMS is tried
            record_opt_out(session, page.to_number, now, source="twilio_21610")
        answer_page_failure(session, page, now, error_code=error_code.strip())
    return page


def call_status(session: Session, page_id: int, reported: str, answered_by: str, call_sid: str,
                now: datetime) -> Page | None:
    """Apply a page call's status callback; only moves the page forward."""
    page = session.get(Page, page_id, with_for_update=True)
    if page is None:
        return None
    new = PageStatus.MACHINE if is_machine(answered_by) else CALL_STATUS.get(reported)
    if new:
        adopt_sid(session, page, call_sid, now)
    moved = bool(new) and move_status(page, new, now)
    log_event(session, at=now, actor="twilio", kind="page_status", incident_id=page.incident_id,
              detail={"page_id": page.id, "channel": "voice", "status": reported, "applied": moved})
    if moved and reported == "failed":  # Twilio could not place it: the level may have reached nobody
        answer_page_failure(session, page, now)
    if reported in ENDED_STATUSES:  # a rep who pressed 2 and hung up before the customer leg: not in flight
        page_call_ended(session, call_sid or page.twilio_sid, reported, now)
    return page


def page_call_answered(session: Session, page: Page, answered_by: str, now: datetime) -> bool:
    """Twilio fetched a page call's TwiML: True for a person, False for a machine (logged, not an acknowledgement)."""
    if is_machine(answered_by):
        move_status(page, PageStatus.MACHINE, now)
        log_event(session, at=now, actor="twilio", kind="page_reached_machine", incident_id=page.incident_id,
                  detail={"page_id": page.id, "answered_by": answered_by})
        return False
    move_status(page, PageStatus.ANSWERED, now)
    return True


TEXTED = (PageStatus.SENT, PageStatus.DELIVERED)  # Twilio took the SMS and reported no failure of it


def written_copy(session: Session, page: Page) -> PageStatus | None:
    """The status of the SMS that carries what the call ``page`` says: the newest one to the same number for the same
    incident and purpose, written with the call or before it (a level's SMS, or the SMS whose failure placed the
    call); None when there is none (a voice-only level to someone never texted for it). A call's words point to
    that SMS only while it is ``TEXTED``: an outside probe's rep, called because her at-risk SMS was undelivered, had
    her voicemail told to "reply to the text message, or open the link in it"."""
    return session.scalar(select(Page.status).where(
        Page.incident_id == page.incident_id, Page.to_number == page.to_number, Page.channel == Channel.SMS,
        Page.purpose == page.purpose, Page.created_at <= page.created_at, Page.id != page.id)
        .order_by(Page.created_at.desc(), Page.id.desc()).limit(1))
