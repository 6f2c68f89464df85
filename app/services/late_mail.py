"""E-mails that waited for SMTP (down, refusing, retried with back-off) say, when they finally leave, what is true
then, or do not leave.

An e-mail's words are written when it is queued, but it leaves when SMTP takes it: after an SMTP outage the
customer's receipt promised "an engineer will call you back by 22:17" at 22:22, after the apology for that very
deadline, and the TAM read "AT RISK, 5 min left" and "the reps are being paged" after the breach e-mail. So, at
each try (``deliveries.DeliverySender``):

- the customer's e-mailed receipt is written again as of the try (``customer_text.receipt_email``: past the
  deadline, the apology), as the SMS receipt is written at its send (``page_urls``);
- the TAM's page and at-risk e-mails are not sent once the TAM's breach e-mail is written (it says all there is),
  nor the at-risk one once the at-risk step would alert nobody any more (``escalation.decide``: the incident is
  resolved, the customer's callback started, the customer was reached) or the deadline has passed (its minutes
  left are false); the timeline says why;
- the TAM's breach e-mail is not sent once the customer was called back, nor the correction that followed it
  ("NOT breached after all") once no answer by the deadline stands: the rule of the pages alike
  (``pages.outdated_by_answer``);
- the customer's apology for an overdue update is not sent once an update was written since;
- the TAM's page e-mail leaving after the incident was resolved, or after the customer was called back, still tells
  them of their account's Sev-1 (policy), written again as opened at and resolved (or called back) at
  (``tam_mail.page_words_as_of``), not "the reps are being paged".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.escalation import StepDue, decide
from app.escalation.decide import BREACH_CORRECTED
from app.models import CustomerUpdate, Delivery, DeliveryChannel, Incident
from app.models.paging import TAM_ROLE
from app.services import customer_text
from app.services.escalation import snapshot
from app.services.pages import outdated_by_answer
from app.services.update_text import customer_zone

RECEIPT = "receipt"
LATE_APOLOGY = "update_apology"  # the customer's apology for an overdue update (``updates._apologise``)
AT_RISK_ALERTED = "alerted"  # the escalation core's outcome of an at-risk step that warns


def superseded(session: Session, delivery: Delivery, now: datetime) -> str:
    """Why this e-mail is no longer to be sent ("": send it)."""
    if delivery.purpose == LATE_APOLOGY and delivery.channel == DeliveryChannel.EMAIL:
        # "we are late with your update" after that update was written is false: the update says it all
        return "update_written" if session.scalar(select(CustomerUpdate.id).where(
            CustomerUpdate.incident_id == delivery.incident_id,
            CustomerUpdate.written_at >= delivery.created_at).limit(1)) is not None else ""
    if delivery.channel != DeliveryChannel.EMAIL or delivery.recipient != TAM_ROLE or delivery.incident_id is None:
        return ""
    if delivery.purpose in ("page", "at_risk") and session.scalar(select(Delivery.id).where(
            Delivery.incident_id == delivery.incident_id, Delivery.recipient == TAM_ROLE,
            Delivery.purpose == "breach").limit(1)) is not None:
        return "superseded_by_breach"
    incident = session.get(Incident, delivery.incident_id)
    if incident is not None and delivery.purpose in ("breach", BREACH_CORRECTED):
        return outdated_by_answer(delivery.purpose, incident)  # the pages' rule (``pages.no_longer_wanted``)
    if delivery.purpose != "at_risk" or incident is None:
        return ""
    # the at-risk step's own rule, as of now: "AT RISK, n min left, no callback started" after the callback is false
    decision = decide(StepDue("at_risk"), snapshot(session, incident, now), now)
    if decision.outcome != AT_RISK_ALERTED:
        return decision.outcome.removeprefix("skipped_")  # resolved, callback_started, callback_done
    return "deadline_passed" if incident.callback_due_at <= now else ""


def receipt_words(incident: Incident, now: datetime, hotline_number: str) -> tuple[str, str]:
    """The customer's e-mailed receipt as of ``now``: subject and body."""
    return customer_text.receipt_email(
        incident.reference, incident.callback_due_at, customer_zone(incident), incident.language,
        name=incident.contact_name or "", hotline_number=hotline_number,
        has_callback_number=bool(incident.callback_phone), now=now)


def rewrite(session: Session, delivery: Delivery, now: datetime, hotline_number: str) -> None:
    """The customer's e-mailed receipt and the TAM's page e-mail leaving now say what is true now (past the
    receipt's deadline, the apology; the incident resolved or its customer called back, when that was)."""
    from app.services.tam_mail import page_words_as_of  # tam_mail -> deliveries -> this module

    if delivery.channel != DeliveryChannel.EMAIL or delivery.incident_id is None:
        return
    receipt = delivery.recipient == "customer" and delivery.purpose == RECEIPT
    tam_page = delivery.recipient == TAM_ROLE and delivery.purpose == "page"
    incident = session.get(Incident, delivery.incident_id) if receipt or tam_page else None
    if incident is None:
        return
    if receipt:
        delivery.subject, delivery.body = receipt_words(incident, now, hotline_number)
        return
    words = page_words_as_of(session, incident, now)
    if words is not None:
        delivery.subject, delivery.body = words
