"""Pages sent to reps, and callbacks to customers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, StrEnumColumn, UTCDateTime


class Channel(StrEnum):
    """How a page reaches a rep."""

    SMS = "sms"
    VOICE = "voice"


class PageStatus(StrEnum):
    """A page's state; it only moves forward (see ``PAGE_STATUS_RANK``)."""

    QUEUED = "queued"  # row written, not yet handed to Twilio
    SENDING = "sending"  # a run is talking to Twilio now (or died doing so)
    SENT = "sent"  # Twilio accepted it (has a SID)
    RINGING = "ringing"
    DELIVERED = "delivered"
    ANSWERED = "answered"  # a human picked up the voice page
    MACHINE = "machine"  # voicemail / answering machine: not an acknowledgement
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    CANCELED = "canceled"  # not sent (again): no longer wanted; see ``outcome_unknown`` for an earlier attempt


PAGE_STATUS_RANK = {
    PageStatus.QUEUED: 0, PageStatus.SENDING: 1, PageStatus.SENT: 2, PageStatus.RINGING: 3,
    PageStatus.DELIVERED: 4, PageStatus.ANSWERED: 4, PageStatus.MACHINE: 5, PageStatus.NO_ANSWER: 5,
    PageStatus.BUSY: 5, PageStatus.FAILED: 6, PageStatus.UNDELIVERED: 6, PageStatus.CANCELED: 6,
}
# Each channel's own order: an SMS that was delivered stays delivered (a late "failed" is history, not news);
# a voice page a person answered stays answered, though answering-machine detection may still call it a machine.
SMS_STATUS_RANK = {
    PageStatus.QUEUED: 0, PageStatus.SENDING: 1, PageStatus.SENT: 2, PageStatus.FAILED: 3,
    PageStatus.UNDELIVERED: 3, PageStatus.DELIVERED: 4, PageStatus.CANCELED: 5,
}
VOICE_STATUS_RANK = {
    PageStatus.QUEUED: 0, PageStatus.SENDING: 1, PageStatus.SENT: 2, PageStatus.RINGING: 3,
    PageStatus.NO_ANSWER: 4, PageStatus.BUSY: 4, PageStatus.FAILED: 4, PageStatus.ANSWERED: 5,
    PageStatus.MACHINE: 6, PageStatus.CANCELED: 7,
}


def status_rank(channel: str, status: str) -> int:
    """Where ``status`` stands in ``channel``'s own order (a status foreign to the channel ranks lowest)."""
    order = SMS_STATUS_RANK if channel == Channel.SMS else VOICE_STATUS_RANK
    return order.get(PageStatus(status), -1)


CUSTOMER_ROLE = "customer"  # a receipt or acknowledgement notice to the caller: not a page to a rep
TAM_ROLE = "tam"  # the account's TAM: told of the incident, never acts on it (no rep, no ACK/CALL)
TAM_NOTICES = ("page", "at_risk", "breach")  # what the TAM is told in words of their own (SMS, call or e-mail)
# what a TAM told in writing is e-mailed: those, and that the breach they were e-mailed was not one after all
# (``decide.BREACH_CORRECTED``; by SMS in the words every alerted person gets)
TAM_EMAILS = (*TAM_NOTICES, "breach_corrected")
# ``Page.last_error`` starts with this while an attempt may have reached Twilio and nothing proved either way;
# only a send Twilio accepted clears it (a later failure such as a 429 proves nothing about that attempt)
OUTCOME_UNKNOWN = "OutcomeUnknown"


SUPERSEDED = "not sent: superseded by a later held call to the same rep"  # ``Page.last_error`` of such a page
# ... and of a rep's chasing page a later round's page to them on its channel stood for (Twilio failed meanwhile)
SUPERSEDED_BY_ROUND = "not sent: superseded by a later round's page to the same rep"


# ... and of an at-risk alert Twilio failed until the deadline passed (``pages.overdue_alert``)
DEADLINE_PASSED = "not sent: the deadline passed before Twilio took it"


def superseded(last_error: str) -> bool:
    """True for a page never sent because a later one to the same rep went instead (a held call, a later round)."""
    return SUPERSEDED in (last_error or "") or SUPERSEDED_BY_ROUND in (last_error or "")


def outcome_unknown(last_error: str) -> bool:
    """True while an earlier attempt of a page may have reached Twilio, unproven (``Page.last_error``)."""
    return (last_error or "").startswith(OUTCOME_UNKNOWN)


class Page(Base):
    """One SMS or voice page to one person for one incident."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("due_steps.id"))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32), default="")  # primary, secondary, manager, tam, ... or CUSTOMER_ROLE
    channel: Mapped[Channel] = mapped_column(StrEnumColumn(Channel, 8))
    to_number: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(16), default="page")  # page, at_risk, breach
    status: Mapped[PageStatus] = mapped_column(StrEnumColumn(PageStatus), default=PageStatus.QUEUED, index=True)
    twilio_sid: Mapped[str] = mapped_column(String(64), default="", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the outbound-volume count
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallbackKind(StrEnum):
    """How a callback was made."""

    BRIDGED = "bridged"  # the hotline called the rep, then the customer from the hotline number
    SELF_REPORTED = "self_reported"  # the rep says they called from their own phone


class CallbackOutcome(StrEnum):
    """What became of a callback (self-reported ones are never "met")."""

    PENDING = "pending"
    MET = "met"  # customer leg answered within the deadline (Twilio's timestamps)
    LATE = "late"  # answered, after the deadline
    ATTEMPTED = "attempted"  # placed, not answered
    VOICEMAIL = "voicemail"  # attempted: a voicemail (or nobody pressing a key) took the call
    SELF_REPORTED = "self_reported"
    REP_NOT_REACHED = "rep_not_reached"  # the hotline's call to the rep failed or nobody answered it: customer never dialled
    # a call placed only for the rep to leave a voicemail message after an attempt a voicemail took: never an attempt
    MESSAGE_LEFT = "message_left"  # a voicemail took it: the rep was put through after its greeting
    NO_MESSAGE = "no_message"  # no voicemail took it (no answer, busy, failed, a person who pressed no key)


VOICEMAIL_MESSAGE = "voicemail message"  # the note of a callback placed only to leave a message (``leaves_message``)


class Callback(Base):
    """A call back to the customer, bridged through the hotline or self-reported."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    kind: Mapped[CallbackKind] = mapped_column(StrEnumColumn(CallbackKind))
    outcome: Mapped[CallbackOutcome] = mapped_column(StrEnumColumn(CallbackOutcome), default=CallbackOutcome.PENDING)
    customer_number: Mapped[str] = mapped_column(String(20), default="")
    rep_call_sid: Mapped[str] = mapped_column(String(64), default="", index=True)
    customer_call_sid: Mapped[str] = mapped_column(String(64), default="", index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # Twilio's timestamp of the answer
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a person, not a voicemail: the customer pressed a key (or answering-machine detection said human)
    person_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by: Mapped[str] = mapped_column(String(32), default="", server_default="")  # Twilio's AnsweredBy
    note: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # tries to place the rep's leg
    placing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a run is calling the rep now
    last_error: Mapped[str] = mapped_column(String(500), default="")

    @property
    def leaves_message(self) -> bool:
        """True for a call placed only for the rep to leave a voicemail message: never a callback attempt."""
        return self.note == VOICEMAIL_MESSAGE

    @property
    def is_attempt(self) -> bool:
        """Whether this counts as the hotline's call to the customer: not a call that never dialled them (the rep not
        reached), not a rep's unverified self-report (its own outcome says it), not a voicemail message call no person
        answered."""
        if self.outcome in (CallbackOutcome.REP_NOT_REACHED, CallbackOutcome.SELF_REPORTED):
            return False
        return not self.leaves_message or self.outcome in (CallbackOutcome.MET, CallbackOutcome.LATE)
