"""The customer's texts of one incident leave in the order they were written.

Each text to the customer is a page of its own, retried on its own back-off while Twilio fails (2, 4, then every 6 s).
After an SMS outage an outside probe's customer got "an engineer has taken your incident", written when the rep
acknowledged during the outage and tried at once when Twilio answered again, seconds before "we have your report",
written first and still waiting out its back-off: the customer read them out of order. A customer's SMS now waits,
queued and untried (no attempt spent), while an earlier one of the same incident to the same number is still to go
(queued or being sent); the earlier one's send (or its end: failed, not sent) lets it go at once. The reps' pages
never wait for the customer's texts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Channel, IncidentEvent, Page, PageStatus
from app.models.paging import CUSTOMER_ROLE
from app.queue import schedule
from app.services.events import log_event

TO_GO = (PageStatus.QUEUED, PageStatus.SENDING)
# a text waiting for an earlier one is looked at again this often at least (the earlier one's end releases it sooner)
LOOK_AGAIN = timedelta(seconds=1)


def _customer_texts(page: Page):
    return (Page.incident_id == page.incident_id, Page.role == CUSTOMER_ROLE, Page.channel == Channel.SMS,
            Page.to_number == page.to_number)


def earlier_to_go(session: Session, page: Page) -> Page | None:
    """For a text to the customer: the first one of its incident to the same number written before it and still to go
    (queued, or being sent); None when there is none, or ``page`` is no text to a customer."""
    if page.role != CUSTOMER_ROLE or page.channel != Channel.SMS:
        return None
    return session.scalars(select(Page).where(*_customer_texts(page), Page.id < page.id, Page.status.in_(TO_GO))
                           .order_by(Page.id).limit(1)).first()


def wait_behind(session: Session, page: Page, earlier: Page, now: datetime, stale_after: timedelta,
                first: bool = False) -> None:
    """Keep ``page`` queued, untried, until ``earlier``'s next try (a send under way: until it would count as dead,
    ``stale_after``), and at least ``LOOK_AGAIN``; said once per text it waits for."""
    until = earlier.next_attempt_at if earlier.status == PageStatus.QUEUED else (earlier.sending_since or now) + stale_after
    until = max(until, now + LOOK_AGAIN)
    page.next_attempt_at = until
    page.updated_at = now
    schedule(session, "page", page.id, until, attempt=page.attempts, tag="ordered", first=first)
    said = session.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == page.incident_id,
                                                             IncidentEvent.kind == EventKind.CUSTOMER_SMS_WAITS))
    if not any((d or {}).get("page_id") == page.id and (d or {}).get("after_page_id") == earlier.id for d in said):
        log_event(session, at=now, actor="system", kind=EventKind.CUSTOMER_SMS_WAITS, incident_id=page.incident_id,
                  detail={"page_id": page.id, "after_page_id": earlier.id, "after_purpose": earlier.purpose})


def release_later(session: Session, page: Page, now: datetime) -> None:
    """``page``, a text to the customer, was sent or will not be: the later ones waiting for it go now (their job
    again; each claim checks the order once more)."""
    if page.role != CUSTOMER_ROLE or page.channel != Channel.SMS:
        return
    waiting = session.scalars(select(Page).where(*_customer_texts(page), Page.id > page.id,
                                                 Page.status == PageStatus.QUEUED, Page.next_attempt_at > now))
    said = {(d or {}).get("page_id") for d in session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == page.incident_id, IncidentEvent.kind == EventKind.CUSTOMER_SMS_WAITS))}
    for later in waiting:
        if later.id in said:
            later.next_attempt_at = now
            later.updated_at = now
            schedule(session, "page", later.id, now, attempt=later.attempts, tag="in_order")
