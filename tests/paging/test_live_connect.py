"""Issue 13, live connect: the caller waits on the line (Twilio's queue) and is connected to the rep who acts.

Signed webhooks end to end: the scripted caller, the real app, the simulated Twilio REST API,
and its simulated queues (``<Enqueue>`` with a polled waitUrl, ``<Dial><Queue>``); the fake
clock moves as the caller and the reps take time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Callback, IncidentEvent, LiveWait
from app.reports.facts import IncidentFacts, Outcome
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA

# the live wait is offered only while a `hotline worker` runs (``app.watchdog_state``)
pytestmark = pytest.mark.usefixtures("worker_runs")

DE_MOBILE = "+491701234567"
HOTLINE = "+15005550006"
CONNECTING = timedelta(seconds=2.4)  # "Connecting you to your engineer now." played before the bridge


def _call(desk, caller: str = CUSTOMER) -> SimulatedCall:
    return SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=caller, queues=desk.network.queues)


def _step(desk, call, action, seconds: float = 5):
    """The caller takes ``seconds`` to answer; everything due meanwhile (pages, SMS replies) runs."""
    desk.clock.advance(seconds=seconds)
    prompt = action(call)
    desk.settle()
    return prompt


# A whole intake, answer by answer (language, e-mail down, no ticket, company, name, number, e-mail, its
# confirmation, description, recording); the read-back is then confirmed, which saves it and brings the offer.
_ANSWERS = {
    "en": (("press", "1"), ("press", "1"), ("press", "#"), ("say", "Acme Mail"), ("say", "Dana Smith"),
           ("press", "1"), ("say", "dana at acme dot example"), ("press", "1"),
           ("say", "Every API call returns 500."), ("record", 5)),
    "de": (("press", "2"), ("press", "3"), ("press", "#"), ("say", "Müller Versand GmbH"), ("say", "Jürgen Weiß"),
           ("press", "1"), ("say", "juergen at mueller minus versand punkt de"), ("press", "1"),
           ("say", "Alle API-Aufrufe schlagen fehl."), ("record", 5)),
}


def _intake(desk, call, language: str = "en"):
    """The caller's whole intake; the prompt after the read-back is confirmed (the live-connect offer)."""
    call.dial()
    for move, value in _ANSWERS[language]:
        if move == "record":
            _step(desk, call, lambda c, v=value: c.record(seconds=v))
        else:
            _step(desk, call, lambda c, m=move, v=value: getattr(c, m)(v))
    return _step(desk, call, lambda c: c.press("1"))


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _callbacks(desk) -> list[Callback]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Callback).order_by(Callback.id)))


def _waits(desk) -> list[LiveWait]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(LiveWait).order_by(LiveWait.id)))


def _events(desk, incident_id: int) -> list[IncidentEvent]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                              .order_by(IncidentEvent.id)))


def _incident_id(desk, call) -> int:
    from app.models import Incident

    with desk.hotline.db.session() as s:
        return s.scalars(select(Incident.id).where(Incident.call_sid == call.call_sid)).one()


def test_an_engineer_is_ready_the_caller_presses_1_and_is_connected_live_met(desk, network):
    """Alice acknowledges by SMS while the caller is still talking; pressing 1 connects them, from the hotline."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=240)  # the hotline calls her for the live connect
    call = _call(desk)
    offer = _intake(desk, call)
    assert offer.kind == "gather" and offer.num_digits == 1
    heard = _said(offer)
    assert "An engineer is ready: press 1 to be connected now, or hang up and we will call you back by" in heard
    assert "Goodbye" not in heard  # the offer replaces the goodbye
    incident_id = _incident_id(desk, call)

    queued = _step(desk, call, lambda c: c.press("1"))
    # the hotline called Alice at once; her leg dialled the caller out of the queue, from the hotline number
    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert queued.kind == "queue" and wait.queue_name == queued.queue and wait.engineer_ready
    assert callback.rep_id is not None and callback.note == "live connect"
    assert callback.outcome == "met" and callback.customer_call_sid == call.call_sid
    # counted when Twilio bridged them: "Connecting you to your engineer now." (6 words, 2.4 s) after the dequeue
    assert callback.answered_at == wait.dequeued_at + CONNECTING == desk.clock.now() - timedelta(seconds=240)
    assert wait.result == "bridged" and wait.callback_id == callback.id and call.ended
    rep_leg = alice.calls[-1]
    assert rep_leg.from_ == HOTLINE and "waiting on the line" in rep_leg.heard
    assert f"[connected to {CUSTOMER}]" in rep_leg.heard and "update interval" in rep_leg.heard
    assert any("Connecting you to your engineer now." in line for who, line in call.transcript if who == "hotline")
    dial = next(w for w in network.webhooks if w.url.startswith(f"{PUBLIC_BASE_URL}/twilio/live/dial-done"))
    assert dial.params["DialCallStatus"] == "completed" and dial.params["QueueSid"].startswith("QU")
    left = next(w for w in network.webhooks if "/twilio/live/left" in w.url)
    assert left.params["QueueResult"] == "bridged" and left.params["CallSid"] == call.call_sid

    kinds = [e.kind for e in _events(desk, incident_id)]
    for kind in ("live_connect_offered", "live_wait_started", "live_connecting", "live_wait_ended", "callback_met"):
        assert kind in kinds
    met = next(e for e in _events(desk, incident_id) if e.kind == "callback_met")
    assert met.detail["live"] is True
    facts = IncidentFacts.from_events(_events(desk, incident_id))  # the report decides by the same rule
    assert facts.outcome == Outcome.MET and facts.answered_at == callback.answered_at

    desk.at(minutes=15)  # met: no breach
    assert desk.incident(incident_id).breached_at is None


def _connects_while_the_caller_talks(desk, network):
    """Alice replies CALL to her page while the caller is still giving details: she owns the incident, and
    neither her phone nor the caller's (busy with the hotline) rings until the caller is done."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="CALL").expect_call(answer=False)
    alice.expect_sms("is still on the hotline giving the details")
    call = _call(desk)
    offer = _intake(desk, call)
    incident_id = _incident_id(desk, call)
    assert "An engineer is ready: press 1 to be connected now" in _said(offer)
    assert _callbacks(desk) == [] and len(alice.calls) == 1  # only her page call, placed before her CALL
    assert customer.calls == []
    deferred = [e for e in _events(desk, incident_id) if e.kind == "connect_deferred"]
    assert len(deferred) == 1 and deferred[0].detail["via"] == "sms"
    assert desk.incident(incident_id).acknowledged_at is not None
    return call, alice, customer, incident_id


def test_a_rep_who_asks_to_connect_while_the_caller_talks_gets_them_live_when_they_press_1(desk, network):
    call, alice, customer, incident_id = _connects_while_the_caller_talks(desk, network)
    alice.expect_call(talk_seconds=120)
    _step(desk, call, lambda c: c.press("1"))
    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.customer_call_sid == call.call_sid and call.ended
    assert f"[connected to {CUSTOMER}]" in alice.calls[-1].heard and customer.calls == []
    desk.at(minutes=15)
    assert len(_callbacks(desk)) == 1 and desk.incident(incident_id).breached_at is None  # nothing more


def test_a_rep_who_asks_to_connect_while_the_caller_talks_is_called_when_the_caller_hangs_up(desk, network):
    call, alice, customer, incident_id = _connects_while_the_caller_talks(desk, network)
    alice.expect_call()
    customer.expect_call(press="1", answered=True)
    desk.clock.advance(seconds=5)
    call.hang_up()  # "or hang up and we will call you back": the line is free now
    desk.settle()
    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.customer_call_sid != call.call_sid
    assert "Press any key to speak with our support team" in customer.calls[0].heard
    kinds = [e.kind for e in _events(desk, incident_id)]
    assert kinds.index("connect_deferred") < kinds.index("callback_requested") < kinds.index("callback_met")
    call.hang_up()  # Twilio repeats the status callback: no second callback
    desk.at(minutes=5)  # nor from the backstop step
    assert len(_callbacks(desk)) == 1
    assert _step_outcomes(desk, incident_id) == ["callback_opened_since"]


def test_a_deferred_connect_is_carried_out_after_the_intake_when_the_end_of_the_call_is_never_heard_of(desk, network):
    call, alice, customer, incident_id = _connects_while_the_caller_talks(desk, network)
    alice.expect_call()
    customer.expect_call(press="1", answered=True)
    last_step = desk.clock.now()
    for seconds in range(60, 300, 30):  # the caller is silent at the offer, and no status callback comes
        desk.clock.set(last_step + timedelta(seconds=seconds))
        desk.settle()
    [callback] = _callbacks(desk)
    # the intake was over: the first check connects (the call's end is not waited for)
    assert callback.outcome == "met" and callback.requested_at == last_step + timedelta(minutes=1)
    assert _step_outcomes(desk, incident_id) == ["connecting"]


def test_a_rep_who_presses_2_on_the_page_call_while_the_caller_talks_is_told_and_connected_live(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press="2")
    call = _call(desk)
    offer = _intake(desk, call)
    page_call = alice.calls[0]
    assert "is still on the hotline giving the details" in page_call.heard and "[connected to" not in page_call.heard
    assert _callbacks(desk) == [] and "An engineer is ready" in _said(offer)
    alice.expect_call(talk_seconds=60)
    _step(desk, call, lambda c: c.press("1"))
    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.customer_call_sid == call.call_sid
    assert f"[connected to {CUSTOMER}]" in alice.calls[-1].heard


def test_a_check_that_finds_the_caller_still_in_the_intake_checks_again(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="CALL").expect_call(answer=False)
    alice.expect_sms("is still on the hotline giving the details")
    call = _call(desk)
    call.dial()
    answers = list(_ANSWERS["en"])
    for move, value in answers[:6]:  # up to the confirmed callback number: the incident opens, Alice replies CALL
        _step(desk, call, lambda c, m=move, v=value: getattr(c, m)(v))
    incident_id = _incident_id(desk, call)
    _step(desk, call, lambda c: c.say("dana at acme dot example"), seconds=65)  # a slow caller: the check comes first
    assert _step_outcomes(desk, incident_id) == ["caller_on_hotline", ""]  # the next check is pending
    assert _callbacks(desk) == []
    for move, value in answers[7:]:
        _step(desk, call, lambda c, m=move, v=value: c.record(seconds=v) if m == "record" else getattr(c, m)(v))
    _step(desk, call, lambda c: c.press("1"))  # the read-back is confirmed: the offer
    alice.expect_call()
    customer.expect_call(press="1", answered=True)
    call.hang_up()
    desk.settle()
    [callback] = _callbacks(desk)
    assert callback.outcome == "met"
    desk.at(minutes=10)
    assert _step_outcomes(desk, incident_id) == ["caller_on_hotline", "callback_opened_since"]


def test_a_deferred_connect_is_dropped_when_another_rep_took_the_incident_over_meanwhile(desk, network):
    from app.models import Incident, Rep
    from app.services.acks import Actor, acknowledge

    call, alice, customer, incident_id = _connects_while_the_caller_talks(desk, network)
    network.phone(ALICE).expect_sms("took this incident over")
    with desk.hotline.db.transaction() as s:
        bob = s.scalars(select(Rep).where(Rep.phone == BOB)).one()
        taken = acknowledge(s, s.get(Incident, incident_id), Actor(bob.name, "dashboard", bob), desk.clock.now(),
                            take_over=True)
        assert taken.outcome == "taken_over"
    call.hang_up()
    desk.settle()
    assert _callbacks(desk) == [] and len(alice.calls) == 1  # Bob owns it: he calls when he chooses
    assert desk.incident(incident_id).acknowledged_by == bob.id
    assert "callback_requested" not in [e.kind for e in _events(desk, incident_id)]


def _step_outcomes(desk, incident_id: int) -> list[str]:
    from app.models import DueStep

    with desk.hotline.db.session() as s:
        return list(s.scalars(select(DueStep.outcome).where(
            DueStep.incident_id == incident_id, DueStep.kind == "connect_after_call").order_by(DueStep.level)))


def test_nobody_yet_the_caller_waits_hears_still_in_line_and_bob_pressing_1_takes_them(desk, network):
    """No acknowledgement at the end of the intake: hold music, "still in line" each minute, paging goes on."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    offer = _intake(desk, call)
    assert "No engineer is free yet" in _said(offer) and "press 1" in _said(offer)
    incident_id = _incident_id(desk, call)
    queued = _step(desk, call, lambda c: c.press("1"))
    assert queued.kind == "queue" and _callbacks(desk) == []
    waits = [w for w in network.webhooks if "/twilio/live/wait" in w.url]
    assert waits and waits[0].params["QueueTime"] == "0" and "QueuePosition" in waits[0].params
    desk.at(minutes=2)
    lines = [line for who, line in call.transcript if who == "hotline"]
    assert any(line.startswith("[plays ") for line in lines)
    assert any(line.startswith("You are still in line; you can hang up and we will call you back by")
               for line in lines)

    network.phone(ALICE).expect_call(answer=False)
    bob = network.phone(BOB).expect_sms("SEV1").expect_call(press="1", talk_seconds=60)
    desk.at(minutes=3, seconds=30)  # Bob is paged 3 min after the open; he presses 1 on his page call
    [callback] = _callbacks(desk)
    [wait] = _waits(desk)
    assert callback.outcome == "met" and wait.result == "bridged" and call.ended
    assert callback.answered_at - CONNECTING == wait.dequeued_at == desk.t0 + timedelta(minutes=3, seconds=30)
    assert f"[connected to {CUSTOMER}]" in bob.calls[0].heard
    assert desk.incident(incident_id).acknowledged_at is not None


def test_a_caller_who_waits_then_hangs_up_is_called_back_as_before(desk, network):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    incident_id = _incident_id(desk, call)
    _step(desk, call, lambda c: c.press("1"))
    desk.at(minutes=1, seconds=30)
    call.hang_up()
    desk.settle()
    [wait] = _waits(desk)
    assert wait.result == "hangup" and wait.dequeued_at is None and wait.callback_id is None
    assert desk.incident(incident_id).callback_answered_at is None  # waiting is not a callback

    # Alice replies CALL later: the hotline calls her and dials the customer out, as any callback
    customer.expect_call(press="1", answered=True)
    alice.expect_call()
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    assert "Calling you now" in _sms_from(desk, ALICE, "CALL")
    desk.settle()
    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.note == "" and callback.customer_call_sid != call.call_sid
    assert "Press any key to speak with our support team" in customer.calls[0].heard


def test_a_caller_who_waits_past_the_limit_is_told_the_callback_time_and_the_call_ends(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    _step(desk, call, lambda c: c.press("1"))
    for seconds in (*range(60, 390, 30), 380):  # Bob and Alice are paged again at 3:30; nobody acknowledges
        desk.at(seconds=seconds)
    assert call.ended and call.prompt.kind == "hangup"
    assert "No engineer could take your call yet. We will call you back by" in _said(call.prompt)
    [wait] = _waits(desk)
    assert wait.result == "leave" and wait.queue_seconds >= 300


def test_a_german_caller_hears_the_offer_in_german_and_is_connected(desk, network):
    network.phone(DE_MOBILE).expect_sms("Wir haben Ihre Meldung").expect_sms("")
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
    alice.expect_sms("Acknowledged").expect_call(talk_seconds=30)
    call = _call(desk, DE_MOBILE)
    offer = _intake(desk, call, "de")
    assert "Ein Techniker ist bereit: Drücken Sie die 1" in _said(offer) and "zurück" in _said(offer)
    queued = _step(desk, call, lambda c: c.press("1"))
    assert "Bitte bleiben Sie dran" in _said(queued)
    assert any("Wir verbinden Sie jetzt mit Ihrem Techniker." in line for _who, line in call.transcript)
    [callback] = _callbacks(desk)
    assert callback.outcome == "met"


def test_a_silent_offer_ends_with_the_callback_time(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    end = _step(desk, call, lambda c: c.silence())
    assert end.kind == "hangup" and _said(end).startswith("We will call you back by") and _waits(desk) == []


def test_a_repeat_caller_is_offered_the_live_connect_too(desk, network):
    """A caller who hung up while waiting calls again, proves who they are, adds information, and waits again."""
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    first = _call(desk)
    _intake(desk, first)
    incident_id = _incident_id(desk, first)
    reference = desk.incident(incident_id).reference
    _step(desk, first, lambda c: c.press("1"))
    first.hang_up()
    desk.settle()

    again = _call(desk)
    again.dial()
    assert "open incident" in _said(_step(desk, again, lambda c: c.press("1")))
    _step(desk, again, lambda c: c.press("1"))  # add information: key the reference first
    _step(desk, again, lambda c: c.press(reference))
    _step(desk, again, lambda c: c.say("Now SMTP fails as well."))
    alice.expect_sms('the customer called again and added: "Now SMTP fails as well."')  # the rep paged reads it
    offer = _step(desk, again, lambda c: c.record(seconds=5))
    assert "No engineer is free yet" in _said(offer)
    _step(desk, again, lambda c: c.press("1"))
    alice.expect_call(talk_seconds=30)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {reference}")
    desk.settle()  # Alice's SMS CALL: the hotline calls her and her leg takes the waiting repeat caller
    first_wait, second_wait = _waits(desk)
    assert first_wait.result == "hangup" and second_wait.result == "bridged"
    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.customer_call_sid == again.call_sid


def test_a_repeat_caller_past_the_deadline_is_promised_a_callback_as_soon_as_possible_not_by_the_passed_time(
        desk, network):
    """An outside probe's repeat caller was told "We're sorry we haven't called you back yet. An engineer will call
    you as soon as possible", then at the offer "hang up and we will call you back by 8:49 p.m." at 8:50."""
    incident, _customer = desk.breached_unanswered(network)
    reference = incident.reference
    desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=30))
    again = _call(desk)
    again.dial()
    assert "open incident" in _said(_step(desk, again, lambda c: c.press("1")))
    _step(desk, again, lambda c: c.press("1"))  # add information: key the reference first
    assert "haven't called you back yet" in _said(_step(desk, again, lambda c: c.press(reference)))
    _step(desk, again, lambda c: c.say("Still down, please hurry."))
    for number in (ALICE, BOB, MARIA):  # those paged read what they added
        network.phone(number).expect_sms("the customer called again and added")
    offer = _said(_step(desk, again, lambda c: c.record(seconds=5)))
    assert "we will call you back as soon as possible." in offer and "call you back by" not in offer, offer
    goodbye = _said(_step(desk, again, lambda c: c.press("2")))
    assert goodbye == "We will call you back as soon as possible. Goodbye."


def _sms_from(desk, number: str, body: str) -> str:
    """A rep's SMS reaches the hotline (signed like Twilio's); returns the hotline's answer."""
    params = {"From": number, "To": HOTLINE, "Body": body, "MessageSid": "SM" + "7" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/sms", params)
    answer = desk.client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_a_rep_leg_that_finds_the_queue_empty_dials_the_customer_out(desk, network):
    """The caller dropped off hold and Twilio's <Enqueue action> was lost: the rep's <Dial><Queue> times out."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = _call(desk)
    _intake(desk, call)
    _step(desk, call, lambda c: c.press("1"))
    network.queues.lose_caller(call)
    customer.expect_call(press="1", answered=True)
    alice.expect_call()
    desk.clock.advance(seconds=20)
    assert "Calling you now" in _sms_from(desk, ALICE, "CALL")
    desk.settle()
    [callback] = _callbacks(desk)
    assert callback.outcome == "met" and callback.customer_call_sid != call.call_sid
    assert "The customer has left the line. Dialling them now." in alice.calls[-1].heard
    [wait] = _waits(desk)
    assert wait.dequeued_at is None and wait.callback_id == callback.id
