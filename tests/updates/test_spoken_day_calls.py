"""What a repeat caller hears about times, through the webhooks with a signed simulated caller and the fake clock.

Outside probe: a rep set EVERY 24 hours; at 5:08 p.m. EST the customer called again, keyed their reference, pressed 2
at the resolution proposal and heard "Your next update will come by 5:08 p.m. EST." (due the next day). And a
customer whose intake and receipt said 5:13 p.m. EST (their callback number's clock) heard "by 1:13 a.m. MSK" when
they called again from their +7 phone and keyed the reference.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import FollowUp, Incident
from hotline_sim.clock import FakeClock
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.updates import test_update_channels
from tests.updates.backoffice import settle
from tests.updates.conftest import verified_callback

_SIDS = itertools.count(1)
hotline = test_update_channels.hotline  # the same hotline fixture: Alice on call (Bob, on no schedule, is never paged)
NY_CUSTOMER = "+12125550142"  # New York: EST in December
MOSCOW_PHONE = "+74951234567"  # the same customer's Moscow phone: MSK
ALICE = "+14155550111"


@pytest.fixture
def clock():
    """Monday 2026-12-07, 4:58 p.m. EST (21:58 UTC; already Tuesday 00:58 in Moscow)."""
    return FakeClock(datetime(2026, 12, 7, 21, 58, tzinfo=UTC))


def _call(client, caller: str) -> SimulatedCall:
    return SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=caller)


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _sms(client, from_: str, body: str) -> str:
    url = f"{PUBLIC_BASE_URL}/twilio/sms"
    params = {"MessageSid": f"SM{next(_SIDS):032d}", "From": from_,
              "To": "+15005550006", "Body": body, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    response = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _incident_of(hotline, call: SimulatedCall) -> Incident:
    with hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()


def _intake_from_moscow_with_a_new_york_callback(client) -> tuple[SimulatedCall, str]:
    """The caller ID is +7; the number to call back, +1 212 555 0142 ext. 204. Returns the call and its closing."""
    call = _call(client, MOSCOW_PHONE)
    call.dial()
    call.press("1")  # English
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("Acme Mail")
    asked = call.say("Dana Smith")
    if "enter the number" not in _said(asked):  # offered the caller ID: another number
        asked = call.press("2")
    assert "enter the number" in _said(asked)
    confirm = call.say("+1 212 555 0142 extension 204")
    assert "plus 1, 2 1 2, 5 5 5, 0 1 4 2, extension 2, 0, 4" in _said(confirm)
    call.press("1")
    call.say("dana at acme dot example")
    call.press("1")
    call.say("Every API call returns 500.")
    call.record(seconds=5)
    return call, _said(call.press("1"))


def test_a_repeat_caller_from_another_countrys_phone_hears_the_deadline_on_the_intakes_clock(hotline, client, clock):
    first, closing = _intake_from_moscow_with_a_new_york_callback(client)
    incident = _incident_of(hotline, first)
    assert incident.callback_due_at == datetime(2026, 12, 7, 22, 13, tzinfo=UTC)
    assert "by 5:13 p.m. EST" in closing  # the callback number's clock
    settle(hotline)
    [receipt] = [sms for sms in hotline.telephony.sms if sms.to == NY_CUSTOMER]
    assert "17:13 EST" in receipt.body
    clock.advance(minutes=5)  # 5:03 p.m. EST, 1:03 a.m. MSK
    again = _call(client, MOSCOW_PHONE)
    again.dial()
    menu = again.press("1")  # English: the open incident of this number, its status only after proof
    assert "To hear its status or add information to it, press 1" in _said(menu) and "5:13" not in _said(menu)
    assert "reference number" in _said(again.press("1"))
    heard = _said(again.press(incident.reference))
    assert f"reference {', '.join(incident.reference)}. An engineer will call you back by 5:13 p.m. EST." in heard
    assert "MSK" not in heard and "1:13" not in heard


def test_a_repeat_caller_who_says_no_at_5_08_pm_hears_the_24_hour_update_is_due_tomorrow(hotline, client, clock):
    clock.set(datetime(2026, 12, 7, 21, 50, tzinfo=UTC))  # 4:50 p.m. EST
    call = _call(client, NY_CUSTOMER)
    call.dial()
    for step in ("1", "1", "#"):
        call.press(step)
    call.say("Acme Mail")
    call.say("Dana Smith")
    call.press("1")  # call back on this number
    call.say("dana at acme dot example")
    call.press("1")
    call.say("Every API call returns 500.")
    call.record(seconds=5)
    call.press("1")
    incident = _incident_of(hotline, call)
    ref = incident.reference
    with hotline.db.transaction() as s:  # called back: the customer was reached (a proposal needs it)
        verified_callback(s, s.get(Incident, incident.id), hotline.clock.now())
    _sms(client, ALICE, f"ACK {ref}")
    _sms(client, ALICE, f"EVERY 24 hours {ref}")  # the interval the follow-up row shows below
    _sms(client, ALICE, f"PROPOSE {ref} the queue is drained")
    clock.set(datetime(2026, 12, 7, 22, 8, tzinfo=UTC))  # 5:08 p.m. EST
    again = _call(client, NY_CUSTOMER)
    again.dial()
    again.press("1")  # English
    again.press("1")  # status or add: the reference first
    assert "Press 1 to confirm" in _said(again.press(ref))
    said = _said(again.press("2"))
    with hotline.db.session() as s:
        [follow_up] = s.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).all()
    assert follow_up.interval_minutes == 24 * 60
    assert follow_up.next_due_at == datetime(2026, 12, 8, 22, 8, tzinfo=UTC)
    assert said == (f"Thank you. We keep working on incident {', '.join(ref)}. "
                    "Your next update will come by tomorrow at 5:08 p.m. EST.")
