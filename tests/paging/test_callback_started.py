"""A callback never started after it was answered, whatever reached the hotline first.

Every status callback of the customer's leg lost: the hotline first hears of that leg from the rep's ``<Dial
action>`` at the call's end, which counts the callback at the key press. The incident's ``callback_started_at`` (what
the board and the API's ``callback.started_at`` show) was set to that end, a minute after the answer it must precede.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.models import Callback
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_callback_rep_leg import _api, _sms_from

TALK_SECONDS = 60


def test_a_callback_whose_customer_leg_was_never_reported_started_no_later_than_its_answer(desk, network, client):
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    network.lose_status_callbacks("/twilio/bridge/customer-status")
    alice.expect_call()
    network.phone(CUSTOMER).expect_call(press="1", talk_seconds=TALK_SECONDS)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    desk.settle()

    with desk.hotline.db.session() as s:
        callback = s.scalars(select(Callback).where(Callback.incident_id == incident.id)).one()
    assert callback.outcome == "met" and callback.answered_at == callback.person_confirmed_at
    assert (desk.clock.now() - callback.answered_at).total_seconds() >= TALK_SECONDS  # counted after the call
    after = desk.incident(incident.id)
    assert after.callback_answered_at == callback.answered_at
    assert after.callback_started_at is not None and after.callback_started_at <= after.callback_answered_at
    shown = _api(client, desk, incident.reference)["callback"]
    started, answered = (datetime.fromisoformat(shown[k].replace("Z", "+00:00")) for k in ("started_at", "answered_at"))
    assert started <= answered
