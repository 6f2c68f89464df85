"""The telephony seam: what the hotline asks of a phone network, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class TelephonyError(Exception):
    """Base of every error the telephony seam raises (vendor errors are translated)."""


class Throttled(TelephonyError):
    """The provider refused for now (HTTP 429, or a code that passes such as Twilio's 21611, a full send queue):
    nothing was sent; retry after a back-off, and not before ``retry_after`` seconds when the provider asked for a
    wait (Twilio's ``Retry-After`` header on a 429; None when it named none)."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def asked_wait(error: Exception) -> float | None:
    """The seconds the provider asked us to wait before trying again (a Throttled's ``retry_after``), else None."""
    return error.retry_after if isinstance(error, Throttled) else None


class Rejected(TelephonyError):
    """The provider refused for good (4xx but those that pass: invalid number, unverified, ...): do not retry."""


class OptedOut(Rejected):
    """The recipient opted out of our SMS (they texted STOP): nothing is sent to them until they opt in."""


# Twilio's error code for it, in a REST answer and in a message's status callback (ErrorCode)
UNSUBSCRIBED_RECIPIENT = 21610


# Twilio's answering-machine detection modes (``MachineDetection``). Detection is synchronous in both: the call's TwiML
# is fetched once it decided, so a person waits the same for either. On a machine ``DETECT`` answers at once, its
# greeting still playing (to hang up on it); ``DETECT_MESSAGE_END`` waits for the greeting's end, the beep (to leave a
# message the recording keeps whole: ``machine_end_beep``, ``machine_end_silence`` or ``machine_end_other``).
DETECT, DETECT_MESSAGE_END = "Enable", "DetectMessageEnd"
# The longest detection holds an answered call before its TwiML is fetched (``MachineDetectionTimeout``, Twilio's
# default): a <Dial><Number>'s DialCallDuration, counted from the answer, may hold this much of it.
DETECT_TIMEOUT_SECONDS = 30


def message_left(answered_by: str) -> bool:
    """Whether what a call says to the machine that answered it (``answered_by``) follows the end of its greeting, so
    its recording can hold it: only ``DETECT_MESSAGE_END`` says so (``machine_end_*``)."""
    return answered_by.startswith("machine_end")


def is_machine(answered_by: str) -> bool:
    """True when answering-machine detection (Twilio's AnsweredBy) heard no person: a voicemail or answering
    machine (``machine_start``, ``machine_end_*``) or a fax; a person, ``unknown`` or no detection is False."""
    return answered_by.startswith("machine") or answered_by == "fax"


# How an ``OutcomeUnknown`` says Twilio gave no answer at all (the client's time-out, a connection cut): the request
# may still be worked on at Twilio and make its SMS or call later (``pages.retry_at``)
NO_ANSWER = "Twilio did not answer"


class OutcomeUnknown(TelephonyError):
    """Time-out, connection error or 5xx: the request may or may not have been accepted.

    An SMS can be looked up by its own text (``find_sms``) before sending again; a call
    carries nothing of ours, so only its own status callback proves it was accepted.
    """


@dataclass(frozen=True)
class Sent:
    """A message or call the provider accepted."""

    sid: str
    status: str  # provider's status at acceptance: queued, accepted, initiated, ...


@dataclass(frozen=True)
class Reported:
    """What the provider's own record of a message or call says now (its REST resource, asked by its SID)."""

    sid: str
    status: str  # Twilio's MessageStatus or CallStatus
    error_code: str = ""  # a message's error code ("" when none)
    answered_by: str = ""  # a call's AnsweredBy ("" when no detection ran or it has not finished)
    ended_at: datetime | None = None  # a call's end_time (None while it goes on)


class Telephony(Protocol):
    """Outbound SMS and calls (Twilio in production, simulated elsewhere)."""

    def send_sms(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None) -> Sent:
        """Send an SMS from the hotline number; raises a TelephonyError subclass."""
        ...

    def place_call(
        self, *, to: str, url: str, status_callback: str, machine_detection: str = "", timeout_seconds: int = 30
    ) -> Sent:
        """Call ``to`` from the hotline number; Twilio fetches TwiML from ``url`` on answer (after answering-machine
        detection, ``DETECT`` or ``DETECT_MESSAGE_END``, when asked for)."""
        ...

    def find_sms(self, *, to: str, since: datetime, marker: str) -> Sent | None:
        """An SMS to ``to`` sent since ``since`` whose body contains ``marker``, if any."""
        ...

    def find_call(self, *, to: str, since: datetime) -> Sent | None:
        """A call to ``to`` created since ``since``, if any (any sender's reason: never proof it is ours)."""
        ...

    def fetch_sms(self, sid: str) -> Reported:
        """Twilio's record of the message ``sid`` now; raises a TelephonyError subclass (Rejected: no such message)."""
        ...

    def fetch_call(self, sid: str) -> Reported:
        """Twilio's record of the call ``sid`` now; raises a TelephonyError subclass (Rejected: no such call)."""
        ...

    def child_calls(self, parent_sid: str) -> list[Reported]:
        """The calls a ``<Dial>`` on the call ``parent_sid`` placed, newest first."""
        ...
