"""Page and bridge webhooks answer safe TwiML on an internal error, as the intake does."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from app import create_app
from app.queue import JobQueue
from app.wiring import Hotline
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

PATHS = [
    ("/twilio/page/voice?page=1", {"AnsweredBy": "human"}, "not acknowledged"),
    ("/twilio/page/voice/key?page=1", {"Digits": "1"}, "not acknowledged"),
    ("/twilio/bridge/rep?callback=1", {}, "from your own phone"),
    ("/twilio/bridge/dial-done?callback=1", {"DialCallStatus": "completed"}, "from your own phone"),
    ("/twilio/bridge/retry?callback=1", {"Digits": "1"}, "from your own phone"),
]


@pytest.mark.parametrize(("path", "extra", "words"), PATHS)
def test_a_page_or_bridge_webhook_with_the_database_down_still_answers_twiml(settings, clock, redis_conn, path,
                                                                             extra, words):
    dead = settings.with_overrides(database_url="postgresql://nobody@127.0.0.1:1/none")
    client = create_app(Hotline.build(dead, clock=clock, jobs=JobQueue(redis_conn, dead.queue_name))).test_client()
    params = {"CallSid": "CA" + "3" * 32, "AccountSid": "AC" + "0" * 32, "From": "+15005550006",
              "To": "+14155550111", **extra}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert [verb.tag for verb in root] == ["Say", "Hangup"] and words in root[0].text
