"""Non-critical callers: logged as contacts (nobody is paged), offered an SMS on how to open a ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import DeliveryChannel, NonCriticalContact
from app.services import update_text
from app.services.customer_text import is_german
from app.services.deliveries import queue_delivery
from app.services.events import log_event
from app.services.phones import is_textable
from app.settings import Settings

# TICKET_HOWTO_DE's placeholder, for German callers while TICKET_HOWTO is its own placeholder too
GERMAN_PLACEHOLDER = ("Um ein Support-Ticket zu eröffnen, schreiben Sie an support@example.com oder nutzen Sie das "
                      "Kunden-Dashboard.")


def howto_text(language: str, howto: str = "", howto_de: str = "") -> str:
    """How to open a ticket, in the caller's language: TICKET_HOWTO (``howto``, else its placeholder); for a German
    caller TICKET_HOWTO_DE, else TICKET_HOWTO's own words when the operator set them (their address, never a
    placeholder's), else the German placeholder. Until session 42 a German caller always read English."""
    english = howto or Settings.ticket_howto
    if not is_german(language):
        return english
    return howto_de or (english if english != Settings.ticket_howto else GERMAN_PLACEHOLDER)


def record_non_critical(session: Session, *, call_sid: str | None, caller_id: str, language: str, now: datetime,
                        send_howto: bool, settings: Settings | None = None, howto: str = "",
                        howto_de: str = "") -> NonCriticalContact:
    """Log a non-critical caller once per call; text them how to open a ticket when they accepted.

    The call flow's RecordNonCritical effect lands here (app/services/intake.py); ``howto`` and ``howto_de`` (else
    the settings' TICKET_HOWTO and TICKET_HOWTO_DE) give the text (``howto_text``).
    """
    howto = howto_text(language, howto or (settings.ticket_howto if settings else ""),
                       howto_de or (settings.ticket_howto_de if settings else ""))
    contact = session.scalars(select(NonCriticalContact).where(NonCriticalContact.call_sid == call_sid)).first() \
        if call_sid else None
    if contact is None:
        contact = NonCriticalContact(at=now, call_sid=call_sid, caller_id=caller_id[:32], language=language)
        session.add(contact)
        session.flush()
        log_event(session, at=now, actor="ivr", kind="non_critical_contact", call_sid=call_sid,
                  detail={"contact_id": contact.id, "language": language})
    if send_howto and not contact.sms_to and is_textable(caller_id):
        contact.sms_to = caller_id[:20]
        queue_delivery(session, channel=DeliveryChannel.SMS, to=caller_id, purpose="ticket_info",
                       body=update_text.ticket_howto_sms(howto, language), now=now,
                       contact_id=contact.id, language=language)
    return contact
