"""What the escalation core reads (a snapshot and a trigger) and what it answers (a decision)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.event_kind import EventKind


class State(StrEnum):
    """Where an incident stands on its way to an honest end."""

    OPEN = "open"  # paged, nobody acknowledged
    ACKNOWLEDGED = "acknowledged"  # a rep owns it, no callback yet
    CALLBACK_IN_PROGRESS = "callback_in_progress"  # a bridged callback is placed and not finished
    ATTEMPTED = "attempted"  # a callback was placed and nobody (or a voicemail) answered
    MET = "met"  # a person answered by the deadline (Twilio's timestamp)
    LATE = "late"  # a person answered after the deadline
    SELF_REPORTED = "self_reported"  # the rep says they called from their own phone: never "met"
    WORKED_BY_EMAIL = "worked_by_email"  # no callback number: the owner recorded how they reached the customer
    RESOLVED = "resolved"


ENDED = {State.MET, State.LATE, State.SELF_REPORTED, State.WORKED_BY_EMAIL, State.RESOLVED}


@dataclass(frozen=True)
class Snapshot:
    """The facts of one incident the rules need, loaded by a service."""

    due_at: datetime
    resolved: bool = False
    has_callback_number: bool = True
    textable_customer: bool = True  # the callback number can take an SMS (receipt, acknowledgement notice)
    # the receipt goes to a number nobody proved (a rescued report without recorded details) and the hourly bound
    # on such receipts is reached (``unproven_reports.receipt_withheld``): it is not sent
    receipt_withheld: bool = False
    # an e-mail can reach the customer: they gave an address and this hotline can send e-mail (SMTP configured:
    # ``deliveries.can_email``, the delivery job's rule); the receipt and the one-off notices go there when no SMS
    # can. An outside probe's failed closing notice was "e-mailed instead" with no SMTP, and then never sent
    has_email: bool = False
    owner_rep_id: int | None = None  # who acknowledged (or took it over)
    owner_active: bool = True  # that rep is still active (not deactivated since: left, phone lost)
    acknowledged: bool = False  # also true for an acknowledgement by a login without a rep
    callback_in_flight: bool = False  # a bridged callback requested or placed, not yet finished
    # the customer's leg of a callback was dialled, as Twilio showed (``escalation.customer_dialled``): the at-risk
    # alert is skipped only while such a callback is in flight, never on a rep's leg alone (its status callbacks may
    # never come), nor after one ended without reaching the customer
    callback_started: bool = False
    attempted: bool = False
    answered_at: datetime | None = None  # the customer's confirmed answer, by Twilio's timestamp
    self_reported: bool = False
    reached_by_email: bool = False
    breached: bool = False
    levels: int = 0  # escalation levels in the incident's copied policy
    # the caller who opened the incident is still giving their details: their number is busy, and the
    # deadline is not set yet (filled in for Connect and the receipt, at-risk and breach steps:
    # ``escalation.caller_on_hotline``)
    caller_on_hotline: bool = False
    # the reps on a bridged callback of this incident now (in flight): their phone is busy with the customer
    reps_on_callback: frozenset[int] = frozenset()
    # a bridged callback the customer answered is still under way (no end heard yet: ``escalation.on_the_line``): a rep
    # is talking with them, so a CALL must not dial them again (an outside probe's second rep's CALL did, mid-talk)
    customer_on_the_line: bool = False
    # Twilio's earliest answer of a bridged callback still under way whose customer has not pressed the key yet (a
    # person, or a voicemail greeting: not known until the key press or the leg's end): its status callback's
    # ``Timestamp``, or until that comes, when Twilio asked for the leg's whisper (it does so only once the customer's
    # phone answered: ``callbacks.whisper_requested``)
    answered_awaiting_key: datetime | None = None
    # someone was sent (or tried) an alert that said the deadline was BREACHED (``escalation.breach_alerts``): a
    # callback counted met after it has them told it was met after all (``decide._answered``)
    breach_alerted: bool = False
    # voice pages held while their rep was on that callback, not yet released (``page_verdicts.held_pages``)
    pages_held: bool = False
    # the customer was told (or the log says nothing could tell them) that the deadline passed: once per incident
    # (filled in for the breach and repage steps: ``escalation_steps``)
    told_of_breach: bool = False
    # issue 13: the incident's call has not finished giving its details by the report's reading (no ``deadline_set``
    # yet, even a call fallen silent): the deadline at hand is provisional, the customer was told none yet (filled in
    # for the breach and repage steps: ``escalation.callers_on_hotline``)
    deadline_provisional: bool = False
    # when the callback number was last sent (or queued) a missed-call SMS (``callback_missed``) that did not fail
    # (failed, undelivered or canceled ones never reached them): the next attempt inside ``MISSED_SMS_WINDOW`` texts
    # nothing more (filled in for an unanswered callback: ``escalation.last_missed_sms_at``; None texts as before)
    missed_sms_at: datetime | None = None

    @property
    def state(self) -> State:
        """The one state these facts add up to."""
        if self.resolved:
            return State.RESOLVED
        if self.answered_at is not None:
            return State.MET if self.answered_at <= self.due_at else State.LATE
        if self.self_reported:
            return State.SELF_REPORTED
        if self.reached_by_email:
            return State.WORKED_BY_EMAIL
        if self.callback_in_flight:
            return State.CALLBACK_IN_PROGRESS
        if self.attempted:
            return State.ATTEMPTED
        if self.acknowledged or self.owner_rep_id is not None:
            return State.ACKNOWLEDGED
        return State.OPEN

    @property
    def customer_reached(self) -> bool:
        """Someone spoke to (or e-mailed with) the customer: escalation has done its job."""
        return self.state in ENDED


# --- triggers: a due step, or an event ---------------------------------------------------------


@dataclass(frozen=True)
class StepDue:
    """A due step row came up: ``kind`` is receipt, page, at_risk, breach or repage."""

    kind: str
    level: int = 0
    nobody_at_level: bool = False  # the service resolved this level's targets to no one reachable
    # the level reaches only people who are told and cannot act (the account's TAM): nobody to call back
    only_told_at_level: bool = False


@dataclass(frozen=True)
class Acknowledge:
    """A rep acknowledges, by any channel (``rep_id`` None: a login linked to no active rep, always refused)."""

    rep_id: int | None
    paged_or_on_call: bool = True  # the rep was paged for this incident or is on call now
    take_over: bool = False  # the rep asks to take the incident from its owner


@dataclass(frozen=True)
class Connect:
    """A rep asks the hotline to call them and bridge them to the customer."""

    rep_id: int | None
    paged_or_on_call: bool = True
    has_phone: bool = True


@dataclass(frozen=True)
class CallbackAnswered:
    """The customer leg was answered; ``by_person`` once the customer pressed a key (or AMD said human)."""

    at: datetime
    by_person: bool


@dataclass(frozen=True)
class AnswerWithdrawn:
    """An answer counted at the moment of a live bridge (``at``) did not stand: Twilio's end reports said nobody
    was connected. The service has already taken it off the callback and the incident.

    ``rep_on_call``: the rep of the callback is still on their call and hears why on it (the ``<Dial action>``'s
    answer); False when their leg was over by then (they hung up first), so only an SMS can tell them."""

    at: datetime
    rep_on_call: bool = True
    # the answer withdrawn was a related incident's callback counted for this one (``ReachedOnRelated``): its own
    # incident tells its rep; this one only takes the answer back and is chased again
    on_related: bool = False


@dataclass(frozen=True)
class ReachedOnRelated:
    """A bridged callback on a related incident (linked as possibly related, either way: a dropped call and its
    redial) reached the customer, a person answered at ``at`` (Twilio's time), and counted there.

    ``same_number``: that callback dialled this incident's callback number (never a claim for another number);
    ``reported_at``: when this incident's report was taken (a conversation before it is not the callback it is owed).
    """

    at: datetime
    same_number: bool
    reported_at: datetime


@dataclass(frozen=True)
class ShortBridgeUnheard:
    """A bridged callback was withdrawn as too short by its customer leg's own end, while its rep was still thought
    on the call to hear why (``AnswerWithdrawn(rep_on_call=True)``); the ``<Dial action>`` then said the rep had
    hung up first: nobody heard it."""


@dataclass(frozen=True)
class CallbackUnanswered:
    """The customer leg ended without a person: no answer, busy, failed, or a voicemail."""

    voicemail: bool = False
    # the customer's phone rang (no answer, busy, a voicemail, picked up with no key): they saw a missed call.
    # False for a leg that never rang them (failed, canceled) or when the service cannot tell
    rang: bool = False


@dataclass(frozen=True)
class MessageEnded:
    """The call placed for the rep to leave a voicemail message ended without a person: never an attempt."""

    left: bool = False  # a voicemail took it and the rep was put through after its greeting


@dataclass(frozen=True)
class RepNotReached:
    """The hotline's call to the rep for a bridged callback failed, went unanswered or reached a machine:
    the customer was never dialled.

    ``other_number``: the call to the rep's number failed for good (Twilio refused it, or took it and then reported
    it ``failed``: the carrier could not reach the number; never busy, unanswered or a voicemail), and they have
    another number (``phone_alt``) this callback has not called yet."""

    other_number: bool = False


@dataclass(frozen=True)
class SelfReported:
    """A rep says they called the customer from their own phone."""

    rep_id: int | None


@dataclass(frozen=True)
class ReachedByEmail:
    """The owner of an incident without a callback number recorded how they reached the customer."""

    rep_id: int | None
    paged_or_on_call: bool = True  # as ``Acknowledge``: recording it makes the rep the owner of an unowned incident


@dataclass(frozen=True)
class Resolve:
    """Someone asks to resolve: with the customer's agreement after a verified contact, or a manager's reason.

    ``agreed_by`` names who at the customer agreed (their SMS, link or keypress, or a verbal agreement
    a rep recorded); ``after_silence`` is a proposal the customer left unanswered (resolved, not confirmed).
    """

    by_manager: bool
    reason: str = ""
    agreed_by: str = ""
    after_silence: bool = False
    # the agreement is a rep's record of what the customer said (on the phone): nothing from the customer shows it,
    # so they are told in writing that it was closed as agreed, and how to say it is not resolved
    verbal: bool = False


@dataclass(frozen=True)
class Reopen:
    """Someone asks to reopen a closed incident: its customer, by a NO to the notice that it was closed
    (``by_customer``), or a rep or manager with a written ``reason``.

    ``close``: how the close being undone came (``reopen.close_kind``): "customer" (their own written or keyed YES),
    "verbal" (a rep's record of their agreement), "manager" (a manager's reason), "silence" (a proposal left
    unanswered), or "" (a close line older than those words); ``within_window``: the customer's NO came within the
    reopen window (``REOPEN_WINDOW_DAYS``) of that close; ``closed_at``: when it came (None: no close line)."""

    by_customer: bool
    close: str = ""
    within_window: bool = True
    reason: str = ""
    closed_at: datetime | None = None


@dataclass(frozen=True)
class PageFailed:
    """A page could not be delivered on ``channel``.

    ``held_back_at``: a missed-call SMS (``callback_missed``) that failed had held back the SMS of later attempts
    (``decide.MISSED_SMS_RECENT``): when the latest of them was, if no SMS that did not fail was sent or queued
    since; None when it held back none (or is another page). ``opted_out``: the number texted STOP (an SMS to it
    is never sent). ``level_unreached``: an escalation page whose level now has no page left that is alive (every
    other page to a rep of its step failed for good, was undelivered or canceled), told for the first time.
    ``retrying``: the page is still being sent again (Twilio failing for now: its person is called meanwhile), so it
    has not failed for good. ``voice_tried``: a page SMS's own fallback, a call of its level to the same person,
    exists already (the level paged them on both channels, or an earlier failure called them). ``written_answered``: for the customer's receipt SMS or one-off notice (``decide.NOTICES``), the
    same e-mail was already written for the incident, or this failure was already answered (a second final report
    of the same SMS). ``other_number``: the page went to a rep who has another number (``phone_alt``), not to that one,
    and no page of its level (its step; without one, since it was written) went there on this channel yet."""

    channel: str
    purpose: str
    held_back_at: datetime | None = None
    opted_out: bool = False
    level_unreached: bool = False
    retrying: bool = False
    written_answered: bool = False
    voice_tried: bool = False
    other_number: bool = False


@dataclass(frozen=True)
class PageDue:
    """A queued page to a rep (``rep_id``) is about to be sent; ``rep_active`` is false once they were deactivated.

    ``newer_held_page``: this page was held for a callback, and a later page held too (a later repage round) to
    the same rep or number, on the same channel, is still going or has gone: the rep is rung once, not per round.

    ``newer_round_page``: a later page of the incident that carries all this one tells (``decide.SUPERSEDED_BY``: a
    repage a page, a breach alert an at-risk one) to the same rep or number, on the same channel, will go (queued or
    sending and still wanted) or has gone: it tells the state of now.

    ``last_call_at``: when another call of this incident to the same rep or number actually left (Twilio accepted it,
    or a run is placing it now); None when none did.
    ``line_busy``: why the rep's phone is on one of the hotline's own calls now ("" when it is not:
    ``busy_lines.line_busy``): a bridged callback or live bridge of any incident, or an earlier page call to the number.
    """

    channel: str
    purpose: str
    rep_id: int | None = None
    rep_active: bool = True
    newer_held_page: bool = False
    newer_round_page: bool = False
    last_call_at: datetime | None = None
    line_busy: str = ""


@dataclass(frozen=True)
class NumberCorrected:
    """The caller corrected their callback number after reps were paged with the one they gave first (the first
    page leaves before the read-back): those reps must call the new one."""


@dataclass(frozen=True)
class ContactJoined:
    """A caller over the per-number limit joined this incident giving a contact that is not its own (caller IDs
    are spoofed): they are owed a callback of their own. ``told_so_far``: such notices sent for this incident in
    the flood window; ``notice_limit``: how many that window allows (the flood limit: a caller ID pages no more)."""

    told_so_far: int = 0
    notice_limit: int = 0


Trigger = StepDue | Acknowledge | Connect | CallbackAnswered | CallbackUnanswered | MessageEnded | RepNotReached | \
    ShortBridgeUnheard | ReachedOnRelated | \
    SelfReported | ReachedByEmail | Resolve | Reopen | PageFailed | PageDue | ContactJoined | NumberCorrected


# --- the answer ----------------------------------------------------------------------------------


class Audience(StrEnum):
    """Whom a page order reaches; the service turns an audience into people."""

    LEVEL = "level"  # the targets of the step's escalation level
    MANAGERS = "managers"
    PAGED_SO_FAR = "paged_so_far"
    OWNER_OR_PRIMARY = "owner_or_primary"  # the (active) acknowledger, else whom the first level of the incident's policy reaches
    # everyone (still active) an alert saying the deadline was BREACHED was sent or tried to: told it was met after all
    BREACH_ALERTED = "breach_alerted"
    PREVIOUS_OWNER = "previous_owner"  # told when someone takes the incident over
    CALLBACK_REP = "callback_rep"  # the (active) rep of the callback the event is about
    SAME_PERSON = "same_person"  # the person of a failed page
    OTHER_NUMBER = "other_number"  # the rep of a failed page, on their other number (``PageFailed.other_number``)
    # the reps gone off shift whom a rota hand-off takes the incident from (their successor is paged by it), who had
    # been paged about it (``counts_as_paged``), each told once, on one number
    HANDED_OVER_FROM = "handed_over_from"
    CUSTOMER = "customer"
    # the account's TAM as told of the incident so far (texted, or e-mailed outside their business hours): told of
    # its breach at the breach, once, whoever owns it; the repages after it are for the reps and managers
    TAM = "tam"


@dataclass(frozen=True)
class PageOrder:
    """Page an audience on these channels for this purpose."""

    audience: Audience
    channels: tuple[str, ...]
    purpose: str


@dataclass(frozen=True)
class NotTexted:
    """Why the customer was not texted of an attempt that rang them: ``why`` a short code (``decide.MISSED_SMS_RECENT``),
    ``last_at`` when the SMS that stands for it went (or was queued), ``window`` the window it stands for."""

    why: str
    last_at: datetime
    window: timedelta


@dataclass(frozen=True)
class Decision:
    """What the service must do; ``outcome`` is a short code for the step row and the log."""

    outcome: str
    next_state: State
    pages: tuple[PageOrder, ...] = ()
    cancel_escalation_pages: bool = False
    # a rota hand-off: the escalation pages of the reps gone off shift that it takes the incident from, not sent yet
    # (queued, held, or waiting for a retry; never one placed), are canceled, the reason on record
    cancel_handed_over_pages: bool = False
    set_owner: bool = False  # the acting rep becomes the owner
    open_callback: bool = False
    defer_callback: bool = False  # connect once the caller's intake call ends (``acks.connect_after_call``)
    record_breach: bool = False
    add_repage: bool = False
    mark_reached_by_email: bool = False
    # policy step 5: the customer was reached (or the rep says so), updates are owed from now on; the schedule
    # starts here, in the same transaction, never on a later webhook that may be lost (``updates.start_follow_up``)
    start_updates: bool = False
    # the only answer standing was withdrawn: the updates it started are owed no more, their pending steps end
    # (``updates.withdraw_follow_up``); a callback met later starts them again
    stop_updates: bool = False
    # the customer's first verified contact (a person answered a callback, or the e-mail contact of a caller with no
    # number): what waited for it goes on, an outage's resolution proposed before it was verified among it
    verified_contact: bool = False
    resolve: bool = False
    # a close undone (``Reopen``): the incident is open again; ``start_updates`` with it resumes the update schedule
    # the close ended (``updates.reopen_follow_up``)
    reopen: bool = False
    # a due page (``PageDue``): it waits until its rep's callback ends, or it is not sent at all
    hold_page: bool = False
    # a held page waits until then, not for a callback's end: the rep's previous call left less than
    # ``levels.LEVEL_WAIT_AT_LEAST`` ago
    hold_until: datetime | None = None
    cancel_page: bool = False
    # a bridged callback's call to the rep failed for good (refused, or reported ``failed``): their other number is
    # called for it instead, once (``RepNotReached.other_number``); the callback stays requested
    call_rep_other_number: bool = False
    # a held call a later held call to the same rep or number supersedes, or a chasing page a later round's page
    # to them on its channel supersedes: never sent, recorded as not sent
    supersede_page: bool = False
    # a level page canceled unsent: the level is paged again now (who is on call now, else the managers)
    page_level_again: bool = False
    release_held_pages: bool = False  # the callback ended: the pages held for it go at once
    # an answer was withdrawn: the at-risk, breach and repage steps that found the customer reached since this time
    # run again (``escalation.rerun_steps_since``)
    rerun_steps_since: datetime | None = None
    # a message to the customer's e-mail address (its purpose: "receipt"), queued as a delivery row
    email_customer: str = ""
    # the deadline passed and the customer was not reached: they are told so, with an apology, once, by "sms",
    # "email", or "none" (no number that takes an SMS and no address: the log says nobody could tell them)
    breach_notice: str = ""
    # closed without the customer's agreement (a manager's close): they are told the support team closed it, by
    # "sms", "email", or "none" as ``breach_notice`` (their last message may promise a call that will not come)
    closing_notice: str = ""
    # the closing notice says it was closed as agreed with them on the phone (a rep's recorded verbal agreement), not
    # that the support team closed it
    agreed_close: bool = False
    # a closing notice reached the customer by no channel (its SMS failed for good, no e-mail can go): whoever closed
    # the incident and its owner (else the managers) are texted to phone them, as for an update reached by none
    phone_customer: bool = False
    # the step runs again a little later (``escalation_steps.REARM_AFTER``): the deadline it hangs on is not set yet,
    # and ``escalation.set_deadline`` moves it to the deadline that counts once the caller's details are in
    rearm: bool = False
    log: tuple[EventKind, ...] = field(default=())  # lines the service writes to the log
    # an unanswered attempt whose missed-call SMS is not sent (one went moments ago): its log line says why
    not_texted: NotTexted | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        """The trigger was carried out (not refused)."""
        return not self.refused
