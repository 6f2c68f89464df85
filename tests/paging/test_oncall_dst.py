"""Who is paged is right across a daylight-saving change (Berlin falls back on 2026-10-25)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.oncall.records import parse_schedule
from app.services.oncall_admin import save_schedule
from tests.paging.conftest import ALICE, BOB, CUSTOMER

BERLIN_DAILY = {"name": "primary", "time_zone": "Europe/Berlin",
                "layers": [{"rotation": "daily", "handoff_time": "09:00", "starts_on": "2026-10-20",
                            "members": ["Alice Primary", "Bob Secondary"]}]}


@pytest.mark.parametrize("utc_time, paged", [
    # Saturday's 09:00 CEST shift (Alice) lasts 25 h: until Sunday 09:00 CET = 08:00 UTC, not 07:00 UTC
    (datetime(2026, 10, 25, 7, 30, tzinfo=UTC), ALICE),
    (datetime(2026, 10, 25, 7, 59, 59, tzinfo=UTC), ALICE),
    (datetime(2026, 10, 25, 8, 0, tzinfo=UTC), BOB),
])
def test_the_rep_on_call_at_the_dst_change_is_the_one_paged(desk, network, clock, utc_time, paged):
    with desk.hotline.db.transaction() as session:
        save_schedule(session, parse_schedule(BERLIN_DAILY), clock.now())
    clock.set(utc_time)
    desk.t0 = utc_time
    network.phone(CUSTOMER).expect_sms("we have your report")
    rep = network.phone(paged).expect_sms("SEV1").expect_call(answer=False)
    desk.open_incident()
    desk.settle()  # a page to the other rep would be unexpected and fail the test
    assert len(rep.sms) == 1 and len(rep.calls) == 1
