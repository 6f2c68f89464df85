"""Live connect: the ``<Queue url>`` request (``/twilio/live/connecting``) reaches the app while its database is
unreachable, and the end reports come once it is back.

An outside probe (AA2): the rep pressed the key, the database went down as Twilio fetched ``/connecting``, whose safe
answer (an empty document) let Twilio bridge at once with nothing recorded. After a 35 s conversation the rep's
``<Dial action>`` (completed, DialBridged=true) heard "The customer has left the line. Dialling them now" and the
customer was dialled again; the caller's QueueResult=bridged counted nothing; the callback ended "attempted" and the
customer was texted "we tried to call you". Either end report now proves the bridge of the wait's own caller; and the
``/connecting`` safe answer redirects to ``/bridging`` (a second chance to record it). With every request of the bridge
in the outage, the end reports are kept in the spool and applied by the same rule; a caller's QueueResult=bridged
credits only the one rep's leg that can have taken them.
"""

from __future__ import annotations

import threading
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import event, select
from twilio.request_validator import RequestValidator

from app.models import Callback, CallbackOutcome, Incident, Rep
from app.prompts import text
from app.services import live_connect, live_reports
from app.services.callbacks import open_callback
from app.services.spool import SPOOL_NAME
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.faults.test_status_callback_outage import _web_without_database
from tests.paging.conftest import ALICE, BOB, CUSTOMER
from tests.paging.test_live_connect import _callbacks, _events, _incident_id, _intake, _waits
from tests.paging.test_live_connect_queue import _two_callers_waiting

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = [pytest.mark.usefixtures("worker_runs"), pytest.mark.every_database]

CONNECTING, BRIDGING = "/twilio/live/connecting", "/twilio/live/bridging"
TALK_SECONDS = 35


def _caller(desk, app, dead_client, down: set[str]) -> SimulatedCall:
    """The caller's requests on a client of their own (two requests at once, as two web workers take them);
    those to a path in ``down`` reach a web app whose database is unreachable."""
    alive, dead = flask_transport(app.test_client()), flask_transport(dead_client)

    def post(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        return (dead if urlsplit(url).path in down else alive)(url, params, headers)

    return SimulatedCall(transport=post, base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER,
                         queues=desk.network.queues)


def _alice_ready(network, talk_seconds: int = TALK_SECONDS):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=talk_seconds)  # the hotline calls her: live connect
    return customer, alice


def _replay(desk, url: str, params: dict[str, str]):
    url = urljoin(PUBLIC_BASE_URL + "/", url)  # a queued caller's requests are logged with the app's own URL
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    return desk.client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers={"X-Twilio-Signature": signature})


def _requests(network, path: str):
    return [w for w in network.webhooks if urlsplit(w.url).path == path]


def _connected(desk, call) -> int:
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    desk.clock.advance(seconds=5)
    assert call.press("1").kind == "queue"
    desk.settle()
    return incident_id


@pytest.mark.parametrize("reported", ["first", "last", "together"])  # the caller's <Enqueue action> vs the rep's
def test_a_bridge_the_outage_kept_from_the_record_counts_once_from_its_end_reports(desk, network, app, tmp_path,
                                                                                  reported):
    """/connecting and its redirect both fail: Twilio bridges unrecorded; either end report proves it, in any
    order: met once, at the first report's moment; the rep hears the update-interval offer, never "the customer
    has left the line"; the customer is not dialled again and not texted "we tried to call you"."""
    _, alice = _alice_ready(network)  # the customer's phone: strict, a call or another SMS to it fails the test
    with _web_without_database(desk.hotline, tmp_path) as dead:
        call = _caller(desk, app, dead, {CONNECTING, BRIDGING})
        call.bridge_end_reported = reported
        incident_id = _connected(desk, call)

    [connecting] = _requests(network, CONNECTING)
    assert connecting.status == 200 and "<Redirect" in connecting.body  # the safe answer: a second chance
    [bridging] = _requests(network, BRIDGING)
    assert bridging.status == 200 and "<Redirect" not in bridging.body  # failed too: Twilio bridges now
    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert callback.outcome == "met" and wait.result == "bridged" and wait.callback_id == callback.id
    # counted from the first end report (the bridge is proven to have happened by then, no earlier moment is)
    assert callback.answered_at == wait.dequeued_at and wait.dequeued_at <= wait.left_at
    assert callback.customer_call_sid == call.call_sid
    events = _events(desk, incident_id)
    kinds = [e.kind for e in events]
    assert kinds.count("callback_met") == 1 and "callback_withdrawn" not in kinds and "callback_late" not in kinds
    # one line, on SQLite too (its write lock, taken before the wait is read, stands for the row locks it ignores)
    [recorded] = [e for e in events if e.kind == "live_connecting"]
    assert recorded.detail["proven_by"] in ("queue_result_bridged", "dial_bridged")
    rep_leg = alice.calls[-1]
    assert f"[connected to {CUSTOMER}]" in rep_leg.heard and "update interval" in rep_leg.heard
    assert text("live_rep_caller_gone") not in rep_leg.heard and "Dialling" not in rep_leg.heard
    [dial_done] = _requests(network, "/twilio/live/dial-done")
    assert "<Number" not in dial_done.body
    assert not network.phone(CUSTOMER).calls  # never dialled out to the customer
    [left] = _requests(network, "/twilio/live/left")
    assert text("live_ended", "en-US") in left.body
    assert desk.incident(incident_id).callback_answered_at == callback.answered_at
    for report in (left, dial_done):  # Twilio sends one again (a retry): the answer it had, nothing counted again
        replayed = _replay(desk, report.url, report.params)
        assert replayed.status_code == 200 and replayed.get_data(as_text=True) == report.body
    kinds = [e.kind for e in _events(desk, incident_id)]
    assert kinds.count("callback_met") == 1 and "callback_withdrawn" not in kinds
    assert [c.outcome for c in _callbacks(desk)] == ["met"]

    desk.at(minutes=20)  # nothing chases a met callback: no breach, no "tried to call you" (strict phones)
    assert desk.incident(incident_id).breached_at is None


def test_a_connecting_request_lost_in_the_outage_is_recorded_by_its_redirect(desk, network, app, tmp_path):
    """Only /connecting fails: its safe answer's redirect reaches the app with the database back, which records the
    dequeue and counts the bridge then, as on the ordinary path."""
    _, alice = _alice_ready(network)
    with _web_without_database(desk.hotline, tmp_path) as dead:
        call = _caller(desk, app, dead, {CONNECTING})
        incident_id = _connected(desk, call)

    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert callback.outcome == "met" and wait.result == "bridged"
    assert callback.answered_at == wait.dequeued_at < wait.left_at  # at /bridging, before the conversation
    [recorded] = [e for e in _events(desk, incident_id) if e.kind == "live_connecting"]
    assert recorded.detail["proven_by"] == "bridging" and recorded.detail["callback_id"] == callback.id
    assert [e.kind for e in _events(desk, incident_id)].count("callback_met") == 1
    assert "update interval" in alice.calls[-1].heard
    assert not network.phone(CUSTOMER).calls


def test_a_caller_who_hangs_up_during_the_lost_connecting_is_still_dialled_back(desk, network, app, tmp_path):
    """A real "customer left": QueueResult=hangup before any bridge (the rep's <Dial> completed in 0 s) proves
    nothing, so the rep's leg dials the customer back as before the outage."""
    customer, alice = _alice_ready(network, talk_seconds=60)
    customer.expect_call(answer=False).expect_sms("tried to call you")
    with _web_without_database(desk.hotline, tmp_path) as dead:
        call = _caller(desk, app, dead, {CONNECTING, BRIDGING})
        call.hang_up_while_connecting = "first"
        incident_id = _connected(desk, call)

    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert wait.result == "hangup" and wait.dequeued_at is None
    assert callback.outcome != "met" and callback.answered_at is None
    kinds = [e.kind for e in _events(desk, incident_id)]
    assert "callback_met" not in kinds and "live_connecting" not in kinds
    assert "Dialling them" in alice.calls[-1].heard


def _every_request_lost(desk, network, app, tmp_path, down: set[str], reported: str = "first") -> tuple[object, int]:
    """The caller's and the rep's requests to a path in ``down`` reach a web app whose database is unreachable (the
    rest, and the back office, reach the database); returns the caller and the incident."""
    with _web_without_database(desk.hotline, tmp_path) as dead:
        call = _caller(desk, app, dead, down)
        call.bridge_end_reported = reported
        alive, gone = network.transport, flask_transport(dead)
        network.transport = lambda url, params, headers: (gone if urlsplit(url).path in down else alive)(
            url, params, headers)
        try:
            return call, _connected(desk, call)
        finally:
            network.transport = alive


LIVE_REQUESTS = {CONNECTING, BRIDGING, "/twilio/live/left", "/twilio/live/dial-done"}


@pytest.mark.parametrize(("reported", "rep_status_lost"), [("first", False), ("last", False), ("first", True)])
def test_a_bridge_whose_every_request_met_the_outage_counts_from_its_kept_end_reports(desk, network, app, tmp_path,
                                                                                     reported, rep_status_lost):
    """/connecting, /bridging and both end reports all meet the outage: the end reports are kept in the spool and
    applied by the same rule (``bridge_proven``) before the rep leg's end closes anything (applied live, or replayed
    after them): met once, at the first report's moment; the rep, told "reply CALLED", is not texted "could not reach
    you" (strict phones), the customer not dialled or texted "we tried to call you"."""
    _, alice = _alice_ready(network)
    down = LIVE_REQUESTS | ({"/twilio/bridge/rep-status"} if rep_status_lost else set())
    call, incident_id = _every_request_lost(desk, network, app, tmp_path, down, reported)

    [dial_done] = _requests(network, "/twilio/live/dial-done")
    assert dial_done.params["DialBridged"] == "true" and "<Dial" not in dial_done.body
    assert text("live_rep_end_unrecorded") in dial_done.body and text("bridge_error") not in dial_done.body
    assert text("live_rep_end_unrecorded") in alice.calls[-1].heard
    [left] = _requests(network, "/twilio/live/left")
    assert "<Dial" not in left.body and "<Hangup" in left.body
    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert callback.outcome == "met" and callback.customer_call_sid == call.call_sid
    assert wait.result == "bridged" and wait.callback_id == callback.id
    events = _events(desk, incident_id)
    [ended] = [e for e in events if e.kind == "live_wait_ended"]
    [recorded] = [e for e in events if e.kind == "live_connecting"]  # one line, on SQLite too
    # counted at the first report's own moment (the signed request proves it), not when the spool was replayed
    first = "queue_result_bridged" if reported == "first" else "dial_bridged"
    assert recorded.detail["proven_by"] == first and callback.answered_at == wait.dequeued_at == recorded.at
    assert wait.dequeued_at <= ended.at == wait.left_at
    kinds = [e.kind for e in events]
    assert kinds.count("callback_met") == 1 and "callback_withdrawn" not in kinds
    assert not network.phone(CUSTOMER).calls
    assert not (desk.hotline.settings.data_dir / SPOOL_NAME).exists()  # every kept report applied

    desk.at(minutes=20)  # nothing chases a met callback: no breach, no "could not reach you" (strict phones)
    assert desk.incident(incident_id).breached_at is None
    assert [c.outcome for c in _callbacks(desk)] == ["met"]


def _two_legs_on_their_way(desk, network) -> tuple[object, object, list[int], int]:
    """Two callers wait in one incident's queue and two reps' legs were sent to it (Alice's claims the first, Bob's
    the second: ``claim_for``), their ``<Queue url>`` requests lost: Twilio may bridge either leg to either caller.
    Returns the callers, the two callbacks' ids and the incident."""
    first, second, _, incident_id, _ = _two_callers_waiting(desk, network)
    taken = network.phone(CUSTOMER)._sms.pop()  # the legs are opened here, with no acknowledgement to tell them of
    assert taken.contains == "has taken your incident"
    with desk.hotline.db.transaction() as session:
        incident, now = session.get(Incident, incident_id), desk.clock.now()
        legs = []
        for number, sid in ((ALICE, "CAleg-alice"), (BOB, "CAleg-bob")):
            rep = session.scalars(select(Rep).where(Rep.phone == number)).one()
            callback = open_callback(session, incident, rep.id, now, rep_call_sid=sid)
            assert live_connect.claim_for(session, incident, callback) is not None
            legs.append(callback.id)
    return first, second, legs, incident_id


def _dial_done(desk, callback_id: int, wait_id: int, caller: str, leg: str):
    """The rep's <Dial action>: bridged to ``caller`` for 35 s, the rep still on the line."""
    return _replay(desk, f"/twilio/live/dial-done?callback={callback_id}&wait={wait_id}", {
        "CallSid": leg, "CallStatus": "in-progress", "DialCallStatus": "completed", "DialCallSid": caller,
        "DialBridged": "true", "DialCallDuration": str(TALK_SECONDS)})


def test_a_caller_bridged_while_two_legs_were_on_their_way_is_credited_to_the_leg_that_names_them(desk, network):
    """QueueResult=bridged says the caller was bridged, not to whom: with two reps' legs on their way to the queue
    (Twilio's order, not ours: Bob's leg took the first caller, Alice's the second) it credits no callback; each
    rep's <Dial action> names its caller (DialCallSid) and credits its own callback with that caller. Until now the
    caller's report credited the leg that had claimed them: Alice's callback counted the first caller, and Bob's
    <Dial action>, naming that caller, was turned away."""
    first, second, (alice_cb, bob_cb), incident_id = _two_legs_on_their_way(desk, network)
    first_wait, second_wait = _waits(desk)
    assert (first_wait.callback_id, second_wait.callback_id) == (alice_cb, bob_cb)

    left = _replay(desk, f"/twilio/live/left?wait={first_wait.id}", {
        "CallSid": first.call_sid, "QueueResult": "bridged", "QueueTime": "40", "QueueSid": "QU1"})
    assert text("live_ended", "en-US") in left.get_data(as_text=True)
    assert [c.outcome for c in _callbacks(desk)] == ["pending", "pending"]  # nobody's, yet
    assert _waits(desk)[0].dequeued_at is None

    assert "update interval" in _dial_done(desk, bob_cb, second_wait.id, first.call_sid, "CAleg-bob").get_data(
        as_text=True)
    assert "update interval" in _dial_done(desk, alice_cb, first_wait.id, second.call_sid, "CAleg-alice").get_data(
        as_text=True)
    by_id = {c.id: c for c in _callbacks(desk)}
    assert by_id[bob_cb].outcome == "met" and by_id[bob_cb].customer_call_sid == first.call_sid
    assert by_id[alice_cb].outcome == "met" and by_id[alice_cb].customer_call_sid == second.call_sid
    first_wait, second_wait = _waits(desk)
    assert (first_wait.callback_id, second_wait.callback_id) == (bob_cb, alice_cb)
    recorded = [e for e in _events(desk, incident_id) if e.kind == "live_connecting"]
    assert sorted((e.call_sid, e.detail["callback_id"], e.detail["proven_by"]) for e in recorded) == sorted(
        [(first.call_sid, bob_cb, "dial_bridged"), (second.call_sid, alice_cb, "dial_bridged")])
    desk.settle()


def test_a_caller_bridged_while_one_leg_was_on_its_way_is_credited_to_it_though_it_claimed_another(desk, network):
    """One rep's leg on its way, claiming the first caller; Twilio took the second (its order, not ours): the second
    caller's QueueResult=bridged credits that leg, the only one that can have taken them, and the claim moves to
    them. Until now it credited nothing, and with the rep's <Dial action> lost too the bridge was never counted."""
    first, second, _, incident_id = _two_legs_on_their_way(desk, network)
    with desk.hotline.db.transaction() as session:  # Bob's leg never went: its callback is closed
        session.get(Callback, _callbacks(desk)[1].id).outcome = CallbackOutcome.REP_NOT_REACHED
    first_wait, second_wait = _waits(desk)

    left = _replay(desk, f"/twilio/live/left?wait={second_wait.id}", {
        "CallSid": second.call_sid, "QueueResult": "bridged", "QueueTime": "30", "QueueSid": "QU1"})
    assert text("live_ended", "en-US") in left.get_data(as_text=True)
    alice_cb = _callbacks(desk)[0]
    assert alice_cb.outcome == "met" and alice_cb.customer_call_sid == second.call_sid
    first_wait, second_wait = _waits(desk)
    assert second_wait.callback_id == alice_cb.id and second_wait.dequeued_at == alice_cb.answered_at
    assert first_wait.callback_id is None and first_wait.dequeued_at is None  # free for the next leg
    [recorded] = [e for e in _events(desk, incident_id) if e.kind == "live_connecting"]
    assert recorded.detail["proven_by"] == "queue_result_bridged" and recorded.call_sid == second.call_sid
    desk.settle()


def test_two_end_reports_at_the_same_moment_record_the_dequeue_once_on_every_database(desk, network):
    """The caller's <Enqueue action> and the rep's <Dial action> both prove the bridge at the same moment: the second
    waits for the first and finds its dequeue, one ``live_connecting`` line. SQLite ignores row locks: until now the
    second read the wait before the first committed and logged the dequeue again (its write lock is taken first now).
    The second report's transaction is let go once it has reached the database's lock (its first write or row lock)."""
    first, _, (alice_cb, bob_cb), incident_id = _two_legs_on_their_way(desk, network)
    with desk.hotline.db.transaction() as session:  # Alice's leg is the one on its way
        session.get(Callback, bob_cb).outcome = CallbackOutcome.REP_NOT_REACHED
    first_wait = _waits(desk)[0]
    engine, db, now = desk.hotline.db.engine, desk.hotline.db, desk.clock.now()
    reached, errors = threading.Event(), []

    def rep_report() -> None:
        try:
            with db.transaction() as session:
                live_reports.rep_dial_ended(session, alice_cb, first_wait.id, {
                    "CallSid": "CAleg-alice", "DialCallStatus": "completed", "DialCallSid": first.call_sid,
                    "DialBridged": "true", "DialCallDuration": str(TALK_SECONDS)}, now, "in-progress")
        except Exception as exc:  # noqa: BLE001 - a thread's error would vanish: the test fails on it instead
            errors.append(exc)
        finally:
            reached.set()

    def locking(_conn, _cursor, statement: str, *_args) -> None:
        sql = statement.lstrip().upper()
        if threading.current_thread() is second and (sql.startswith(("UPDATE", "INSERT")) or " FOR " in sql):
            reached.set()

    second = threading.Thread(target=rep_report, name="dial-done")
    event.listen(engine, "before_cursor_execute", locking)
    try:
        with db.transaction() as session:  # the caller's report, first
            live_connect.left(session, first_wait.id, "bridged", 40, now, caller_call_sid=first.call_sid)
            second.start()
            assert reached.wait(timeout=30)
        second.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", locking)
    assert not second.is_alive() and not errors
    [recorded] = [e for e in _events(desk, incident_id) if e.kind == "live_connecting"]
    assert recorded.detail["proven_by"] == "queue_result_bridged" and recorded.detail["callback_id"] == alice_cb
    assert [e.kind for e in _events(desk, incident_id)].count("callback_met") == 1
    desk.settle()
