"""What the hotline texts a caller, in the caller's language (issue 10)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ivr_flows.prompts import GERMAN_ZONE_NAMES
from ivr_flows.validate import region_of

GERMAN = "de-DE"
_GERMAN_REGIONS = {"DE", "AT", "CH", "LI"}


def is_german(language: str) -> bool:
    """True for the German flow's language code."""
    return (language or "").lower().startswith("de")


def language_for(language: str, caller_id: str) -> str:
    """The caller's chosen language, else German for a German-speaking country's number, else English."""
    if language:
        return language
    return GERMAN if region_of(caller_id) in _GERMAN_REGIONS else "en-US"


def local_time(when: datetime, tz: str, language: str) -> str:
    """``03:15 UTC`` / ``16:21 Uhr (MEZ)`` in ``tz``."""
    local = when.astimezone(ZoneInfo(tz))
    abbr = local.tzname() or "UTC"
    if is_german(language):
        return f"{local:%H:%M} Uhr ({GERMAN_ZONE_NAMES.get(abbr, abbr)})"
    return f"{local:%H:%M} {abbr}"


def receipt_sms(reference: str, due: datetime, tz: str, language: str) -> str:
    """The customer's receipt right after intake."""
    if is_german(language):
        return (f"Severity-1-Hotline: Wir haben Ihre Meldung, Referenznummer {reference}. "
                f"Ein Techniker ruft Sie spätestens um {local_time(due, tz, language)} zurück.")
    return (f"Sev-1 hotline: we have your report, reference {reference}. "
            f"An engineer will call you back by {local_time(due, tz, language)}.")


def ack_notice_sms(reference: str, due: datetime, tz: str, language: str) -> str:
    """Tells the customer an engineer has taken the incident."""
    if is_german(language):
        return (f"Severity-1-Hotline, Referenznummer {reference}: Ein Techniker hat Ihren Vorfall übernommen "
                f"und ruft Sie spätestens um {local_time(due, tz, language)} zurück.")
    return (f"Sev-1 hotline, reference {reference}: an engineer has taken your incident "
            f"and will call you back by {local_time(due, tz, language)} at the latest.")


def missed_call_sms(language: str) -> str:
    """Invites a caller whose call ended before we knew their problem to call again or reply."""
    if is_german(language):
        return ("Severity-1-Hotline: Ihr Anruf wurde beendet, bevor wir Ihr Anliegen aufnehmen konnten. "
                "Wenn Ihr E-Mail-Versand ausgefallen ist, rufen Sie uns bitte noch einmal an oder antworten "
                "Sie auf diese SMS mit Ihrer Firma und dem, was ausfällt.")
    return ("Sev-1 hotline: your call ended before we could take your details. If your e-mail sending is down, "
            "please call us again, or reply to this message with your company and what is failing.")


def bridge_greeting(reference: str, language: str) -> str:
    """What the customer hears when the hotline bridges a rep's callback (for the bridge webhook to speak)."""
    spoken = ", ".join(reference)
    if is_german(language):
        return (f"Hier ist die Severity-1-Hotline. Wir rufen wegen Ihres Vorfalls {spoken} an "
                "und verbinden Sie jetzt mit einem Techniker.")
    return f"This is the Severity-1 hotline, calling about your incident {spoken}. Connecting you to an engineer now."
