"""The on-call rota changes while an incident escalates: whoever a later level reaches for the first time
gets a page they can act on (the SMS with the reference, the callback number and the link), not only the
"primary again by voice" call meant for someone who already has that SMS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Page
from app.oncall.records import OverrideInput, parse_rep, parse_schedule
from app.services.oncall import find_schedule, who_is_on_call
from app.services.oncall_admin import add_override, create_rep, save_schedule
from tests.paging.conftest import ALICE, BOB, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from

CAROL = "+14155550144"


def _sent(desk, incident_id):
    with desk.hotline.db.session() as s:
        pages = s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "page"))
        return sorted(((p.sent_at - desk.t0).total_seconds() / 60, p.to_number, p.channel) for p in pages if p.sent_at)


def _carol_takes_primary_at_t2(desk, how: str) -> None:
    with desk.hotline.db.transaction() as s:
        create_rep(s, parse_rep({"name": "Carol Next", "phone": CAROL}))
        if how == "override":
            add_override(s, find_schedule(s, "primary"), OverrideInput(
                "Carol Next", desk.t0 + timedelta(minutes=2), desk.t0 + timedelta(hours=8), "swap"), desk.t0)
            return
        # a daily rotation whose hand-off (19:02 in Los Angeles) falls at T+2: Alice, on call now, keeps her
        # shift until it, and Carol has the next
        save_schedule(s, parse_schedule({"name": "primary", "time_zone": "America/Los_Angeles", "layers": [
            {"rotation": "daily", "handoff_time": "19:02", "starts_on": "2026-11-02",
             "members": ["Carol Next", "Alice Primary"]}]}), desk.hotline.clock.now())
        s.flush()
        assert [r.phone for r in who_is_on_call(s, "primary", desk.t0 + timedelta(minutes=1))] == [ALICE]
        assert [r.phone for r in who_is_on_call(s, "primary", desk.t0 + timedelta(minutes=2))] == [CAROL]


@pytest.mark.parametrize("how", ["override", "rotation"])
def test_the_rep_on_call_after_a_hand_off_gets_the_sms_page_not_only_a_call(desk, network, how):
    _carol_takes_primary_at_t2(desk, how)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    # T+3: Carol, primary since T+2, was never paged: she gets the written page as well as the call (before: only
    # a call, whose voicemail told her to "reply to the text message" she never had); Alice, off call, is not rung,
    # and is told once that it was handed over (the level's step saw the hand-off first: no watchdog pass since T0)
    carol = network.phone(CAROL).expect_sms("SEV1").expect_call(machine=True)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    alice.expect_sms("handed over at the shift change")
    desk.at(minutes=3)
    assert "to Carol Next, on call now and paged" in alice.sms[-1]
    assert _sent(desk, incident.id)[2:] == [(3, BOB, "sms"), (3, BOB, "voice"), (3, CAROL, "sms"), (3, CAROL, "voice")]
    assert f"Reply ACK {incident.reference}" in carol.sms[0] and "+14155550100" in carol.sms[0]
    assert "/ack/" in carol.sms[0]
    # and she can act on it with a bare ACK, as anyone paged can
    network.phone(CUSTOMER).expect_sms("has taken your incident")
    answer = _sms_from(desk, CAROL, "ack").get_data(as_text=True)
    assert "Acknowledged" in answer
    desk.settle()


def test_a_rep_already_paged_by_sms_is_only_called_again_at_the_next_level(desk, network):
    """The default policy's "primary again by voice" stands for the rep who had the first page."""
    incident, _ = desk.unanswered_until_minute_3(network)
    assert [(to, c) for m, to, c in _sent(desk, incident.id) if int(m) == 3 and to == ALICE] == [(ALICE, "voice")]
