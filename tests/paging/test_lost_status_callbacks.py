"""Status callbacks Twilio sent that never reached the hotline: the watchdog asks Twilio for the final status.

A page SMS, a voice page or a callback's leg with a Twilio SID but no final status some minutes after it should
have had one is looked up (``GET Messages/<sid>.json``, ``Calls/<sid>.json``) and what Twilio says is applied
through the status callbacks' own code (``status_callbacks.APPLY``), once. A status that is not final is never
applied; a failed lookup is asked again later, a bounded number of times.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Callback, IncidentEvent, Page, Rep
from app.services.acks import Actor, lock_incident, resolve
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_twilio_failures import LANDLINE, _page, _policy, _signed_post

SMS_STATUS, CALL_STATUS = "/twilio/sms/status", "/twilio/page/voice/status"


def _events(desk, incident_id: int, kind: str) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id)))


def _lookups(twilio, sid: str) -> int:
    """How many times the hotline asked Twilio for the resource ``sid``."""
    return sum(1 for r in twilio.requests if r.method == "GET" and r.path.endswith(f"/{sid}.json"))


def _record(twilio, sid: str):
    return next(r for r in [*twilio.messages, *twilio.calls] if r.sid == sid)


def _closed(desk, incident) -> None:
    """Maria closes the incident (no more escalation): what Twilio is asked about a page is unchanged by it."""
    with desk.hotline.db.transaction() as s:
        maria = s.scalars(select(Rep).where(Rep.phone == MARIA)).one()
        actor = Actor(name=maria.name, via="dashboard", rep=maria, is_manager=True)
        assert resolve(s, lock_incident(s, incident.reference), actor, desk.clock.now(), reason="a test's end").ok


# ------------------------------------------------------------------ page SMS


def _sms_page_with_its_callbacks_lost(desk, network, fail: str = ""):
    """An incident paged to Alice by SMS alone (one level: nothing else calls her before the breach), whose SMS's
    status callbacks are lost; ``fail``: the status Twilio gives the SMS. Returns the incident and Alice's phone."""
    _policy(desk, "sms")
    network.lose_status_callbacks(SMS_STATUS)
    alice = network.phone(ALICE).expect_sms("SEV1", **({"fail": fail} if fail else {}))
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    return incident, alice


def test_an_undelivered_page_sms_whose_callback_was_lost_becomes_a_voice_page_within_minutes(desk, network, twilio):
    incident, alice = _sms_page_with_its_callbacks_lost(desk, network, fail="undelivered")
    sms = _page(desk, incident.id, ALICE, "sms")
    assert sms.status == "sent" and _record(twilio, sms.twilio_sid).status == "undelivered"
    desk.at(minutes=1, seconds=50)
    assert _page(desk, incident.id, ALICE, "sms").status == "sent"  # not yet asked: its callback may still come
    assert _lookups(twilio, sms.twilio_sid) == 0
    alice.expect_call(answer=False)
    desk.at(minutes=2)
    sms = _page(desk, incident.id, ALICE, "sms")
    assert sms.status == "undelivered"
    voice = _page(desk, incident.id, ALICE, "voice")
    assert voice.sent_at == desk.t0 + timedelta(minutes=2) and len(alice.calls) == 1
    [fallback] = _events(desk, incident.id, "page_sms_failed_calling")
    assert fallback.detail == {"page_id": sms.id, "voice_page_id": voice.id}
    [asked] = _events(desk, incident.id, "status_asked")
    assert asked.detail == {"page_id": sms.id, "sid": sms.twilio_sid, "ask": 1}
    assert _lookups(twilio, sms.twilio_sid) == 1
    desk.at(minutes=9)  # final: never asked again
    assert _lookups(twilio, sms.twilio_sid) == 1


def test_the_lost_callback_arriving_after_the_lookup_changes_nothing(desk, network, twilio):
    incident, alice = _sms_page_with_its_callbacks_lost(desk, network, fail="undelivered")
    alice.expect_call(answer=False)
    desk.at(minutes=2)
    for lost in network.lost:  # Twilio's callbacks turn up after all, each twice
        _signed_post(desk, lost.url, lost.params)
        _signed_post(desk, lost.url, lost.params)
    desk.settle()
    sms = _page(desk, incident.id, ALICE, "sms")
    assert sms.status == "undelivered"
    assert len(alice.calls) == 1 and len(_events(desk, incident.id, "page_sms_failed_calling")) == 1
    applied = [(e.detail["status"], e.detail["applied"]) for e in _events(desk, incident.id, "page_status")
               if e.detail["page_id"] == sms.id]
    assert applied == [("undelivered", True), ("sent", False), ("undelivered", False)]


def test_a_delivered_page_sms_whose_callbacks_were_lost_reads_delivered(desk, network, twilio):
    incident, _alice = _sms_page_with_its_callbacks_lost(desk, network)
    desk.at(minutes=2)
    assert _page(desk, incident.id, ALICE, "sms").status == "delivered"


def test_a_page_sms_twilio_still_calls_sent_is_asked_a_bounded_number_of_times_and_stays_sent(desk, network, twilio):
    # a carrier that never reports delivery: Twilio's status stays "sent", which proves no delivery
    incident, _alice = _sms_page_with_its_callbacks_lost(desk, network)
    sms = _page(desk, incident.id, ALICE, "sms")
    twilio.update(_record(twilio, sms.twilio_sid), status="sent")
    _closed(desk, incident)
    for minute in range(1, 60):
        desk.at(minutes=minute)
    asks = _lookups(twilio, sms.twilio_sid)
    assert 2 <= asks <= 5
    assert _page(desk, incident.id, ALICE, "sms").status == "sent"
    desk.at(minutes=120)
    assert _lookups(twilio, sms.twilio_sid) == asks


def test_twilio_failing_the_lookup_blocks_nothing_and_it_is_asked_again_later(desk, network, twilio):
    incident, alice = _sms_page_with_its_callbacks_lost(desk, network, fail="failed")
    sms = _page(desk, incident.id, ALICE, "sms")
    twilio.fail_next(1, status=503)  # the first lookup
    desk.at(minutes=2)
    assert _page(desk, incident.id, ALICE, "sms").status == "sent" and _lookups(twilio, sms.twilio_sid) == 1
    twilio.fail_next(1, status=429)
    desk.at(minutes=5)
    assert _page(desk, incident.id, ALICE, "sms").status == "sent" and _lookups(twilio, sms.twilio_sid) == 2
    alice.expect_sms("AT RISK").expect_call(answer=False)
    network.phone(MARIA).expect_sms("AT RISK")  # at 10 minutes, unchanged by the lookups
    desk.at(minutes=12)
    assert _page(desk, incident.id, ALICE, "sms").status == "failed" and len(alice.calls) == 1
    assert _page(desk, incident.id, ALICE, "voice").sent_at == desk.t0 + timedelta(minutes=12)


def test_a_sid_twilio_does_not_know_is_asked_a_bounded_number_of_times(desk, network, twilio):
    incident, _alice = _sms_page_with_its_callbacks_lost(desk, network)
    sms = _page(desk, incident.id, ALICE, "sms")
    with desk.hotline.db.transaction() as s:  # a SID of another account, say: Twilio answers 404
        s.get(Page, sms.id).twilio_sid = "SM" + "f" * 32
    _closed(desk, incident)
    for minute in range(1, 90, 3):
        desk.at(minutes=minute)
    asks = _lookups(twilio, "SM" + "f" * 32)
    assert 2 <= asks <= 5
    assert _page(desk, incident.id, ALICE, "sms").status == "sent"


# ------------------------------------------------------------------ voice pages


def _unanswered_voice_page_with_its_callbacks_lost(desk, network):
    """An incident paged to Alice by voice alone; she does not answer, and the call's status callbacks are lost."""
    _policy(desk, "voice")
    network.lose_status_callbacks(CALL_STATUS)
    network.phone(ALICE).expect_call(answer=False)
    incident = desk.open_incident(caller=LANDLINE)
    desk.settle()
    return incident


def test_an_unanswered_voice_page_whose_callbacks_were_lost_reads_no_answer(desk, network, twilio):
    incident = _unanswered_voice_page_with_its_callbacks_lost(desk, network)
    voice = _page(desk, incident.id, ALICE, "voice")
    assert voice.status == "sent" and _record(twilio, voice.twilio_sid).status == "no-answer"
    desk.at(minutes=1)  # within the ring time-out and its margin: not asked yet
    assert _lookups(twilio, voice.twilio_sid) == 0
    desk.at(minutes=2)
    assert _page(desk, incident.id, ALICE, "voice").status == "no-answer"


def test_a_voice_page_twilio_says_is_in_progress_is_not_claimed_final_and_is_asked_again(desk, network, twilio):
    incident = _unanswered_voice_page_with_its_callbacks_lost(desk, network)
    _closed(desk, incident)
    voice = _page(desk, incident.id, ALICE, "voice")
    call = _record(twilio, voice.twilio_sid)
    twilio.update(call, status="in-progress", answered_by="machine_start", end_time=None)  # Twilio: it goes on
    desk.at(minutes=2)
    assert _lookups(twilio, voice.twilio_sid) == 1
    assert _page(desk, incident.id, ALICE, "voice").status == "sent"  # nothing final to apply
    desk.at(minutes=3)
    assert _lookups(twilio, voice.twilio_sid) == 2 and _page(desk, incident.id, ALICE, "voice").status == "sent"
    twilio.update(call, status="completed", end_time=desk.clock.now())
    desk.at(minutes=10)
    assert _lookups(twilio, voice.twilio_sid) == 3
    assert _page(desk, incident.id, ALICE, "voice").status == "machine"  # a voicemail took it: not answered


# ------------------------------------------------------------------ callback legs


def _callback(desk, incident_id: int) -> Callback:
    with desk.hotline.db.session() as s:
        [callback] = s.scalars(select(Callback).where(Callback.incident_id == incident_id)).all()
        return callback


def test_a_rep_leg_nobody_answered_whose_callbacks_were_lost_ends_rep_not_reached(desk, network, twilio):
    from tests.paging.test_callback_rep_leg import _sms_from

    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    network.lose_status_callbacks("/twilio/bridge/rep-status")
    alice.expect_call(answer=False)  # Alice misses the hotline's call to her
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    callback = _callback(desk, incident.id)
    assert callback.outcome == "pending" and _record(twilio, callback.rep_call_sid).status == "no-answer"
    alice.expect_sms("could not reach you")
    desk.at(minutes=5)
    callback = _callback(desk, incident.id)
    assert callback.outcome == "rep_not_reached" and network.phone(CUSTOMER).calls == []
    assert "customer was NOT called" in alice.sms[-1]


def test_a_callback_the_customer_answered_whose_leg_callbacks_were_lost_is_met(desk, network, twilio):
    from tests.paging.test_callback_rep_leg import _sms_from

    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    network.lose_status_callbacks("/twilio/bridge/rep-status", "/twilio/bridge/customer-status")
    alice.expect_call()
    customer = network.phone(CUSTOMER).expect_call(press="1")  # a person: they press a key
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    callback = _callback(desk, incident.id)
    assert len(customer.calls) == 1 and callback.person_confirmed_at is not None
    # counted when the rep's <Dial> ended, at the key press (callbacks.dial_ended): the answer's time never came
    assert callback.outcome == "met" and callback.answered_at == callback.person_confirmed_at
    desk.at(minutes=5)  # the lookup of the legs' final statuses changes nothing of it
    callback = _callback(desk, incident.id)
    assert callback.outcome == "met" and callback.answered_at == callback.person_confirmed_at
    assert callback.customer_call_sid == customer.calls[0].sid
    assert desk.incident(incident.id).callback_answered_at == callback.answered_at


def test_a_long_callback_whose_key_was_pressed_but_whose_leg_reports_were_lost_counts_while_it_lasts(
        desk, network, twilio):
    """The customer pressed the key at T+3 and talks with Alice for half an hour; every status callback of both
    legs is lost, so the hotline never heard Twilio's 'answered'. Twilio's call resource says the customer's leg is
    in progress: with the key press that proves a person answered by then, so the callback is counted at the key
    press (as the leg's end would count it) while they talk, and nobody is told of a breach at T+15."""
    from hotline_sim.backoffice import work
    from tests.paging.test_callback_rep_leg import _sms_from

    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    network.lose_status_callbacks("/twilio/bridge/rep-status", "/twilio/bridge/customer-status")
    alice.expect_call()
    customer = network.phone(CUSTOMER).expect_call(press="1", talk_seconds=30 * 60)
    during: list[tuple[str, str]] = []

    def meanwhile() -> None:  # the back office while they talk (a minute at a time)
        before = {m.sid for m in twilio.messages} | {c.sid for c in twilio.calls}
        work(desk.hotline)
        during.append((str(desk.clock.now() - desk.t0), _callback(desk, incident.id).outcome))
        during.extend((str(desk.clock.now() - desk.t0), f"sent to {r.to}") for r in [*twilio.messages, *twilio.calls]
                      if r.sid not in before)

    network.meanwhile = meanwhile
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    network.meanwhile = None
    callback = _callback(desk, incident.id)
    assert len(customer.calls) == 1 and callback.person_confirmed_at is not None
    assert not any(what.startswith("sent to") for _at, what in during), during  # no AT RISK, no BREACHED
    counted = [at for at, what in during if what == "met"]
    assert counted and counted[0] <= "0:08:00", during  # at the lookup at T+5 or so, not at the call's end (T+33)
    assert callback.outcome == "met" and callback.answered_at == callback.person_confirmed_at
    assert desk.incident(incident.id).breached_at is None


def test_a_customer_leg_in_progress_with_no_key_pressed_is_never_counted(desk, network, twilio):
    """In progress proves only that something answered: a voicemail greeting too. With no key pressed, the
    lookup counts nothing while the call goes on."""
    from tests.paging.test_callback_rep_leg import _sms_from

    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    network.lose_status_callbacks("/twilio/bridge/rep-status", "/twilio/bridge/customer-status")
    alice.expect_call()
    network.phone(CUSTOMER).expect_call(press="1")
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()
    callback = _callback(desk, incident.id)
    with desk.hotline.db.transaction() as s:  # as if the key press had not happened: the call is still going on
        row = s.get(Callback, callback.id)
        row.outcome, row.person_confirmed_at, row.answered_at, row.ended_at = "pending", None, None, None
    [child] = [c for c in twilio.calls if c.parent_call_sid == callback.rep_call_sid]
    twilio.update(child, status="in-progress", end_time=None)
    twilio.update(_record(twilio, callback.rep_call_sid), status="in-progress", end_time=None)
    desk.at(minutes=5, seconds=30)
    assert _lookups(twilio, callback.rep_call_sid) + _lookups(twilio, child.sid) >= 1
    callback = _callback(desk, incident.id)
    assert (callback.outcome, callback.answered_at) == ("pending", None)
