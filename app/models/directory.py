"""What the hotline knows about customers: accounts, contacts, tickets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime


class TicketStatus(StrEnum):
    """Helpdesk ticket states; open and pending count as open."""

    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


OPEN_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING)


class Account(Base):
    """A customer company and its technical account manager."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    tam_name: Mapped[str] = mapped_column(String(200), default="")
    tam_email: Mapped[str] = mapped_column(String(254), default="")
    tam_phone: Mapped[str] = mapped_column(String(20), default="")
    # When the TAM may be paged: a time zone and windows like "mon-fri 09:00-17:00".
    tam_time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    tam_business_hours: Mapped[str] = mapped_column(
        String(100), default="mon-fri 09:00-17:00", server_default="mon-fri 09:00-17:00"
    )
    # issue 9: an optional support PIN a caller keys to prove who they are (scrypt, salted; "" = none)
    support_pin_hash: Mapped[str] = mapped_column(String(200), default="", server_default="")
    support_pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    support_pin_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Contact(Base):
    """A person at a customer account."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    phone_alt: Mapped[str] = mapped_column(String(20), default="", index=True)

    account: Mapped[Account] = relationship()


class Ticket(Base):
    """A support ticket, opened elsewhere and synced in by the helpdesk."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    status: Mapped[TicketStatus] = mapped_column(String(16), default=TicketStatus.OPEN)
    subject: Mapped[str] = mapped_column(String(500), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()
    contact: Mapped[Contact | None] = relationship()

    @property
    def is_open(self) -> bool:
        """Open or pending tickets can be called about."""
        return self.status in OPEN_TICKET_STATUSES
