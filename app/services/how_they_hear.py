"""How a customer texting us will hear from us next: from the phone they called from (not their callback number), or
from their callback number itself (``customer_sms``: until probe K's K3 its answer never said when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import DeliveryChannel, FollowUpState, Incident
from app.prompts import text
from app.services.customer_text import written_time
from app.services.update_text import customer_zone


def how_they_hear(session: Session, incident: Incident, now: datetime, from_callback_number: bool = False) -> str:
    """The words telling them how (and, when the incident holds one, by when) they hear from us.

    ``from_callback_number``: they texted from the callback number itself: never told to answer from it; once reached,
    the updates by text when it takes our texts, with the next one's time.

    "Our texts go to the callback number you gave us" only when that number takes our texts (``written_channels``:
    textable, not opted out): an outside probe's customer whose callback number was a landline was told to answer
    texts that never come, and not when they would hear next (their question). Otherwise: the callback owed on that
    number (by its deadline), or once they were reached (the escalation core's ``customer_reached``) the updates by
    e-mail or by phone, with the next one's time; "" when the incident has neither a number nor an address."""
    from app.services.escalation import snapshot  # the escalation's services import this one's importers
    from app.services.updates import follow_up_of, written_channels

    lang, channels = incident.language, written_channels(session, incident)
    by_sms = DeliveryChannel.SMS.value in channels
    if by_sms and not from_callback_number:
        return text("cust_sms_caller_id_hint", lang)
    by_email = DeliveryChannel.EMAIL.value in channels
    if not incident.callback_phone and not by_email:
        return ""
    zone = customer_zone(incident)
    if not snapshot(session, incident, now).customer_reached:
        due = incident.callback_due_at
        way = "call" if incident.callback_phone else "email"
        if due is None or due <= now:
            return text(f"cust_sms_hear_{way}_asap", lang)
        return text(f"cust_sms_hear_{way}_by", lang, due=written_time(due, zone, lang, now, at=True))
    words = text("cust_sms_hear_updates_sms" if by_sms else
                 "cust_sms_hear_updates_email" if by_email else "cust_sms_hear_updates_call", lang)
    follow_up = follow_up_of(session, incident)
    if follow_up is not None and follow_up.state == FollowUpState.UPDATING and follow_up.next_due_at is not None \
            and follow_up.next_due_at > now:
        words += text("cust_sms_hear_next", lang, due=written_time(follow_up.next_due_at, zone, lang, now, at=True))
    return words
