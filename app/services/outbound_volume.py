"""Outbound volume watch: too many SMS and calls in an hour to numbers callers can steer alerts the managers (issue 9).

It never holds anything back: every Sev-1 page is still sent. The paging code may
call ``check_outbound_volume`` after it queues pages; intake calls it after each
new incident and missed call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Account, Delivery, DeliveryChannel, IncidentEvent, Notice, Page, Rep
from app.queue import schedule
from app.services.events import log_event

WINDOW = timedelta(hours=1)
ALERT_KIND = "outbound_volume_alert"


def not_own_number(column) -> tuple:
    """Conditions that ``column`` is none of the hotline's own people's numbers: a rep's or manager's (configured,
    active or not, either phone) and an account's TAM's. Pages and alerts to them are the hotline paging its staff,
    never what a caller can steer."""
    reps = select(Rep.phone).where(Rep.phone.is_not(None), Rep.phone != "")
    alts = select(Rep.phone_alt).where(Rep.phone_alt.is_not(None), Rep.phone_alt != "")
    tams = select(Account.tam_phone).where(Account.tam_phone.is_not(None), Account.tam_phone != "")
    return column.not_in(reps), column.not_in(alts), column.not_in(tams)


def outbound_count(session: Session, since: datetime) -> int:
    """SMS and calls queued since ``since`` to numbers that are not the hotline's own people's (``not_own_number``):
    the customers' receipts and notices (pages to a caller's number), notices (missed-call invitations) and SMS
    deliveries (updates, proposals, confirmations). What a flood or toll fraud drives is texts and calls to numbers
    callers give; the pages and alerts to the reps, managers and TAMs grow with a genuine outage instead (an outside
    probe's 16-incident outage counted 175 in an hour, nearly all the reps' own pages, and alerted "possible toll
    fraud"). E-mails are not counted, nor this alert's own SMS."""
    pages = select(func.count(Page.id)).where(Page.created_at >= since,
                                              *not_own_number(Page.to_number)).scalar_subquery()
    notices = select(func.count(Notice.id)).where(Notice.created_at >= since, Notice.purpose != "outbound_volume",
                                                  *not_own_number(Notice.to_number)).scalar_subquery()
    texts = select(func.count(Delivery.id)).where(Delivery.created_at >= since,
                                                  Delivery.channel == DeliveryChannel.SMS,
                                                  *not_own_number(Delivery.to_address)).scalar_subquery()
    return session.scalar(select(pages + notices + texts)) or 0  # one round trip


def check_outbound_volume(session: Session, now: datetime, per_hour: int) -> None:
    """Alert the managers by SMS (once an hour) when outbound volume passes ``per_hour``."""
    if per_hour <= 0:
        return  # no alert configured: nothing to count
    count = outbound_count(session, now - WINDOW)
    if count <= per_hour:
        return
    already = select(IncidentEvent.id).where(IncidentEvent.kind == ALERT_KIND, IncidentEvent.at >= now - WINDOW)
    if session.scalar(already.limit(1)) is not None:
        return
    # one SMS per number (two managers stored with one phone read one), and the line counts those SMS
    phones = [phone for phone in dict.fromkeys(session.scalars(select(Rep.phone).where(
        Rep.is_manager.is_(True), Rep.active.is_(True)).order_by(Rep.id))) if phone]
    log_event(session, at=now, actor="system", kind=ALERT_KIND,
              detail={"count": count, "per_hour": per_hour, "managers": len(phones)})
    body = (f"Sev-1 hotline: {count} outbound SMS and calls to customers and unknown numbers in the last hour (alert "
            f"above {per_hour}; the reps' own pages not counted). "
            "Possible flood or toll fraud: check the board's missed calls and new incidents. "
            "No Sev-1 page is held back.")
    for phone in phones:
        notice = Notice(purpose="outbound_volume", to_number=phone, body=body, created_at=now)
        session.add(notice)
        session.flush()
        schedule(session, "notice", notice.id, now)
