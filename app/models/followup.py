"""After the callback (issue 11): the agreed update interval, updates, their deliveries, resolution proposals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

DEFAULT_INTERVAL_MINUTES = 60
MIN_INTERVAL_MINUTES = 15
MAX_INTERVAL_MINUTES = 24 * 60


class FollowUpState(StrEnum):
    """Where an incident's follow-up stands."""

    UPDATING = "updating"  # updates are owed at the agreed interval
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # a resolution was proposed; updates pause
    CLOSED = "closed"  # resolved (confirmed, verbal, or unconfirmed after silence)
    # the only answer that started it was withdrawn (a bridge too short to count): nothing is owed until a callback
    # is met again, which starts it afresh (``updates.withdraw_follow_up``, ``updates.restart_follow_up``)
    WITHDRAWN = "withdrawn"


class FollowUp(Base):
    """One incident's update schedule: the agreed interval and the round of the next update owed."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    interval_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL_MINUTES)
    agreed_via: Mapped[str] = mapped_column(String(16), default="default")  # default, keypad, dashboard, sms
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    owner_rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    state: Mapped[FollowUpState] = mapped_column(String(24), default=FollowUpState.UPDATING)
    round: Mapped[int] = mapped_column(Integer, default=1)  # the update owed next (1-based)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_how: Mapped[str] = mapped_column(String(16), default="")  # confirmed, verbal, unconfirmed, manager


class CustomerUpdate(Base):
    """One update to the customer: what is wrong, when we expect it fixed, any workaround."""

    __tablename__ = "customer_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=0)  # the round it answered (0: none was owed)
    what_is_wrong: Mapped[str] = mapped_column(Text, default="")
    expected_resolution: Mapped[str] = mapped_column(String(200), default="")
    workaround: Mapped[str] = mapped_column(Text, default="")
    written_by: Mapped[str] = mapped_column(String(200), default="")
    written_via: Mapped[str] = mapped_column(String(16), default="dashboard")  # dashboard, sms, outage
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the round was owed
    late_seconds: Mapped[int] = mapped_column(Integer, default=0)  # 0 when on time


class DeliveryChannel(StrEnum):
    """How a message reaches its reader."""

    SMS = "sms"
    EMAIL = "email"


class UpdateDeliveryStatus(StrEnum):
    """A delivery's state: queued until a run claims it; failed only after its last try."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"  # the provider (Twilio, the SMTP server) accepted it
    DELIVERED = "delivered"  # Twilio reported the SMS delivered
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing to send to (no address, no SMTP configured)
    OPTED_OUT = "opted_out"  # an SMS to a number that texted STOP (or Twilio refused: 21610): never sent, not retried


class Delivery(Base):
    """One message to one reader on one channel, with its attempts and last error."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    update_id: Mapped[int | None] = mapped_column(ForeignKey("customer_updates.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("resolution_proposals.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("non_critical_contacts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(24))  # update, proposal, reminder, update_late, ticket_info, ...
    recipient: Mapped[str] = mapped_column(String(32), default="customer")  # customer, owner, manager
    channel: Mapped[DeliveryChannel] = mapped_column(String(8))
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en-US")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[UpdateDeliveryStatus] = mapped_column(String(16), default=UpdateDeliveryStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str] = mapped_column(String(200), default="")  # Twilio SID or e-mail Message-ID
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the outbound-volume count
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProposalKind(StrEnum):
    """What the owner proposes."""

    RESOLVED = "resolved"
    WORKAROUND = "workaround"  # a workaround was provided


class ProposalState(StrEnum):
    """A proposal waits for the customer's answer or their silence."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"  # the customer stayed silent: resolved, not confirmed
    UNDELIVERED = "undelivered"  # silence, but no message of it was sent: it proves nothing, updates resume
    UNCLEAR = "unclear"  # not silent: the customer wrote, but no YES or NO; updates resume
    WITHDRAWN = "withdrawn"  # the incident was resolved another way (a manager's reason, a verbal agreement)


class ResolutionProposal(Base):
    """The owner's proposal that the problem is resolved, and how the customer answered."""

    __tablename__ = "resolution_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)  # 1st, 2nd, ... proposal of the incident
    kind: Mapped[ProposalKind] = mapped_column(String(16))
    state: Mapped[ProposalState] = mapped_column(String(16), default=ProposalState.PROPOSED, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(200), default="")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_via: Mapped[str] = mapped_column(String(16), default="")  # sms, link, call, verbal, silence
    agreed_by: Mapped[str] = mapped_column(String(200), default="")  # who agreed (or rejected)
    note: Mapped[str] = mapped_column(String(500), default="")
