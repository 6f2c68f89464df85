"""Whether e-mail leaves now, read from the e-mails waiting for SMTP (``/healthz``'s warning).

An SMTP outage leaves the hotline taking callers and paging reps, but the customers' e-mailed receipts and breach
notices, the TAM's e-mails and the e-mailed updates wait, each retried with back-off: an outside probe kept SMTP
refusing for 20 minutes (18 failed tries) while ``/healthz`` said nothing. This tells monitoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Delivery, DeliveryChannel, UpdateDeliveryStatus


@dataclass(frozen=True)
class MailWaiting:
    """The e-mails whose last try failed and that wait to be tried again, and the oldest one's queueing time."""

    count: int
    oldest: datetime | None


def mail_waiting(session: Session) -> MailWaiting:
    """E-mails queued again after a failed try (one read on the status index: queued rows are few)."""
    count, oldest = session.execute(select(func.count(Delivery.id), func.min(Delivery.created_at)).where(
        Delivery.status == UpdateDeliveryStatus.QUEUED, Delivery.channel == DeliveryChannel.EMAIL,
        Delivery.attempts > 0, Delivery.last_error != "")).one()
    return MailWaiting(count, oldest if count else None)
