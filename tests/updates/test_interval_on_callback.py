"""The update interval is agreed with the customer on a callback that reached them (policy step 5): never before
one did, never while a callback that did not count stopped the schedule, and a schedule restarted by a callback met
later keeps the interval the customer was told in writing.

Alice acknowledges and replies CALL (the harness of tests/paging/test_short_bridge.py): Twilio's requests for the
bridge are played signed; SMS to the customer are read where the simulated Twilio took them.
"""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from app.models import Delivery, DueStep, FollowUp, IncidentEvent, Role
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as, post_form
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_at_risk_unproven_callback import _at, _callback_by_sms
from tests.paging.test_callback_proof import _dial_done, _leg_status, _press_key, _whisper
from tests.paging.test_short_bridge import TOO_SHORT, _rep_left_first, _rows, _talk
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, _signed_post, _work

NOT_YET = "No callback has reached the customer of {ref} yet"


def _every(desk, words: str) -> str:
    """Alice's SMS to the hotline; the text of the hotline's answer."""
    return _sms_from(desk, ALICE, words).get_data(as_text=True)


def _to_customer(desk) -> list[str]:
    """Every SMS the simulated Twilio took for the customer's number."""
    return [m.body for m in desk.network.twilio.messages if m.to == CUSTOMER]


def _schedule(desk, incident_id: int) -> list[FollowUp]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(FollowUp).where(FollowUp.incident_id == incident_id)))


def _lines(desk, incident_id: int, kind: str) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id))]


def _interval_messages(desk, incident_id: int) -> list[Delivery]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Delivery).where(Delivery.incident_id == incident_id,
                                                     Delivery.purpose == "interval").order_by(Delivery.id)))


def _met_then_too_short(desk, network, minutes: int = 30):
    """Alice's callback is answered (the key press counts it met), she texts EVERY ``minutes`` (the customer is told
    it in writing), then the bridge proves 3 s long and is withdrawn. Returns the callback and the reference."""
    callback = _callback_by_sms(desk, network)
    start = timedelta(minutes=2, seconds=30)
    desk.clock.set(desk.t0 + start)
    assert "<Gather" in _whisper(desk, callback)
    _leg_status(desk, callback, "in-progress", start.total_seconds())
    desk.clock.set(desk.t0 + start + timedelta(seconds=4))
    _press_key(desk, callback)
    reference = desk.incident(callback.incident_id).reference
    assert "Confirmation to the customer queued (SMS)" in _every(desk, f"EVERY {minutes} {reference}")
    desk.clock.set(desk.t0 + start + timedelta(seconds=7))
    _leg_status(desk, callback, "completed", start.total_seconds() + 7, CallDuration="3")
    assert TOO_SHORT in _dial_done(desk, callback, "completed", seconds="3")
    _work(desk)
    [follow_up] = _schedule(desk, callback.incident_id)
    assert follow_up.state == "withdrawn"
    return callback, reference


def test_every_before_a_callback_reached_the_customer_is_refused_and_tells_them_nothing(desk, network, client):
    """Alice acknowledged and asked to be bridged, but nobody has spoken to the customer: her EVERY 15 agrees
    nothing with them. She is told why, no schedule starts, and the customer gets no "as agreed" SMS; the
    Updates page refuses the same (one rule). Once the callback is met the same command is taken."""
    callback = _callback_by_sms(desk, network)  # the hotline is calling Alice: the customer is not dialled yet
    ref = desk.incident(callback.incident_id).reference
    reply = _every(desk, f"EVERY 15 {ref}")
    assert NOT_YET.format(ref=ref) in reply and "agreed with them on the callback" in reply
    assert "Nothing was changed" in reply and "every 15 minutes" not in reply
    login_as(client, desk.hotline, rep_name="Alice Primary")  # the owner, refused by the same rule
    assert post_form(client, f"/incidents/{ref}/updates/interval", {"minutes": "30"}).status_code == 302
    assert NOT_YET.format(ref=ref) in client.get(f"/incidents/{ref}/updates").get_data(as_text=True)
    _work(desk)
    assert _schedule(desk, callback.incident_id) == []
    assert _interval_messages(desk, callback.incident_id) == []
    assert _lines(desk, callback.incident_id, "update_interval_agreed") == []
    assert not [body for body in _to_customer(desk) if "as agreed" in body]

    _talk(desk, callback, timedelta(minutes=2, seconds=30), 60)  # a real conversation: met
    reply = _every(desk, f"EVERY 15m {ref}")  # other words: the same request again is Twilio's retry
    _work(desk)
    assert "every 15 minutes" in reply and "Confirmation to the customer queued (SMS)" in reply
    [follow_up] = _schedule(desk, callback.incident_id)
    assert follow_up.interval_minutes == 15 and follow_up.agreed_via == "sms"
    assert [body for body in _to_customer(desk) if "as agreed" in body] == [
        f"Sev-1 {ref}: as agreed, you will get an update every 15 minutes. "
        f"Next update by {_pacific(follow_up.next_due_at)}."]


def _pacific(at) -> str:
    from app.services.page_text import hhmm

    return hhmm(at, "America/Los_Angeles")


def test_every_while_a_withdrawn_callback_stopped_the_updates_is_refused(desk, network):
    """The callback that started the updates was too short to count: nothing is owed until one is met, so an
    interval cannot be agreed now either. Alice is told why; the schedule keeps what the customer was told."""
    callback, ref = _met_then_too_short(desk, network, 30)
    desk.clock.set(desk.t0 + timedelta(minutes=5))
    reply = _every(desk, f"EVERY 45 {ref}")
    assert TOO_SHORT in reply and "Nothing was changed" in reply and "every 45 minutes" not in reply
    _work(desk)
    [follow_up] = _schedule(desk, callback.incident_id)
    assert (follow_up.state, follow_up.interval_minutes, follow_up.next_due_at) == ("withdrawn", 30, None)
    assert [d["minutes"] for d in _lines(desk, callback.incident_id, "update_interval_agreed")] == [30]
    assert len(_interval_messages(desk, callback.incident_id)) == 1  # the 30 minutes told during the short call


def test_a_callback_met_after_a_withdrawn_one_keeps_the_interval_the_customer_was_told(desk, network):
    """The customer was texted "as agreed, every 30 minutes" during the call that did not count. The real callback
    that follows restarts the schedule at those 30 minutes (counted from its end), not at the default hour the
    customer never heard of; Alice hears the interval in force, and the customer is told nothing new."""
    callback, ref = _met_then_too_short(desk, network, 30)
    _at(desk, 20)
    retry = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/retry?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "Digits": "1"}).get_data(as_text=True)
    assert "<Dial" in retry
    _first, second = _rows(desk, callback.incident_id)
    twiml = _talk(desk, second, timedelta(minutes=21), 200)
    assert "/twilio/updates/interval" in twiml and "No key pressed: updates every 30 minutes" in twiml
    ended = desk.t0 + timedelta(minutes=21, seconds=204)
    [follow_up] = _schedule(desk, callback.incident_id)
    assert (follow_up.state, follow_up.interval_minutes, follow_up.agreed_via) == ("updating", 30, "sms")
    assert follow_up.next_due_at == ended + timedelta(minutes=30)  # counted from the end of the real call
    with desk.hotline.db.session() as s:
        steps = sorted((st.kind, st.status, st.due_at) for st in s.scalars(select(DueStep).where(
            DueStep.incident_id == callback.incident_id, DueStep.kind.in_(("update_reminder", "update_due")))))
    assert steps == [("update_due", "pending", ended + timedelta(minutes=30)),
                     ("update_reminder", "pending", ended + timedelta(minutes=20))]
    restarted = _lines(desk, callback.incident_id, "updates_scheduled")[-1]
    assert restarted["interval_minutes"] == 30 and restarted["via"] == "sms"
    _work(desk)
    assert len(_interval_messages(desk, callback.incident_id)) == 1  # nothing new to tell them
    assert len([body for body in _to_customer(desk) if "as agreed" in body]) == 1


def test_an_interval_agreed_on_the_callback_that_restarted_the_updates_stands_at_its_end(desk, network):
    """The real callback restarts the updates every 30 minutes (as told); on that call Alice agrees every 45 minutes
    by SMS and the customer is told its due time: the end of the call moves nothing (only an untouched start is
    counted from the end of the call), and the timeline says the updates restarted at the interval told."""
    callback, ref = _met_then_too_short(desk, network, 30)
    _at(desk, 20)
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/retry?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "Digits": "1"})
    _first, second = _rows(desk, callback.incident_id)
    start = timedelta(minutes=21)
    desk.clock.set(desk.t0 + start)
    assert "<Gather" in _whisper(desk, second)
    _leg_status(desk, second, "in-progress", start.total_seconds())
    desk.clock.set(desk.t0 + start + timedelta(seconds=4))
    _press_key(desk, second)  # met: the schedule restarts every 30 minutes
    desk.clock.set(desk.t0 + start + timedelta(seconds=60))
    reply = _every(desk, f"EVERY 45 minutes {ref}")
    assert "every 45 minutes" in reply and "Confirmation to the customer queued (SMS)" in reply
    [agreed] = _schedule(desk, callback.incident_id)
    desk.clock.set(desk.t0 + start + timedelta(seconds=200))
    _leg_status(desk, second, "completed", start.total_seconds() + 200, CallDuration="196")
    assert "No key pressed: updates every 45 minutes" in _dial_done(desk, second, "completed", seconds="196")
    [follow_up] = _schedule(desk, callback.incident_id)
    assert (follow_up.interval_minutes, follow_up.next_due_at) == (45, agreed.next_due_at)
    assert agreed.next_due_at == desk.t0 + start + timedelta(seconds=60, minutes=45)
    assert _lines(desk, callback.incident_id, "updates_counted_from_call_end") == []
    login_as(desk.client, desk.hotline)  # the incident page's timeline
    page = desk.client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert ("Customer updates owed every 30 minutes; the first by" in page
            and "(restarted after a callback that did not count, at the interval the customer was told)" in page)


UNANSWERED = ("SEV1 {ref} Acme Mail: no update interval was keyed at the end of your callback, so the default "
              "applies. Updates are due every hour; the customer was not told. Agree an interval with them and reply "
              "EVERY <minutes> {ref}: it is confirmed to them in writing.")
UNTOLD = " Updates are due every hour; the customer was not told."


def _to_alice(desk) -> list[str]:
    """Every SMS the simulated Twilio took for Alice's number."""
    return [m.body for m in desk.network.twilio.messages if m.to == ALICE]


def _rep_leg_ended(desk, callback) -> None:
    """The final status callback of the hotline's call to Alice: she hung up."""
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep-status?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "completed", "CallDuration": "300"})


def _reminded(desk, incident_id: int) -> list[str]:
    """The update reminders written for the incident's owner."""
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Delivery.body).where(Delivery.incident_id == incident_id,
                                                          Delivery.purpose == "update_reminder")))


@pytest.mark.parametrize("call_status", ["completed", ""])
def test_a_rep_who_hung_up_first_reads_that_the_default_interval_was_never_told(desk, network, call_status):
    """An outside probe's Alice hung up first at the end of a 60 s callback: Twilio asked the ``<Dial action>`` for a
    leg already over (its ``CallStatus`` final, or, without one, after her leg's own end), so nobody heard "which
    update interval did you agree?" nor that the customer was told none. She reads it by SMS, once (her leg's end
    reported after it changes nothing); the customer is told no interval nobody agreed."""
    callback = _callback_by_sms(desk, network)
    ref = desk.incident(callback.incident_id).reference
    twiml = _rep_left_first(desk, callback, timedelta(minutes=2, seconds=30), 60, call_status)
    assert "/twilio/updates/interval" in twiml  # answered, and heard by nobody
    if call_status:
        _rep_leg_ended(desk, callback)
    _work(desk)
    assert _to_alice(desk).count(UNANSWERED.format(ref=ref)) == 1
    [follow_up] = _schedule(desk, callback.incident_id)
    assert (follow_up.interval_minutes, follow_up.agreed_via) == (60, "default")
    assert _interval_messages(desk, callback.incident_id) == []
    # the reminder of update 1 says it again while no interval is agreed
    desk.clock.set(follow_up.next_due_at - timedelta(minutes=10))
    _work(desk)
    [reminder] = _reminded(desk, callback.incident_id)
    assert reminder.endswith(UNANSWERED.format(ref=ref).split("applies.")[1])


def test_a_rep_who_hangs_up_at_the_interval_question_reads_it_with_the_update_reminder(desk, network):
    """Alice stays on the line after the customer hangs up, hears the question and hangs up without a key (Twilio
    asks nothing more; only her leg's end, which may also follow a spoken warning she heard, says so): nothing is
    texted at once, but the reminder of update 1 says the customer was told no interval and how to confirm one."""
    callback = _callback_by_sms(desk, network)
    ref = desk.incident(callback.incident_id).reference
    assert "/twilio/updates/interval" in _talk(desk, callback, timedelta(minutes=2, seconds=30), 60)
    _rep_leg_ended(desk, callback)
    _work(desk)
    [follow_up] = _schedule(desk, callback.incident_id)
    desk.clock.set(follow_up.next_due_at - timedelta(minutes=10))
    _work(desk)
    [reminder] = _reminded(desk, callback.incident_id)
    assert reminder.startswith(f"SEV1 {ref} Acme Mail: customer update 1 due by ")
    assert reminder.endswith(UNANSWERED.format(ref=ref).split("applies.")[1])
    assert [body for body in _to_alice(desk) if UNTOLD in body] == [reminder]
    # the answer to her UPDATE says it too, until she confirms an interval
    answer = ElementTree.fromstring(_every(desk, f"UPDATE {ref} Still investigating the SMTP relay")).findtext("Message")
    assert answer.startswith(f"Update 1 for {ref} sent") and answer.endswith(UNANSWERED.format(ref=ref).split("applies.")[1])
    assert "every 45 minutes" in _every(desk, f"EVERY 45 {ref}")
    desk.clock.set(desk.clock.now() + timedelta(minutes=5))
    assert UNTOLD not in _every(desk, f"UPDATE {ref} The relay is back for half the hosts")


def test_a_rep_who_pressed_a_key_is_not_texted_of_the_interval(desk, network):
    """Alice presses 1 (every 30 minutes, confirmed to the customer in writing) and hangs up: nothing is left at the
    default, so her leg's end texts her nothing, and the reminder says nothing of an untold interval."""
    callback = _callback_by_sms(desk, network)
    assert "/twilio/updates/interval" in _talk(desk, callback, timedelta(minutes=2, seconds=30), 60)
    answer = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/updates/interval?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "in-progress", "Digits": "1"}).get_data(as_text=True)
    assert "every 30 minutes" in answer
    _rep_leg_ended(desk, callback)
    _work(desk)
    assert not [body for body in _to_alice(desk) if "no update interval was keyed" in body or UNTOLD in body]
    [follow_up] = _schedule(desk, callback.incident_id)
    assert (follow_up.interval_minutes, follow_up.agreed_via) == (30, "keypad")
    assert len(_interval_messages(desk, callback.incident_id)) == 1
    desk.clock.set(follow_up.next_due_at - timedelta(minutes=10))
    _work(desk)
    [reminder] = _reminded(desk, callback.incident_id)
    assert UNTOLD not in reminder and reminder.startswith(f"SEV1 {desk.incident(callback.incident_id).reference}")


def _schedule_said(client, ref: str) -> str:
    """What the Updates page's schedule card says."""
    return parse(client.get(f"/incidents/{ref}/updates")).find(id="schedule").text()


def test_the_updates_page_says_when_the_schedule_starts_as_the_refusals_do(desk, network, client):
    """An outside probe's Updates page said "No schedule yet: it starts when the callback ends, or when you set an
    interval or write an update" while the interval was refused and an update filed as extra: before a callback
    reaches the customer it now says only a callback reaching them starts it; once one does, the schedule."""
    callback = _callback_by_sms(desk, network)  # the hotline is calling Alice: the customer is not dialled yet
    ref = desk.incident(callback.incident_id).reference
    login_as(client, desk.hotline)

    said = _schedule_said(client, ref)
    assert "No schedule yet: it starts when a callback reaches the customer" in said
    assert "no interval can be set" in said and "an update sent is an extra one: none is owed" in said
    assert "when the callback ends" not in said and "when you set an interval" not in said
    post_form(client, f"/incidents/{ref}/updates/interval", {"minutes": "30"})  # refused, as the page says
    assert "No schedule yet: it starts when a callback reaches the customer" in _schedule_said(client, ref)

    _talk(desk, callback, timedelta(minutes=2, seconds=30), 60)  # a real conversation: met
    said = _schedule_said(client, ref)
    assert "Every 60 minutes" in said and "No schedule" not in said


def test_the_updates_page_says_a_withdrawn_schedule_starts_again_with_a_callback(desk, network, client):
    callback, ref = _met_then_too_short(desk, network, 30)
    login_as(client, desk.hotline)
    said = _schedule_said(client, ref)
    assert "State: withdrawn (the callback that started it was too short to count: it starts again when a " \
           "callback reaches the customer)" in said


def test_the_updates_page_of_an_incident_closed_before_the_customer_was_reached_says_no_schedule_started(
        desk, network, client):
    incident, _alice = desk.acknowledged_by_alice(network)
    login_as(client, desk.hotline, role=Role.MANAGER)
    post_form(client, f"/incidents/{incident.reference}/resolve", {"reason": "duplicate of another incident"})
    assert desk.incident(incident.id).status != "open"
    said = _schedule_said(client, incident.reference)
    assert "No schedule: the incident was closed before one started." in said and "starts when" not in said
