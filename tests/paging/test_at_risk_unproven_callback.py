"""The at-risk alert at T+10 is skipped only for a callback that provably started: the customer's phone was dialled.

A callback Twilio never reported on (its status callbacks lost, its rep never heard from) proves nothing: the
hotline's call to the rep may never have rung, or the rep who pressed 2 on the voice page may have hung up before
the customer was dialled. Skipping the alert then would let the deadline pass with no manager warned.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Callback, DueStep, Page
from tests.conftest import PUBLIC_BASE_URL
from tests.paging.conftest import ALICE, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_twilio_failures import _signed_post, _work


def _at(desk, minutes: float) -> None:
    """The back office at T0 + ``minutes``, with Twilio silent: nothing it accepted is ever reported on."""
    desk.clock.set(desk.t0 + timedelta(minutes=minutes))
    _work(desk)


def _callback_by_sms(desk, network) -> Callback:
    """Alice acknowledges at T0 and replies CALL at T+2; Twilio accepts the hotline's call to her, then is silent."""
    incident, _alice = desk.acknowledged_by_alice(network)
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    _at(desk, 2)
    return _callback(desk, incident.id)


def _callback_from_the_voice_page(desk, network) -> Callback:
    """Alice answers her voice page and presses 2; after the bridge's TwiML, Twilio reports nothing more (the phone
    network never runs: these two requests stand for all it did)."""
    incident = desk.open_incident()
    _work(desk)
    with desk.hotline.db.session() as s:
        voice = s.scalars(select(Page).where(Page.incident_id == incident.id, Page.to_number == ALICE,
                                             Page.channel == "voice")).one()
    call = {"CallSid": voice.twilio_sid, "AccountSid": "AC" + "0" * 32, "To": ALICE, "AnsweredBy": "human"}
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice?page={voice.id}", {**call, "CallStatus": "in-progress"})
    bridge = _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/page/voice/key?page={voice.id}", {**call, "Digits": "2"})
    assert "<Dial" in bridge.get_data(as_text=True)
    return _callback(desk, incident.id)


def _callback(desk, incident_id: int) -> Callback:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Callback).where(Callback.incident_id == incident_id)).one()


@pytest.mark.parametrize("callback_of", [_callback_by_sms, _callback_from_the_voice_page],
                         ids=["hotline_calls_the_rep", "rep_pressed_2_on_the_page"])
def test_a_callback_twilio_never_reported_on_does_not_silence_the_at_risk_alert(desk, network, callback_of):
    callback = callback_of(desk, network)
    assert callback.rep_call_sid and callback.outcome == "pending" and not callback.customer_call_sid
    _at(desk, 10)
    with desk.hotline.db.session() as s:
        at_risk = s.scalars(select(DueStep).where(DueStep.incident_id == callback.incident_id,
                                                  DueStep.kind == "at_risk")).one()
        alerted = {p.to_number for p in s.scalars(select(Page).where(Page.incident_id == callback.incident_id,
                                                                     Page.purpose == "at_risk"))}
    assert at_risk.outcome.startswith("alerted")
    assert {MARIA, ALICE} <= alerted  # the manager is warned, and the rep whose callback came to nothing
