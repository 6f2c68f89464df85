"""The account's TAM told by e-mail (``oncall.tam_target``: outside their business hours, or with no TAM phone).

The e-mail says what their text would (``page_text.tam_sms``), why it came in writing, and that they need do
nothing. It is a delivery row (``deliveries``: sent by SMTP, retried, or recorded as skipped without SMTP), written
at most once per incident and notice (page, at-risk, breach, and the correction of a breach e-mail tried when the
callback then counted met after all: ``breach_emailed_tam``): a step run again, or a repage every 5 minutes, writes
no second one. A page e-mail that leaves after the incident was resolved (it waited for SMTP) says so instead of
"the reps are being paged" (``late_mail.rewrite``), and so does one leaving after the customer was called back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.escalation.decide import BREACH_CORRECTED
from app.event_kind import EventKind
from app.models import Delivery, DeliveryChannel, Incident, IncidentEvent, IncidentStatus
from app.models.paging import TAM_EMAILS, TAM_ROLE
from app.oncall.business_hours import stored_hours
from app.oncall.contactable import EMAIL, Contactable
from app.prompts import CATALOGS, REP_LANG, text
from app.services.deliveries import queue_delivery
from app.services.events import log_event
from app.services.oncall import tam_name
from app.services.page_text import breach_corrected_sms, company_name, dated, service_short, tam_clock, tam_sms
from app.services.tickets import account_of

AFTER_HOURS, NO_PHONE = "after_hours", "no_phone"  # why the TAM is told in writing
AS_BREACH = "as_breach"  # the correction of a breach e-mail: it follows on that e-mail's channel
_WHAT = {"page": "tam_email_what_page", "at_risk": "tam_email_what_at_risk", "breach": "tam_email_what_breach",
         BREACH_CORRECTED: "tam_email_what_breach_corrected"}
_NOTHING = {BREACH_CORRECTED: "tam_email_nothing_to_do_corrected"}  # else "the reps call the customer back"


def email_tam(session: Session, incident: Incident, who: Contactable, purpose: str, now: datetime) -> Delivery | None:
    """Queue the TAM's e-mail for ``purpose`` (a ``TAM_EMAILS`` purpose) to ``who.email`` and log why it came in
    writing; None when none is owed (``owes_email``)."""
    if not owes_email(session, incident, who, purpose):
        return None
    why, hours, zone = _how_told(session, incident)
    why = AS_BREACH if purpose == BREACH_CORRECTED else why  # on the breach e-mail's channel, whatever the hour
    subject, body = tam_email(incident, purpose, now, why=why, hours=hours, zone=zone)
    log_event(session, at=now, actor="system", kind=EventKind.TAM_EMAILED, incident_id=incident.id,
              detail={"purpose": purpose, "why": why, "hours": hours, "time_zone": zone})
    languages = _languages(incident)
    return queue_delivery(session, channel=DeliveryChannel.EMAIL, to=who.email, purpose=purpose, recipient=TAM_ROLE,
                          subject=subject, body=body, now=now, incident_id=incident.id, language=languages[-1])


def log_tam_texted(session: Session, incident: Incident, purpose: str, now: datetime) -> None:
    """Say on the timeline that the TAM was texted ``purpose`` outside their business hours, not e-mailed: no e-mail
    address is on file (``oncall.tam_target``), with their hours and clock."""
    _why, hours, zone = _how_told(session, incident)
    log_event(session, at=now, actor="system", kind=EventKind.TAM_TEXTED_NO_EMAIL, incident_id=incident.id,
              detail={"purpose": purpose, "hours": hours, "time_zone": zone})


def log_tam_untold(session: Session, incident: Incident, now: datetime) -> None:
    """Say on the timeline, once per incident, that the account's TAM was told nothing when their level was paged:
    neither a TAM phone nor a TAM e-mail address is on file (``oncall.tam_untold``), so no alert of it reaches them
    either."""
    if session.scalar(select(IncidentEvent.id).where(IncidentEvent.incident_id == incident.id,
                                                     IncidentEvent.kind == EventKind.TAM_NOT_TOLD).limit(1)):
        return  # the level's step run again: said once
    account = account_of(session, incident)
    log_event(session, at=now, actor="system", kind=EventKind.TAM_NOT_TOLD, incident_id=incident.id,
              detail={"purpose": "page", "account_id": account.id if account is not None else None})


def owes_email(session: Session, incident: Incident, who: Contactable, purpose: str) -> bool:
    """Whether ``who`` (the TAM told in writing) is owed an e-mail for ``purpose``: a notice of theirs or the breach
    correction, to an address, not written before for this incident."""
    return purpose in TAM_EMAILS and bool(who.email) and not _written(session, incident, purpose)


def page_words_as_of(session: Session, incident: Incident, now: datetime) -> tuple[str, str] | None:
    """The TAM's page e-mail written again as of ``now`` (subject, body) when it would no longer be true: the
    incident resolved by then (opened at, resolved at), or the customer called back (opened at, called back at);
    None while the reps are still being paged (the words as queued are true)."""
    if incident.status == IncidentStatus.OPEN and incident.callback_answered_at is None:
        return None
    why, hours, zone = _how_told(session, incident)
    if incident.status != IncidentStatus.OPEN:
        resolved_at = session.scalar(select(IncidentEvent.at).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.RESOLVED)
            .order_by(IncidentEvent.at.desc()).limit(1))
        return tam_email(incident, "page", now, why=why, hours=hours, zone=zone, resolved_at=resolved_at or now)
    return tam_email(incident, "page", now, why=why, hours=hours, zone=zone,
                     called_back_at=incident.callback_answered_at)


def tam_email(incident: Incident, purpose: str, now: datetime, *, why: str, hours: str,
              zone: str, resolved_at: datetime | None = None,
              called_back_at: datetime | None = None) -> tuple[str, str]:
    """Subject and body (times on the TAM's clock, ``zone``, with the date: an e-mail is read hours later): in English, as every text to staff; for a caller who
    spoke another language the hotline has (German), the same again in it below: their TAM may read that better.
    ``resolved_at``: a page leaving after the incident was resolved says when it was opened and resolved;
    ``called_back_at``: one leaving after the customer was called back says when it was opened and they were called."""
    resolved = purpose == "page" and resolved_at is not None
    called_back = purpose == "page" and not resolved and called_back_at is not None
    what = text("tam_email_what_page_resolved" if resolved else "tam_email_what_page_called_back" if called_back
                else _WHAT[purpose], REP_LANG)
    subject = text("tam_email_subject", REP_LANG, ref=incident.reference, company=company_name(incident), what=what)
    blocks = []
    for lang in _languages(incident):
        said = (text("tam_email_correction_why", lang) if why == AS_BREACH
                else text("tam_email_after_hours", lang, hours=hours, zone=zone) if why == AFTER_HOURS
                else text("tam_email_no_phone", lang))
        if resolved:
            first = text("tam_page_resolved", lang, ref=incident.reference, company=company_name(incident, lang),
                         service=service_short(incident, lang), opened=dated(incident.received_at, zone),
                         resolved=dated(resolved_at, zone))
        elif called_back:
            first = text("tam_page_called_back", lang, ref=incident.reference, company=company_name(incident, lang),
                         service=service_short(incident, lang), opened=dated(incident.received_at, zone),
                         called_back=dated(called_back_at, zone))
        elif purpose == BREACH_CORRECTED:  # the words of everyone's correction SMS, with the day
            first = breach_corrected_sms(incident, zone, now, lang, clock=dated)
        else:
            first = tam_sms(incident, purpose, now, zone, lang, clock=dated)  # read hours later: with the day
        nothing = text("tam_email_nothing_to_do_resolved" if resolved else "tam_email_nothing_to_do_called_back"
                       if called_back else _NOTHING.get(purpose, "tam_email_nothing_to_do"), lang)
        blocks.append("\n\n".join((first, said, nothing)))
    return subject, "\n\n-----\n\n".join(blocks) + "\n"


def emailed_tam(session: Session, incident: Incident) -> list[Contactable]:
    """The TAM this incident's page reached by e-mail, as one of those paged so far (the at-risk alert is for them)."""
    row = session.execute(select(Delivery.to_address).where(
        Delivery.incident_id == incident.id, Delivery.recipient == TAM_ROLE, Delivery.purpose == "page")
        .order_by(Delivery.id).limit(1)).first()
    if row is None:
        return []
    account = account_of(session, incident)
    return [Contactable(None, tam_name(account) if account is not None else "TAM", "", (EMAIL,), TAM_ROLE,
                        email=row.to_address)]


def breach_emailed_tam(session: Session, incident: Incident) -> list[Contactable]:
    """The TAM whose breach e-mail was tried (it may have reached them, as a page tried: ``counts_as_paged``), as
    one of those an alert told BREACHED: told by e-mail if the callback counted met after all."""
    row = session.execute(select(Delivery.to_address).where(
        Delivery.incident_id == incident.id, Delivery.recipient == TAM_ROLE, Delivery.purpose == "breach",
        Delivery.attempts > 0).order_by(Delivery.id).limit(1)).first()
    if row is None:
        return []
    account = account_of(session, incident)
    return [Contactable(None, tam_name(account) if account is not None else "TAM", "", (EMAIL,), TAM_ROLE,
                        email=row.to_address)]


def _how_told(session: Session, incident: Incident) -> tuple[str, str, str]:
    """Why the TAM is told in writing, their business hours and their time zone (from the incident's account)."""
    account = account_of(session, incident)
    why = NO_PHONE if account is None or not account.tam_phone else AFTER_HOURS
    hours = stored_hours(account.tam_business_hours, f"account {account.id}'s TAM") if account is not None else ""
    return why, hours, tam_clock(account)


def _written(session: Session, incident: Incident, purpose: str) -> bool:
    return session.scalar(select(Delivery.id).where(
        Delivery.incident_id == incident.id, Delivery.recipient == TAM_ROLE, Delivery.purpose == purpose)
        .limit(1)) is not None


def _languages(incident: Incident) -> list[str]:
    other = incident.language if incident.language in CATALOGS and incident.language != REP_LANG else None
    return [REP_LANG, other] if other else [REP_LANG]
