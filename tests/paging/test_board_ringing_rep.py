"""While only the rep's phone rings, the board and the API never say the customer is being called.

The README's rule for a started callback, which the at-risk alert follows: Twilio showed the customer's leg
dialled; the hotline's call to the rep is not enough. Before, "Call the customer now" set the incident's
``callback_started_at`` at once: the board said "Calling the customer since 02:53" and the API's
``callback.started_at`` was 02:53 while nobody answered the rep's phone, beside an at-risk SMS saying no callback
had started.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from sqlalchemy import select

from app.dashboard.display import clock as board_clock
from app.models import Callback
from app.services.api_tokens import create_token
from app.services.callback_calls import place_rep_call
from tests.faults.test_callback_faults import _twilio_post
from tests.faults.test_duplicate_rep_legs import _answer
from tests.integration.dashboard_support import login_as, post_form
from tests.paging.conftest import ALICE, CUSTOMER
from tests.paging.test_dashboard_truth import _board_state, _page_state


def _started_at(client, desk, reference) -> str | None:
    with desk.hotline.db.transaction() as s:
        token = create_token(s, f"board-{desk.clock.now().timestamp()}", desk.clock.now(), ("incidents:read",))
    answer = client.get(f"/api/v1/incidents/{reference}", headers={"Authorization": f"Bearer {token}"}).get_json()
    return answer["callback"]["started_at"]


def test_the_board_and_the_api_say_the_reps_phone_rings_until_the_customers_leg_is_dialled(
        desk, network, clock, twilio, client):
    incident, _alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    hotline = desk.hotline
    login_as(client, hotline, name="Alice Primary", rep_name="Alice Primary")
    post_form(client, f"/incidents/{incident.reference}/call")  # "Call the customer now"
    with hotline.db.session() as s:
        callback = s.scalars(select(Callback).where(Callback.incident_id == incident.id)).one()
    requested = callback.requested_at
    place_rep_call(hotline.db, hotline.telephony, hotline.settings, callback.id, clock.now())  # Alice's phone rings
    [rep_call] = [c for c in twilio.calls if c.to == ALICE and "bridge/rep" in c.url]

    clock.set(requested + timedelta(minutes=7))  # nobody answers Alice's phone for minutes
    ringing = f"Ringing Alice Primary to call the customer since {board_clock(requested)}"
    for said in (_board_state(client, incident.reference), _page_state(client, incident.reference)):
        assert ringing in said and "Calling the customer" not in said
    assert _started_at(client, desk, incident.reference) is None

    # Alice answers; the hotline dials the customer, and Twilio reports their leg 20 s later
    assert [n.text for n in _answer(desk, twilio, callback.id, rep_call).iter("Number")] == [CUSTOMER]
    assert ringing in _board_state(client, incident.reference)  # the <Dial> alone proves no leg
    dialled = requested + timedelta(minutes=7, seconds=20)
    clock.set(dialled)
    _twilio_post(desk, f"/twilio/bridge/customer-status?callback={callback.id}", {
        "CallSid": "CA" + "c" * 32, "ParentCallSid": rep_call.sid, "AccountSid": twilio.account_sid,
        "From": rep_call.from_, "To": CUSTOMER, "Direction": "outbound-dial", "ApiVersion": "2010-04-01",
        "CallStatus": "initiated", "Timestamp": format_datetime(dialled, usegmt=True),
        "CallbackSource": "call-progress-events"})

    calling = f"Calling the customer since {board_clock(dialled)} (Alice Primary)"
    for said in (_board_state(client, incident.reference), _page_state(client, incident.reference)):
        assert calling in said and "Ringing" not in said
    assert _started_at(client, desk, incident.reference) == dialled.replace(microsecond=0).isoformat().replace("+00:00", "Z")
