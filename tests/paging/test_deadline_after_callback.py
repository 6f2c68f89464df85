"""Issue 13's moving deadline, once a callback has reached the customer.

An incident opened mid-call has a provisional deadline until the call's end (or the end of its intake) sets the
one that counts. A caller silent for three minutes is taken for gone: a rep may call them back before the
watchdog's next pass (every few seconds) settles the call, or before a late status callback reports its end.
Once the customer answered that callback, the promise was judged (met or late) on the deadline of that moment:
setting the deadline later must not move it. Signed webhooks, the RQ worker and the simulated Twilio, no clock
patching; between two watchdog passes only RQ and the phones run, as in production.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import IncidentEvent
from app.models.user import Role
from app.services.callbacks import TIMESTAMP_PRECISION
from hotline_sim.backoffice import settle
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_early_paging import _api
from tests.paging.test_provisional_breach import between_watchdog_passes, open_mid_call


def _report_row(desk) -> dict:
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    query = {"start": desk.t0.date().isoformat(), "end": (desk.t0.date() + timedelta(days=1)).isoformat(),
             "tz": "UTC", "as_of": desk.clock.now().isoformat()}
    [row] = desk.client.get("/reports/compliance.json", query_string=query).get_json()["rows"]
    return row


def called_back_before_the_call_is_settled(desk, network):
    """Opened at 0:30 (provisional deadline 15:30); the caller answers slowly until 14:40, then is silent (the
    status callback lost). At 17:40, three minutes on, Alice texts CALL: the customer answers at 17:47, late on the
    deadline of that moment. Returns the incident, the simulated call and when the customer answered."""
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    network.phone(ALICE).expect_call(ring_seconds=3)  # the bridged callback: the hotline calls Alice first
    customer = network.phone(CUSTOMER).expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, ring_seconds=4, talk_seconds=60)
    call, incident = open_mid_call(desk, then=(lambda c: c.silence(),))
    assert desk.clock.now() == desk.t0 + timedelta(minutes=14, seconds=40)  # the last word
    desk.clock.set(desk.t0 + timedelta(minutes=17, seconds=40))
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    between_watchdog_passes(desk)
    answered = desk.incident(incident.id).callback_answered_at
    assert answered == desk.t0 + timedelta(minutes=17, seconds=47) + TIMESTAMP_PRECISION  # the end of Twilio's second
    return incident, call, answered


@pytest.mark.parametrize("heard", ["late_status_callback", "watchdog_pass"])
def test_a_callback_answered_before_the_call_end_is_heard_keeps_the_deadline_it_was_judged_on(desk, network, heard):
    """The API, the board and the report judge the callback on the deadline it was answered against (15:30): late,
    breached, 17:17 after capture; neither the late hang-up (the 15 minutes would run from 17:50, so the answer
    came before the capture) nor the watchdog's settling (from the last word at 14:40: met) moves it."""
    incident, call, answered = called_back_before_the_call_is_settled(desk, network)
    provisional_due = desk.t0 + timedelta(minutes=15, seconds=30)
    assert _api(desk, incident.reference)["callback"]["outcome"] == "late"
    # no receipt SMS at the call's end: the customer has talked with the engineer (``decide._receipt``; its skip is
    # shown by tests/paging/test_link_after_the_callback.py and the core's table, tests/unit/test_escalation_core.py)
    desk.clock.set(desk.t0 + timedelta(minutes=17, seconds=50))
    if heard == "late_status_callback":
        call.hang_up()
    settle(desk.hotline, network)  # the watchdog's pass
    after = desk.incident(incident.id)
    assert (after.captured_at, after.callback_due_at) == (desk.t0 + timedelta(seconds=30), provisional_due)
    api = _api(desk, incident.reference)
    assert (api["callback"]["outcome"], api["callback"]["due_at"], api["breach"]["breached"]) == (
        "late", provisional_due.isoformat().replace("+00:00", "Z"), True)
    assert api["callback"]["caller_on_line"] is False  # the call is over (heard, or settled by the watchdog)
    # the report counts the answer once the customer has talked for the minimum after the key (at 17:50 it is a
    # callback under way: ``facts.MIN_CONVERSATION_SECONDS``, tests/paging/test_report_callback_under_way.py)
    desk.clock.set(desk.t0 + timedelta(minutes=18))
    row = _report_row(desk)
    assert (row["outcome"], row["breached"], row["seconds_to_callback"]) == (
        "late", True, (answered - after.captured_at).total_seconds())  # 17:47 + the rest of its second, from 0:30
    assert row["seconds_to_callback"] == 1038.0
    with desk.hotline.db.session() as s:
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                       IncidentEvent.kind == "deadline_set"))
    assert (line.detail["callback_due_at"], line.detail["kept"]) == (provisional_due.isoformat(), "callback_answered")
    timeline = parse(desk.client.get(f"/incidents/{incident.reference}")).text()
    assert "kept, as a callback had already reached the customer" in timeline
    network.verify()
