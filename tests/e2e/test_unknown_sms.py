"""Floods and toll fraud by SMS (issue 9, row 3): unknown senders are answered within limits only."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.models import IncidentEvent
from app.services.sms_commands import UNKNOWN_REPLIES_PER_HOUR
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN


def _sms(client, n: int, sender: str, body: str = "hello?") -> list[str]:
    """Post one signed inbound SMS; the texts of the <Message>s the hotline answers with."""
    params = {"MessageSid": f"SM{n:032d}", "From": sender, "To": "+15005550006", "Body": body,
              "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/sms", params)
    response = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return [m.text or "" for m in ET.fromstring(response.get_data(as_text=True)).iter("Message")]


def test_300_sms_from_unknown_numbers_get_at_most_the_hourly_number_of_answers(client, hotline, clock):
    replies = [_sms(client, n, f"+1415555{n:04d}") for n in range(300)]
    answered = [r for r in replies if r]
    assert len(answered) == UNKNOWN_REPLIES_PER_HOUR  # not 300
    assert all("matches no open incident" in r[0] for r in answered)
    with hotline.db.session() as s:  # every one is still on the log, with no full number in it
        logged = list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "sms_from_unknown_sender")))
    assert len(logged) == 300 and not any("+1415555" in str(e.detail) for e in logged)
    clock.advance(hours=1, seconds=1)  # the next hour answers again
    assert _sms(client, 301, "+14155559999")


def test_the_same_unknown_number_is_answered_once_a_day(client, clock):
    first = [_sms(client, n, "+14155550123") for n in range(5)]
    assert [bool(r) for r in first] == [True, False, False, False, False]
    clock.advance(hours=24, seconds=1)
    assert _sms(client, 6, "+14155550123")
