"""A callback's call to the rep placed twice dials the customer once: from the first of the two calls answered.

Twilio accepted the first placement but its answer never reached the run (a time-out; or the worker was killed
while the request hung): the next run finds a call to the rep it cannot prove is the callback's and calls again,
flagged ``possible_duplicate``. Before, both calls answered by the rep returned a ``<Dial>`` of the customer, and
what the second call reported (its end, a voicemail on it) closed or counted the callback that the other call was
bridging. The first call answered owns the callback (since session 46: the first whose key the rep pressed, probe Q4);
the other is told so and hangs up, and its reports are only logged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from app.models import Callback, IncidentEvent
from app.services.callback_calls import place_rep_call
from app.services.pages import UNANSWERED_GRACE
from tests.faults.test_callback_faults import _twilio_post
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_live_end_reports import ROW_LOCK


def _callback(desk, incident_id) -> Callback:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Callback).where(Callback.incident_id == incident_id)).one()


def _kinds(desk, incident_id) -> list[str]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)
                              .order_by(IncidentEvent.id)))


def _two_calls_to_alice(desk, network, clock, twilio):
    """Alice's CALL; the first placement times out after Twilio took it, the second is placed flagged."""
    incident, _alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    callback = _callback(desk, incident.id)
    hotline = desk.hotline
    twilio.accept_then_timeout_next(1)
    place_rep_call(hotline.db, hotline.telephony, hotline.settings, callback.id, clock.now())
    twilio.release()
    clock.set(clock.now() + UNANSWERED_GRACE)  # the retry after a time-out: once the try cannot be under way
    place_rep_call(hotline.db, hotline.telephony, hotline.settings, callback.id, clock.now())
    first, second = [c for c in twilio.calls if c.to == ALICE and f"bridge/rep?callback={callback.id}" in c.url]
    with hotline.db.session() as s:
        [placed] = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "callback_rep_call_placed"))]
    assert placed["possible_duplicate"] is True and placed["sid"] == second.sid  # as the tester saw it
    return incident, callback, first, second


def _params(twilio, call, answered_by="human") -> dict[str, str]:
    return {"CallSid": call.sid, "AccountSid": twilio.account_sid, "From": call.from_, "To": ALICE,
            "Direction": "outbound-api", "ApiVersion": "2010-04-01", "CallStatus": "in-progress",
            "AnsweredBy": answered_by}


def _pick_up(desk, twilio, callback_id, call, answered_by="human") -> ET.Element:
    """The rep's phone answered: what the hotline's call says first."""
    params = _params(twilio, call, answered_by)
    return ET.fromstring(_twilio_post(desk, f"/twilio/bridge/rep?callback={callback_id}", params).get_data(as_text=True))


def _press(desk, twilio, callback_id, call) -> ET.Element:
    """The rep pressed the key the hotline's call asked for."""
    params = _params(twilio, call) | {"Digits": "1"}
    return ET.fromstring(_twilio_post(desk, f"/twilio/bridge/rep-confirm?callback={callback_id}", params)
                         .get_data(as_text=True))


def _answer(desk, twilio, callback_id, call, answered_by="human") -> ET.Element:
    """The rep's phone answered and, asked for a key (never a <Dial> before it), the rep pressed one."""
    first = _pick_up(desk, twilio, callback_id, call, answered_by)
    if first.find("Gather") is None:
        return first
    assert list(first.iter("Dial")) == [] and first.find("Gather").get("action").startswith("/twilio/bridge/rep-confirm")
    return _press(desk, twilio, callback_id, call)


def _rep_status(desk, twilio, callback_id, call, status) -> None:
    params = {"CallSid": call.sid, "AccountSid": twilio.account_sid, "From": call.from_, "To": ALICE,
              "Direction": "outbound-api", "ApiVersion": "2010-04-01", "CallStatus": status}
    _twilio_post(desk, f"/twilio/bridge/rep-status?callback={callback_id}", params)


@pytest.mark.parametrize("recorded_answers_first", [False, True], ids=["lost-call-first", "recorded-call-first"])
def test_the_first_rep_call_answered_dials_the_customer_and_the_second_only_says_so(
        desk, network, clock, twilio, recorded_answers_first):
    incident, callback, lost, recorded = _two_calls_to_alice(desk, network, clock, twilio)
    owner, other = (recorded, lost) if recorded_answers_first else (lost, recorded)

    dialled = [n.text for n in _answer(desk, twilio, callback.id, owner).iter("Number")]
    assert dialled == [CUSTOMER]
    refused = _answer(desk, twilio, callback.id, other)
    assert list(refused.iter("Dial")) == [] and list(refused.iter("Number")) == []  # the customer is not dialled
    said = " ".join(s.text for s in refused.iter("Say"))
    assert "already in progress on another call" in said and list(refused.iter("Hangup"))

    _rep_status(desk, twilio, callback.id, other, "completed")  # the second call ends: it changes nothing
    row = _callback(desk, incident.id)
    assert (row.outcome, row.rep_call_sid, row.ended_at) == ("pending", owner.sid, None)
    kinds = _kinds(desk, incident.id)
    assert "callback_rep_not_reached" not in kinds and "updates_counted_from_call_end" not in kinds
    assert kinds.count("callback_rep_answered") == 1 and kinds.count("callback_rep_leg_refused") == 1


def test_a_voicemail_on_the_second_rep_call_does_not_close_the_callback_the_first_call_bridges(
        desk, network, clock, twilio):
    incident, callback, lost, recorded = _two_calls_to_alice(desk, network, clock, twilio)
    assert [n.text for n in _answer(desk, twilio, callback.id, lost).iter("Number")] == [CUSTOMER]

    # Alice is on the first call: the second rings into her voicemail, which answering-machine detection hears
    assert list(_answer(desk, twilio, callback.id, recorded, answered_by="machine_start").iter("Hangup"))
    _rep_status(desk, twilio, callback.id, recorded, "completed")
    row = _callback(desk, incident.id)
    assert (row.outcome, row.rep_call_sid) == ("pending", lost.sid)
    assert "callback_rep_not_reached" not in _kinds(desk, incident.id)


def test_a_voicemail_detection_missed_on_the_second_rep_call_does_not_close_the_callback_the_first_bridges(
        desk, network, clock, twilio):
    incident, callback, lost, recorded = _two_calls_to_alice(desk, network, clock, twilio)
    assert [n.text for n in _answer(desk, twilio, callback.id, lost).iter("Number")] == [CUSTOMER]

    # the second rings into her voicemail, which detection takes for a person: asked for a key, it presses none
    assert _pick_up(desk, twilio, callback.id, recorded, answered_by="unknown").find("Gather") is not None
    no_key = _twilio_post(desk, f"/twilio/bridge/rep-no-key?callback={callback.id}", _params(twilio, recorded))
    assert "customer was not called" in no_key.get_data(as_text=True)
    _rep_status(desk, twilio, callback.id, recorded, "completed")
    row = _callback(desk, incident.id)
    assert (row.outcome, row.rep_call_sid) == ("pending", lost.sid)
    assert "callback_rep_not_reached" not in _kinds(desk, incident.id)


def test_two_rep_calls_answered_at_once_dial_the_customer_once(desk, network, clock, twilio):
    """Two web processes answering the two calls at the same instant: the claim is decided in the database."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import event, update

    incident, callback, lost, recorded = _two_calls_to_alice(desk, network, clock, twilio)
    for call in (lost, recorded):  # both picked up: each asks for the key, and the two keys race
        assert _pick_up(desk, twilio, callback.id, call).find("Gather") is not None
    engine = desk.hotline.db.engine
    both_waiting, waiting, guard = threading.Event(), [], threading.Lock()

    def count(conn, _cursor, statement, *_args):  # a request about to wait for the lock the test holds
        words = statement.lstrip().upper()
        # PostgreSQL: a row lock, FOR [NO KEY] UPDATE (row_locks: the incident's, then the callback's; one request
        # waits at the callback the test holds, the other at the incident the first holds); SQLite: the one writer's
        # lock, at a first write
        waits = (ROW_LOCK.search(words) is not None if engine.dialect.name == "postgresql"
                 else words.startswith(("UPDATE", "INSERT")))
        me = threading.current_thread()
        if waits and me is not holder_thread:
            with guard:
                if me not in waiting:
                    waiting.append(me)
                if len(waiting) >= 2:
                    both_waiting.set()

    holder_thread = threading.current_thread()
    with engine.connect() as holder:
        holder.begin()
        holder.execute(update(Callback).where(Callback.id == callback.id).values(rep_call_sid=Callback.rep_call_sid))
        event.listen(engine, "before_cursor_execute", count)
        try:
            with ThreadPoolExecutor(2) as pool:
                answers = [pool.submit(_press, desk, twilio, callback.id, call) for call in (lost, recorded)]
                assert both_waiting.wait(60), "both answers reach the callback's lock"
                holder.rollback()
                dialled = [[n.text for n in a.result(60).iter("Number")] for a in answers]
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert sorted(dialled) == [[], [CUSTOMER]]  # one call dials the customer, the other is refused
    kinds = _kinds(desk, incident.id)
    assert kinds.count("callback_rep_answered") == 1 and kinds.count("callback_rep_leg_refused") == 1
