"""A "try again" callback shares the rep's call: the rep leg's end is the end of every callback placed on it.

Probe H F3: the customer's line was busy, Maria pressed 1 on the same call (a new callback, the same
``rep_call_sid``), the customer pressed the key and Maria hung up 3 s later; the retry's ``<Dial action>`` and its
customer leg's status callbacks never came. The rep leg's status callback (its URL names the first callback) ended
only the first one, so the retry's 4-second conversation stood as the promise kept: met on the row, the breach step
and the report. Whichever path ends the rep's leg (the hotline's call to the rep, or the voice page the rep pressed
2 on), every callback on it is ended by the same rule.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Callback, IncidentEvent, Page
from app.reports.facts import Outcome
from hotline_sim.twilio_records import ApiCall
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_at_risk_unproven_callback import _at, _callback_by_sms, _callback_from_the_voice_page
from tests.paging.test_callback_proof import (
    _dial_done,
    _facts,
    _leg_sid,
    _leg_status,
    _press_key,
    _step_outcome,
    _whisper,
)
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, _signed_post, _work

TOO_SHORT = "too short to count as the callback"


def _rows(desk, incident_id: int) -> list[Callback]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).where(Callback.incident_id == incident_id).order_by(Callback.id)))


def _lines(desk, incident_id: int, kind: str) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [dict(d or {}) for d in s.scalars(select(IncidentEvent.detail).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id))]


def _told_by_sms(desk, incident_id: int) -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "bridge_too_short")))


def _busy_then_retry(desk, first: Callback) -> Callback:
    """The customer's line is busy at T+2:20; Alice presses 1 on the same call: the retry callback, on her call."""
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=20))
    _leg_status(desk, first, "busy", 140)
    assert f"/twilio/bridge/retry?callback={first.id}" in _dial_done(desk, first, "busy")
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=30))
    retry = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/retry?callback={first.id}", {
        "CallSid": first.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "Digits": "1"}).get_data(as_text=True)
    assert "<Dial" in retry
    _, second = _rows(desk, first.incident_id)
    assert second.rep_call_sid == first.rep_call_sid and second.customer_call_sid == ""
    return second


def _rep_hangs_up(desk, first: Callback, page_call: bool) -> None:
    """Alice's leg ends (completed): the status callback of the hotline's call to her, which names ``first``, or
    of the voice page she pressed 2 on."""
    leg = {"CallSid": first.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
           "CallStatus": "completed", "CallDuration": "25"}
    if not page_call:
        _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep-status?callback={first.id}", leg)
        return
    with desk.hotline.db.session() as s:
        page = s.scalars(select(Page).where(Page.twilio_sid == first.rep_call_sid)).one()
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/status?page={page.id}", leg)


@pytest.mark.parametrize(("callback_of", "page_call"), [(_callback_by_sms, False),
                                                        (_callback_from_the_voice_page, True)],
                         ids=["hotline_calls_the_rep", "rep_pressed_2_on_the_page"])
def test_the_reps_hang_up_soon_after_the_key_withdraws_a_retry_on_the_same_call(desk, network, callback_of,
                                                                                 page_call):
    """Probe H F3's sequence: whisper at T+2:40, the key at T+2:41, the rep hangs up at T+2:44; no ``<Dial action>``
    and no customer leg status for the retry. The retry is withdrawn (3 s of conversation), Alice is texted once,
    the incident is not met on its row, the breach step or the report's recomputation from the log."""
    first = callback_of(desk, network)
    second = _busy_then_retry(desk, first)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=40))
    assert "<Gather" in _whisper(desk, second)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=41))
    _press_key(desk, second)
    assert [c.outcome for c in _rows(desk, first.incident_id)] == ["attempted", "met"]

    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=44))
    _rep_hangs_up(desk, first, page_call)
    _work(desk)

    assert [c.outcome for c in _rows(desk, first.incident_id)] == ["attempted", "attempted"]
    assert desk.incident(first.incident_id).callback_answered_at is None
    assert {line["callback_id"] for line in _lines(desk, first.incident_id, "callback_rep_leg_status")} \
        == {first.id, second.id}  # the retry's rep leg is over too: a late <Dial action> tells her nothing again
    [withdrawn] = _lines(desk, first.incident_id, "callback_withdrawn")
    assert (withdrawn["callback_id"], withdrawn["seen_by"], withdrawn["seconds_after_key"], withdrawn["rep_hung_up"]) \
        == (second.id, "rep_leg", 3.0, True)
    [sms] = _told_by_sms(desk, first.incident_id)
    [body] = [m.body for m in desk.network.twilio.messages if m.sid == sms.twilio_sid]
    assert sms.to_number == ALICE and TOO_SHORT in body
    assert _facts(desk, first.incident_id).outcome != Outcome.MET

    # the lost requests turn up late: nothing changes, nobody is told twice
    _dial_done(desk, second, "completed", seconds="4")
    _leg_status(desk, second, "completed", 164, CallDuration="4")
    _work(desk)
    assert [c.outcome for c in _rows(desk, first.incident_id)] == ["attempted", "attempted"]
    assert len(_lines(desk, first.incident_id, "callback_withdrawn")) == 1
    assert len(_told_by_sms(desk, first.incident_id)) == 1

    _at(desk, 15)
    assert _step_outcome(desk, first.incident_id, "breach") == "breached"
    with desk.hotline.db.session() as s:
        alerted = set(s.scalars(select(Page.to_number).where(Page.incident_id == first.incident_id,
                                                             Page.purpose == "breach")))
    assert MARIA in alerted


def test_a_retry_that_talked_on_after_the_rep_leg_of_the_first_is_still_met(desk, network):
    """The same sequence, but Alice hangs up 40 s after the key: the retry's conversation counts, and the first
    callback (busy) is not turned into anything else by the rep leg's end."""
    first = _callback_by_sms(desk, network)
    second = _busy_then_retry(desk, first)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=40))
    _whisper(desk, second)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=41))
    _press_key(desk, second)
    desk.clock.set(desk.t0 + timedelta(minutes=3, seconds=21))
    _rep_hangs_up(desk, first, page_call=False)
    _work(desk)

    assert [c.outcome for c in _rows(desk, first.incident_id)] == ["attempted", "met"]
    assert _lines(desk, first.incident_id, "callback_withdrawn") == []
    assert _told_by_sms(desk, first.incident_id) == []
    assert _facts(desk, first.incident_id).outcome == Outcome.MET
    _at(desk, 15)
    assert _step_outcome(desk, first.incident_id, "breach") == "met"


def test_the_lookup_of_a_retry_never_takes_the_first_tries_leg_for_its_own(desk, network, twilio):
    """Alice pressed 1 after the busy line and hung up before the retry's ``<Dial>`` placed a call; the rep leg's
    status callback is lost. The watchdog's lookup of the pending retry finds, on Alice's call, only the first try's
    busy leg: that is the first callback's, so Twilio lists no call of the retry's and the rep leg's end says nobody
    was dialled for it (before, the busy leg was taken for the retry's: an attempt that never was)."""
    first = _callback_by_sms(desk, network)
    second = _busy_then_retry(desk, first)
    assert _rows(desk, first.incident_id)[0].customer_call_sid == _leg_sid(first)
    rep_call = next(c for c in twilio.calls if c.sid == first.rep_call_sid)
    twilio.add_call(ApiCall(sid=_leg_sid(first), to=CUSTOMER, from_=HOTLINE_NUMBER,
                            date_created=desk.t0 + timedelta(minutes=2, seconds=10), direction="outbound-dial",
                            status="busy", parent_call_sid=first.rep_call_sid,
                            end_time=desk.t0 + timedelta(minutes=2, seconds=20)))
    twilio.update(rep_call, status="completed", end_time=desk.t0 + timedelta(minutes=2, seconds=32))

    _at(desk, 5)  # the retry's first lookup is due (placed at T+2:30)

    assert [c.outcome for c in _rows(desk, first.incident_id)] == ["attempted", "rep_not_reached"]
    assert _rows(desk, first.incident_id)[1].customer_call_sid == ""
    assert [line["callback_id"] for line in _lines(desk, first.incident_id, "callback_attempted")] == [first.id]
    assert any(line.get("callback_id") == second.id for line in _lines(desk, first.incident_id, "status_asked"))
