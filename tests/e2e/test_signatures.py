"""Every Twilio endpoint refuses requests not signed for its public URL."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from app import create_app
from app.models import CallSession, IncidentEvent, WebhookDelivery
from app.webhook_refusals import RECHECK_SECONDS
from app.wiring import Hotline
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN, TEST_AUTH_TOKEN_SECONDARY
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as

ENDPOINTS = [
    "/twilio/voice",
    "/twilio/voice/step?seq=1",
    "/twilio/voice/recording?seq=1",
    "/twilio/voice/status",
    "/twilio/voice/fallback",
    "/twilio/voice/fallback/recording",
    "/twilio/sms",
    "/twilio/sms/status",
]
PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+14155550100", "To": "+15005550006",
          "MessageSid": "SM" + "1" * 32, "Body": "hi", "CallStatus": "completed", "MessageStatus": "sent"}


def _sign(url: str, params: dict, token: str = TEST_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def _rows(hotline) -> int:
    with hotline.db.session() as s:
        return sum(s.scalar(select(func.count()).select_from(m)) for m in (CallSession, IncidentEvent, WebhookDelivery))


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("case", ["missing", "garbage", "wrong_token", "wrong_url", "tampered"])
def test_unsigned_requests_get_403_and_store_nothing(client, hotline, path, case):
    url = PUBLIC_BASE_URL + path
    headers = {
        "missing": {},
        "garbage": {"X-Twilio-Signature": "not-a-signature"},
        "wrong_token": {"X-Twilio-Signature": _sign(url, PARAMS, "some-other-token")},
        "wrong_url": {"X-Twilio-Signature": _sign("https://evil.example.com" + path, PARAMS)},
        "tampered": {"X-Twilio-Signature": _sign(url, {**PARAMS, "From": "+14155559999"})},
    }[case]
    resp = client.post(path, data=PARAMS, headers=headers)
    assert resp.status_code == 403
    assert _rows(hotline) == 0


def test_signature_with_secondary_token_is_accepted(client):
    url = PUBLIC_BASE_URL + "/twilio/voice"
    resp = client.post("/twilio/voice", data=PARAMS,
                       headers={"X-Twilio-Signature": _sign(url, PARAMS, TEST_AUTH_TOKEN_SECONDARY)})
    assert resp.status_code == 200
    assert b"<Response>" in resp.data


def test_signature_is_checked_against_public_url_not_internal_host(client):
    # The app is reached as http://localhost, but Twilio signed the public https URL.
    internal = _sign("http://localhost/twilio/voice", PARAMS)
    assert client.post("/twilio/voice", data=PARAMS, headers={"X-Twilio-Signature": internal}).status_code == 403


@pytest.mark.parametrize("trusted, expected", [(True, 200), (False, 403)])
def test_proxy_headers_give_the_public_url_only_when_trusted(settings, clock, redis_conn, trusted, expected):
    from app.queue import JobQueue

    s = settings.with_overrides(public_base_url="", trust_proxy_headers=trusted)
    hotline = Hotline.build(s, clock=clock, jobs=JobQueue(redis_conn, s.queue_name))
    client = create_app(hotline).test_client()
    public = "https://hotline.example.org/twilio/voice"
    resp = client.post("/twilio/voice", data=PARAMS, headers={
        "X-Twilio-Signature": _sign(public, PARAMS),
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.org", "X-Forwarded-For": "54.0.0.1",
    })
    assert resp.status_code == expected
    hotline.db.dispose()


@pytest.mark.parametrize("base", ["https://hotline.example.org", "http://hotline.example.com"],
                         ids=["another_host", "another_scheme"])
def test_a_signature_for_another_url_than_public_base_url_is_logged_naming_public_base_url(client, caplog, base):
    """Twilio signs the URL set in its console. When PUBLIC_BASE_URL names another host or scheme, every webhook
    is refused (403), and the log said only 'refused unsigned webhook': nothing named the setting to fix."""
    host = base.split("://", 1)[1]
    signed = _sign(base + "/twilio/voice?seq=1", PARAMS)
    with caplog.at_level(logging.WARNING, logger="app.voice.signature"):
        resp = client.post("/twilio/voice?seq=1", data=PARAMS, headers={"X-Twilio-Signature": signed, "Host": host})
    assert resp.status_code == 403  # still refused: the diagnosis changes nothing that is accepted
    [message] = [r.getMessage() for r in caplog.records if r.name == "app.voice.signature"]
    assert message == (f"refused webhook /twilio/voice: its signature is valid for {base}/twilio/voice?seq=1, not for "
                       f"PUBLIC_BASE_URL ({PUBLIC_BASE_URL}) + the path, so Twilio calls {base}. Fix: make "
                       "PUBLIC_BASE_URL and the number's webhook URLs in the Twilio console the same https address")


def test_a_request_signed_with_another_token_says_the_signature_does_not_match_and_an_unsigned_one_says_so(
        client, caplog):
    # a probe's requests signed with a rotated token were logged as "unsigned": the operator was told the wrong thing
    with caplog.at_level(logging.WARNING, logger="app.voice.signature"):
        resp = client.post("/twilio/voice", data=PARAMS, headers={
            "X-Twilio-Signature": _sign("https://hotline.example.org/twilio/voice", PARAMS, "some-other-token"),
            "Host": "hotline.example.org"})
        unsigned = client.post("/twilio/voice", data=PARAMS, headers={"Host": "hotline.example.org"})
    assert resp.status_code == 403 and unsigned.status_code == 403
    signed, bare = [r.getMessage() for r in caplog.records if r.name == "app.voice.signature"]
    assert signed.startswith("refused webhook /twilio/voice from") and "X-Twilio-Signature does not match" in signed
    assert "TWILIO_AUTH_TOKEN" in signed
    assert bare.startswith("refused unsigned webhook /twilio/voice from")


def _healthz_warnings(client) -> list[str]:
    resp = client.get("/healthz")
    assert resp.status_code == 200  # a warning, never a 503: every web host shares it
    return resp.get_json()["warnings"]


def test_healthz_and_the_board_warn_once_a_webhook_signed_for_another_address_is_refused(client, hotline):
    """An outside probe's ``serve`` with a PUBLIC_BASE_URL other than the number's webhook URLs refused every caller
    while /healthz, which operators alert on, said ok with no warning."""
    assert not [w for w in _healthz_warnings(client) if "webhook" in w]
    base = "https://hotline.example.org"
    resp = client.post("/twilio/voice", data=PARAMS, headers={
        "X-Twilio-Signature": _sign(base + "/twilio/voice", PARAMS), "Host": "hotline.example.org"})
    assert resp.status_code == 403
    [warning] = [w for w in _healthz_warnings(client) if "webhook" in w]
    assert warning.startswith("1 Twilio webhook(s) refused since ") and "PUBLIC_BASE_URL" in warning
    assert "hotline.example.org" not in warning  # counts and times only: /healthz answers anyone
    login_as(client, hotline)  # the board, where reps and managers look, says so too
    alert = parse(client.get("/board")).find("p", id="refused-webhooks-other_url")
    assert alert is not None and "refused 1 of Twilio's requests" in alert.text() and "PUBLIC_BASE_URL" in alert.text()


def test_healthz_warns_of_signatures_matching_no_token_after_a_few_and_never_of_unsigned_requests(client):
    forged = {"X-Twilio-Signature": _sign(PUBLIC_BASE_URL + "/twilio/sms", PARAMS, "some-other-token")}
    for _ in range(5):  # a scanner's unsigned requests: no news
        assert client.post("/twilio/sms", data=PARAMS).status_code == 403
    for _ in range(2):
        assert client.post("/twilio/sms", data=PARAMS, headers=forged).status_code == 403
    assert not [w for w in _healthz_warnings(client) if "webhook" in w]  # two forged requests are no news either
    assert client.post("/twilio/sms", data=PARAMS, headers=forged).status_code == 403
    [warning] = [w for w in _healthz_warnings(client) if "webhook" in w]
    assert warning.startswith("3 webhooks whose X-Twilio-Signature matches no auth token refused since ")
    assert "TWILIO_AUTH_TOKEN" in warning


class CountingRedis(Redis):
    """The test Redis, counting the commands (and pipelines) this client sends: the hot path's cost."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sent: list[str] = []

    def execute_command(self, *args, **options):
        self.sent.append(str(args[0]))
        return super().execute_command(*args, **options)

    def pipeline(self, transaction=True, shard_hint=None):
        self.sent.append("PIPELINE")
        return super().pipeline(transaction, shard_hint)


@pytest.fixture
def counted(settings, clock, redis_conn):
    """A hotline whose Redis client counts what it is sent; its app's test client."""
    from app.queue import JobQueue

    redis = CountingRedis(connection_pool=redis_conn.connection_pool)
    hotline = Hotline.build(settings, clock=clock, jobs=JobQueue(redis, settings.queue_name))
    yield hotline, create_app(hotline).test_client(), redis
    hotline.db.dispose()


def _status_callback(client, token: str = TEST_AUTH_TOKEN) -> int:
    """An SMS status callback for no page (signed with ``token``): accepted (200) or refused (403), storing little."""
    params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "To": "+14155550100"}
    signature = _sign(PUBLIC_BASE_URL + "/twilio/sms/status", params, token)
    return client.post("/twilio/sms/status", data=params, headers={"X-Twilio-Signature": signature}).status_code


def test_once_webhooks_are_accepted_after_a_bad_token_episode_healthz_and_the_board_say_so(counted, clock):
    """An outside probe fixed a wrong TWILIO_AUTH_TOKEN at 19:58, and for 15 more minutes /healthz and the board said
    "12 webhooks ... refused since 19:57:59 ... and every caller is refused" while every webhook since was accepted."""
    hotline, client, redis = counted
    start = clock.now()
    for second in range(12):  # the wrong token: every webhook refused for 12 s
        clock.set(start + timedelta(seconds=second))
        assert _status_callback(client, "the-old-rotated-token") == 403
    [warning] = [w for w in _healthz_warnings(client) if "webhook" in w]
    assert warning.startswith("12 webhooks whose X-Twilio-Signature matches no auth token refused since "
                              f"{start:%Y-%m-%d %H:%M:%S} UTC (the last at {start + timedelta(seconds=11):%H:%M:%S})")
    assert "every caller is refused" in warning

    fixed = start + timedelta(seconds=20)  # the token is fixed: Twilio's next webhook is accepted
    clock.set(fixed)
    assert _status_callback(client) == 200
    [warning] = [w for w in _healthz_warnings(client) if "webhook" in w]
    assert warning.startswith(f"12 webhooks whose X-Twilio-Signature matches no auth token refused since "
                              f"{start:%Y-%m-%d %H:%M:%S} UTC, last at {start + timedelta(seconds=11):%H:%M:%S}; "
                              f"webhooks have been accepted since {fixed:%H:%M:%S}")
    assert "every caller is refused" not in warning
    login_as(client, hotline)
    board = parse(client.get("/board"))
    note = board.find("p", id="refused-webhooks-bad_signature")
    assert note is not None and "accepted since" in note.text() and "callers may hear an error" not in note.text()
    assert note.attrs.get("role") != "alert"

    clock.set(fixed + timedelta(seconds=5))  # a refusal after that (a forger, or the old token again) warns anew
    assert _status_callback(client, "the-old-rotated-token") == 403
    [warning] = [w for w in _healthz_warnings(client) if "webhook" in w]
    assert warning.startswith("13 webhooks") and "every caller is refused" in warning
    note = parse(client.get("/board")).find("p", id="refused-webhooks-bad_signature")
    assert "callers may hear an error" in note.text() and "accepted since" not in note.text()


def test_an_accepted_webhook_costs_no_redis_round_trip_while_no_refusal_is_on_record(counted, clock):
    hotline, client, redis = counted
    start = clock.now()
    redis.sent.clear()
    for second in range(20):  # 20 webhooks within RECHECK_SECONDS: one read of the refusals' hash at most
        clock.set(start + timedelta(seconds=second))
        assert _status_callback(client) == 200
    assert sum(1 for c in redis.sent if c in ("HMGET", "HGETALL", "HSET", "PIPELINE")) == 1
    assert redis.sent.count("HSET") == 0  # nothing on record: nothing written

    # a refusal through another web process (its own app, the same Redis): learnt of at the next recheck
    other = create_app(hotline).test_client()
    assert _status_callback(other, "the-old-rotated-token") == 403
    redis.sent.clear()
    clock.set(start + timedelta(seconds=19 + RECHECK_SECONDS))
    assert _status_callback(client) == 200
    assert redis.sent.count("HMGET") == 1 and redis.sent.count("HSET") == 1  # read, and the acceptance written once
    redis.sent.clear()
    clock.set(start + timedelta(seconds=20 + RECHECK_SECONDS))
    assert _status_callback(client) == 200
    assert [c for c in redis.sent if c in ("HMGET", "HGETALL", "HSET", "PIPELINE")] == []


@pytest.fixture
def capitalised_client(settings, clock, redis_conn):
    """A hotline whose PUBLIC_BASE_URL writes its host in capitals, as an operator may type it."""
    from app.queue import JobQueue

    s = settings.with_overrides(public_base_url="https://Hotline.Example.COM")
    hotline = Hotline.build(s, clock=clock, jobs=JobQueue(redis_conn, s.queue_name))
    yield create_app(hotline).test_client()
    hotline.db.dispose()


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/sms"])
def test_a_signature_for_public_base_url_with_its_host_in_lower_case_is_accepted(capitalised_client, caplog, path):
    """An outside probe's PUBLIC_BASE_URL=https://LOCALHOST:8611 beside a number holding https://localhost:8611/...
    (as the console is nearly always written): Twilio signs the URL the number holds, and every webhook was refused
    (403) with the log blaming the auth token. Hosts are case-insensitive: the same address, Twilio's signature."""
    held = "https://hotline.example.com" + path
    with caplog.at_level(logging.WARNING, logger="app.voice.signature"):
        lower = capitalised_client.post(path, data=PARAMS, headers={"X-Twilio-Signature": _sign(held, PARAMS)})
        as_written = capitalised_client.post(path, data=PARAMS, headers={
            "X-Twilio-Signature": _sign("https://Hotline.Example.COM" + path, PARAMS)})
        secondary = capitalised_client.post(path, data=PARAMS, headers={
            "X-Twilio-Signature": _sign(held, PARAMS, TEST_AUTH_TOKEN_SECONDARY)})
        forged = capitalised_client.post(path, data=PARAMS, headers={
            "X-Twilio-Signature": _sign(held, PARAMS, "some-other-token")})
    assert (lower.status_code, as_written.status_code, secondary.status_code) == (200, 200, 200)
    assert b"<Response" in lower.data
    assert forged.status_code == 403  # the lower-case form is one more URL, not a looser check
    [refused] = [r.getMessage() for r in caplog.records if r.name == "app.voice.signature"]
    assert "X-Twilio-Signature does not match" in refused


def _refused_alone(client, caplog, path: str, signed_for: str, host: str) -> str:
    """Post ``path`` signed for ``signed_for`` with ``Host`` ``host``: refused (403); the one line it logged."""
    with caplog.at_level(logging.WARNING, logger="app.voice.signature"):
        resp = client.post(path, data=PARAMS, headers={"X-Twilio-Signature": _sign(signed_for, PARAMS), "Host": host})
    assert resp.status_code == 403
    [message] = [r.getMessage() for r in caplog.records if r.name == "app.voice.signature"]
    return message


def test_a_signature_for_public_base_url_by_http_behind_a_proxy_names_public_base_url_not_the_token(client, caplog):
    """The number's webhooks at http:// (PUBLIC_BASE_URL's host, another scheme), reaching the hotline through a TLS
    proxy under its internal name: only the request's Host was tried, so the log and /healthz blamed
    TWILIO_AUTH_TOKEN ("rotated?") for a wrong URL in the console."""
    message = _refused_alone(client, caplog, "/twilio/voice", "http://hotline.example.com/twilio/voice",
                             "10.0.0.5:8000")
    assert message == ("refused webhook /twilio/voice: its signature is valid for http://hotline.example.com/twilio/"
                       f"voice, not for PUBLIC_BASE_URL ({PUBLIC_BASE_URL}) + the path, so Twilio calls "
                       "http://hotline.example.com. Fix: make PUBLIC_BASE_URL and the number's webhook URLs in the "
                       "Twilio console the same https address")
    [warning] = [w for w in _healthz_warnings(client) if "webhook" in w]
    assert warning.startswith("1 Twilio webhook(s) refused since ") and "TWILIO_AUTH_TOKEN" not in warning


def test_a_signature_for_public_base_url_with_its_host_in_other_capitals_says_to_write_the_host_alike(client, caplog):
    """The console holding https://Hotline.Example.com/..., PUBLIC_BASE_URL in lower case: a signature is checked for
    PUBLIC_BASE_URL as written and in lower case only, so it stays refused; the log said to make the two "the same
    https address", which to the operator they already were."""
    message = _refused_alone(client, caplog, "/twilio/sms", "https://Hotline.Example.com/twilio/sms",
                             "Hotline.Example.com")
    assert message == ("refused webhook /twilio/sms: its signature is valid for https://Hotline.Example.com/twilio/sms, "
                       f"not for PUBLIC_BASE_URL ({PUBLIC_BASE_URL}) + the path, so Twilio calls "
                       "https://Hotline.Example.com. Fix: write the host alike in PUBLIC_BASE_URL and the number's "
                       "webhook URLs in the Twilio console, best in lower case: Twilio signs the URL as written")
