"""Scripted phones: what each number expects to receive and how it answers.

A phone only accepts what its script expects; anything else is an unexpected
page and fails the test (see :class:`hotline_sim.network.PhoneNetwork`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNTIMED_TALK_SECONDS = 60  # what Twilio reports of a conversation a script does not time (as the phone desk does)
# The hotline's call to a rep for a callback asks for any key before the customer is dialled (a voicemail never
# presses one): a person answering it presses this one, before the keys of their script (``confirms_callback``)
CALLBACK_CONFIRM_PATH, CALLBACK_CONFIRM_KEY = "/twilio/bridge/rep-confirm", "1"


class UnexpectedPage(AssertionError):
    """An SMS or call reached a phone that did not expect it (or expectations were left unmet)."""


class WebhookFailed(AssertionError):
    """The app answered a webhook with something Twilio would treat as an error."""


@dataclass
class SmsExpectation:
    """One SMS a phone expects: ``contains`` must be in the body."""

    contains: str = ""
    reply: str | None = None
    fail: str | None = None  # None (delivered), "failed" or "undelivered"
    error_code: int = 30003  # Unreachable destination handset

    def matches(self, body: str) -> bool:
        """True when ``body`` is the SMS this expectation is for."""
        return self.contains in body


@dataclass
class CallExpectation:
    """One call a phone expects, and how it is answered."""

    answer: bool = True
    press: list[str] = field(default_factory=list)  # keys for each <Gather>, in order
    machine: bool = False  # voicemail picks up
    busy: bool = False
    ring_seconds: float = 0  # the clock is advanced by this much before answering (if it can be)
    # ... and by this much before hanging up; None: a conversation the script does not time, on no clock, that
    # Twilio reports as UNTIMED_TALK_SECONDS long (a callback that counts: longer than the hotline's minimum)
    talk_seconds: float | None = None
    hang_up_at_dial: bool = False  # hangs up once what comes before a <Dial> was said (the whisper, the intro)
    answered_by: str = ""  # what answering-machine detection says, if on ("": human, or machine_start for a machine)
    # hangs up first once a <Dial> bridged them: Twilio still requests the <Dial action>, with CallStatus=completed,
    # and its answer is never heard
    hangs_up_first: bool = False
    # a person (never a machine) answering the hotline's call for a callback presses the key it asks for ("Press any
    # key to call the customer"); False: they press nothing there, as a voicemail would not
    confirms_callback: bool = True
    # Twilio took the call and could not place it (the carrier could not reach the number): its status is
    # ``failed``, and the phone never rings
    fails: bool = False

    @property
    def reported_seconds(self) -> int:
        """The call's duration as Twilio reports it at its end."""
        return UNTIMED_TALK_SECONDS if self.talk_seconds is None else int(self.talk_seconds)

    def next_keys(self, action_path: str = "") -> str | None:
        """The keys for the next <Gather> (whose action is ``action_path``), or None (silence): none from a machine;
        a person's key for a callback's confirmation (``confirms_callback``), else the script's next keys."""
        if self.machine:
            return None
        if action_path == CALLBACK_CONFIRM_PATH:
            return CALLBACK_CONFIRM_KEY if self.confirms_callback else None
        return self.press.pop(0) if self.press else None


@dataclass
class ReceivedSms:
    """An SMS a phone received."""

    sid: str
    from_: str
    body: str


@dataclass
class ReceivedCall:
    """A call a phone received: what it heard and what it pressed."""

    sid: str
    from_: str
    status: str = "ringing"
    answered_by: str | None = None
    said: list[str] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)

    @property
    def heard(self) -> str:
        """Everything said on the call, as one string."""
        return " ".join(self.said)


class ScriptedPhone:
    """A phone number with a script of expected SMS and calls."""

    def __init__(self, number: str) -> None:
        self.number = number
        self.received: list[ReceivedSms | ReceivedCall] = []
        self._sms: list[SmsExpectation] = []
        self._calls: list[CallExpectation] = []

    def __repr__(self) -> str:
        return f"ScriptedPhone({self.number!r})"

    def expect_sms(
        self, contains: str = "", reply: str | None = None, fail: str | None = None, error_code: int = 30003
    ) -> ScriptedPhone:
        """Expect an SMS containing ``contains``; answer with ``reply``, or fail ("failed"/"undelivered")."""
        if fail not in (None, "failed", "undelivered"):
            raise ValueError(f"fail must be 'failed' or 'undelivered', not {fail!r}")
        self._sms.append(SmsExpectation(contains, reply, fail, error_code))
        return self

    def expect_call(
        self,
        press: str | list[str] | None = None,
        answer: bool = True,
        answered: bool | None = None,
        machine: bool = False,
        busy: bool = False,
        ring_seconds: float = 0,
        talk_seconds: float | None = None,
        hang_up_at_dial: bool = False,
        answered_by: str = "",
        hangs_up_first: bool = False,
        confirms_callback: bool = True,
        fails: bool = False,
    ) -> ScriptedPhone:
        """Expect a call: answer it (or not, or busy, or voicemail) and press ``press`` at each <Gather>; ``fails``:
        Twilio reports it ``failed`` after taking it, and it never rings here."""
        keys = [press] if isinstance(press, str) else list(press or [])
        picks_up = answer if answered is None else answered
        self._calls.append(CallExpectation(picks_up and not busy and not fails, keys, machine, busy, ring_seconds,
                                           talk_seconds, hang_up_at_dial, answered_by, hangs_up_first,
                                           confirms_callback, fails))
        return self

    @property
    def sms(self) -> list[str]:
        """Bodies of the SMS received, oldest first."""
        return [r.body for r in self.received if isinstance(r, ReceivedSms)]

    @property
    def calls(self) -> list[ReceivedCall]:
        """Calls received, oldest first."""
        return [r for r in self.received if isinstance(r, ReceivedCall)]

    @property
    def unmet(self) -> list[str]:
        """Expectations not (yet) used."""
        return [f"{self.number}: SMS containing {e.contains!r}" for e in self._sms] + [
            f"{self.number}: call ({e})" for e in self._calls
        ]

    def take_sms(self, body: str) -> SmsExpectation | None:
        """Use the first SMS expectation ``body`` matches."""
        for i, expectation in enumerate(self._sms):
            if expectation.matches(body):
                return self._sms.pop(i)
        return None

    def take_call(self) -> CallExpectation | None:
        """Use the next call expectation."""
        return self._calls.pop(0) if self._calls else None
