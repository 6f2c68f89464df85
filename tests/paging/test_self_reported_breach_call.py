"""The managers' breach call says what their breach SMS says of a call a rep self-reported (``CALLED``): an outside
probe's manager heard "This is a breach alert ... Alice acknowledged it at 10:11" and nothing of the self-report the
SMS carried ("the only call was self-reported by Alice (unverified)")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import Page
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_at_risk_unproven_callback import _at
from tests.paging.test_self_reported_breach import _breach_sms_to


def _heard(desk, incident_id: int, answered_by: str) -> str:
    """Maria's breach call, answered (``answered_by``: a person, or her voicemail)."""
    with desk.hotline.db.session() as s:
        page = s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "breach",
                                            Page.channel == "voice", Page.to_number == MARIA)).one()
    path = f"/twilio/page/voice?page={page.id}"
    params = {"CallSid": page.twilio_sid, "AnsweredBy": answered_by, "AccountSid": "AC" + "0" * 32,
              "From": "+15005550006", "To": MARIA, "CallStatus": "in-progress"}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    return desk.client.post(path, data=params, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)


def test_the_breach_call_of_an_incident_only_self_reported_says_so_as_the_sms_does(desk, network):
    incident, _alice = desk.acknowledged_by_alice(network)
    desk.clock.set(desk.t0 + timedelta(minutes=6))
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {incident.reference}").get_data(as_text=True)
    _at(desk, 15)

    [sms] = _breach_sms_to(desk, incident.id, MARIA)
    assert "BREACHED, the only call was self-reported by Alice Primary (unverified)" in sms
    for answered_by in ("human", "machine_end_beep"):
        heard = _heard(desk, incident.id, answered_by)
        assert ("This is a breach alert: the deadline has passed and no callback has reached the customer. The only "
                "call was self-reported by Alice Primary (unverified).") in heard, answered_by


def test_a_breach_call_with_no_self_report_says_nothing_of_one(desk, network):
    incident, _alice = desk.acknowledged_by_alice(network)
    _at(desk, 15)
    heard = _heard(desk, incident.id, "human")
    assert "no callback has reached the customer. It was acknowledged by Alice Primary at" in heard
    assert "self-reported" not in heard
