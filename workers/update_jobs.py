"""RQ job for issue 11's deliveries (customer updates, proposals, reminders): safe to run twice."""

from __future__ import annotations

from app.services.deliveries import DeliverySender
from workers.context import current


def send_delivery(delivery_id: int) -> None:
    """Send delivery ``delivery_id`` unless it was sent, failed for good, or is not yet due."""
    hotline = current()
    now = hotline.clock.now()
    retry = DeliverySender(hotline.db, hotline.telephony, hotline.settings).send(delivery_id, now)
    hotline.jobs.dispatch(retry, now)
