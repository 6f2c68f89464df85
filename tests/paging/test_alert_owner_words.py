"""The at-risk and breach SMS say who owns the incident (or that nobody acknowledged it), and for another rep's
incident "Reply CALL" says it takes it over from them: an outside probe's off-shift Dave read "Reply CALL 137181 to
call the customer now" of Bob's incident, replied CALL, took it over unwarned, and Bob read only "You need do
nothing more"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Incident
from app.services.page_text import alert_sms
from tests.paging.conftest import ALICE, BOB, MARIA
from tests.paging.test_acknowledgement import _sms_from

DUE = datetime(2026, 12, 5, 17, 29, tzinfo=UTC)


def test_an_alert_of_an_unowned_incident_says_nobody_has_acknowledged_it():
    incident = Incident(reference="375351", company="Nihon Mail", affected_service="api",
                        callback_phone="+14155550100", callback_due_at=DUE, captured_at=DUE - timedelta(minutes=15))
    for purpose in ("at_risk", "breach"):
        sms = alert_sms(incident, purpose, DUE - timedelta(minutes=5))
        assert "NOBODY has acknowledged it. Reply CALL 375351 to call the customer now." in sms


def test_an_alert_names_the_owner_and_call_takes_it_over_from_them_who_is_told_plainly(desk, network):
    incident, customer = desk.unanswered_until_minute_3(network)  # Alice and Bob paged, nobody acknowledged
    ref = incident.reference
    desk.clock.set(desk.t0 + timedelta(minutes=4))
    customer.expect_sms("has taken your incident")
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {ref}").get_data(as_text=True)
    desk.settle()
    alices = desk.incident(incident.id).acknowledged_by
    # T+10: Bob, paged at T+3, and Alice, the owner, are alerted; each reads whose it is
    bob = network.phone(BOB).expect_sms("AT RISK")
    alice = network.phone(ALICE).expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    assert "Owned by Alice Primary since 03:04 UTC. " in bob.sms[-1]
    assert f"Reply CALL {ref} to take it over from Alice Primary and call the customer." in bob.sms[-1]
    assert "Yours since 19:04 PST. " in alice.sms[-1] and f"Reply CALL {ref} to call the customer now." in alice.sms[-1]
    assert "NOBODY" not in bob.sms[-1] + alice.sms[-1]
    # Bob replies CALL: he is told he took it from Alice, and Alice is told plainly that it is no longer hers
    alice.expect_sms(f"SEV1 {ref} Acme Mail: Bob Secondary took this incident over from you at 19:11 PST and owns "
                     "it now. It is no longer yours")
    bob.expect_call(answer=False)
    desk.clock.set(desk.t0 + timedelta(minutes=11))
    answer = _sms_from(desk, BOB, f"CALL {ref}").get_data(as_text=True)
    assert f"You took incident {ref} over from Alice Primary, who is told. Calling you now on {BOB}" in answer
    bob.expect_sms("could not reach you")
    desk.settle()
    assert desk.incident(incident.id).acknowledged_by not in (None, alices)  # Bob's now
