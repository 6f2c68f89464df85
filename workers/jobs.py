"""RQ job functions: take ids, reload, exit early, safe to run twice.

Follow-up jobs (a retry, the pages a step wrote) are registered on the unit of work
and reach RQ after their transaction commits: none is carried back through here.
"""

from __future__ import annotations

from rq import get_current_job

from app.services import steps
from app.services.callback_calls import place_rep_call
from app.services.deliveries import DeliverySender
from app.services.notices import send_notice as send_notice_sms
from app.services.page_urls import PageUrls
from app.services.pages import PageSender
from app.services.status_checks import check_callback, check_delivery, check_notice, check_page
from workers.context import current


def run_step(step_id: int) -> bool:
    """Run due step ``step_id`` unless another run already did; True when this run did it."""
    hotline = current()
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        return steps.run_step(session, step_id, now, hotline_number=hotline.settings.twilio_number, clock=hotline.clock,
                              settings=hotline.settings)


def send_page(page_id: int) -> None:
    """Send page ``page_id`` unless it was sent, canceled or is not yet due."""
    hotline = current()
    job = get_current_job()  # None when called directly (tests, the watchdog's own runs)
    PageSender(hotline.db, hotline.telephony, PageUrls(hotline.settings), hotline.pacer).send(
        page_id, hotline.clock.now(), first=job is not None and job.origin == hotline.jobs.first_queue.name)


def place_callback(callback_id: int) -> None:
    """Call the rep of callback ``callback_id``; the bridge to the customer follows on answer."""
    hotline = current()
    now = hotline.clock.now()
    if hotline.pacer is not None:  # a call to a rep, whose customer is waiting: never put off, only paced
        now = hotline.pacer.wait("calls", f"callback-{callback_id}")
    place_rep_call(hotline.db, hotline.telephony, hotline.settings, callback_id, now)


def send_notice(notice_id: int) -> None:
    """Send notice ``notice_id`` (a missed-call SMS or a volume alert) unless already sent."""
    hotline = current()
    send_notice_sms(hotline.db, hotline.telephony, PageUrls(hotline.settings).base, notice_id, hotline.clock.now(),
                    pacer=hotline.pacer)


def deliver_webhook(delivery_id: int) -> None:
    """Post helpdesk delivery ``delivery_id`` unless it was delivered, failed or is not yet due (a retry is scheduled)."""
    from app.services import helpdesk_webhooks

    hotline = current()
    helpdesk_webhooks.deliver(hotline.db, hotline.settings, delivery_id, hotline.clock.now())


def send_delivery(delivery_id: int) -> None:
    """Send issue 11's delivery ``delivery_id`` (an update, a proposal, a reminder) unless done or not yet due."""
    hotline = current()
    DeliverySender(hotline.db, hotline.telephony, hotline.settings, hotline.pacer).send(delivery_id, hotline.clock.now())


def check_page_status(page_id: int) -> None:
    """Ask Twilio for page ``page_id``'s final status if its status callback is overdue, and apply it."""
    hotline = current()
    check_page(hotline.db, hotline.telephony, hotline.settings, page_id, hotline.clock.now())


def check_delivery_status(delivery_id: int) -> None:
    """Ask Twilio for SMS delivery ``delivery_id``'s final status if its delivery report is overdue, and apply it."""
    hotline = current()
    check_delivery(hotline.db, hotline.telephony, hotline.settings, delivery_id, hotline.clock.now())


def check_notice_status(notice_id: int) -> None:
    """Ask Twilio for notice ``notice_id``'s final status if its delivery report is overdue, and apply it."""
    hotline = current()
    check_notice(hotline.db, hotline.telephony, hotline.settings, notice_id, hotline.clock.now())


def check_callback_status(callback_id: int) -> None:
    """Ask Twilio for the end of pending callback ``callback_id``'s legs if overdue, and apply it."""
    hotline = current()
    check_callback(hotline.db, hotline.telephony, hotline.settings, callback_id, hotline.clock.now())
