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
    ("/twilio/page/voice?page=1", {"AnsweredBy": "human"}, "ACK and the reference to acknowledge the page"),
    ("/twilio/page/voice/key?page=1", {"Digits": "1"}, "ACK and the reference to acknowledge the page"),
    ("/twilio/bridge/rep?callback=1", {}, "from your own phone"),
    ("/twilio/bridge/dial-done?callback=1", {"DialCallStatus": "completed"}, "from your own phone"),
    ("/twilio/bridge/retry?callback=1", {"Digits": "1"}, "from your own phone"),
]


@pytest.mark.parametrize(("path", "extra", "words"), PATHS)
def test_a_page_or_bridge_webhook_with_the_database_down_still_answers_twiml(settings, clock, redis_conn, path,
                                                                             extra, words):
    assert words in _said_with_the_database_down(settings, clock, redis_conn, path, extra)


def _said_with_the_database_down(settings, clock, redis_conn, path: str, extra: dict[str, str]) -> str:
    """What the webhook at ``path`` says when its database cannot be reached (an internal error): one Say, a Hangup."""
    dead = settings.with_overrides(database_url="postgresql://nobody@127.0.0.1:1/none")
    client = create_app(Hotline.build(dead, clock=clock, jobs=JobQueue(redis_conn, dead.queue_name))).test_client()
    params = {"CallSid": "CA" + "3" * 32, "AccountSid": "AC" + "0" * 32, "From": "+15005550006",
              "To": "+14155550111", **extra}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    return root[0].text


@pytest.mark.parametrize(("path", "extra"), [(path, extra) for path, extra, _words in PATHS[:2]])
@pytest.mark.parametrize("number", ["+15005550006", ""])
def test_a_failed_page_call_says_only_what_is_true_of_the_pages_text(settings, clock, redis_conn, path, extra,
                                                                    number):
    """The page call's safe answer is built before the page is read: it cannot know whether the page's SMS went (a
    voice-only page sends none). It said "This page is not acknowledged: reply to the text message or open the link
    in it" to every rep: to one who had no text, and of a page someone may have acknowledged meanwhile. It says how
    to act by texting the hotline (its number digit by digit when configured), and the text's reply and link only
    for whoever got it."""
    said = _said_with_the_database_down(settings.with_overrides(twilio_number=number), clock, redis_conn, path, extra)
    how = "Text the hotline's number, 1, 5, 0, 0, 5, 5, 5, 0, 0, 0, 6, with" if number else "Text the hotline with"
    assert f"{how} ACK and the reference to acknowledge the page, or CALL and the reference to be connected" in said
    assert "If the page's text message reached you, you can reply to it instead, or open the link in it" in said
    assert "reply to the text message" not in said.lower() and "not acknowledged" not in said
