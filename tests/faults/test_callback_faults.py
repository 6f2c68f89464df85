"""The rep's leg of a bridged callback is placed (or the rep told it failed) even when its last try dies.

``place_rep_call`` claims a try (``attempts`` + 1, ``placing_since``) before it asks Twilio. A run
that dies after the claim (a SIGKILLed worker, or the database connection lost as it records a
Twilio failure) leaves the claim behind; the watchdog (``due_callbacks``) hands a stale claim over
again, but it skipped every callback at its last try: a claim that died on the last try stayed "pending" for
good, the rep was never called nor told, and the incident counted a callback in flight. Tries are now bounded
by time (``RETRY_FOR``), and a request no run placed within it is given up with the rep told.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import Callback, IncidentEvent
from app.services.callback_calls import FIRST_TRY_GRACE, RETRY_FOR
from tests.faults.backoffice import Backoffice
from tests.paging.conftest import ALICE
from tests.paging.test_callback_rep_leg import _sms_from


def _callback(desk, incident_id) -> Callback:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Callback).where(Callback.incident_id == incident_id)).one()


def test_a_rep_call_whose_last_try_died_mid_placement_is_placed_again(desk, network, clock):
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    callback = _callback(desk, incident.id)
    # Twilio failed the first tries; the worker that claimed the last one was SIGKILLed before it reached
    # Twilio (or lost its database connection recording the failure), and its job went with it.
    died = clock.now()
    with desk.hotline.db.transaction() as s:
        s.execute(update(Callback).where(Callback.id == callback.id).values(
            attempts=12, placing_since=died, last_error="Throttled: simulated 429"))
    desk.hotline.jobs.redis.flushdb()

    alice.expect_call(answer=False).expect_sms("could not reach you")
    Backoffice(desk.hotline, network, clock).run_until(died + timedelta(minutes=1))

    callback = _callback(desk, incident.id)
    assert callback.rep_call_sid and callback.outcome == "rep_not_reached"  # called, and the rep was told
    assert callback.placed_at - died <= timedelta(seconds=45)
    with desk.hotline.db.session() as s:
        placed = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "callback_rep_call_placed"))]
    # the dead run's try may have reached Twilio: looked up, and Twilio shows no call to Alice since the request
    assert placed == [{"callback_id": callback.id, "sid": callback.rep_call_sid, "possible_duplicate": False}]
    assert alice.unmet == []


class _Killed(BaseException):
    """The worker is SIGKILLed: nothing after this point of the run happens."""


class _DiesAfterTwilioAccepts:
    """The telephony of a run SIGKILLed between Twilio accepting its call and the commit that records it."""

    def __init__(self, telephony) -> None:
        self.telephony = telephony

    def place_call(self, **kwargs):
        self.telephony.place_call(**kwargs)
        raise _Killed()


def _twilio_post(desk, path: str, params: dict[str, str]):
    """A request from Twilio to the hotline, signed as Twilio signs it."""
    from twilio.request_validator import RequestValidator

    from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    response = desk.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_a_rep_call_twilio_took_from_a_run_killed_before_recording_it_is_not_placed_a_second_time(
        desk, network, clock, twilio):
    """The dead run's call is ringing the rep (its status callbacks name the callback): that call is the
    callback's. Before, nothing adopted it: 30 s after the request the watchdog handed the "unplaced" callback
    over and the hotline called the rep a second time while the first call was ringing or bridging them, and
    the log never said the first call had been placed."""
    from app.services.callback_calls import place_rep_call

    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    callback = _callback(desk, incident.id)
    hotline = desk.hotline
    try:
        place_rep_call(hotline.db, _DiesAfterTwilioAccepts(hotline.telephony), hotline.settings, callback.id,
                       clock.now())
    except _Killed:
        pass
    hotline.jobs.redis.flushdb()  # the job died with its worker
    [call] = [c for c in twilio.calls if c.to == ALICE and "bridge/rep" in c.url]
    base = {"CallSid": call.sid, "AccountSid": twilio.account_sid, "From": call.from_, "To": ALICE,
            "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
    path = f"/twilio/bridge/rep-status?callback={callback.id}"
    for status in ("initiated", "ringing"):  # Twilio reports the call at once; Alice's phone rings
        _twilio_post(desk, path, {**base, "CallStatus": status, "CallbackSource": "call-progress-events"})

    # the rep's phone rings on (a call rings up to 30 s, then the whisper and the customer's leg): the
    # watchdog's passes meanwhile must not call her again
    for seconds in (11, 31, 45, 60):
        clock.set(callback.requested_at + timedelta(seconds=seconds))
        _sweep(desk)
    rep_calls = [c for c in twilio.calls if c.to == ALICE and "bridge/rep" in c.url]
    assert [c.sid for c in rep_calls] == [call.sid]  # one call to Alice for this callback, not two
    callback = _callback(desk, incident.id)
    assert callback.rep_call_sid == call.sid and callback.placing_since is None
    with hotline.db.session() as s:
        placed = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "callback_rep_call_placed"))]
    assert [d["sid"] for d in placed] == [call.sid]  # the log says the call Twilio took was placed

    alice.expect_call(answer=False).expect_sms("could not reach you")  # the first call now plays out
    desk.settle()
    assert _callback(desk, incident.id).outcome == "rep_not_reached"


def _sweep(desk) -> None:
    """A watchdog pass and an RQ burst at the current instant, without the phone network."""
    from workers import watchdog
    from workers.consuming import StoppableWorker

    watchdog.sweep(desk.hotline)
    StoppableWorker(desk.hotline.jobs.queues, connection=desk.hotline.jobs.redis).work(
        burst=True, logging_level="WARNING")


def _placed(desk) -> list[dict]:
    with desk.hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "callback_rep_call_placed").order_by(IncidentEvent.id))]


def _rep_call_requests(twilio) -> list[tuple[str, str]]:
    """(method, resource) of each request Twilio received from the CALL on, faulted ones included."""
    return [(r.method, r.path.rsplit("/", 1)[-1]) for r in twilio.requests
            if r.path.endswith("Calls.json") and (r.method == "GET" or (r.params.get("To") or [""])[0] == ALICE)]


def test_a_rep_call_placed_after_twilio_refused_it_for_now_is_no_possible_duplicate(desk, network, clock, twilio):
    """A 429 creates nothing: the next try is the first call to the rep, not "possibly a second one"."""
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    before = len(_rep_call_requests(twilio))
    twilio.fail_next(1, status=429)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    assert _callback(desk, incident.id).last_error.startswith("Throttled")
    alice.expect_call(answer=False).expect_sms("could not reach you")
    desk.at(minutes=3, seconds=31)  # the retry (RQ's at +2 s, or the watchdog's after UNPLACED_GRACE)
    callback = _callback(desk, incident.id)
    assert callback.attempts == 2 and callback.rep_call_sid
    assert _rep_call_requests(twilio)[before:] == [("POST", "Calls.json"), ("POST", "Calls.json")]  # no lookup
    assert _placed(desk) == [{"callback_id": callback.id, "sid": callback.rep_call_sid, "possible_duplicate": False}]


def test_a_rep_call_placed_after_a_500_that_created_nothing_is_no_possible_duplicate(desk, network, clock, twilio):
    """A 5xx may have created the call: Twilio's calls are looked up first, and none to the rep since the callback
    was requested proves the earlier try made none (a call found is still never adopted: it may be a page)."""
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    before = len(_rep_call_requests(twilio))
    twilio.fail_next(1, status=500)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    assert _callback(desk, incident.id).last_error.startswith("OutcomeUnknown")
    alice.expect_call(answer=False).expect_sms("could not reach you")
    desk.at(minutes=3, seconds=31)
    callback = _callback(desk, incident.id)
    assert callback.attempts == 2
    assert _rep_call_requests(twilio)[before:] == [("POST", "Calls.json"), ("GET", "Calls.json"),
                                                   ("POST", "Calls.json")]
    assert _placed(desk) == [{"callback_id": callback.id, "sid": callback.rep_call_sid, "possible_duplicate": False}]


def test_a_rep_call_still_unknown_after_a_429_between_is_placed_as_a_possible_duplicate(desk, network, clock, twilio):
    """A 500 (unknown), then a 429 on the retry's lookup (still unknown, not cleared), then a lookup that finds a call
    to the rep (here the voice page she had at T0): the call goes again, flagged, as pages do."""
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    before = len(_rep_call_requests(twilio))
    twilio.fail_next(1, status=500)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    callback = _callback(desk, incident.id)
    with desk.hotline.db.transaction() as s:  # requested before her T0 page call: the lookup finds that call
        s.execute(update(Callback).where(Callback.id == callback.id).values(
            requested_at=callback.requested_at - timedelta(minutes=3)))
    twilio.fail_next(1, status=429)  # the retry's lookup is refused for now
    alice.expect_call(answer=False).expect_sms("could not reach you")
    desk.at(minutes=3, seconds=31)
    callback = _callback(desk, incident.id)
    assert callback.attempts == 3 and callback.rep_call_sid
    assert _rep_call_requests(twilio)[before:] == [("POST", "Calls.json"), ("GET", "Calls.json"),
                                                   ("GET", "Calls.json"), ("POST", "Calls.json")]
    assert _placed(desk) == [{"callback_id": callback.id, "sid": callback.rep_call_sid, "possible_duplicate": True}]


@pytest.mark.parametrize("status", [429, 500, 0], ids=["429", "500", "timeout"])
def test_a_rep_call_twilio_fails_for_90_s_is_placed_once_twilio_answers_again(desk, network, clock, twilio, status):
    """The fault probe's case: four tries (about 10 s of Twilio failing) closed the request as "rep not reached"
    while Twilio recovered, and the rep, told "Calling you now", was never called."""
    incident, alice = desk.acknowledged_by_alice(network)
    twilio.hang_seconds = 0.6  # longer than the harness client's 0.5 s time-out
    outage_end = clock.now() + timedelta(seconds=90)
    twilio.fail_until(outage_end, status=status)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    alice.expect_call(answer=False).expect_sms("could not reach you")  # she is called; the call plays out unanswered
    Backoffice(desk.hotline, network, clock).run_until(outage_end + timedelta(seconds=60))
    twilio.release()
    callback = _callback(desk, incident.id)
    assert callback.rep_call_sid and outage_end <= callback.placed_at <= outage_end + timedelta(seconds=15)
    with desk.hotline.db.session() as s:
        failed = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "callback_rep_call_failed"))]
    assert failed and not any(d["final"] for d in failed)
    assert [c.to for c in twilio.calls if "bridge/rep" in c.url] == [ALICE]  # placed once


def test_a_rep_call_twilio_fails_for_longer_than_the_retry_window_is_given_up_and_the_rep_told(
        desk, network, clock, twilio):
    incident, alice = desk.acknowledged_by_alice(network)
    requested = clock.now()
    twilio.fail_until(requested + RETRY_FOR + timedelta(seconds=10), status=503)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    alice.expect_sms("could not reach you")  # once Twilio takes SMS again
    Backoffice(desk.hotline, network, clock).run_until(requested + RETRY_FOR + timedelta(seconds=90))
    callback = _callback(desk, incident.id)
    assert callback.outcome == "rep_not_reached" and not callback.rep_call_sid
    assert requested + RETRY_FOR - timedelta(seconds=10) <= callback.ended_at <= requested + RETRY_FOR
    with desk.hotline.db.session() as s:
        final = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "callback_rep_call_failed")) if e.detail["final"]]
    assert len(final) == 1
    assert [c for c in twilio.calls if "bridge/rep" in c.url] == []
    assert alice.unmet == []


def test_a_request_no_run_placed_within_the_window_is_given_up_by_the_watchdog(desk, network, clock):
    incident, alice = desk.acknowledged_by_alice(network)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    requested = _callback(desk, incident.id).requested_at
    desk.hotline.jobs.redis.flushdb()  # its job is lost, and no worker ran for longer than the window
    clock.set(requested + RETRY_FOR + timedelta(seconds=1))
    alice.expect_sms("could not reach you")
    Backoffice(desk.hotline, network, clock).run_until(requested + RETRY_FOR + timedelta(seconds=30))
    callback = _callback(desk, incident.id)
    assert callback.outcome == "rep_not_reached" and not callback.rep_call_sid


def test_a_call_request_whose_job_is_lost_rings_the_rep_within_seconds_not_half_a_minute(desk, network, clock):
    # a probe's CALL whose job Redis lost (FLUSHALL) was placed 36 s after the request (UNPLACED_GRACE)
    incident, alice = desk.acknowledged_by_alice(network)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    requested = _callback(desk, incident.id).requested_at
    desk.hotline.jobs.redis.flushdb()  # its job is lost
    alice.expect_call(answer=False).expect_sms("could not reach you")
    Backoffice(desk.hotline, network, clock).run_until(requested + timedelta(seconds=12))
    placed = _placed(desk)
    assert len(placed) == 1 and placed[0]["possible_duplicate"] is False
    with desk.hotline.db.session() as s:
        at = s.scalars(select(IncidentEvent.at).where(IncidentEvent.kind == "callback_rep_call_placed")).one()
    assert at - requested <= FIRST_TRY_GRACE + timedelta(seconds=1)  # the watchdog wakes for it, not an interval on
