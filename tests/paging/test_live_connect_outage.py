"""Live connect: the ``<Queue url>`` request (``/twilio/live/connecting``) reaches the app while its database is
unreachable, and the end reports come once it is back.

An outside probe (AA2): the rep pressed the key, the database went down as Twilio fetched ``/connecting``, whose safe
answer (an empty document) let Twilio bridge at once with nothing recorded. After a 35 s conversation the rep's
``<Dial action>`` (completed, DialBridged=true) heard "The customer has left the line. Dialling them now" and the
customer was dialled again; the caller's QueueResult=bridged counted nothing; the callback ended "attempted" and the
customer was texted "we tried to call you". Either end report now proves the bridge of the wait's own caller; and the
``/connecting`` safe answer redirects to ``/bridging`` (a second chance to record it).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from app.prompts import text
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.faults.test_status_callback_outage import _web_without_database
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_live_connect import _callbacks, _events, _incident_id, _intake, _waits

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
    recorded = [e for e in events if e.kind == "live_connecting"]
    assert recorded and all(e.detail["proven_by"] in ("queue_result_bridged", "dial_bridged") for e in recorded)
    if desk.hotline.db.url.startswith("postgresql"):  # SQLite has no row locks: two reports at once both read the
        assert len(recorded) == 1  # wait as not yet dequeued, and each logs it (still one met)
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


def test_end_reports_in_the_outage_too_answer_without_a_second_dial(desk, network, app, tmp_path):
    """The database is still down when both end reports come: their safe answers dial nobody; the rep, whose
    <Dial action> proves the bridge, is not told to call the customer again (the generic error's advice)."""
    _, alice = _alice_ready(network)
    # Left out (README): with every proof of the bridge lost, the rep leg's end closes the pending callback as
    # unreached and texts the rep so; the end reports are not kept for a replay as status callbacks are
    alice.expect_sms("could not reach you for the callback")
    down = {CONNECTING, BRIDGING, "/twilio/live/left", "/twilio/live/dial-done"}
    with _web_without_database(desk.hotline, tmp_path) as dead:
        call = _caller(desk, app, dead, down)
        alive, gone = network.transport, flask_transport(dead)
        network.transport = lambda url, params, headers: (gone if urlsplit(url).path in down else alive)(
            url, params, headers)
        try:
            _connected(desk, call)
        finally:
            network.transport = alive

    [dial_done] = _requests(network, "/twilio/live/dial-done")
    assert dial_done.params["DialBridged"] == "true" and "<Dial" not in dial_done.body
    assert text("live_rep_end_unrecorded") in dial_done.body and text("bridge_error") not in dial_done.body
    [left] = _requests(network, "/twilio/live/left")
    assert "<Dial" not in left.body and "<Hangup" in left.body
    assert not network.phone(CUSTOMER).calls
