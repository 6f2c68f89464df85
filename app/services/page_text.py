"""Pages and customer messages (SMS bodies, spoken page summaries), worded from the prompt catalog."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.models import Incident
from app.prompts import text

SERVICE_SHORT = {"api": "API calls failing", "smtp": "SMTP injection failing",
                 "both": "API + SMTP failing", "other": "critical problem"}


def hhmm(when: datetime, tz: str = "UTC") -> str:
    """``03:15 UTC`` style time in ``tz``."""
    local = when.astimezone(ZoneInfo(tz))
    return f"{local:%H:%M} {local.tzname()}"


def page_sms(incident: Incident, ack_link: str) -> str:
    """The SMS page: reference, company, service, deadline, how to acknowledge."""
    return text("page_sms", ref=incident.reference, company=(incident.company or "unknown company")[:40],
                service=SERVICE_SHORT.get(incident.affected_service, "critical problem"),
                phone=incident.callback_phone or "n/a", due=hhmm(incident.callback_due_at), link=ack_link).strip()


def alert_sms(incident: Incident, purpose: str, now: datetime) -> str:
    """At-risk and breach alerts for managers and everyone paged."""
    company = (incident.company or "unknown company")[:40]
    minutes = max(0, int((incident.callback_due_at - now).total_seconds() // 60))
    return text("alert_breach" if purpose == "breach" else "alert_at_risk", ref=incident.reference, company=company,
                due=hhmm(incident.callback_due_at), minutes=minutes)


def receipt_sms(incident: Incident, tz: str) -> str:
    """The customer's receipt right after intake."""
    return text("receipt_sms", incident.language, ref=incident.reference, due=hhmm(incident.callback_due_at, tz))


def ack_notice_sms(incident: Incident, tz: str) -> str:
    """Tells the customer an engineer has taken the incident."""
    return text("ack_notice_sms", incident.language, ref=incident.reference, due=hhmm(incident.callback_due_at, tz))


def spoken_summary(incident: Incident) -> str:
    """The voice page summary."""
    ref = ", ".join(incident.reference)
    service = SERVICE_SHORT.get(incident.affected_service, "critical problem").replace("+", "and")
    company = incident.company or "an unknown company"
    return text("page_spoken", ref=ref, company=company, service=service, due=f"{incident.callback_due_at:%H:%M} U T C")


def taken_over_sms(incident: Incident) -> str:
    """Tells the previous owner that another rep took the incident over."""
    return text("taken_over_notice", ref=incident.reference)
