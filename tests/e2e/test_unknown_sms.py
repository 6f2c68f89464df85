"""Floods and toll fraud by SMS (issue 9, row 3): unknown senders are answered within limits only."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.auth import Role
from app.models import IncidentEvent
from app.services.sms_commands import UNKNOWN_REPLIES_PER_HOUR
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.integration.board_support import login_as, parse


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


def test_a_customers_sms_past_the_hourly_cap_is_on_the_missed_calls_page_and_the_board_warns(client, hotline):
    # an outside probe: after 20 strangers' texts in the hour a customer texted a Sev-1, got no answer, and their
    # words were only in a log line no page read
    for n in range(UNKNOWN_REPLIES_PER_HOUR):
        assert _sms(client, n, f"+1347555{n:04d}", "Acme here, our SMTP is down, call me")
    body = "Globex here: all SMTP injection failing since 12:00, please call 347-555-9999"
    assert _sms(client, 99, "+13475559999", body) == []  # no answer: past the cap
    login_as(client, hotline, Role.REP)
    table = parse(client.get("/missed-calls")).find("table", id="unknown-texts")
    rows = [[cell.text() for cell in row.find_all("td")] for row in table.find_all("tr")][1:]
    assert rows[0][1:] == ["+13475559999", body, "no answer"]  # newest first: staff can read it and call back
    assert len(rows) == UNKNOWN_REPLIES_PER_HOUR + 1 and rows[1][3] == "told to call"
    warning = parse(client.get("/board")).find("p", id="unanswered-texts")
    assert warning.text().startswith("1 text from unknown numbers got no answer")
