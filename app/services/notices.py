"""Sending one-off SMS that belong to no incident (missed-call invitations, volume alerts)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Notice, NoticeStatus
from app.queue import PendingJob, schedule
from app.telephony.protocol import Rejected, TelephonyError, Throttled

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def send_notice(db, telephony, base_url: str, notice_id: int, now: datetime, pacer=None) -> None:
    """Claim the notice (compare-and-set), send it, record the outcome; a retry is scheduled if throttled.

    With ``pacer`` (app.telephony.rate.Pacer) the notice gives way to pages in the account's SMS
    rate (``Pacer.give_way``): put off, it keeps its attempts and its job is scheduled for later.
    """
    with db.transaction() as session:
        notice = session.get(Notice, notice_id, with_for_update=True)
        if notice is None or notice.status != NoticeStatus.QUEUED:
            return  # sent, failed or claimed by another run: nothing to do
        later = pacer.give_way("sms", f"notice-{notice_id}-{notice.attempts}", notice.created_at) if pacer else None
        if later is not None:  # put off behind the pages: its job comes back then, no attempt spent
            schedule(session, "notice", notice_id, later, attempt=notice.attempts, tag="paced")
            return
        # Compare-and-set on what we read: SQLite ignores FOR UPDATE (and pysqlite reads outside the
        # transaction), so two runs could both claim the notice and send it twice; one UPDATE matches.
        claimed = session.execute(
            update(Notice).where(Notice.id == notice_id, Notice.status == NoticeStatus.QUEUED,
                                 Notice.attempts == notice.attempts)
            .values(status=NoticeStatus.SENDING, attempts=Notice.attempts + 1)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return
        to, body, attempt = notice.to_number, notice.body, notice.attempts + 1
    try:
        sent = telephony.send_sms(to=to, body=body, status_callback=f"{base_url}/twilio/sms/status?notice={notice_id}")
    except Throttled as exc:
        _failed(db, notice_id, str(exc), retry=attempt < MAX_ATTEMPTS, now=now)
        return
    except Rejected as exc:
        _failed(db, notice_id, str(exc), retry=False, now=now)
        return
    except TelephonyError as exc:
        # The outcome is unknown: a notice is not a Sev-1 page, so it is not sent twice.
        _failed(db, notice_id, f"{type(exc).__name__}: {exc}", retry=False, now=now)
        return
    with db.transaction() as session:
        notice = session.get(Notice, notice_id, with_for_update=True)
        if notice.status == NoticeStatus.SENDING:  # else Twilio's delivery report came first: it stands
            notice.status = NoticeStatus.SENT
        notice.twilio_sid = sent.sid
        notice.sent_at = now
    log.info("notice %s sent (%s)", notice_id, sent.sid)


def _failed(db, notice_id: int, error: str, *, retry: bool, now: datetime) -> None:
    with db.transaction() as session:
        notice = session.get(Notice, notice_id, with_for_update=True)
        if notice.status != NoticeStatus.SENDING:  # Twilio's delivery report came meanwhile: it was sent
            log.info("notice %s: no answer to the send, but Twilio reported it %s", notice_id, notice.status)
            return
        notice.status = NoticeStatus.QUEUED if retry else NoticeStatus.FAILED
        notice.last_error = error[:200]
        if retry:
            schedule(session, "notice", notice_id, now + timedelta(seconds=30), attempt=1)
    # Provider messages can quote the number: the log says where to look, not what it said.
    log.warning("notice %s not sent (%s); see notices.last_error", notice_id, "will retry" if retry else "failed")


def queued_notices(session: Session, now: datetime) -> list[PendingJob]:
    """Jobs for notices still queued (their job lost with Redis); the watchdog hands them over again."""
    stmt = select(Notice.id).where(Notice.status == NoticeStatus.QUEUED, Notice.created_at >= now - timedelta(hours=1))
    return [PendingJob("notice", notice_id, now) for notice_id in session.scalars(stmt)]


_REPORTED = {"sent": NoticeStatus.SENT, "delivered": NoticeStatus.DELIVERED, "undelivered": NoticeStatus.UNDELIVERED,
             "failed": NoticeStatus.UNDELIVERED}


def notice_status(session: Session, notice_id: int, reported: str, error_code: str, message_sid: str = "",
                  now: datetime | None = None) -> Notice | None:
    """Twilio's delivery report for a notice: only sending/sent -> sent, delivered or undelivered (a late report
    moves nothing back).

    A report may overtake the send's own record of Twilio's answer (the notice still ``sending``), or stand in for
    an answer that was lost (the send timed out): it is applied, its ``MessageSid`` kept (the notice can be traced
    at Twilio), and the send then leaves it as it is.
    """
    notice = session.get(Notice, notice_id, with_for_update=True) if notice_id else None
    new = _REPORTED.get(reported)
    if notice is None or new is None or notice.status not in (NoticeStatus.SENDING, NoticeStatus.SENT):
        return notice
    if message_sid and not notice.twilio_sid:
        notice.twilio_sid = message_sid[:64]
        notice.sent_at = notice.sent_at or now
    notice.status = new
    if new == NoticeStatus.UNDELIVERED:
        notice.last_error = f"Twilio {reported}" + (f" (error {error_code})" if error_code else "")
    return notice
