"""What customer updates, resolution proposals and update reminders say, in the customer's language."""

from __future__ import annotations

from datetime import datetime

from app.models import CustomerUpdate, Incident, Outage, ProposalKind, ResolutionProposal
from app.services.page_text import hhmm
from ivr_flows.prompts import zone_for_number

SMS_LIMIT = 1200  # several segments at most; the e-mail carries the whole text
GERMAN = "de-DE"


def _de(language: str) -> bool:
    return language == GERMAN


def customer_zone(incident: Incident) -> str:
    """The customer's time zone (from their number), for times in their messages."""
    return zone_for_number(incident.callback_phone).key if incident.callback_phone else "UTC"


def update_sms(incident: Incident, update: CustomerUpdate, next_due: datetime | None) -> str:
    """The SMS form of an update."""
    tz = customer_zone(incident)
    if _de(incident.language):
        parts = [f"Sev-1 {incident.reference} Update: {update.what_is_wrong}"]
        if update.expected_resolution:
            parts.append(f"Erwartete Behebung: {update.expected_resolution}")
        if update.workaround:
            parts.append(f"Umgehung: {update.workaround}")
        if next_due:
            parts.append(f"Nächstes Update bis {hhmm(next_due, tz)}")
    else:
        parts = [f"Sev-1 {incident.reference} update: {update.what_is_wrong}"]
        if update.expected_resolution:
            parts.append(f"Expected resolution: {update.expected_resolution}")
        if update.workaround:
            parts.append(f"Workaround: {update.workaround}")
        if next_due:
            parts.append(f"Next update by {hhmm(next_due, tz)}")
    return ". ".join(p.rstrip(". ") for p in parts)[:SMS_LIMIT] + "."


def update_email(incident: Incident, update: CustomerUpdate, next_due: datetime | None) -> tuple[str, str]:
    """Subject and body of an update e-mail."""
    tz = customer_zone(incident)
    name = incident.contact_name or ""
    if _de(incident.language):
        subject = f"Sev-1-Vorfall {incident.reference}: Update"
        lines = [f"Guten Tag {name},".replace(" ,", ","), "", "hier der aktuelle Stand zu Ihrem Vorfall "
                 f"{incident.reference}:", "", f"Was ist gestört: {update.what_is_wrong}",
                 f"Erwartete Behebung: {update.expected_resolution or 'noch offen'}",
                 f"Umgehung: {update.workaround or 'keine'}"]
        if next_due:
            lines += ["", f"Das nächste Update erhalten Sie bis {hhmm(next_due, tz)}."]
        lines += ["", "Ihre Severity-1-Hotline"]
    else:
        subject = f"Sev-1 incident {incident.reference}: update"
        lines = [f"Hello {name},".replace(" ,", ","), "", f"Here is where your incident {incident.reference} "
                 "stands:", "", f"What is wrong: {update.what_is_wrong}",
                 f"Expected resolution: {update.expected_resolution or 'not known yet'}",
                 f"Workaround: {update.workaround or 'none'}"]
        if next_due:
            lines += ["", f"Your next update will come by {hhmm(next_due, tz)}."]
        lines += ["", "Your Severity-1 hotline"]
    return subject, "\n".join(lines) + "\n"


def _proposal_line(incident: Incident, proposal: ResolutionProposal) -> str:
    if _de(incident.language):
        what = ("Wir halten Ihr Problem für gelöst" if proposal.kind == ProposalKind.RESOLVED
                else "Eine Umgehung ist eingerichtet")
    else:
        what = ("We believe your problem is resolved" if proposal.kind == ProposalKind.RESOLVED
                else "A workaround is in place")
    return f"{what}: {proposal.summary}".rstrip(": ") if proposal.summary else what


def proposal_sms(incident: Incident, proposal: ResolutionProposal) -> str:
    """The SMS asking the customer to confirm or reject a resolution."""
    ref = incident.reference
    if _de(incident.language):
        return (f"Sev-1 {ref}: {_proposal_line(incident, proposal)}. Antworten Sie JA {ref} zur Bestätigung "
                f"oder NEIN {ref}, wenn das Problem weiter besteht.")[:SMS_LIMIT]
    return (f"Sev-1 {ref}: {_proposal_line(incident, proposal)}. Reply YES {ref} to confirm, "
            f"or NO {ref} if the problem goes on.")[:SMS_LIMIT]


def proposal_email(incident: Incident, proposal: ResolutionProposal, link: str, silence_hours: int) -> tuple[str, str]:
    """Subject and body of the e-mail asking for confirmation, with the signed link."""
    ref = incident.reference
    if _de(incident.language):
        subject = f"Sev-1-Vorfall {ref}: Bitte bestätigen Sie die Lösung"
        body = (f"{_proposal_line(incident, proposal)}.\n\nBitte bestätigen oder widersprechen Sie hier:\n{link}\n\n"
                f"Oder antworten Sie per SMS mit JA {ref} bzw. NEIN {ref}. Ohne Antwort innerhalb von "
                f"{silence_hours} Stunden schließen wir den Vorfall als gelöst, aber nicht bestätigt.\n\n"
                "Ihre Severity-1-Hotline\n")
    else:
        subject = f"Sev-1 incident {ref}: please confirm the resolution"
        body = (f"{_proposal_line(incident, proposal)}.\n\nPlease confirm or reject it here:\n{link}\n\n"
                f"Or reply YES {ref} or NO {ref} by SMS. Without an answer within {silence_hours} hours we "
                "close the incident as resolved, not confirmed.\n\nYour Severity-1 hotline\n")
    return subject, body


def proposal_spoken(incident: Incident, proposal: ResolutionProposal) -> str:
    """What a repeat caller hears about a proposal awaiting their answer (press 1 / 2)."""
    if _de(incident.language):
        return (f"{_proposal_line(incident, proposal)}. Drücken Sie die 1, um das zu bestätigen, "
                "oder die 2, wenn das Problem weiter besteht.")
    return (f"{_proposal_line(incident, proposal)}. Press 1 to confirm, or 2 if the problem goes on.")


def decision_reply(incident: Incident, confirmed: bool) -> str:
    """The answer to a customer who confirmed or rejected."""
    ref = incident.reference
    if _de(incident.language):
        return (f"Danke. Vorfall {ref} ist geschlossen." if confirmed else
                f"Danke. Wir arbeiten weiter an Vorfall {ref} und melden uns mit dem nächsten Update.")
    return (f"Thank you. Incident {ref} is closed." if confirmed else
            f"Thank you. We keep working on incident {ref} and will send the next update.")


def reminder_sms(incident: Incident, round_: int, due: datetime) -> str:
    """The owner's reminder shortly before an update is due."""
    return (f"SEV1 {incident.reference} {incident.company[:40]}: customer update {round_} due by {hhmm(due)}. "
            f"Reply UPDATE {incident.reference} <text>, or write it on the dashboard.")


def late_sms(incident: Incident, round_: int, due: datetime, owner: str) -> str:
    """The managers' alert when an update was not sent by its due time."""
    return (f"SEV1 {incident.reference} {incident.company[:40]}: customer update {round_} was due {hhmm(due)} "
            f"and is NOT sent (owner {owner or 'unknown'}).")


def outage_statement(outage: Outage, language: str, tz: str = "UTC") -> str:
    """The short statement callers hear right after the greeting while an outage is declared."""
    if _de(language):
        what = outage.what_fails_de or outage.what_fails
        text = f"Uns ist eine aktuelle Störung der Plattform bekannt: {what}, seit {hhmm(outage.since, tz)}."
        if outage.next_update_at:
            text += f" Das nächste Update folgt bis {hhmm(outage.next_update_at, tz)}."
        return text + " Wir nehmen Ihre Meldung trotzdem gern auf."
    text = f"We know of a current platform outage: {outage.what_fails}, since {hhmm(outage.since, tz)}."
    if outage.next_update_at:
        text += f" Our next update is due by {hhmm(outage.next_update_at, tz)}."
    return text + " We will still take your report."


def ticket_howto_sms(howto: str, language: str) -> str:
    """The SMS a non-critical caller accepted: how to open a ticket."""
    prefix = "Sev-1-Hotline: " if _de(language) else "Sev-1 hotline: "
    return (prefix + howto)[:SMS_LIMIT]
