"""A rep's page call, recorded and replayed: Twilio's retry within the window hears the page again; a replay days later
(a proxy's log, a leaked capture) hears nothing about the customer and acknowledges nothing."""

from __future__ import annotations

from datetime import timedelta

from twilio.request_validator import RequestValidator

from app.webhooks import RETRY_WINDOW
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER
from tests.replay_support import database_rows, is_empty_twiml


def _replay(desk, webhook):
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(webhook.url, webhook.params)
    return desk.client.post(webhook.url.removeprefix(PUBLIC_BASE_URL), data=webhook.params,
                            headers={"X-Twilio-Signature": signature})


def _acknowledged_on_the_page_call(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(press="1")
    incident = desk.open_incident()
    desk.settle()
    [menu] = [w for w in network.webhooks if w.url.startswith(f"{PUBLIC_BASE_URL}/twilio/page/voice?page=")]
    assert "for Acme Mail: API calls failing" in menu.body
    return incident, menu


def test_the_page_calls_retry_within_the_window_hears_the_same_page(desk, network):
    _incident, menu = _acknowledged_on_the_page_call(desk, network)
    before = database_rows(desk.hotline)
    desk.clock.set(desk.t0 + RETRY_WINDOW - timedelta(seconds=1))
    again = _replay(desk, menu)
    assert again.status_code == 200 and again.get_data(as_text=True) == menu.body
    assert database_rows(desk.hotline) == before


def test_every_webhook_of_a_page_replayed_days_later_answers_nothing_and_changes_nothing(desk, network):
    incident, _menu = _acknowledged_on_the_page_call(desk, network)
    recorded = list(network.webhooks)  # the page call, its key press, the status callbacks of the SMS and calls
    assert any("/twilio/page/voice/key" in w.url for w in recorded)
    before = database_rows(desk.hotline)
    desk.clock.set(desk.t0 + timedelta(days=3))
    for webhook in recorded:
        replay = _replay(desk, webhook)
        body = replay.get_data(as_text=True)
        assert replay.status_code == 200, webhook.url
        if replay.mimetype == "text/xml":
            assert is_empty_twiml(body), (webhook.url, body)
        else:
            assert body == "", (webhook.url, body)
    assert database_rows(desk.hotline) == before
    assert desk.incident(incident.id).acknowledged_at == desk.t0
