"""E-mails the escalation core orders for the customer (``Decision.email_customer``), queued as delivery rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Delivery, DeliveryChannel, Incident
from app.services import customer_text
from app.services.deliveries import queue_delivery
from app.services.update_text import customer_zone


def email_customer(session: Session, incident: Incident, purpose: str, now: datetime,
                   hotline_number: str = "") -> Delivery | None:
    """Queue the e-mail ``purpose`` names to the incident's address (None without one); sent, retried, or recorded
    as skipped (no SMTP) by ``deliveries``, which logs it for the timeline."""
    if purpose != "receipt":
        raise ValueError(f"no customer e-mail for purpose {purpose!r}")
    subject, body = customer_text.receipt_email(
        incident.reference, incident.callback_due_at, customer_zone(incident), incident.language,
        name=incident.contact_name or "", hotline_number=hotline_number,
        has_callback_number=bool(incident.callback_phone), now=now)
    return queue_delivery(session, channel=DeliveryChannel.EMAIL, to=incident.email, purpose=purpose, subject=subject,
                          body=body, now=now, incident_id=incident.id, language=incident.language)
