"""Status callbacks of pages (SMS delivery reports, page calls): forward-only, per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Channel, IncidentEvent, Page, PageStatus
from app.models.call import ENDED_STATUSES
from app.services.callbacks import page_call_ended
from app.services.events import log_event
from app.services.pages import adopt_sid, answer_page_failure, move_status
from app.services.sms_opt_outs import record_opt_out
from app.telephony.protocol import UNSUBSCRIBED_RECIPIENT, is_machine, message_left

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
    duplicate = duplicate_call(session, page, call_sid, reported, now)
    if new and not duplicate:
        adopt_sid(session, page, call_sid, now)
    moved = bool(new) and not duplicate and move_status(page, new, now)
    detail = {"page_id": page.id, "channel": "voice", "status": reported, "applied": moved, "call_sid": call_sid}
    log_event(session, at=now, actor="twilio", kind="page_status", incident_id=page.incident_id,
              detail=detail | ({"duplicate_of": page.twilio_sid} if duplicate else {}))
    if moved and reported == "failed":  # Twilio could not place it: the level may have reached nobody
        answer_page_failure(session, page, now)
    if reported in ENDED_STATUSES:  # a rep who pressed 2 and hung up before the customer leg: not in flight
        page_call_ended(session, call_sid or page.twilio_sid, reported, now)
    return page


def duplicate_call(session: Session, page: Page, call_sid: str, reported: str, now: datetime) -> bool:
    """True when ``call_sid`` is a call for ``page`` other than the page's own (``Page.twilio_sid``): proof that
    Twilio made two calls for one page (a Calls.json that answered after the client gave up, carried out after the
    retry's lookup found nothing). Its statuses never move the page (an outside probe's page showed "answered" from
    the second call while its own rang out unanswered); the first word of each such call, and of its answer, is on
    the timeline once (``page_duplicate_call``, naming both). A person who answers it hears the page and may act on
    it: the keys go through the one acknowledge/connect service, whichever call they came on."""
    if not call_sid or not page.twilio_sid or call_sid[:64] == page.twilio_sid:
        return False
    seen = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == page.incident_id, IncidentEvent.kind == EventKind.PAGE_DUPLICATE_CALL))
    answered = reported in ("answered", "machine")
    if not any((d or {}).get("page_id") == page.id and (d or {}).get("duplicate_sid") == call_sid
               and ((d or {}).get("status") in ("answered", "machine")) == answered for d in seen):
        log_event(session, at=now, actor="twilio", kind=EventKind.PAGE_DUPLICATE_CALL, incident_id=page.incident_id,
                  detail={"page_id": page.id, "sid": page.twilio_sid, "duplicate_sid": call_sid, "status": reported})
    return True


def page_call_answered(session: Session, page: Page, answered_by: str, now: datetime, call_sid: str = "") -> bool:
    """Twilio fetched a page call's TwiML: True for a person, False for a machine (logged, not an acknowledgement).
    A second call for the page (``duplicate_call``) is answered as the page's own, and moves nothing."""
    if duplicate_call(session, page, call_sid, "machine" if is_machine(answered_by) else "answered", now):
        return not is_machine(answered_by)
    if is_machine(answered_by):
        move_status(page, PageStatus.MACHINE, now)
        # "left" only when what the call says followed the greeting (DetectMessageEnd's machine_end_*): said over a
        # greeting still playing (machine_start), the recording keeps its tail or nothing
        log_event(session, at=now, actor="twilio", kind="page_reached_machine", incident_id=page.incident_id,
                  detail={"page_id": page.id, "answered_by": answered_by, "message_left": message_left(answered_by)})
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
