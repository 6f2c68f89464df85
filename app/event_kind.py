"""Every kind of line the hotline writes to the incident event log, as one vocabulary."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """The kind of an ``IncidentEvent``; the report and the timeline read the log through it.

    The intake flow's own lines (``ivr_flows`` ``LogEvent`` kinds) are kept as the flow names them.
    """

    # intake
    CALL_RECEIVED = "call_received"
    CALL_STATUS = "call_status"
    # an ended call to the hotline whose start never reached it (``unseen_calls``): written from its status callback
    CALL_UNSEEN = "call_unseen"
    CALL_END_UNREPORTED = "call_end_unreported"  # no status callback came: the watchdog settled the ended call
    CALL_ABANDONED_UNREACHABLE = "call_abandoned_unreachable"  # no longer written (now a missed_call); old logs
    STALE_STEP_IGNORED = "stale_step_ignored"
    INCIDENT_OPENED = "incident_opened"
    INCIDENT_RESCUED = "incident_rescued"
    INFORMATION_ADDED = "information_added"
    VOICEMAIL_RECORDED = "voicemail_recorded"
    INCIDENT_UPDATED = "incident_updated"  # issue 13: an answer given after the incident opened mid-call
    INCIDENT_COMPLETED = "incident_completed"  # issue 13: the intake of an incident opened mid-call ended
    DEADLINE_SET = "deadline_set"  # issue 13: the details are in; the 15 minutes run from here
    # who the caller is, and floods
    SUPPORT_PIN_CHECKED = "support_pin_checked"
    CALLER_DETAILS_CHECKED = "caller_details_checked"
    POSSIBLY_RELATED = "possibly_related"
    CALL_JOINED = "call_joined"
    REPORT_JOINED = "report_joined"
    REPEAT_CALL_ENDED = "repeat_call_ended"
    MISSED_CALL = "missed_call"
    # a number keyed at the ticket prompt that is no open ticket and no open incident's reference (``reference_guesses``)
    KEYED_NUMBER_NOT_FOUND = "keyed_number_not_found"
    # a reply to the missed-call SMS that says the call was not theirs ("wrong number"): nothing opened or paged
    MISSED_CALL_NOT_THEIRS = "missed_call_not_theirs"
    OUTBOUND_VOLUME_ALERT = "outbound_volume_alert"
    # due steps (one kind per step kind: never built with an f-string)
    STEP_RECEIPT = "step_receipt"
    STEP_PAGE = "step_page"
    STEP_AT_RISK = "step_at_risk"
    STEP_BREACH = "step_breach"
    STEP_REPAGE = "step_repage"
    STEP_HANDOFF = "step_handoff"
    NOBODY_TO_PAGE = "nobody_to_page"
    LEVEL_UNREACHED = "level_unreached"  # every page of a level failed for good: the managers are paged at once
    TARGET_UNRESOLVABLE = "target_unresolvable"
    CALLBACK_AT_RISK = "callback_at_risk"
    CALLBACK_BREACHED = "callback_breached"
    # issue 13: a breach logged on the provisional deadline no longer counts (the deadline that counts was set
    # later); before this line, the ``deadline_set`` line said so alone (its detail ``breach_withdrawn``)
    BREACH_WITHDRAWN = "breach_withdrawn"
    # a callback counted met after an alert said the deadline was BREACHED: whoever got that alert is told by SMS it
    # was met after all (``decide._corrected``; ``alerted``: the SMS written)
    BREACH_CORRECTED = "breach_corrected"
    # the customer told (by SMS or e-mail; ``channel`` "none": nothing could carry it) that the deadline passed
    # without reaching them, with an apology: once per incident (``decide._breach_notice``)
    CUSTOMER_BREACH_NOTICE = "customer_breach_notice"
    # the customer told (``channel`` as above) that the support team closed their incident without their agreement
    # (a manager's close; ``decide._resolve``)
    CUSTOMER_CLOSING_NOTICE = "customer_closing_notice"
    # pages
    PAGE_QUEUED = "page_queued"
    PAGE_SENT = "page_sent"
    PAGE_SEND_FAILED = "page_send_failed"
    PAGE_CANCELED = "page_canceled"
    PAGE_STATUS = "page_status"
    PAGE_REACHED_MACHINE = "page_reached_machine"
    # a call for a voice page whose CallSid is not the page's: Twilio made a second call for it (a create that timed out
    # here and was carried out there after the retry's lookup): the rep's phone rang twice (``page_status.duplicate_call``)
    PAGE_DUPLICATE_CALL = "page_duplicate_call"
    PAGE_SMS_FAILED_CALLING = "page_sms_failed_calling"
    # a rep's page failed for good: the same page goes to their other number (``phone_alt``) before the level gives up
    PAGE_FAILED_OTHER_NUMBER = "page_failed_other_number"
    # the customer's receipt SMS failed for good: the e-mail receipt goes instead (``decide._receipt_failed``) ...
    RECEIPT_SMS_FAILED_EMAILED = "receipt_sms_failed_emailed"
    # ... or, no e-mail address on record, nothing can: the customer holds no written reference
    RECEIPT_SMS_FAILED_NO_ADDRESS = "receipt_sms_failed_no_address"
    # the receipt SMS to a rescued report's caller ID (no recorded details: a number nobody proved) was not sent: the
    # hotline's hourly bound on such receipts was reached (``unproven_reports.receipt_withheld``, ``decide._receipt``)
    RECEIPT_WITHHELD = "receipt_withheld"
    # a one-off notice's SMS to the customer (the breach apology, a closing notice) failed for good: e-mailed instead
    # (``decide._notice_failed``) ... or, no e-mail address on record, the customer was not told
    # an incident whose customer was reached only on a related incident's callback closed with that incident, when the
    # customer agreed to its resolution (``resolution._close_reached_through``)
    RESOLVED_WITH_RELATED = "resolved_with_related"
    CUSTOMER_NOTICE_SMS_FAILED_EMAILED = "customer_notice_sms_failed_emailed"
    CUSTOMER_NOTICE_SMS_FAILED_NO_ADDRESS = "customer_notice_sms_failed_no_address"
    # a missed-call SMS that held back later attempts' SMS failed: a new one tells the customer of them
    MISSED_SMS_RESENT = "missed_sms_resent"
    # an SMS page to a number that opted out (STOP): failed at once, never asked of Twilio
    PAGE_NOT_SENT_OPTED_OUT = "page_not_sent_opted_out"
    # a voice page to a rep on this incident's callback now: held until that call ends, then sent (or canceled)
    PAGE_HELD = "page_held"
    PAGE_RELEASED = "page_released"
    # a text to the customer waits, untried, for an earlier one of theirs still to go (``customer_order``)
    CUSTOMER_SMS_WAITS = "customer_sms_waits"
    # a held call a later held call to the same rep (or number) stands for: never sent, the rep is rung once
    PAGE_NOT_SENT_SUPERSEDED = "page_not_sent_superseded"
    # the account's TAM told by e-mail, not paged: outside their business hours, or no TAM phone (services/tam_mail)
    TAM_EMAILED = "tam_emailed"
    # the account's TAM texted outside their business hours: no e-mail address is on file (oncall.tam_target)
    TAM_TEXTED_NO_EMAIL = "tam_texted_no_email"
    # the account names a TAM with neither a phone nor an e-mail address: told nothing of the incident (tam_mail)
    TAM_NOT_TOLD = "tam_not_told"
    # the watchdog asked Twilio for the status of a page or a callback's leg whose final status callback never came
    STATUS_ASKED = "status_asked"
    SMS_STATUS_UNMATCHED = "sms_status_unmatched"
    SMS_FROM_UNKNOWN_SENDER = "sms_from_unknown_sender"
    SMS_UNKNOWN_REFERENCE = "sms_unknown_reference"
    SMS_SEVERAL_REFERENCES = "sms_several_references"  # "ACK 111111 ACK 222222": nothing was carried out
    SMS_YES_AMBIGUOUS = "sms_yes_ambiguous"  # a bare YES from a rep's and a customer's number: nothing was carried out
    SMS_NOT_UNDERSTOOD = "sms_not_understood"  # a rep's SMS that is no command: nothing was carried out
    SMS_FROM_SHARED_PHONE = "sms_from_shared_phone"  # from a number two active reps share: nothing was carried out
    # owning the incident
    ACKNOWLEDGED = "acknowledged"
    ACKNOWLEDGEMENT_REFUSED = "acknowledgement_refused"
    TAKEN_OVER = "taken_over"
    # callbacks
    CALLBACK_REQUESTED = "callback_requested"
    CONNECT_DEFERRED = "connect_deferred"  # a rep asked to connect while the caller was still on the hotline
    CALLBACK_REP_CALL_PLACED = "callback_rep_call_placed"
    CALLBACK_REP_CALL_FAILED = "callback_rep_call_failed"
    CALLBACK_REP_LEG_STATUS = "callback_rep_leg_status"
    # a person answered a call to the rep for this callback: the first such call owns it (it alone dials the
    # customer); a second call placed for it (after a placement whose outcome was lost) answered later does not
    CALLBACK_REP_ANSWERED = "callback_rep_answered"
    CALLBACK_REP_LEG_REFUSED = "callback_rep_leg_refused"
    CALLBACK_REP_NOT_REACHED = "callback_rep_not_reached"  # the rep leg ended unanswered (or a machine took it)
    # the call to the rep's own number failed for good (Twilio refused it; or took it and reported it ``failed``,
    # then the line names that call, ``failed_call``): their other number (``phone_alt``) is called instead
    CALLBACK_REP_OTHER_NUMBER = "callback_rep_other_number"
    CALLBACK_LEG_STATUS = "callback_leg_status"
    # Twilio's Timestamp of a customer leg's status lay before its callback was asked for or after it was heard:
    # clocks disagree; the status counted as of when it was heard (``callbacks.twilio_time_believed``)
    TWILIO_CLOCK_DISAGREES = "twilio_clock_disagrees"
    CALLBACK_MET = "callback_met"
    CALLBACK_LATE = "callback_late"
    # a person answered a callback after the incident's first answer (a follow-up call): on record, never the answer
    CALLBACK_ANSWERED_AGAIN = "callback_answered_again"
    CALLBACK_ATTEMPTED = "callback_attempted"
    # the rep's voicemail message call (after an attempt a voicemail took) ended: never an attempt. Left: a voicemail
    # took it and the rep was put through after its greeting; not left: none did (no answer, busy, failed, a person)
    CALLBACK_MESSAGE_LEFT = "callback_message_left"
    CALLBACK_MESSAGE_NOT_LEFT = "callback_message_not_left"
    # a live connect counted when Twilio was bridging (issue 13) whose end reports then said nobody was connected:
    # that answer no longer stands (the report's fold drops it; ``detail.answered_at`` is the answer withdrawn)
    CALLBACK_WITHDRAWN = "callback_withdrawn"
    # a callback on a related incident (linked as possibly related, the same callback number: a dropped call and its
    # redial) reached the customer before a callback of this incident did: counted for this one too, on its own
    # deadline (``related_callbacks``); ``detail`` names that callback, its incident and Twilio's time of the answer
    CALLBACK_REACHED_ON_RELATED = "callback_reached_on_related"
    # ... and that callback's answer was withdrawn on its own incident (too short to count): withdrawn here too
    CALLBACK_RELATED_WITHDRAWN = "callback_related_withdrawn"
    CALLBACK_SELF_REPORTED = "callback_self_reported"
    # a second rep's CALLED: one self-reported call is stored per incident, theirs is not (and they are told so)
    SELF_REPORT_NOT_RECORDED = "self_report_not_recorded"
    REACHED_BY_EMAIL = "reached_by_email"
    # the end
    RESOLVED = "resolved"
    RESOLVE_REFUSED = "resolve_refused"
    # a close undone: the customer's NO to a close they never agreed to in writing, or a rep's reason
    # (``reopen``); the ``resolved`` line before it no longer stands
    INCIDENT_REOPENED = "incident_reopened"
    NOTE = "note"
    EVENT_CHANGE_REFUSED = "event_change_refused"
    # issue 11: the customer's updates, resolution by agreement, outages, non-critical callers
    STEP_UPDATE_REMINDER = "step_update_reminder"
    STEP_UPDATE_DUE = "step_update_due"
    STEP_RESOLUTION_EXPIRY = "step_resolution_expiry"
    STEP_CONNECT_AFTER_CALL = "step_connect_after_call"
    CUSTOMER_SMS_ANSWER = "customer_sms_answer"
    CUSTOMER_UPDATE_LATE = "customer_update_late"
    CUSTOMER_UPDATE_SENT = "customer_update_sent"
    CUSTOMER_UPDATE_UNDELIVERED = "customer_update_undelivered"  # reached the customer by no channel; owner told
    # an update or proposal that reached the customer by no channel so far, its e-mail failing and still retried;
    # owner told (app/services/unreached.py)
    CUSTOMER_MESSAGE_STALLED = "customer_message_stalled"
    # the customer's written confirmation of the agreed interval reached them by no channel: not "told"; owner told
    INTERVAL_CONFIRMATION_UNDELIVERED = "interval_confirmation_undelivered"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERY_QUEUED = "delivery_queued"
    DELIVERY_SENT = "delivery_sent"
    DELIVERY_SKIPPED = "delivery_skipped"
    HELD_WORDS_RELEASED = "held_words_released"  # a callback started: the customer's held words sent at once
    DELIVERY_STATUS = "delivery_status"
    NON_CRITICAL_CONTACT = "non_critical_contact"
    OUTAGE_DECLARED = "outage_declared"
    OUTAGE_LINKED = "outage_linked"
    OUTAGE_NOT_LINKED = "outage_not_linked"  # opened while an outage was declared; its caller named another service
    OUTAGE_UNLINKED = "outage_unlinked"  # a manager took it out of the outage
    OUTAGE_RESOLVED = "outage_resolved"
    OUTAGE_RESOLUTION_NOT_PROPOSED = "outage_resolution_not_proposed"  # an outage ended; this incident was not asked
    OUTAGE_UPDATE_SENT = "outage_update_sent"
    # an outage resolved before this incident's callback was verified: its resolution proposed once it was
    OUTAGE_RESOLUTION_PROPOSED_AFTER_CALLBACK = "outage_resolution_proposed_after_callback"
    STEP_OUTAGE_PROPOSAL = "step_outage_proposal"
    RESOLUTION_CONFIRMED = "resolution_confirmed"
    RESOLUTION_PROPOSED = "resolution_proposed"
    RESOLUTION_REJECTED = "resolution_rejected"
    RESOLUTION_PROPOSAL_UNDELIVERED = "resolution_proposal_undelivered"  # every message of it failed; owner told
    RESOLUTION_UNDELIVERED = "resolution_undelivered"  # its silence ran out, but it never reached the customer
    RESOLUTION_UNCLEAR = "resolution_unclear"  # its silence ran out, but the customer had written (not YES or NO)
    RESOLVED_UNCONFIRMED = "resolved_unconfirmed"
    # a rep recorded the customer's verbal agreement though their last answer was NO and nothing shows they were
    # reached since: the rep was warned and confirmed it (``resolution.standing_no``)
    VERBAL_AGREEMENT_AFTER_NO = "verbal_agreement_after_no"
    UPDATE_INTERVAL_AGREED = "update_interval_agreed"
    UPDATE_SMS_REFUSED = "update_sms_refused"
    # a paged rep or a manager acted by SMS on another rep's incident: its owner was texted (``update_rights``)
    OWNER_TOLD_OF_SMS = "owner_told_of_sms"
    # an account's TAM texted the hotline: their words on the incident, texted to its readers (``tam_sms``), or,
    # with several open incidents and none named, placed on none
    TAM_SMS_MESSAGE = "tam_sms_message"
    TAM_SMS_UNPLACED = "tam_sms_unplaced"
    UPDATES_SCHEDULED = "updates_scheduled"
    # the customer's SMS: opt-out (STOP / START, Twilio 21610) and words that are not an answer
    SMS_OPTED_OUT = "sms_opted_out"
    SMS_OPTED_IN = "sms_opted_in"
    SMS_HELP_ASKED = "sms_help_asked"  # HELP / INFO / HILFE: answered by Twilio or by us, never words for the owner
    CUSTOMER_SMS_MESSAGE = "customer_sms_message"
    # issue 13: live connect (the caller waits on the line; a rep's leg dials them out of the queue)
    LIVE_CONNECT_OFFERED = "live_connect_offered"
    # no `hotline worker` ran at the offer (or the choice): the caller was told so, not offered the wait
    LIVE_CONNECT_WITHHELD = "live_connect_withheld"
    LIVE_WAIT_STARTED = "live_wait_started"
    LIVE_CONNECTING = "live_connecting"
    LIVE_WAIT_ENDED = "live_wait_ended"
    # the schedule the callback's answer started: its first update moved to one interval after the call ended
    UPDATES_COUNTED_FROM_CALL_END = "updates_counted_from_call_end"
    # the only answer that started the schedule was withdrawn (a bridge too short to count): nothing is owed now
    UPDATES_WITHDRAWN = "updates_withdrawn"


STEP_EVENT = {"receipt": EventKind.STEP_RECEIPT, "page": EventKind.STEP_PAGE, "at_risk": EventKind.STEP_AT_RISK,
              "breach": EventKind.STEP_BREACH, "repage": EventKind.STEP_REPAGE,
              "handoff": EventKind.STEP_HANDOFF,
              # issue 11
              "update_reminder": EventKind.STEP_UPDATE_REMINDER, "update_due": EventKind.STEP_UPDATE_DUE,
              "resolution_expiry": EventKind.STEP_RESOLUTION_EXPIRY,
              "connect_after_call": EventKind.STEP_CONNECT_AFTER_CALL,
              "outage_proposal": EventKind.STEP_OUTAGE_PROPOSAL}


# The ``status`` of a ``callback_attempted`` line whose call reached the customer's phone (Twilio's final CallStatus
# or DialCallStatus; a voicemail did too): "failed" (an invalid number, a carrier refusal) and "canceled" (ended
# before it was placed) never rang it. The escalation core's texts and the report read the line by it.
CUSTOMER_RANG = frozenset({"no-answer", "busy", "completed", "answered"})
