"""Tickets synced in from the helpdesk, and the lookups the IVR makes with them."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, object_session

from app.models import OPEN_TICKET_STATUSES, Account, Contact, Incident, Ticket, TicketStatus
from app.services.support_pin import clear_pin, set_pin
from app.services.ticket_input import (
    TICKET_FIELDS,
    InvalidTicket,
    TicketInput,
    parse_ticket_input,
)
from ivr_flows.model import TicketMatch

__all__ = [
    "TICKET_FIELDS",
    "InvalidTicket",
    "TicketInput",
    "account_of",
    "claim_unproven",
    "company_of",
    "named_account_sql",
    "named_company",
    "find_open_ticket_by_number",
    "find_open_ticket_by_phone",
    "parse_ticket_input",
    "upsert_ticket",
]

_DIGITS = re.compile(r"[0-9]{1,20}")


def account_of(session: Session, incident: Incident) -> Account | None:
    """The account ``incident`` is about, as far as the hotline may say so: its ticket's account (None without a
    ticket), unless that claim is not proven (``claim_unproven``). Pages, the TAM's page and e-mail, the incident's
    page and (``named_account_sql``) the board all read it here."""
    if incident.ticket_id is None:
        return None
    ticket = session.get(Ticket, incident.ticket_id)
    account = session.get(Account, ticket.account_id) if ticket else None
    return None if account is None or claim_unproven(incident, account) else account


def claim_unproven(incident: Incident, account: Account) -> bool:
    """Whether the caller keyed a ticket of ``account``, which has a support PIN, and did not prove it with that PIN
    (keyed a wrong one, skipped it or hung up): anyone may key another customer's ticket number, so the incident is
    not named, paged or told to a TAM as that customer's. A ticket found by the caller's number, or of an account
    with no PIN (nothing to prove), is named "(from the ticket)" as before."""
    return (bool(account.support_pin_hash) and incident.ticket_match == TicketMatch.KEYPAD.value
            and not (incident.caller_verified == "pin" and incident.pin_account_id == account.id))


def named_account_sql():
    """``account_of``'s account name in SQL, for a query joined to the incident's ticket's account: NULL where
    ``claim_unproven``."""
    unproven = and_(Account.support_pin_hash != "", Incident.ticket_match == TicketMatch.KEYPAD.value,
                    or_(Incident.caller_verified != "pin", Incident.pin_account_id.is_(None),
                        Incident.pin_account_id != Account.id))
    return case((unproven, None), else_=Account.name)


def named_company(said: str, on_ticket: str | None) -> tuple[str, bool]:
    """The one rule for "the incident's company": what the caller gave (``said``), else the name of the account
    its ticket belongs to (``on_ticket``; True: named from the ticket, a caller who hung up before saying it or
    never proved the ticket is theirs); ("", False) for neither. Pages, the TAM's e-mail and the board all use it."""
    if said:
        return said, False
    return (on_ticket, True) if on_ticket else ("", False)


def company_of(incident: Incident, session: Session | None = None) -> tuple[str, bool]:
    """``named_company`` for an incident row (its ticket read through ``session``, else the row's own session)."""
    if incident.company:
        return incident.company, False
    session = session or object_session(incident)
    account = account_of(session, incident) if session is not None else None
    return named_company("", account.name if account else "")


def upsert_ticket(session: Session, data: TicketInput, now: datetime) -> tuple[Ticket, bool]:
    """Create or update the ticket with this number (and its account and contact); True if created."""
    account = _upsert_account(session, data)
    contact = _upsert_contact(session, account, data)
    ticket = session.scalar(select(Ticket).where(Ticket.number == data.number))
    if ticket is None:
        ticket = Ticket(
            number=data.number,
            account=account,
            contact=contact,
            status=data.status or TicketStatus.OPEN,
            subject=data.subject or "",
            opened_at=data.opened_at or now,
            updated_at=now,
        )
        session.add(ticket)
        session.flush()
        return ticket, True
    if ticket.account_id != account.id:
        # A ticket moved to another company keeps no contact of the old one.
        ticket.contact = None
    ticket.account = account
    if contact is not None:
        ticket.contact = contact
    if data.status is not None:
        ticket.status = data.status
    if data.subject is not None:
        ticket.subject = data.subject
    if data.opened_at is not None:
        ticket.opened_at = data.opened_at
    ticket.updated_at = now
    session.flush()
    return ticket, False


def find_open_ticket_by_number(session: Session, number: str) -> Ticket | None:
    """The open or pending ticket with this keypad-typed number, else None."""
    number = number.strip()
    if not _DIGITS.fullmatch(number):
        return None
    return session.scalar(select(Ticket).where(Ticket.number == number, Ticket.status.in_(OPEN_TICKET_STATUSES)))


def find_open_ticket_by_phone(session: Session, e164: str) -> Ticket | None:
    """The most recently opened open or pending ticket of a contact with this phone, else None.

    None too when open tickets of more than one account list the phone: contact phones come
    from customers, so a caller ID alone cannot say which account is calling.
    """
    if not e164:
        return None
    listing = (
        select(Ticket)
        .join(Contact, Ticket.contact_id == Contact.id)
        .where(or_(Contact.phone == e164, Contact.phone_alt == e164), Ticket.status.in_(OPEN_TICKET_STATUSES))
    )
    newest = session.scalar(listing.order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(1))
    if newest is None:
        return None
    other_account = session.scalar(listing.with_only_columns(Ticket.id)
                                   .where(Ticket.account_id != newest.account_id).limit(1))
    return newest if other_account is None else None


def _upsert_account(session: Session, data: TicketInput) -> Account:
    account = session.scalar(select(Account).where(Account.name == data.company))
    if account is None:
        account = Account(name=data.company)
        session.add(account)
    if data.tam_name is not None:
        account.tam_name = data.tam_name
    if data.tam_email is not None:
        account.tam_email = data.tam_email
    if data.tam_phone is not None:
        account.tam_phone = data.tam_phone
    if data.tam_time_zone is not None:
        account.tam_time_zone = data.tam_time_zone
    if data.tam_business_hours is not None:
        account.tam_business_hours = data.tam_business_hours
    if data.support_pin:
        set_pin(account, data.support_pin)
    elif data.support_pin == "":
        clear_pin(account)
    session.flush()
    return account


def _upsert_contact(session: Session, account: Account, data: TicketInput) -> Contact | None:
    email, phone = data.contact_email, data.contact_phone
    if not any((data.contact_name, email, phone, data.contact_phone_alt)):
        return None
    contact = _find_contact(session, account, data)
    if contact is None:
        contact = Contact(account_id=account.id)
        session.add(contact)
    if data.contact_name is not None:
        contact.name = data.contact_name
    if email is not None:
        contact.email = email
    if phone is not None:
        contact.phone = phone
    if data.contact_phone_alt is not None:
        contact.phone_alt = data.contact_phone_alt
    session.flush()
    return contact


def _find_contact(session: Session, account: Account, data: TicketInput) -> Contact | None:
    in_account = Contact.account_id == account.id
    email = data.contact_email
    if email:
        found = session.scalar(select(Contact).where(in_account, func.lower(Contact.email) == email.lower()))
        if found is not None:
            return found
    for phone in (data.contact_phone, data.contact_phone_alt):
        if not phone:
            continue
        stmt = select(Contact).where(in_account, or_(Contact.phone == phone, Contact.phone_alt == phone))
        for found in session.scalars(stmt.order_by(Contact.id)):
            # A shared desk phone is not the same person as a different e-mail.
            if not email or not found.email:
                return found
    if data.contact_name and not email and not data.contact_phone and not data.contact_phone_alt:
        return session.scalar(
            select(Contact).where(in_account, Contact.name == data.contact_name).order_by(Contact.id).limit(1)
        )
    return None
