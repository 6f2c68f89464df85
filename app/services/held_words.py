"""The customer's words no SMS has carried yet, and the one rule of when an answer's SMS may withdraw a held one.

The quarter-hour rule (``customer_sms``) holds a customer's later words in one SMS per reader (``HELD_WORDS``), sent
when the quarter hour is over. The SMS of their answer to a proposal (``resolution._tell_readers``) quotes the words
nobody was texted (``untold``), and withdraws a reader's held SMS only when the SMS queued to that same reader holds
that SMS's words verbatim (``withdraw_quoted``): what is quoted and what is withdrawn are read from the same text, so
no window can differ. Until this change the quote covered the words since the proposal and the withdrawal every held
SMS: an outside probe's customer's new contact address, held before the proposal, reached nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Delivery, Incident, IncidentEvent, UpdateDeliveryStatus
from app.prompts import text
from app.queue import schedule
from app.services.deliveries import HELD_WORDS, JOB_KIND
from app.services.events import log_event
from app.services.page_text import company_name

HELD_LIMIT = 900  # characters of held words one SMS carries (about six segments); the rest is on the incident page
JOIN = " / "


def quoted(words: str) -> str:
    """One line of the customer's words as a held SMS and an answer's SMS quote it."""
    return f'"{words}"'


def line_words(detail: dict) -> str:
    """The words of a ``customer_sms_message`` line as the owner reads them (the caller ID's mark included)."""
    words = " ".join(str(detail.get("text", "")).split())
    return text("cust_sms_from_caller_id", text=words) if detail.get("from") == "caller_id" else words


@dataclass(frozen=True)
class Untold:
    """The customer's words no SMS has carried to a reader, quoted as one text (``quote``, "" when none)."""

    quote: str


def untold(session: Session, incident: Incident, since: datetime) -> Untold:
    """The words the customer texted that no SMS carried: lines nobody was told since ``since`` (the proposal), and
    every line still in a held SMS not tried yet, whenever it came (held before the proposal too), oldest first, up
    to ``HELD_LIMIT`` characters."""
    oldest_held = session.scalar(select(Delivery.created_at).where(
        Delivery.incident_id == incident.id, Delivery.purpose == HELD_WORDS,
        Delivery.status == UpdateDeliveryStatus.QUEUED, Delivery.attempts == 0)
        .order_by(Delivery.created_at).limit(1))
    start = min(since, oldest_held) if oldest_held is not None else since
    lines = session.execute(select(IncidentEvent.at, IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CUSTOMER_SMS_MESSAGE,
        IncidentEvent.at >= start).order_by(IncidentEvent.id)).all()
    said = [quoted(line_words(detail)) for at, detail in lines
            if detail and not detail.get("owner_told") and line_words(detail)
            # a held line older than every held SMS still waiting went in one already on its way
            and (at >= since or (detail.get("held_until") and oldest_held is not None and at >= oldest_held))]
    quote = JOIN.join(said)
    return Untold(quote if len(quote) <= HELD_LIMIT else quote[:HELD_LIMIT - 1] + "…")


def withdraw_quoted(session: Session, incident: Incident, phone: str, quote: str, now: datetime) -> int:
    """Withdraw ``phone``'s held SMS of this incident not tried yet whose words ``quote`` (in an SMS just queued to
    that same phone) holds verbatim; a held SMS with words the quote lacks (more came, it was cut) still goes.
    Returns how many were withdrawn."""
    if not quote:
        return 0
    prefix = text("cust_sms_to_owner_held", ref=incident.reference, company=company_name(incident), text="")
    held = session.scalars(select(Delivery).where(
        Delivery.incident_id == incident.id, Delivery.purpose == HELD_WORDS, Delivery.to_address == phone,
        Delivery.status == UpdateDeliveryStatus.QUEUED, Delivery.attempts == 0).with_for_update()).all()
    withdrawn = 0
    for delivery in held:
        words = delivery.body[len(prefix):] if delivery.body.startswith(prefix) else ""
        if not words or f"{JOIN}{words}{JOIN}" not in f"{JOIN}{quote}{JOIN}":
            continue
        delivery.status, delivery.last_error = UpdateDeliveryStatus.SKIPPED, "quoted in the SMS of the customer's answer"
        log_event(session, at=now, actor="system", kind="delivery_skipped", incident_id=incident.id,
                  detail={"delivery_id": delivery.id, "channel": delivery.channel, "purpose": delivery.purpose,
                          "recipient": delivery.recipient, "reason": "quoted_with_answer"})
        withdrawn += 1
    return withdrawn


def release(session: Session, incident: Incident, now: datetime) -> int:
    """Send this incident's held SMS not tried yet at once (a callback starts: the escalation core's
    ``customer_words``), registered before the job that rings the rep; returns how many. Until this change they waited
    for their time (the callback deadline at the latest): an outside probe's rep, who texted CALL, dialled the number
    the customer had just texted was dying, and read the new one at the deadline."""
    held = session.scalars(select(Delivery).where(
        Delivery.incident_id == incident.id, Delivery.purpose == HELD_WORDS,
        Delivery.status == UpdateDeliveryStatus.QUEUED, Delivery.attempts == 0, Delivery.next_attempt_at > now)
        .order_by(Delivery.id).with_for_update()).all()
    for delivery in held:
        delivery.next_attempt_at = now
        schedule(session, JOB_KIND, delivery.id, now, tag="released")
    if held:
        log_event(session, at=now, actor="system", kind=EventKind.HELD_WORDS_RELEASED, incident_id=incident.id,
                  detail={"delivery_ids": [d.id for d in held], "reason": "callback_started"})
    return len(held)
