"""Signed, retried webhooks to the helpdesk, derived from the append-only incident event log.

The leader watchdog turns new log lines of the kinds below into ``helpdesk_deliveries``
rows (one per event: a unique key), reading the log in commit order (``event_feed``), then
hands due rows to RQ. A job posts the event,
signed with HMAC-SHA256, and records the answer; a failure is retried with growing
delays up to MAX_ATTEMPTS, then the row is marked failed. Delivery is at least once:
receivers deduplicate on ``X-Hotline-Delivery``. An answer counted at the key press is first tried once it is
proven (``posted_from``); withdrawn before that, neither it nor its withdrawal is posted (``unposted_answer``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.models import DeliveryStatus, FeedCursor, HelpdeskDelivery, Incident, IncidentEvent
from app.queue import PendingJob, schedule
from app.reports.confirming import confirming
from app.services import event_feed
from app.settings import Settings

log = logging.getLogger(__name__)

EVENT_KINDS: dict[str, str] = {  # event log kind -> webhook event
    "incident_opened": "incident.opened",  # a rescued incident's too (its ``source``): its rescue line is not posted
    "acknowledged": "incident.acknowledged",
    "callback_met": "callback.met",
    "callback_late": "callback.missed",
    # a callback on a related incident that counts here too: callback.met, or callback.missed when it came after this
    # incident's deadline (``webhook_event``); its withdrawal as the withdrawal of this incident's own (until session
    # 42 none of the three was posted, and a helpdesk showed the incident as never called back)
    "callback_reached_on_related": "callback.met",
    "callback_withdrawn": "callback.withdrawn",  # a counted bridge that did not happen, or too short
    "callback_related_withdrawn": "callback.withdrawn",
    "callback_breached": "incident.breached",
    "breach_withdrawn": "incident.breach_withdrawn",  # the deadline that counts was set after that breach
    "resolved": "incident.resolved",
    "incident_reopened": "incident.reopened",  # a close undone (the customer's NO, a rep's reason): open again
    "callback_self_reported": "callback.self_reported",  # a rep's word that they called (never counted as met)
}
WEBHOOK_EVENTS = tuple(dict.fromkeys(EVENT_KINDS.values()))  # each once, in order, for the OpenAPI document


# The lines counting an answer (posted once it is proven: ``reports.confirming``), and those withdrawing one
ANSWER_KINDS = ("callback_met", "callback_late", "callback_reached_on_related")
WITHDRAWAL_KINDS = ("callback_withdrawn", "callback_related_withdrawn")


def webhook_event(event: IncidentEvent) -> str:
    """The webhook a log line of ``EVENT_KINDS`` is posted as."""
    if event.kind == "callback_reached_on_related" and (event.detail or {}).get("outcome") == "late":
        return "callback.missed"
    return EVENT_KINDS[event.kind]
MAX_ATTEMPTS = 6
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=5),
                timedelta(minutes=10))
FIRST_LOOK_BACK = timedelta(minutes=10)  # when webhooks are first configured, older events are not sent
TIMEOUT_SECONDS = 10
FEED_READER = "helpdesk_webhooks"  # its row in event_feed_cursors
BATCH = 500  # events collected a pass at most (the rest the next pass)
SIGNATURE_HEADER = "X-Hotline-Signature"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``timestamp + "." + body`` (the timestamp defeats replays)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def collect(session: Session, now: datetime) -> int:
    """Create a delivery row for every new event of a webhook kind; returns how many.

    New: committed since the last pass, in commit order (``event_feed``): a line whose transaction
    committed after a later line's was collected is not skipped. The position is kept in
    ``event_feed_cursors``; the passes take turns on its row.
    """
    stored = session.scalars(select(FeedCursor).where(FeedCursor.reader == FEED_READER).with_for_update()).first()
    if stored is None:
        events, after = _first_pass(session, now), None
    else:
        lines, after, _more = event_feed.read(session, event_feed.decode(stored.cursor), BATCH, tuple(EVENT_KINDS))
        events = [line.event for line in lines]
    created = 0
    for event in events:
        try:
            with session.begin_nested():
                session.add(HelpdeskDelivery(event_id=event.id, incident_id=event.incident_id,
                                             kind=webhook_event(event), next_attempt_at=posted_from(session, event, now),
                                             created_at=now))
            created += 1
        except IntegrityError:  # another watchdog pass got there first
            continue
    if stored is not None:
        stored.cursor, stored.updated_at = event_feed.encode(after), now
    return created


def posted_from(session: Session, event: IncidentEvent, now: datetime) -> datetime:
    """When a line's webhook is first tried: an answer counted at the key press once it is proven, as the compliance
    report counts it (``reports.confirming``: the customer has talked the minimum), so ``callback.met`` never goes
    out for a call too short to count; every other line at once."""
    if event.kind not in ANSWER_KINDS or event.incident_id is None:
        return now
    return confirming(session, now, (Incident.id == event.incident_id,)).get(event.incident_id, now)


def unposted_answer(session: Session, delivery: HelpdeskDelivery, first_try: bool) -> bool:
    """Whether ``delivery`` is not to be posted, marked withdrawn then: a ``callback.met``/``callback.missed`` (held
    until its answer was proven, ``posted_from``) whose answer the log withdraws by its first try, or the
    ``callback.withdrawn`` of an answer whose webhook was withdrawn so or never tried (the watchdog may hand both out at
    once): the helpdesk hears neither, as nothing stood, never a withdrawal of nothing nor a met after its withdrawal."""
    event = session.get(IncidentEvent, delivery.event_id)
    callback_id = (event.detail or {}).get("callback_id") if event is not None else None
    if callback_id is None or event.incident_id is None:
        return False
    why = f"not posted: the answer of callback {callback_id} was withdrawn before it was proven"
    if event.kind in ANSWER_KINDS:
        if not first_try or _line_of(session, event, WITHDRAWAL_KINDS, IncidentEvent.id > event.id) is None:
            return False
    elif event.kind in WITHDRAWAL_KINDS:
        answer = _line_of(session, event, ANSWER_KINDS, IncidentEvent.id < event.id)
        if answer is None:
            return False
        taken = session.execute(update(HelpdeskDelivery).where(
            HelpdeskDelivery.event_id == answer, HelpdeskDelivery.status == DeliveryStatus.PENDING,
            HelpdeskDelivery.attempts == 0).values(status=DeliveryStatus.WITHDRAWN, last_error=why)).rowcount
        if not taken and session.scalar(select(HelpdeskDelivery.status).where(
                HelpdeskDelivery.event_id == answer)) != DeliveryStatus.WITHDRAWN:
            return False  # posted (or tried): its withdrawal is posted too
    else:
        return False
    delivery.status, delivery.last_error = DeliveryStatus.WITHDRAWN, why
    return True


def _line_of(session: Session, event: IncidentEvent, kinds: tuple[str, ...], where) -> int | None:
    """The id of the nearest line of ``kinds`` about ``event``'s callback on its incident (``where``: before or after
    it), or None."""
    callback_id = (event.detail or {}).get("callback_id")
    nearest = IncidentEvent.id if event.kind in ANSWER_KINDS else IncidentEvent.id.desc()  # after it, or before
    return next((line_id for line_id, detail in session.execute(
        select(IncidentEvent.id, IncidentEvent.detail).where(
            IncidentEvent.incident_id == event.incident_id, IncidentEvent.kind.in_(kinds), where)
        .order_by(nearest)) if (detail or {}).get("callback_id") == callback_id), None)


def _first_pass(session: Session, now: datetime) -> list[IncidentEvent]:
    """The events of the first pass, which starts the feed where the log is now: webhooks just configured, those of
    the last FIRST_LOOK_BACK; on a database that sent webhooks before it kept a position, those after the last one
    collected."""
    try:
        with session.begin_nested():
            session.add(FeedCursor(reader=FEED_READER, cursor=event_feed.encode(event_feed.here(session)),
                                   updated_at=now))
    except IntegrityError:  # another pass started the feed
        return []
    # a line committed after here() is also read by the next pass: its delivery row is unique
    last = session.scalar(select(func.max(HelpdeskDelivery.event_id)))
    query = select(IncidentEvent).where(IncidentEvent.kind.in_(EVENT_KINDS)).order_by(IncidentEvent.id)
    if last is None:
        query = query.where(IncidentEvent.at >= now - FIRST_LOOK_BACK)
    else:
        query = query.where(IncidentEvent.id > last)
    return list(session.scalars(query))


def due_deliveries(session: Session, now: datetime) -> list[PendingJob]:
    """Jobs for pending deliveries whose next attempt is due."""
    rows = session.execute(
        select(HelpdeskDelivery.id, HelpdeskDelivery.attempts, HelpdeskDelivery.next_attempt_at)
        .where(HelpdeskDelivery.status == DeliveryStatus.PENDING, HelpdeskDelivery.next_attempt_at <= now)
        .order_by(HelpdeskDelivery.id).limit(500)
    ).all()
    return [PendingJob("webhook", row.id, row.next_attempt_at, attempt=row.attempts) for row in rows]


def webhook_jobs(db: Database, settings: Settings, now: datetime) -> list[PendingJob]:
    """The watchdog's share: collect new events and return the due deliveries (none when unconfigured)."""
    if not settings.helpdesk_webhook_url:
        return []
    with db.transaction() as session:
        collect(session, now)
    with db.session() as session:
        return due_deliveries(session, now)


def payload(session: Session, delivery: HelpdeskDelivery, now: datetime) -> dict:
    """The JSON body: the event and the incident as the API shows it."""
    from app.api.incident_json import incident_document

    event = session.get(IncidentEvent, delivery.event_id)
    incident = session.get(Incident, delivery.incident_id) if delivery.incident_id else None
    return {
        "delivery_id": delivery.id,
        "event": delivery.kind,
        "occurred_at": event.at.isoformat().replace("+00:00", "Z") if event else None,
        "detail": (event.detail or {}) if event else {},
        "incident": incident_document(session, incident, now) if incident else None,
    }


def deliver(db: Database, settings: Settings, delivery_id: int, now: datetime, post=None) -> DeliveryStatus | None:
    """Send one delivery; returns its new status, or None when there was nothing to do.

    ``post(url, body, headers) -> status code`` defaults to an HTTP POST with a time-out.
    """
    post = post or _http_post
    with db.transaction() as session:
        delivery = session.get(HelpdeskDelivery, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING or delivery.next_attempt_at > now:
            return None
        seen = delivery.attempts
        # claim this attempt: a duplicate job for the same attempt finds the counter moved and stops; an answer's
        # delivery withdrawn meanwhile (``unposted_answer``) is no longer pending
        claimed = session.execute(update(HelpdeskDelivery).where(HelpdeskDelivery.id == delivery_id,
                                                                 HelpdeskDelivery.attempts == seen,
                                                                 HelpdeskDelivery.status == DeliveryStatus.PENDING)
                                  .values(attempts=seen + 1)).rowcount
        if claimed != 1:
            return None
        session.refresh(delivery)
        if unposted_answer(session, delivery, first_try=seen == 0):
            return DeliveryStatus.WITHDRAWN
        body = json.dumps(payload(session, delivery, now), separators=(",", ":"), default=str).encode()
    stamp = str(int(now.timestamp()))
    headers = {"Content-Type": "application/json", "User-Agent": "sev1-hotline",
               "X-Hotline-Event": delivery.kind, "X-Hotline-Delivery": str(delivery_id),
               "X-Hotline-Timestamp": stamp,
               SIGNATURE_HEADER: signature(settings.helpdesk_webhook_secret, stamp, body)}
    code, error = None, ""
    try:
        code = post(settings.helpdesk_webhook_url, body, headers)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the helpdesk is retried, and logged
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
    ok = code is not None and 200 <= code < 300
    with db.transaction() as session:
        delivery = session.get(HelpdeskDelivery, delivery_id)
        assert delivery is not None
        delivery.last_status_code = code
        delivery.last_error = error or ("" if ok else f"HTTP {code}")
        if ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            log.error("helpdesk webhook delivery %s (%s) failed after %d attempts", delivery_id, delivery.kind,
                      delivery.attempts)
        else:
            delivery.next_attempt_at = now + RETRY_DELAYS[min(delivery.attempts - 1, len(RETRY_DELAYS) - 1)]
            schedule(session, "webhook", delivery.id, delivery.next_attempt_at, attempt=delivery.attempts)
            log.warning("helpdesk webhook delivery %s attempt %d failed (%s); retrying at %s", delivery_id,
                        delivery.attempts, delivery.last_error, delivery.next_attempt_at.isoformat())
        return delivery.status


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    import requests

    return requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False).status_code
