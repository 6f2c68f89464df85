"""Deliveries: one message to one reader on one channel, written as a row, sent by a job, retried, shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import database_of
from app.mail import MailError, send_mail
from app.mail.smtp import message_id_for
from app.models import Delivery, DeliveryChannel, UpdateDeliveryStatus
from app.queue import PendingJob, schedule
from app.services import late_mail
from app.services.events import log_event
from app.services.pages import SEND_WAITS_FOR_RETRY_AFTER_AT_MOST, wait_before_retry
from app.services.sms_opt_outs import OPTED_OUT_REASON, is_opted_out, record_opt_out
from app.services.unreached import alerts_for
from app.settings import Settings
from app.telephony.protocol import UNSUBSCRIBED_RECIPIENT, OptedOut, Rejected, Telephony, TelephonyError, asked_wait

log = logging.getLogger(__name__)

JOB_KIND = "delivery"  # app.queue.JOB_FUNCTIONS maps it to workers.jobs.send_delivery
# a customer's words held back by the one-SMS-per-15-minutes rule (``customer_sms``), texted together when it ends
HELD_WORDS = "customer_sms_held"
MAX_ATTEMPTS = 6  # an e-mail's tries (SMTP down: 1, 2, 4, 8 and 16 minutes apart), and the log lines of an SMS's
# An SMS Twilio fails for now (5xx, 429, a time-out) is tried again for this long, as a page's notices are
# (``pages.RETRY_FOR``): until session 37 it gave up after 6 tries, about 64 s, and an outside probe's customer update
# and owner's reminder were lost to a one-minute Twilio outage
SMS_RETRY_FOR = timedelta(hours=1)
LOG_EVERY_ATTEMPTS = 10  # past MAX_ATTEMPTS, an SMS's failed tries write a line (and a warning) once in this many
STALE_SENDING = timedelta(minutes=2)  # a "sending" row older than this belongs to a dead run


def email_can_leave(settings: Settings | None) -> bool:
    """The one rule of whether this hotline can send an e-mail at all: SMTP is configured (SMTP_HOST). Without it
    the delivery job skips every e-mail (``no_smtp``), so nothing may count e-mail as a channel that carries
    (``updates.written_channels``). ``None``: settings unknown (a bare database), the job decides."""
    return settings is None or bool(settings.smtp_host)


def can_email(session: Session, address: str | None) -> bool:
    """Whether an e-mail to ``address`` can leave this hotline: an address, and SMTP (``email_can_leave``) as
    the running hotline's settings say (the wiring's, on the session's database)."""
    db = database_of(session)
    return bool(address) and email_can_leave(db.settings if db is not None else None)


def backoff(channel: DeliveryChannel, attempt: int) -> timedelta:
    """Bounded back-off: SMS 2..30 s (like pages); e-mail 1, 2, 4, 8, 16 then 30 minutes."""
    if channel == DeliveryChannel.SMS:
        return timedelta(seconds=min(2 ** attempt, 30))
    return timedelta(minutes=min(2 ** (attempt - 1), 30))


def queue_delivery(
    session: Session, *, channel: DeliveryChannel, to: str, purpose: str, body: str, now: datetime,
    incident_id: int | None = None, update_id: int | None = None, proposal_id: int | None = None,
    contact_id: int | None = None, recipient: str = "customer", language: str = "en-US", subject: str = "",
    send_at: datetime | None = None,
) -> Delivery | None:
    """Write one delivery row and schedule its send on the unit of work (None when there is no address); ``send_at``:
    not before then (default: now)."""
    if not to:
        return None
    delivery = Delivery(incident_id=incident_id, update_id=update_id, proposal_id=proposal_id, contact_id=contact_id,
                        purpose=purpose, recipient=recipient, channel=channel, to_address=to[:254], language=language,
                        subject=subject[:200], body=body, status=UpdateDeliveryStatus.QUEUED,
                        next_attempt_at=max(send_at or now, now), created_at=now)
    session.add(delivery)
    session.flush()
    if _skip_opted_out(session, delivery, now):
        return delivery
    log_event(session, at=now, actor="system", kind="delivery_queued", incident_id=incident_id,
              detail={"delivery_id": delivery.id, "channel": channel.value, "purpose": purpose,
                      "recipient": recipient})
    schedule(session, JOB_KIND, delivery.id, delivery.next_attempt_at)
    return delivery


def _skip_opted_out(session: Session, delivery: Delivery, now: datetime) -> bool:
    """An SMS to a number that opted out ends here, unsent and final (its other channels go on); True if so."""
    if delivery.channel != DeliveryChannel.SMS or not is_opted_out(session, delivery.to_address):
        return False
    delivery.status, delivery.last_error = UpdateDeliveryStatus.OPTED_OUT, OPTED_OUT_REASON
    log_event(session, at=now, actor="system", kind="delivery_skipped", incident_id=delivery.incident_id,
              detail={"delivery_id": delivery.id, "channel": delivery.channel, "purpose": delivery.purpose,
                      "recipient": delivery.recipient, "reason": "sms_opted_out"})
    return True


@dataclass(frozen=True)
class _Claim:
    channel: DeliveryChannel
    to: str
    subject: str
    body: str
    created_at: datetime
    uncertain: bool


class DeliverySender:
    """Sends one delivery through Twilio or SMTP, around (not inside) SQL transactions."""

    def __init__(self, db, telephony: Telephony, settings: Settings, pacer=None) -> None:
        self.db, self.telephony, self.settings = db, telephony, settings
        self.pacer = pacer  # app.telephony.rate.Pacer: the account's SMS rate, shared with pages (None: unpaced)
        self.base = settings.link_base

    def send(self, delivery_id: int, now: datetime) -> None:
        """Claim, send, record; a retry is scheduled on the unit of work when it must be tried again later.

        An SMS gives way to pages in the account's rate (``Pacer.give_way``): put off, it keeps its
        attempts and its job is scheduled for when the schedule frees up.
        """
        with self.db.transaction() as session:
            claim = self._claim(session, delivery_id, now)
        if claim is None:
            return
        try:
            provider_id = self._deliver(delivery_id, claim)
        except OptedOut as exc:
            self._record_opted_out(delivery_id, now, f"{type(exc).__name__}: {exc}")
            return
        except (Rejected, MailError, TelephonyError) as exc:
            permanent = isinstance(exc, Rejected) or (isinstance(exc, MailError) and exc.permanent)
            self._record_failure(delivery_id, now, f"{type(exc).__name__}: {exc}", permanent, asked_wait(exc))
            return
        with self.db.transaction() as session:
            delivery = session.get(Delivery, delivery_id, with_for_update=True)
            delivery.provider_id = provider_id[:200]
            delivery.sent_at = delivery.sent_at or now
            if delivery.status == UpdateDeliveryStatus.SENDING:
                delivery.status = UpdateDeliveryStatus.SENT
            delivery.last_error = ""
            log_event(session, at=now, actor="smtp" if claim.channel == DeliveryChannel.EMAIL else "twilio",
                      kind="delivery_sent", incident_id=delivery.incident_id,
                      detail={"delivery_id": delivery.id, "channel": delivery.channel, "purpose": delivery.purpose,
                              "attempt": delivery.attempts})

    def _claim(self, session: Session, delivery_id: int, now: datetime) -> _Claim | None:
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None:
            return None
        stale = (delivery.status == UpdateDeliveryStatus.SENDING and delivery.sending_since is not None
                 and now - delivery.sending_since > STALE_SENDING)
        if (delivery.status != UpdateDeliveryStatus.QUEUED and not stale) or delivery.next_attempt_at > now:
            return None
        if delivery.channel == DeliveryChannel.EMAIL and not email_can_leave(self.settings):
            delivery.status = UpdateDeliveryStatus.SKIPPED
            delivery.last_error = "SMTP is not configured (SMTP_HOST)"
            log_event(session, at=now, actor="system", kind="delivery_skipped", incident_id=delivery.incident_id,
                      detail={"delivery_id": delivery.id, "channel": delivery.channel, "purpose": delivery.purpose,
                              "recipient": delivery.recipient, "reason": "no_smtp"})
            _tell_if_unreached(session, delivery, now)
            return None
        if _skip_opted_out(session, delivery, now):  # the number texted STOP after this was queued
            _tell_if_unreached(session, delivery, now)
            return None
        why = late_mail.superseded(session, delivery, now)
        if why:  # an e-mail that waited for SMTP and is no longer true
            delivery.status, delivery.last_error = UpdateDeliveryStatus.SKIPPED, f"not sent: {why}"
            log_event(session, at=now, actor="system", kind="delivery_skipped", incident_id=delivery.incident_id,
                      detail={"delivery_id": delivery.id, "channel": delivery.channel, "purpose": delivery.purpose,
                              "recipient": delivery.recipient, "reason": why})
            return None
        late_mail.rewrite(session, delivery, now, self.settings.twilio_number)
        if not stale and self._put_off(session, delivery):
            return None
        uncertain = stale or delivery.last_error.startswith("OutcomeUnknown")
        # Compare-and-set on what we read: SQLite ignores FOR UPDATE (and pysqlite reads outside the
        # transaction), so two runs could both claim the row and the customer get it twice; one UPDATE matches.
        claimed = session.execute(
            update(Delivery).where(Delivery.id == delivery.id, Delivery.status == delivery.status,
                                   Delivery.attempts == delivery.attempts)
            .values(status=UpdateDeliveryStatus.SENDING, sending_since=now, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return None
        session.refresh(delivery)
        return _Claim(DeliveryChannel(delivery.channel), delivery.to_address, delivery.subject, delivery.body,
                      delivery.created_at, uncertain)

    def _put_off(self, session: Session, delivery: Delivery) -> bool:
        """True when this SMS must give way to pages in the account's rate: rescheduled, no attempt spent."""
        if self.pacer is None or delivery.channel != DeliveryChannel.SMS:
            return False
        later = self.pacer.give_way("sms", f"delivery-{delivery.id}-{delivery.attempts}", delivery.created_at)
        if later is None:
            return False
        delivery.next_attempt_at = later
        schedule(session, JOB_KIND, delivery.id, later, attempt=delivery.attempts, tag="paced")
        return True

    def _deliver(self, delivery_id: int, claim: _Claim) -> str:
        if claim.channel == DeliveryChannel.EMAIL:
            # one Message-ID for all its tries: a retry after a lost reply is a copy the reader's mail recognises
            key = f"sev1-delivery-{delivery_id}.{claim.created_at:%Y%m%d%H%M%S%f}"
            return send_mail(self.settings, to=claim.to, subject=claim.subject, body=claim.body,
                             message_id=message_id_for(self.settings, key))
        if claim.uncertain:  # the last try may have reached Twilio: never send an update twice if it did
            found = self.telephony.find_sms(to=claim.to, since=claim.created_at.replace(microsecond=0),
                                            marker=claim.body[:60])
            if found is not None:
                return found.sid
        sent = self.telephony.send_sms(to=claim.to, body=claim.body,
                                       status_callback=f"{self.base}/twilio/updates/sms-status?delivery={delivery_id}")
        return sent.sid

    def _record_opted_out(self, delivery_id: int, now: datetime, error: str) -> None:
        """Twilio refused: the number opted out. Final for this SMS, and recorded so no later SMS is tried."""
        with self.db.transaction() as session:
            delivery = session.get(Delivery, delivery_id, with_for_update=True)
            delivery.status, delivery.last_error = UpdateDeliveryStatus.OPTED_OUT, f"{OPTED_OUT_REASON} ({error})"[:500]
            log_event(session, at=now, actor="twilio", kind="delivery_failed", incident_id=delivery.incident_id,
                      detail={"delivery_id": delivery.id, "channel": delivery.channel, "error": error[:200],
                              "attempt": delivery.attempts, "final": True, "opted_out": True})
            record_opt_out(session, delivery.to_address, now, source="twilio_21610")
            _tell_if_unreached(session, delivery, now)

    def _record_failure(self, delivery_id: int, now: datetime, error: str, permanent: bool,
                        asked: float | None = None) -> None:
        with self.db.transaction() as session:
            delivery = session.get(Delivery, delivery_id, with_for_update=True)
            delivery.last_error = error[:500]
            give_up = permanent or _tried_enough(delivery, now)
            written = give_up or delivery.attempts <= MAX_ATTEMPTS or delivery.attempts % LOG_EVERY_ATTEMPTS == 0
            if written:
                log_event(session, at=now, actor="system", kind="delivery_failed", incident_id=delivery.incident_id,
                          detail={"delivery_id": delivery.id, "channel": delivery.channel, "error": error[:200],
                                  "attempt": delivery.attempts, "final": give_up})
            if give_up:
                delivery.status = UpdateDeliveryStatus.FAILED
                log.error("%s delivery %s (%s to the %s) failed for good at attempt %s: %s", delivery.channel,
                          delivery.id, delivery.purpose, delivery.recipient, delivery.attempts, error[:200])
                _tell_if_unreached(session, delivery, now)
                return
            delivery.status = UpdateDeliveryStatus.QUEUED
            delivery.next_attempt_at = now + wait_before_retry(
                backoff(DeliveryChannel(delivery.channel), delivery.attempts), asked, SEND_WAITS_FOR_RETRY_AFTER_AT_MOST)
            if written:
                log.warning("%s delivery %s (%s to the %s) failed at attempt %s, tried again at %s: %s",
                            delivery.channel, delivery.id, delivery.purpose, delivery.recipient, delivery.attempts,
                            f"{delivery.next_attempt_at:%H:%M:%S} UTC", error[:200])
            schedule(session, JOB_KIND, delivery.id, delivery.next_attempt_at, attempt=delivery.attempts)
            session.flush()  # the check below reads this row's status and tries in SQL
            _tell_if_unreached(session, delivery, now)


def _tried_enough(delivery: Delivery, now: datetime) -> bool:
    """A delivery failing for now is given up: an SMS after ``SMS_RETRY_FOR``, an e-mail after ``MAX_ATTEMPTS``."""
    if delivery.channel == DeliveryChannel.SMS:
        return now - delivery.created_at >= SMS_RETRY_FOR
    return delivery.attempts >= MAX_ATTEMPTS


SMS_STATUS = {"delivered": UpdateDeliveryStatus.DELIVERED, "failed": UpdateDeliveryStatus.FAILED,
              "undelivered": UpdateDeliveryStatus.FAILED}


def sms_status(session: Session, delivery_id: int, status: str, error_code: str, now: datetime) -> Delivery | None:
    """Apply Twilio's delivery report to a delivery (delivered or failed; earlier states change nothing)."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        return None
    new = SMS_STATUS.get(status)
    if new is not None and delivery.status in (UpdateDeliveryStatus.SENT, UpdateDeliveryStatus.SENDING):
        delivery.status = new
        if new == UpdateDeliveryStatus.FAILED:
            delivery.last_error = f"Twilio {status} {error_code}".strip()[:500]
        if new == UpdateDeliveryStatus.FAILED and error_code.strip() == str(UNSUBSCRIBED_RECIPIENT):
            delivery.status = UpdateDeliveryStatus.OPTED_OUT  # accepted, then refused: the number opted out
            record_opt_out(session, delivery.to_address, now, source="twilio_21610")
        log_event(session, at=now, actor="twilio", kind="delivery_status", incident_id=delivery.incident_id,
                  detail={"delivery_id": delivery.id, "status": status, "error_code": error_code})
        _tell_if_unreached(session, delivery, now)
    return delivery


def _tell_if_unreached(session: Session, delivery: Delivery, now: datetime) -> None:
    """A message to the customer ended unsent or undelivered, or failed a try: when its update (or proposal) has now
    reached them by no channel (so far), its owner (else the managers) is told by SMS, once, to phone the customer
    (app/services/unreached)."""
    for alert in alerts_for(session, delivery, now):
        queue_delivery(session, channel=DeliveryChannel.SMS, to=alert.phone, purpose="unreached",
                       recipient=alert.recipient, body=alert.body, now=now, incident_id=delivery.incident_id)


def due_deliveries(session: Session, now: datetime, limit: int = 500) -> list[PendingJob]:
    """Queued deliveries whose time has come, and sends that died mid-way: for the watchdog."""
    stmt = select(Delivery.id, Delivery.next_attempt_at, Delivery.attempts).where(
        Delivery.status == UpdateDeliveryStatus.QUEUED, Delivery.next_attempt_at <= now).limit(limit)
    jobs = [PendingJob(JOB_KIND, did, at, attempt=n) for did, at, n in session.execute(stmt)]
    stale = select(Delivery.id, Delivery.attempts).where(
        Delivery.status == UpdateDeliveryStatus.SENDING, Delivery.sending_since < now - STALE_SENDING).limit(limit)
    jobs += [PendingJob(JOB_KIND, did, now, attempt=n) for did, n in session.execute(stale)]
    return jobs
