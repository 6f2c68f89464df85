"""States, events, replies and effects of the Sev-1 intake call.

Everything here is plain data: no Flask, Twilio, database or clock. The service
layer feeds events into ``ivr_flows.sev1_intake.advance`` and carries out the
effects it gets back; the webhook renders the reply as TwiML.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Lang(StrEnum):
    """Languages the hotline speaks (Twilio <Say> language codes)."""

    EN = "en-US"
    DE = "de-DE"


class Stage(StrEnum):
    """Where the call is in the intake flow."""

    LANGUAGE = "language"
    TRIAGE = "triage"
    NON_CRITICAL = "non_critical"
    REPEAT_CALLER = "repeat_caller"
    ADD_INFO = "add_info"
    ADD_RECORDING = "add_recording"  # repeat caller: optional recording after ADD_INFO
    TICKET_OFFER = "ticket_offer"
    TICKET_ENTRY = "ticket_entry"
    TICKET_LOOKUP = "ticket_lookup"
    COMPANY = "company"
    CONTACT_NAME = "contact_name"
    CALLBACK_CONFIRM = "callback_confirm"
    CALLBACK_ENTRY = "callback_entry"
    EMAIL = "email"
    EMAIL_CONFIRM = "email_confirm"
    PROBLEM = "problem"
    RECORDING = "recording"
    READBACK = "readback"
    CORRECTION = "correction"
    SAVING = "saving"
    DONE = "done"
    # issue 9: proof of identity before anything stored is spoken
    PIN_ENTRY = "pin_entry"  # after a keyed ticket whose account has a support PIN
    PIN_CHECK = "pin_check"  # waiting for the service's PinChecked
    REPEAT_VERIFY = "repeat_verify"  # repeat caller keys the incident reference or the PIN
    REPEAT_CHECK = "repeat_check"  # waiting for PinChecked on a repeat caller's digits


class AffectedService(StrEnum):
    """What part of e-mail sending is down."""

    API = "api"
    SMTP = "smtp"
    BOTH = "both"
    OTHER = "other"


class TicketMatch(StrEnum):
    """How the incident's ticket was established."""

    CALLER_ID = "caller_id"  # offered from the caller ID and confirmed
    KEYPAD = "keypad"  # entered on the keypad and found
    NONE = "none"  # caller said they have no ticket
    UNKNOWN = "unknown"  # caller entered numbers we could not find (two tries)


@dataclass(frozen=True)
class FlowPolicy:
    """Per-deployment settings the flow needs; carried in the call state."""

    sla_minutes: int = 15
    default_region: str = "US"
    allowed_regions: tuple[str, ...] = ("US", "CA", "GB", "DE", "AT", "CH")
    max_tries: int = 3  # first ask + two re-prompts
    recording_max_seconds: int = 120
    max_field_chars: int = 200
    max_problem_chars: int = 2000
    # issue 11: while a platform outage is declared, the statement callers hear after the greeting
    outage_statement_en: str = ""
    outage_statement_de: str = ""
    # issue 13: after the intake, offer to connect the caller live (the deployment allows waiting on the line)
    live_connect: bool = False
    # the hotline's own number (TWILIO_NUMBER): never a callback number, typed or as the caller ID
    hotline_number: str = ""
    # an e-mail can leave this hotline (SMTP configured: ``deliveries.email_can_leave``, the rule of ``can_email``):
    # a caller reached only by e-mail gets their receipt by e-mail, else none, and the closing words say which
    # (False for states saved before this was known: never promise a receipt that may not come)
    email_leaves: bool = False


@dataclass(frozen=True)
class TicketInfo:
    """An open support ticket, as known from the helpdesk sync."""

    number: str
    company: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""  # E.164
    has_pin: bool = False  # the account has a support PIN the caller may key


@dataclass(frozen=True)
class IncidentInfo:
    """An open incident a repeat caller is calling about."""

    reference: str
    callback_due_at: datetime
    acknowledged: bool = False  # someone has taken it (the status a repeat caller may hear)
    awaiting_confirmation: bool = False  # issue 11: a resolution proposal awaits the customer's answer
    # the customer was reached (the escalation core's ``customer_reached``: a callback met or late, the rep's
    # ``CALLED``, an e-mail contact): never promise (or apologise for) a callback again
    called_back: bool = False
    by_email: bool = False  # no number to call back: an engineer reaches them by e-mail (never "will call you back")
    # the caller joined it (beyond the per-number bounds) as a contact who is not its own: ``callback_due_at`` is
    # their own deadline, which nothing tracks (so they are never told it), and nothing of the incident's status
    # is theirs to hear
    own_contact: bool = False
    # its callback goes to the number this caller calls from: else it may be a spoofer's, and a caller silent at its
    # menu is taken as a new report rather than sent away (True for states saved before this was known)
    calls_back_caller: bool = True
    # the incident's own clock (a tz name: ``questions.contact_clock`` of its stored numbers), on which its intake
    # spoke and its receipt wrote the deadline: a caller who proved who they are hears its times on it, from any
    # phone ("" for states saved before this was known, and for an incident the call itself opened: the caller's)
    clock: str = ""
    # the callback number opted out of SMS (texted STOP, ``sms_opt_outs``) when the incident was saved: its receipt
    # goes by no SMS, and the closing words must not promise one
    texts_off: bool = False
    # the last digits of the number its callback rings (and its extension): a caller who proved it theirs and calls
    # from another phone must hear which phone will ring, never the whole stored number ("" when unknown: an incident
    # this call opened, whose number the caller gave, or a state saved before this was known)
    callback_ending: str = ""
    callback_extension: str = ""
    # when the customer's next update is due (its update schedule runs), told to a caller who was reached
    next_update_at: datetime | None = None


@dataclass(frozen=True)
class Captured:
    """What the caller has told us so far (all cleaned and length-limited)."""

    affected_service: AffectedService | None = None
    ticket_number: str = ""
    ticket_match: TicketMatch | None = None
    company: str = ""
    contact_name: str = ""
    callback_phone: str = ""  # E.164, validated
    callback_extension: str = ""  # digits the caller gave after "extension": the rep keys them in once connected
    email: str = ""  # validated, lower-cased
    problem_text: str = ""
    recording_url: str = ""
    recording_seconds: int = 0
    missing: tuple[str, ...] = ()  # fields we moved on without (after re-prompts)


@dataclass(frozen=True)
class CallState:
    """The whole state of one intake call; serialisable with ``to_dict``."""

    stage: Stage
    caller_id: str = ""
    lang: Lang = Lang.EN
    policy: FlowPolicy = field(default_factory=FlowPolicy)
    captured: Captured = field(default_factory=Captured)
    tries: int = 0  # failed answers to the current question
    ticket: TicketInfo | None = None  # the ticket offered or found
    incident: IncidentInfo | None = None  # set once saved, or for a repeat caller
    pending: str = ""  # a value awaiting confirmation (callback number, e-mail)
    pending_extension: str = ""  # the extension given with a pending callback number
    correcting: bool = False  # answering one field from the read-back, then back to it
    ticket_entries: int = 0  # keypad ticket numbers tried so far
    # how the caller proved who they are: "" (not at all), "pin" or "reference"
    verified: str = ""
    pin_tries: int = 0  # wrong PINs or references keyed in this call
    related_reference: str = ""  # an open incident this new one may be related to (same caller)
    joined: bool = False  # the call's incident was not opened by this call (repeat caller, over the limit)
    silences: int = 0  # questions in a row the caller left unanswered
    opened: bool = False  # issue 13: the incident was opened mid-call (critical and reachable); paging runs
    # issue 13: the read-back speaks only what the caller said or changed, not what they just confirmed
    confirmed: tuple[str, ...] = ()  # fields the caller confirmed as read to them
    changed: tuple[str, ...] = ()  # fields corrected since the read-back was last heard
    # the caller's time zone (a tz name), kept once their numbers are forgotten: a late webhook still speaks
    # times on their clock ("" while the numbers are here: ``questions.caller_clock`` reads them)
    clock: str = ""

    def without_answers(self) -> CallState:
        """The state with nothing the caller said, keyed or was read: the stage, language, proof, policy, incident and
        clock that later webhooks of the call read, never its personal data (kept by then in the incident or missed
        call)."""
        from .questions import caller_clock  # the one rule of the call's clock; questions imports this module

        c = self.captured
        kept = Captured(affected_service=c.affected_service, ticket_match=c.ticket_match,
                        recording_seconds=c.recording_seconds, missing=c.missing)
        incident = self.incident and dataclasses.replace(self.incident, callback_ending="", callback_extension="")
        return dataclasses.replace(self, caller_id="", captured=kept, ticket=None, pending="", pending_extension="",
                                   clock=caller_clock(self), incident=incident)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the state."""
        return _to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallState:
        """Rebuild a state saved with ``to_dict``, by this release or another (``known_fields``): a key this release
        does not know is left out, a key an older release did not write takes its default. The keys every release
        wrote (``stage``, ``lang``, ``policy`` with its ``allowed_regions``, ``captured``) must be there, and a value
        this release cannot take (a stage or language it does not know, an object that is none) raises KeyError,
        TypeError or ValueError: the call cannot go on from it."""
        d = known_fields(cls, data)
        d["stage"] = Stage(d["stage"])
        d["lang"] = Lang(data["lang"])
        p = known_fields(FlowPolicy, data["policy"])
        p["allowed_regions"] = tuple(data["policy"]["allowed_regions"])
        d["policy"] = FlowPolicy(**p)
        c = known_fields(Captured, data["captured"])
        if c.get("affected_service"):
            c["affected_service"] = AffectedService(c["affected_service"])
        if c.get("ticket_match"):
            c["ticket_match"] = TicketMatch(c["ticket_match"])
        c["missing"] = tuple(c.get("missing", ()))
        d["captured"] = Captured(**c)
        d["ticket"] = TicketInfo(**known_fields(TicketInfo, d["ticket"])) if d.get("ticket") else None
        d["confirmed"] = tuple(d.get("confirmed", ()))
        d["changed"] = tuple(d.get("changed", ()))
        if d.get("incident"):
            i = d["incident"]
            d["incident"] = IncidentInfo(
                reference=i["reference"],
                callback_due_at=datetime.fromisoformat(i["callback_due_at"]),
                acknowledged=bool(i.get("acknowledged", False)),
                awaiting_confirmation=bool(i.get("awaiting_confirmation", False)),
                called_back=bool(i.get("called_back", False)),
                by_email=bool(i.get("by_email", False)),
                own_contact=bool(i.get("own_contact", False)),
                calls_back_caller=bool(i.get("calls_back_caller", True)),
                clock=str(i.get("clock", "")),
                texts_off=bool(i.get("texts_off", False)),
                callback_ending=str(i.get("callback_ending", "")),
                callback_extension=str(i.get("callback_extension", "")),
                next_update_at=datetime.fromisoformat(i["next_update_at"]) if i.get("next_update_at") else None,
            )
        return cls(**d)


def known_fields(cls: type, data: Any) -> dict[str, Any]:
    """The entries of a stored object ``data`` that are fields of dataclass ``cls``: the one rule for reading what
    another release wrote. During a rolling upgrade a newer host writes keys this release does not know (a call's
    webhooks reach both hosts, in any order): they are left out, so the call goes on with what this release
    understands (and the state it writes back lacks them: the newer release reads its defaults for them, as for any
    older state). An older release's state lacks keys: the dataclass's defaults fill them. An unknown *value* (a
    stage, a language) is no key and is not read past. TypeError when ``data`` is no object."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__}: stored value is a {type(data).__name__}, not an object")
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return {name: data[name] for name in names if name in data}


def _to_jsonable(value: Any) -> Any:
    # Field by field (not ``dataclasses.asdict``, which deep-copies every value): once per IVR step.
    names = _FIELD_NAMES.get(type(value))
    if names is None and dataclasses.is_dataclass(value):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: _to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class CallStarted:
    """A new call. The service has already looked up caller-ID matches."""

    caller_id: str
    policy: FlowPolicy = field(default_factory=FlowPolicy)
    ticket: TicketInfo | None = None  # open ticket whose contact phone is the caller ID
    open_incident: IncidentInfo | None = None  # open incident for this caller number


@dataclass(frozen=True)
class Gathered:
    """The caller answered a <Gather>: keys and/or recognised speech."""

    digits: str = ""
    speech: str = ""


@dataclass(frozen=True)
class NoInput:
    """A <Gather> timed out with nothing said or pressed."""


@dataclass(frozen=True)
class Recorded:
    """A <Record> finished (url is empty when the caller recorded nothing)."""

    url: str = ""
    seconds: int = 0


@dataclass(frozen=True)
class TicketLookedUp:
    """Answer to a LookupTicket effect."""

    number: str
    ticket: TicketInfo | None = None
    open_incident: IncidentInfo | None = None
    # no ticket has that number, but it is an open incident's reference: the caller keyed their incident's reference
    # from their receipt, which proves it as at the repeat-caller menu (an outside probe's customer calling from
    # another phone heard "I could not find ticket ..." and got a new, unlinked incident)
    incident_by_reference: IncidentInfo | None = None
    # not looked up: the caller (or all callers together) keyed too many wrong numbers in the last hour
    # (``app.services.reference_guesses``); the caller goes on without a ticket, reported as a new caller
    refused: bool = False


@dataclass(frozen=True)
class IncidentSaved:
    """Answer to a SaveIncident or AppendToIncident effect.

    ``joined`` means the service added the report to the caller's open incident
    (too many new ones from this number) instead of opening another; ``own_contact`` that the
    incident's contact is not the caller's, so ``callback_due_at`` is the caller's own deadline; ``texts_off`` that
    the callback number opted out of SMS (the service's lookup of ``sms_opt_outs``): no receipt SMS will go to it.
    """

    reference: str
    callback_due_at: datetime
    joined: bool = False
    own_contact: bool = False
    texts_off: bool = False


@dataclass(frozen=True)
class PinChecked:
    """Answer to a CheckPin effect; ``ticket`` carries the details on file only when ``ok``. ``incident``: the open
    incident the keyed digits prove the caller's. For an incident's check, the keyed digits are the reference of
    another open incident of the caller's number (not the newest, which was asked for): the caller proved that one,
    and calls about it. For a ticket's PIN, the ticket's open incident whose first caller proved it with that
    account's PIN (``caller_trust.ticket_incident``); None when it has none (a stranger's is never theirs)."""

    ok: bool
    ticket: TicketInfo | None = None
    incident: IncidentInfo | None = None


Event = CallStarted | Gathered | NoInput | Recorded | TicketLookedUp | IncidentSaved | PinChecked


# ---------------------------------------------------------------- replies


@dataclass(frozen=True)
class Gather:
    """Ask for input. ``input`` is Twilio's: "dtmf", "speech" or "dtmf speech"."""

    input: str = "dtmf"
    num_digits: int | None = None  # stop after this many keys
    finish_on_key: str = "#"
    timeout: int = 6  # seconds of silence before NoInput
    speech_timeout: str = "auto"
    hints: tuple[str, ...] = ()
    # The finish key alone is an answer here ("no ticket? just press the hash key"). Twilio requests the
    # action for it only when asked to (actionOnEmptyResult); otherwise it goes on as on silence (NoInput).
    # Asked to, silence reaches the action too, as the same empty answer: Twilio tells the two apart for nobody.
    empty_is_answer: bool = False


@dataclass(frozen=True)
class Record:
    """Record the caller (problem description), up to ``max_seconds``."""

    max_seconds: int = 120
    timeout: int = 5  # seconds of silence that end the recording
    transcribe: bool = False


@dataclass(frozen=True)
class Reply:
    """What the caller hears next. ``say`` lines are spoken before the input."""

    lang: Lang
    say: tuple[str, ...] = ()
    gather: Gather | None = None
    record: Record | None = None
    hangup: bool = False
    # per-line language when lines differ (the bilingual greeting before the choice); else ``lang``
    say_langs: tuple[Lang, ...] = ()
    # issue 11: after the lines, hand the call to another webhook (what, and for which incident reference)
    hand_over: tuple[str, str] | None = None


# ---------------------------------------------------------------- effects


@dataclass(frozen=True)
class LookupTicket:
    """Find an open ticket by number; answer with TicketLookedUp."""

    number: str


@dataclass(frozen=True)
class SaveIncident:
    """Persist the incident (deadline = captured_at + SLA); answer with IncidentSaved."""

    captured: Captured
    lang: Lang
    caller_id: str
    captured_at: datetime
    verified: str = ""  # how the caller proved who they are ("" = not at all)
    related_reference: str = ""  # an open incident of this caller it may be related to


@dataclass(frozen=True)
class AppendToIncident:
    """Add a repeat caller's information to their open incident; answer with IncidentSaved."""

    reference: str
    text: str = ""
    recording_url: str = ""


@dataclass(frozen=True)
class LogEvent:
    """Append a line to the call's event log (who/what is the service's concern)."""

    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckPin:
    """Check keyed digits against the support PIN of a ticket's or an incident's account.

    Answer with PinChecked. The digits never go into logs or the call state.
    """

    pin: str
    ticket_number: str = ""
    incident_reference: str = ""


@dataclass(frozen=True)
class OpenIncident:
    """Open the incident now, mid-call (critical and reachable), so paging starts; no answer expected.

    The call goes on; the service copies each further answer into the incident,
    and the final SaveIncident completes it.
    """

    captured: Captured
    lang: Lang
    caller_id: str
    captured_at: datetime  # the deadline runs from here: the moment the hotline can call back
    verified: str = ""
    related_reference: str = ""


@dataclass(frozen=True)
class RecordNonCritical:
    """Issue 11: log a non-critical caller as a contact (nobody is paged); text how to open a ticket if asked."""

    send_howto: bool = False


Effect = LookupTicket | SaveIncident | AppendToIncident | LogEvent | CheckPin | OpenIncident | RecordNonCritical


@dataclass(frozen=True)
class Step:
    """Result of ``advance``: the new state, what to say, what to do.

    When ``effects`` contains a LookupTicket, SaveIncident, AppendToIncident or CheckPin,
    ``reply`` is None: the service carries the effect out and calls ``advance``
    again with its answer event, which yields the reply.
    """

    state: CallState
    reply: Reply | None
    effects: tuple[Effect, ...] = ()
