"""What the call flow may know about a caller, and how what they said compares with the ticket (issue 9)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session

from app.models import Account, CallSession, FollowUpState, Incident, IncidentEvent, IncidentStatus, Ticket
from app.services.callback_extensions import callback_extension, calls_back
from app.services.events import log_event
from app.services.support_pin import check_pin
from ivr_flows.model import CheckPin, IncidentInfo, PinChecked, SaveIncident, TicketInfo, TicketMatch
from ivr_flows.questions import contact_clock
from ivr_flows.validate import is_valid_phone

MATCHES, DIFFERS, NOT_GIVEN, NOTHING_ON_FILE = "matches", "differs", "not_given", "nothing_on_file"
# a proven repeat caller hears which phone their callback rings by its last digits: enough to tell their phones apart,
# and no whole stored number for a six-digit reference, which is weaker proof than the PIN, to read out
CALLBACK_DIGITS_SAID = 4
_COMPANY_SUFFIXES = re.compile(r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|corp|corporation|co|company|plc|sa|bv)\b")


def ticket_info(ticket: Ticket, *, verified: bool) -> TicketInfo:
    """The ticket as the flow may see it: its details only for a caller who proved who they are."""
    has_pin = bool(ticket.account and ticket.account.support_pin_hash)
    if not verified:
        return TicketInfo(number=ticket.number, has_pin=has_pin)
    contact = ticket.contact
    return TicketInfo(
        number=ticket.number,
        company=ticket.account.name if ticket.account else "",
        contact_name=contact.name if contact else "",
        email=contact.email if contact else "",
        phone=contact.phone if contact else "",
        has_pin=has_pin,
    )


def incident_info(incident: Incident, caller: str, now: datetime) -> IncidentInfo:
    """A repeat caller's open incident: reference and status (never spoken unverified), and whether its callback
    goes to the number ``caller`` calls from; its own clock (``contact_clock`` of its numbers, as
    ``update_text.customer_zone``), whatever number ``caller`` is; the last ``CALLBACK_DIGITS_SAID`` digits of its
    callback number and its extension (spoken to a proven caller: ``questions.callback_rings``).

    Whether the customer was reached is the escalation core's ``customer_reached`` (a callback met or late, the rep's
    ``CALLED``, an e-mail contact), the rule the update schedule starts on: an outside probe's customer whom the rep
    had texted ``CALLED`` for, and who had agreed updates, was promised a callback on calling again and, after the
    deadline, apologised to for one "not yet" made. Such a customer hears when their next update is due instead."""
    from app.services.escalation import snapshot  # the escalation's services import the intake's
    from app.services.resolution import pending_proposal  # issue 11; resolution imports the intake's services

    session = object_session(incident)
    number = incident.callback_phone or ""
    reached = session is not None and snapshot(session, incident, now).customer_reached
    return IncidentInfo(reference=incident.reference, callback_due_at=incident.callback_due_at,
                        acknowledged=incident.acknowledged_at is not None,
                        called_back=reached,
                        by_email=not incident.callback_phone and bool(incident.email),
                        awaiting_confirmation=session is not None and pending_proposal(session, incident) is not None,
                        calls_back_caller=calls_back(incident, caller, session),
                        clock=contact_clock(incident.callback_phone, incident.caller_id),
                        callback_ending=number[-CALLBACK_DIGITS_SAID:] if number else "",
                        callback_extension=callback_extension(incident, session) if number else "",
                        next_update_at=_next_update(session, incident) if reached else None)


def _next_update(session: Session, incident: Incident) -> datetime | None:
    """When the incident's next update is due, while its schedule runs (none while a proposal awaits an answer)."""
    from app.services.updates import follow_up_of  # updates imports the escalation's services

    follow_up = follow_up_of(session, incident)
    return follow_up.next_due_at if follow_up is not None and follow_up.state == FollowUpState.UPDATING else None


def open_incident_by_reference(session: Session, digits: str) -> Incident | None:
    """The open incident whose reference ``digits`` are (a caller keyed it at the ticket prompt), if any."""
    if len(digits) != len("123456") or not digits.isdigit():
        return None
    return session.scalar(select(Incident).where(Incident.reference == digits, Incident.status == IncidentStatus.OPEN))


def answer_pin_check(session: Session, effect: CheckPin, call_sid: str, now: datetime) -> PinChecked:
    """Check keyed digits against the support PIN of the keyed ticket's account, or of the account an incident's
    caller proved it with. Digits that are the reference of another open incident of the caller's number (the
    newest is the one asked for) prove that one: a customer with two open incidents reached only the newer."""
    other = _other_open_incident(session, effect, call_sid)
    if other is not None:
        return PinChecked(ok=True, incident=incident_info(other, _caller_of(session, call_sid), now))
    account, ticket = _pin_for(session, effect)
    ok = check_pin(account, effect.pin, now)
    # The digits are never logged; the outcome is, so guessing shows on the incident's log.
    detail = {"ok": ok, "account_has_pin": bool(account and account.support_pin_hash),
              "for": "incident" if effect.incident_reference else "ticket"}
    if effect.incident_reference:
        detail["ticket_proven"] = account is not None
    log_event(session, at=now, actor="ivr", kind="support_pin_checked", call_sid=call_sid, detail=detail)
    if not ok or ticket is None:
        return PinChecked(ok=ok)
    # a keyed ticket proved with its PIN: the caller's own open incident of it, if there is one (never a stranger's)
    theirs = ticket_incident(session, ticket, pin_proved=True) if effect.ticket_number else None
    return PinChecked(ok=True, ticket=ticket_info(ticket, verified=True),
                      incident=incident_info(theirs, _caller_of(session, call_sid), now) if theirs is not None else None)


def ticket_incident(session: Session, ticket: Ticket, *, pin_proved: bool) -> Incident | None:
    """The keyed ticket's open incident, the one rule for "the open incident for this ticket".

    ``pin_proved``: the caller has just proved the ticket with its account's PIN; their incident is only one whose
    first caller keyed the ticket and proved it with that account's PIN (``note_verified``): one a stranger opened by
    keying the number is not theirs, neither to hear its reference and deadline nor to add to it; without such an
    incident they report anew (linked to the stranger's as possibly related). Otherwise (nothing proved yet): the
    incident a report of the ticket is linked to, which a caller of an account without a PIN hears exists (status
    only) and a caller of an account with one is never told of (the PIN is asked first). Either way never one
    proved with another account's PIN (``incidents.open_incident_for``).
    """
    from app.services.incidents import open_incident_for  # incidents imports this module

    return open_incident_for(session, ticket_number=ticket.number, account_id=ticket.account_id,
                             pin_proved=pin_proved)


def _caller_of(session: Session, call_sid: str) -> str:
    call = session.get(CallSession, call_sid)
    return call.from_number if call is not None else ""


def _other_open_incident(session: Session, effect: CheckPin, call_sid: str) -> Incident | None:
    """The caller's open incident whose reference the digits are, when it is not the one asked about."""
    caller = _caller_of(session, call_sid)
    if not effect.incident_reference or not is_valid_phone(caller) or not re.fullmatch(r"\d{6}", effect.pin):
        return None
    return session.scalar(select(Incident).where(
        Incident.reference == effect.pin, Incident.reference != effect.incident_reference,
        Incident.status == IncidentStatus.OPEN, or_(Incident.callback_phone == caller, Incident.caller_id == caller)))


def note_verified(session: Session, incident: Incident, verified: str) -> None:
    """How the incident's caller proved who they are; for a ticket they keyed and proved with its account's PIN,
    that account: the proof is of it, and stays so if the helpdesk later moves the ticket to another account."""
    incident.caller_verified = verified
    proved_ticket = verified == "pin" and incident.ticket_match == TicketMatch.KEYPAD and incident.ticket_id is not None
    ticket = session.get(Ticket, incident.ticket_id) if proved_ticket else None
    incident.pin_account_id = ticket.account_id if ticket is not None else None


def proven_account(session: Session, incident: Incident) -> Account | None:
    """The account whose PIN may prove a caller for ``incident``, else None.

    Only the account of a ticket the incident's caller keyed and then proved with that account's PIN, as it was
    then (``note_verified``): a ticket linked by caller ID (or keyed without the PIN) says nothing of who the
    incident's caller was, and the account a ticket is in now may be another customer's.
    """
    if incident.pin_account_id is None or incident.caller_verified != "pin":
        return None
    return session.get(Account, incident.pin_account_id)


def _pin_for(session: Session, effect: CheckPin) -> tuple[Account | None, Ticket | None]:
    """The account whose PIN the keyed digits are checked against, and the ticket a proven caller may hear."""
    if effect.ticket_number:
        ticket = session.scalar(select(Ticket).where(Ticket.number == effect.ticket_number))
        return (session.get(Account, ticket.account_id) if ticket and ticket.account_id else None), ticket
    if effect.incident_reference:
        incident = session.scalar(select(Incident).where(Incident.reference == effect.incident_reference))
        account = proven_account(session, incident) if incident is not None else None
        ticket = session.get(Ticket, incident.ticket_id) if account is not None else None
        return account, ticket if ticket is not None and ticket.account_id == account.id else None
    return None, None


def record_caller_check(session: Session, incident: Incident, effect: SaveIncident, now: datetime) -> dict[str, str]:
    """Note on the incident how the caller proved who they are and whether what they said matches the ticket."""
    note_verified(session, incident, effect.verified)
    result = details_match(session, incident)
    log_event(session, at=now, actor="system", kind="caller_details_checked", incident_id=incident.id,
              call_sid=incident.call_sid, detail={"verified": effect.verified or "no", **result})
    if effect.related_reference:
        related = session.scalar(select(Incident).where(Incident.reference == effect.related_reference))
        if related is not None and related.id not in (incident.id, incident.related_incident_id):  # linked once
            from app.services.related_callbacks import link_possibly_related  # it imports the escalation's services

            why, own_callback = _why_related(session, incident, related, effect)
            link_possibly_related(session, incident, related, why, now, own_callback=own_callback)
    return result


def _why_related(session: Session, incident: Incident, related: Incident, effect: SaveIncident) -> tuple[str, bool]:
    """Why a report is linked to an open incident, and whether each is owed a callback of its own: only the keyed
    ticket's (another caller's, never proved theirs: a stranger who keyed the number, or the customer whose incident
    a stranger keyed), or another outage (``_another_outage``); else the same number's, perhaps a redial of the same
    report, whose one conversation is the callback both are owed (``related_callbacks``)."""
    own = {related.caller_id, related.callback_phone} - {""}
    if incident.caller_id not in own and incident.ticket_number and incident.ticket_number == related.ticket_number:
        return "same ticket, another caller; each has its own callback", True
    if _another_outage(session, incident.call_sid, related):
        return "the caller reported a different outage; each has its own callback", True
    return ("same caller, identity not proven" if not effect.verified else "same caller, proven"), False


def _another_outage(session: Session, call_sid: str, related: Incident) -> bool:
    """The call's caller chose "report a different outage" at the repeat-caller menu (its ``repeat_caller`` line)
    after their first report's intake had ended with its reference (``reference_given``): they knew it was taken,
    so this is another outage, and a call about the first is not this one's callback (an outside probe's was counted
    so, and its outage was owed no updates). A redial after a dropped call (no reference heard) that chooses it is
    taken for the same report, as before. The choice is about an incident open when the call began (the menu's):
    never one opened after it (the call's own redial, to which its rescue links it)."""
    began = session.scalar(select(CallSession.started_at).where(CallSession.call_sid == call_sid)) if call_sid else None
    if began is None or related.received_at > began:
        return False
    chose = any((detail or {}).get("choice") == "new_outage" for detail in session.scalars(
        select(IncidentEvent.detail).where(IncidentEvent.call_sid == call_sid, IncidentEvent.kind == "repeat_caller")))
    return chose and session.scalar(select(IncidentEvent.id).where(
        IncidentEvent.incident_id == related.id, IncidentEvent.kind == "reference_given").limit(1)) is not None


def details_match(session: Session, incident: Incident) -> dict[str, str]:
    """Per field: does what the caller said match the linked ticket's account and contact?"""
    ticket = session.get(Ticket, incident.ticket_id) if incident.ticket_id else None
    if ticket is None:
        return {"ticket": NOTHING_ON_FILE}
    contact = ticket.contact
    phones = {p for p in ((contact.phone, contact.phone_alt) if contact else ()) if p}
    return {
        "ticket": ticket.number,
        "company": _compare(incident.company, ticket.account.name if ticket.account else "", _company_key),
        "contact_name": _compare(incident.contact_name, contact.name if contact else "", _name_key),
        "email": _compare(incident.email, contact.email if contact else "", str.lower),
        "callback_phone": _in(incident.callback_phone, phones),
        "caller_id": _in(incident.caller_id, phones),
    }


def _compare(said: str, on_file: str, key) -> str:
    if not said:
        return NOT_GIVEN
    if not on_file:
        return NOTHING_ON_FILE
    a, b = key(said), key(on_file)
    return MATCHES if a and b and (a == b or a in b or b in a) else DIFFERS


def phone_on_file(number: str, phones: set[str]) -> bool:
    """``details_match``'s rule for a number: it is one of the ticket contact's phones."""
    return _in(number, {p for p in phones if p}) == MATCHES


def email_on_file(said: str, on_file: str) -> bool:
    """``details_match``'s rule for an e-mail address: it matches the ticket contact's."""
    return _compare(said, on_file, str.lower) == MATCHES


def _in(number: str, phones: set[str]) -> str:
    if not number:
        return NOT_GIVEN
    if not phones:
        return NOTHING_ON_FILE
    return MATCHES if number in phones else DIFFERS


def _name_key(value: str) -> str:
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _company_key(value: str) -> str:
    return " ".join(_COMPANY_SUFFIXES.sub(" ", _name_key(value)).split())
