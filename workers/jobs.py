"""RQ job functions: take ids, reload, exit early, safe to run twice."""

from __future__ import annotations

from app.services import steps
from app.services.callback_calls import place_rep_call
from app.services.page_urls import PageUrls
from app.services.pages import PageSender
from workers.context import current


def run_step(step_id: int) -> bool:
    """Run due step ``step_id`` unless another run already did; True when this run did it."""
    hotline = current()
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        jobs = steps.run_step(session, step_id, now)
    if jobs is None:
        return False
    hotline.jobs.dispatch(jobs, now)
    return True


def send_page(page_id: int) -> None:
    """Send page ``page_id`` unless it was sent, canceled or is not yet due."""
    hotline = current()
    now = hotline.clock.now()
    retry = PageSender(hotline.db, hotline.telephony, PageUrls(hotline.settings)).send(page_id, now)
    hotline.jobs.dispatch(retry, now)


def place_callback(callback_id: int) -> None:
    """Call the rep of callback ``callback_id``; the bridge to the customer follows on answer."""
    hotline = current()
    now = hotline.clock.now()
    retry = place_rep_call(hotline.db, hotline.telephony, hotline.settings, callback_id, now)
    hotline.jobs.dispatch(retry, now)


def deliver_webhook(delivery_id: int) -> None:
    """Post helpdesk delivery ``delivery_id`` unless it was delivered, failed or is not yet due; schedule a retry."""
    from app.services import helpdesk_webhooks

    hotline = current()
    now = hotline.clock.now()
    if helpdesk_webhooks.deliver(hotline.db, hotline.settings, delivery_id, now) is None:
        return
    retry = helpdesk_webhooks.retry_job(hotline.db, delivery_id)
    if retry is not None:
        hotline.jobs.dispatch([retry], now)
