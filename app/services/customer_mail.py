"""E-mails the escalation core orders for the customer (``Decision.email_customer``: the receipt;
``Decision.breach_notice``; ``Decision.closing_notice``, also as ``agreed_close``), queued as delivery rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.escalation.decide import AGREED_CLOSING_NOTICE, BREACH_NOTICE, CLOSING_NOTICE
from app.models import Delivery, DeliveryChannel, Incident
from app.services import customer_text
from app.services.deliveries import queue_delivery
from app.services.late_mail import RECEIPT, receipt_words
from app.services.page_text import short_callback
from app.services.update_text import customer_zone


def email_customer(session: Session, incident: Incident, purpose: str, now: datetime,
                   hotline_number: str = "") -> Delivery | None:
    """Queue the e-mail ``purpose`` names to the incident's address (None without one); sent, retried, or recorded
    as skipped (no SMTP) by ``deliveries``, which logs it for the timeline."""
    zone, name, number = customer_zone(incident), incident.contact_name or "", bool(incident.callback_phone)
    if purpose == RECEIPT:
        subject, body = receipt_words(incident, now, hotline_number)
    elif purpose == BREACH_NOTICE:
        subject, body = customer_text.breach_notice_email(
            incident.reference, incident.callback_due_at, zone, incident.language, name=name,
            hotline_number=hotline_number, has_callback_number=number, now=now,
            too_short=short_callback(incident, now))
    elif purpose == CLOSING_NOTICE:
        subject, body = customer_text.closing_notice_email(incident.reference, now, zone, incident.language,
                                                           name=name, hotline_number=hotline_number)
    elif purpose == AGREED_CLOSING_NOTICE:
        subject, body = customer_text.agreed_closing_email(incident.reference, now, zone, incident.language,
                                                           name=name, hotline_number=hotline_number)
    else:
        raise ValueError(f"no customer e-mail for purpose {purpose!r}")
    return queue_delivery(session, channel=DeliveryChannel.EMAIL, to=incident.email, purpose=purpose, subject=subject,
                          body=body, now=now, incident_id=incident.id, language=incident.language)
