"""The escalation core as a table: an unanswered attempt texts the customer "we tried to call you" at most once per
``MISSED_SMS_WINDOW``; the attempt itself is decided (outcome, state, log line, held pages) exactly as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.escalation import Audience, CallbackUnanswered, NotTexted, PageFailed, PageOrder, decide
from app.escalation.decide import MISSED_SMS_RECENT, MISSED_SMS_WINDOW
from app.event_kind import EventKind
from tests.unit.test_escalation_core import STATES, T0

TOLD = (PageOrder(Audience.CUSTOMER, ("sms",), "callback_missed"),)
NOW = T0 + timedelta(minutes=8)

# when the last missed-call SMS that did not fail went (None: never, or every one failed) -> this attempt texts
WINDOW = [
    (None, True),
    (timedelta(0), False),  # retries ending together: the same instant
    (timedelta(seconds=3), False),  # the probe: three within 3 s
    (timedelta(minutes=4, seconds=59), False),
    (MISSED_SMS_WINDOW, True),  # the window is over: a new try, told as before
    (timedelta(minutes=20), True),
    (-timedelta(seconds=2), False),  # a clock a little behind the page row's: still within the window
]


@pytest.mark.parametrize("voicemail", [False, True])
@pytest.mark.parametrize("state", ["callback_in_progress", "attempted", "acknowledged", "open"])
@pytest.mark.parametrize(("ago", "texted"), WINDOW)
def test_a_missed_call_sms_goes_at_most_once_per_window(ago, texted, state, voicemail):
    snap = replace(STATES[state], missed_sms_at=None if ago is None else NOW - ago)
    decision = decide(CallbackUnanswered(voicemail=voicemail, rang=True), snap, NOW)
    assert decision.pages == (TOLD if texted else ())
    assert decision.not_texted == (None if texted else NotTexted(MISSED_SMS_RECENT, NOW - ago, MISSED_SMS_WINDOW))
    # the attempt is the same attempt either way: only the SMS (and the line's reason) differs
    never = decide(CallbackUnanswered(voicemail=voicemail, rang=True), replace(snap, missed_sms_at=None), NOW)
    assert replace(decision, pages=never.pages, not_texted=None) == never
    assert decision.outcome == ("attempted_voicemail" if voicemail else "attempted")
    assert decision.log == (EventKind.CALLBACK_ATTEMPTED,)


# an attempt that texts nobody for another reason (reached, resolved, no number that takes an SMS, a leg that never
# rang) claims no "not texted again": the window is no reason there
@pytest.mark.parametrize("rang", [False, True])
@pytest.mark.parametrize("state", ["met", "late", "self_reported", "resolved", "no_callback_number", "not_textable"])
def test_the_window_is_no_reason_where_nothing_would_be_texted(state, rang):
    base = STATES.get(state) or replace(STATES["callback_in_progress"], textable_customer=False)
    snap = replace(base, missed_sms_at=NOW - timedelta(seconds=3))
    decision = decide(CallbackUnanswered(rang=rang), snap, NOW)
    assert decision.pages == () and decision.not_texted is None
    assert decision == decide(CallbackUnanswered(rang=rang), replace(snap, missed_sms_at=None), NOW)


def test_a_recent_sms_quiets_only_an_attempt_that_rang():
    snap = replace(STATES["attempted"], missed_sms_at=NOW - timedelta(seconds=3))
    assert decide(CallbackUnanswered(rang=False), snap, NOW).not_texted is None
    assert decide(CallbackUnanswered(rang=True), snap, NOW).not_texted is not None


# a missed-call SMS that failed after it held back later attempts' SMS (``PageFailed.held_back_at``): one SMS goes
# now for them, where an attempt now would be texted; one that held back nothing (a resend failing in turn) sends none
RESEND = {"callback_in_progress": True, "attempted": True, "acknowledged": True, "open": True, "met": False,
          "late": False, "self_reported": False, "resolved": False, "no_callback_number": False,
          "not_textable": False}


@pytest.mark.parametrize(("state", "resent"), RESEND.items())
@pytest.mark.parametrize("status_channel", ["sms", "voice"])
def test_a_failed_missed_call_sms_that_held_attempts_back_is_sent_anew(state, resent, status_channel):
    snap = STATES.get(state) or replace(STATES["attempted"], textable_customer=False)
    held_at = NOW - timedelta(seconds=8)
    decision = decide(PageFailed(status_channel, "callback_missed", held_at), snap, NOW)
    if resent and status_channel == "sms":
        assert decision.pages == TOLD and decision.outcome == "missed_sms_resent"
        assert decision.log == (EventKind.MISSED_SMS_RESENT,)
    else:
        assert decision.pages == () and decision.log == ()
    assert decision.next_state == snap.state and not decision.release_held_pages
    # held back nothing: nothing more goes, whatever the state (no loop)
    assert decide(PageFailed(status_channel, "callback_missed"), snap, NOW).pages == ()


def test_only_a_missed_call_sms_is_sent_anew():
    held_at = NOW - timedelta(seconds=8)
    for purpose in ("receipt", "ack_notice", "breach_notice"):
        assert decide(PageFailed("sms", purpose, held_at), STATES["attempted"], NOW).pages == ()
    # a failed at-risk SMS calls its person instead (session 43): no SMS is sent anew
    assert [o.channels for o in decide(PageFailed("sms", "at_risk", held_at), STATES["attempted"], NOW).pages] == [
        ("voice",)]


def test_a_number_that_opted_out_is_not_sent_a_new_one():
    held_at = NOW - timedelta(seconds=8)
    assert decide(PageFailed("sms", "callback_missed", held_at, opted_out=True), STATES["attempted"], NOW).pages == ()
    assert decide(PageFailed("sms", "callback_missed", held_at), STATES["attempted"], NOW).pages == TOLD
