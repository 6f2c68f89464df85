"""The breach alert while a callback to the customer is ringing says so: "a callback is under way, not answered
yet", never "no callback yet" (managers read it as nobody trying); a callback that ended unanswered is no longer
under way."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident, Rep
from app.services.callbacks import open_callback
from tests.paging.conftest import ALICE, MARIA


def _alice_calls_the_customer(desk, incident_id: int) -> None:
    """Alice's bridged callback is placed and rings on (Twilio has not reported its end)."""
    with desk.hotline.db.transaction() as s:
        incident = s.get(Incident, incident_id)
        alice = s.scalars(select(Rep).where(Rep.phone == ALICE)).one()
        open_callback(s, incident, alice.id, desk.clock.now(), rep_call_sid="CA" + "4" * 32)


def test_the_breach_alert_says_a_callback_is_under_way(desk, network):
    incident, alice = desk.acknowledged_by_alice(network)
    maria = network.phone(MARIA)
    alice.expect_sms("AT RISK")
    maria.expect_sms("AT RISK")
    desk.at(minutes=10)
    desk.at(minutes=14)
    _alice_calls_the_customer(desk, incident.id)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=15, seconds=30)
    assert maria.unmet == []
    assert "BREACHED, a callback is under way, not answered yet." in maria.sms[-1]
    assert "no callback yet" not in maria.sms[-1]
