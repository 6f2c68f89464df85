"""An on-call hand-off mid-incident: the at-risk step re-resolves who is on call. The rep on call since the hand-off
who never had the page gets it (contact, problem, callback number, link) with the alert; the rep gone off shift, who
never acknowledged it, is alerted no more. An outside probe's new on-call rep read only a bare at-risk text 6 minutes
after the hand-off, and the off-shift rep every alert of ten incidents."""

from __future__ import annotations

from datetime import timedelta

from app.oncall.records import OverrideInput, parse_rep
from app.services.oncall import find_schedule
from app.services.oncall_admin import add_override, create_rep
from tests.paging.conftest import BOB, MARIA

CAROL = "+14155550144"


def test_the_rep_on_call_after_a_hand_off_gets_the_page_with_the_at_risk_alert_and_the_off_shift_rep_does_not(
        desk, network):
    incident, _ = desk.unanswered_until_minute_3(network)  # Alice (primary) and Bob (secondary) paged
    with desk.hotline.db.transaction() as s:  # at T+5 Carol takes the primary shift over from Alice
        create_rep(s, parse_rep({"name": "Carol Next", "phone": CAROL}))
        add_override(s, find_schedule(s, "primary"), OverrideInput(
            "Carol Next", desk.t0 + timedelta(minutes=5), desk.t0 + timedelta(hours=8), "shift change"), desk.t0)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    carol = network.phone(CAROL).expect_sms("SEV1").expect_sms("AT RISK")
    network.phone(BOB).expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)  # Alice, off shift since T+5, gets nothing (the network fails the test on any SMS to her)
    page = next(sms for sms in carol.sms if "AT RISK" not in sms)
    assert "Call back +14155550100" in page and f"Reply ACK {incident.reference}" in page and "/ack/" in page
    alert = next(sms for sms in carol.sms if "AT RISK" in sms)
    assert "NOBODY has acknowledged it." in alert
