"""Settings that parse but cannot work are named with the fix (operator audit: URLs, yes/no, the promise, empties)."""

from __future__ import annotations

import pytest

from app.config_report import CheckReport
from app.config_rules import settings_problems
from app.settings import PROMISED_CALLBACK_MINUTES, Settings, SettingsError
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

PRODUCTION = {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
              "TWILIO_NUMBER": "+14155550100", "PUBLIC_BASE_URL": "https://hotline.example.com"}


def _report(env: dict[str, str]) -> CheckReport:
    report = CheckReport()
    settings_problems(Settings.from_env(env), env, report)
    return report


def _lines(report: CheckReport, where: str) -> list[str]:
    return ["\n".join(p.lines()) for p in report.problems if p.where == where]


@pytest.mark.parametrize(("url", "words"), [
    ("https://hotline.example.com # load balancer", "contains whitespace"),
    ("https:// hotline.example.com", "contains whitespace"),
    ("https://hotline.example.com?x=1", "has a query or a fragment"),
    ("https://hotline.example.com/#top", "has a query or a fragment"),
    ("https://", "names no host"),
    ("hotline.example.com", "is not an http(s) URL"),
])
def test_a_public_base_url_twilio_could_not_sign_against_is_an_error_with_the_fix(url, words):
    [line] = _lines(_report(PRODUCTION | {"PUBLIC_BASE_URL": url}), "PUBLIC_BASE_URL")
    assert line.startswith("ERROR   PUBLIC_BASE_URL:") and words in line and "(403)" in line
    assert "fix: write the URL alone, e.g. PUBLIC_BASE_URL=https://hotline.example.com" in line


@pytest.mark.parametrize("url", ["https://hotline.example.com/twilio/voice", "https://hotline.example.com/twilio"])
def test_a_public_base_url_with_a_webhook_path_asks_for_the_base_url_only(url):
    [line] = _lines(_report(PRODUCTION | {"PUBLIC_BASE_URL": url}), "PUBLIC_BASE_URL")
    assert line.startswith("ERROR   PUBLIC_BASE_URL:") and "includes a webhook path" in line
    assert "fix: give the base URL only" in line


def test_a_public_base_url_with_a_path_prefix_is_an_error():
    # the TwiML's actions (/twilio/voice/step ...) are resolved by Twilio against the host: /support would be lost
    [line] = _lines(_report(PRODUCTION | {"PUBLIC_BASE_URL": "https://hotline.example.com/support"}), "PUBLIC_BASE_URL")
    assert line.startswith("ERROR   PUBLIC_BASE_URL:") and "has a path" in line and "root of its own host" in line


def test_a_good_public_base_url_passes_with_surrounding_spaces_and_slash_stripped():
    report = _report(PRODUCTION | {"PUBLIC_BASE_URL": " https://hotline.example.com:8443/ "})
    assert _lines(report, "PUBLIC_BASE_URL") == []
    assert Settings.from_env({"PUBLIC_BASE_URL": " https://hotline.example.com/ "}).public_base_url == \
        "https://hotline.example.com"
    http = _report(PRODUCTION | {"PUBLIC_BASE_URL": "http://hotline.example.com"})
    assert "not https" in _lines(http, "PUBLIC_BASE_URL")[0]  # the production rule stands


@pytest.mark.parametrize(("variable", "value"), [("HELPDESK_WEBHOOK_URL", "https://"),
                                                 ("HELPDESK_WEBHOOK_URL", "https://helpdesk.example/hook # desk"),
                                                 ("LIVE_HOLD_MUSIC_URL", "https://"),
                                                 ("LIVE_HOLD_MUSIC_URL", "http:///music.mp3")])
def test_helpdesk_and_hold_music_urls_without_a_host_are_errors(variable, value):
    env = {variable: value, "HELPDESK_WEBHOOK_SECRET": "s" * 32}
    [line] = _lines(_report(env), variable)
    assert line.startswith(f"ERROR   {variable}:") and "fix: " in line


def test_a_callback_promise_other_than_the_policys_is_warned_about():
    [line] = _lines(_report({"CALLBACK_SLA_MINUTES": "60"}), "CALLBACK_SLA_MINUTES")
    assert line.startswith("WARNING CALLBACK_SLA_MINUTES: is 60, not the 15 minutes the support policy promises")
    assert f"fix: leave it empty ({PROMISED_CALLBACK_MINUTES})" in line
    assert _lines(_report({}), "CALLBACK_SLA_MINUTES") == []
    assert _lines(_report({"CALLBACK_SLA_MINUTES": "15"}), "CALLBACK_SLA_MINUTES") == []


def test_a_promise_no_longer_than_the_at_risk_lead_warns_that_the_alert_comes_at_once():
    lines = _lines(_report({"CALLBACK_SLA_MINUTES": "5", "LIVE_WAIT_MINUTES": "0"}), "CALLBACK_SLA_MINUTES")
    assert len(lines) == 2 and "at or before the incident's opening" in lines[1]
    assert len(_lines(_report({"CALLBACK_SLA_MINUTES": "6", "LIVE_WAIT_MINUTES": "0"}), "CALLBACK_SLA_MINUTES")) == 1


@pytest.mark.parametrize("base", ["https://api.twilio.con", "http://127.0.0.1:8099", "https://api.twilio.com/v2"])
def test_a_twilio_api_base_url_other_than_twilios_is_warned_about_whatever_the_scheme(base):
    [line] = _lines(_report(PRODUCTION | {"TWILIO_API_BASE_URL": base}), "TWILIO_API_BASE_URL")
    assert line.startswith(f"WARNING TWILIO_API_BASE_URL: points at {base}, not Twilio (https://api.twilio.com)")
    assert _lines(_report(PRODUCTION | {"TWILIO_API_BASE_URL": "https://api.twilio.com/"}), "TWILIO_API_BASE_URL") == []


def test_empty_data_dir_and_queue_name_fall_back_to_their_defaults():
    settings = Settings.from_env({"HOTLINE_DATA_DIR": "", "QUEUE_NAME": ""})
    assert (str(settings.data_dir), settings.queue_name) == (".hotline", "hotline")


@pytest.mark.parametrize("value", ["hot line", " ", "hotline\t"])
def test_a_queue_name_with_whitespace_is_refused(value):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"QUEUE_NAME": value})
    assert refused.value.variable == "QUEUE_NAME" and "QUEUE_NAME=hotline" in refused.value.fix


@pytest.mark.parametrize(("value", "expected"), [("", False), ("false", False), ("0", False), ("no", False),
                                                 ("true", True), (" Yes ", True), ("on", True), ("1", True)])
def test_trust_proxy_headers_reads_yes_and_no(value, expected):
    assert Settings.from_env({"TRUST_PROXY_HEADERS": value}).trust_proxy_headers is expected


@pytest.mark.parametrize("value", ["ture", "enabled", "2"])
def test_trust_proxy_headers_that_is_neither_yes_nor_no_is_refused(value):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"TRUST_PROXY_HEADERS": value})
    assert refused.value.variable == "TRUST_PROXY_HEADERS" and "neither yes nor no" in refused.value.problem
    assert "TRUST_PROXY_HEADERS=true" in refused.value.fix


@pytest.mark.parametrize("value", ["0.5", "10s", "ten", "16"])
def test_a_watchdog_interval_outside_1_to_15_seconds_is_one_clean_error(value):
    [line] = _lines(_report({"HOTLINE_WATCHDOG_SECONDS": value}), "HOTLINE_WATCHDOG_SECONDS")
    assert line.startswith(f"ERROR   HOTLINE_WATCHDOG_SECONDS: must be a number of seconds from 1 to 15, not {value!r}.")
    assert line.count("HOTLINE_WATCHDOG_SECONDS") == 2  # the headline and the fix's example, not repeated
    assert "could not convert" not in line and "fix: leave it empty (10 s)" in line
    assert _lines(_report({"HOTLINE_WATCHDOG_SECONDS": "1"}), "HOTLINE_WATCHDOG_SECONDS") == []


def test_a_short_secret_key_and_a_default_region_we_never_call_are_warned_with_the_fix():
    report = _report(PRODUCTION | {"SECRET_KEY": "abc", "DEFAULT_REGION": "US", "ALLOWED_CALLBACK_REGIONS": "GB,DE"})
    [secret] = _lines(report, "SECRET_KEY")
    assert secret.startswith("WARNING SECRET_KEY: is 3 characters") and "at least 32 random characters" in secret
    [region] = _lines(report, "DEFAULT_REGION")
    assert region.startswith("WARNING DEFAULT_REGION: US is not in ALLOWED_CALLBACK_REGIONS (GB,DE)")
    good = _report(PRODUCTION | {"SECRET_KEY": "k" * 32, "DEFAULT_REGION": "GB", "ALLOWED_CALLBACK_REGIONS": "GB,DE"})
    assert _lines(good, "SECRET_KEY") == [] and _lines(good, "DEFAULT_REGION") == []


@pytest.mark.parametrize(("number", "simulated"), [
    ("+1 415 555 0100", False), ("+1-415-555-0100", False), ("+1 (415) 555-0100", True),
    ("+14155550100 ext 5", False), ("+14155550100;ext=5", True), ("+14155550100 ", False),
])
def test_a_twilio_number_written_other_than_e164_is_an_error_naming_its_e164_form(number, simulated):
    """Twilio's From and the callback's caller ID take the setting as written; these passed as "valid E.164"
    (phonenumbers reads spaces, dashes, brackets and an extension), and with Twilio on, the account check
    then said the number was not the account's."""
    env = {"TWILIO_NUMBER": number} if simulated else PRODUCTION | {"TWILIO_NUMBER": number}
    [line] = _lines(_report(env), "TWILIO_NUMBER")
    assert line.startswith(f"ERROR   TWILIO_NUMBER: {number!r} is not in E.164")
    assert "fix: write it as TWILIO_NUMBER=+14155550100" in line
    assert _lines(_report(PRODUCTION | {"TWILIO_NUMBER": "+14155550100"}), "TWILIO_NUMBER") == []


def test_a_missed_call_sms_interval_beyond_a_year_is_refused_with_the_fix():
    """MISSED_CALL_SMS_HOURS=100000000 was accepted, and every caller who hung up before giving details then made
    the call's status webhook fail (OverflowError: "now" minus that many hours is before the year 1), so the
    missed call was never recorded nor the caller texted."""
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"MISSED_CALL_SMS_HOURS": "100000000"})
    assert refused.value.variable == "MISSED_CALL_SMS_HOURS"
    assert "from 0 to 8760" in refused.value.problem and "MISSED_CALL_SMS_HOURS=24" in refused.value.fix
    assert Settings.from_env({"MISSED_CALL_SMS_HOURS": "8760"}).missed_call_sms_hours == 8760
    assert Settings.from_env({"MISSED_CALL_SMS_HOURS": "0"}).missed_call_sms_hours == 0


def test_a_secret_key_with_a_comment_after_it_is_warned_about():
    """README's env file line `SECRET_KEY=...   # python3 -c ...` copied into /etc/hotline/hotline.env: systemd keeps
    the comment as part of the value, 70 characters anyone can read in the README, and check said nothing."""
    copied = "...            # python3 -c 'import secrets; print(secrets.token_hex(32))'"
    for env in (PRODUCTION, {}):
        [line] = _lines(_report(env | {"SECRET_KEY": copied}), "SECRET_KEY")
        assert line.startswith("WARNING SECRET_KEY: contains whitespace: a comment after the value is part of it")
        assert "fix: write the key alone on its line" in line
    assert _lines(_report(PRODUCTION | {"SECRET_KEY": "k" * 64}), "SECRET_KEY") == []


@pytest.mark.parametrize(("variable", "level"), [("TWILIO_AUTH_TOKEN", "WARNING"),
                                                 ("TWILIO_AUTH_TOKEN_SECONDARY", "ERROR  ")])
@pytest.mark.parametrize("token", ["x", "7e57" + "1" * 27, "7E57" + "1" * 28, "7e57" + "1" * 28 + " ", "g" * 32])
def test_an_auth_token_twilio_could_not_have_issued_is_named_with_the_fix(variable, level, token):
    """TWILIO_AUTH_TOKEN_SECONDARY=x passed `hotline check` (0 errors) and `serve` then accepted a call to
    /twilio/voice signed with the HMAC key "x": anyone could forge webhooks. Twilio's tokens are 32 lowercase hex.
    The secondary is an error (nothing else tests it); the primary a warning (Twilio's login check of it decides)."""
    report = _report(PRODUCTION | {"TWILIO_AUTH_TOKEN_SECONDARY": "7e57" + "2" * 28, variable: token})
    [line] = _lines(report, variable)
    assert line.startswith(f"{level} {variable}: cannot be a Twilio auth token ({len(token)} characters; Twilio's "
                           "are 32 lowercase hexadecimal characters)")
    assert bool(report.errors) == (variable == "TWILIO_AUTH_TOKEN_SECONDARY")
    assert "fix: copy the " in line and "Twilio console" in line
    assert len(token) < 32 or token.strip() not in line  # a secret: named, never printed


def test_a_twilio_shaped_secondary_token_passes_and_one_equal_to_the_primary_is_warned_about():
    good = _report(PRODUCTION | {"TWILIO_AUTH_TOKEN_SECONDARY": "7e57" + "2" * 28})
    assert _lines(good, "TWILIO_AUTH_TOKEN_SECONDARY") == [] and _lines(good, "TWILIO_AUTH_TOKEN") == []
    assert not good.errors
    [same] = _lines(_report(PRODUCTION | {"TWILIO_AUTH_TOKEN_SECONDARY": TEST_AUTH_TOKEN}), "TWILIO_AUTH_TOKEN_SECONDARY")
    assert same.startswith("WARNING TWILIO_AUTH_TOKEN_SECONDARY: is the same as TWILIO_AUTH_TOKEN")
    assert "fix: set it to the new secondary Auth Token while rotating tokens, else leave it empty" in same
    # simulated telephony signs with its own local token and reads neither
    assert _lines(_report({"TWILIO_AUTH_TOKEN_SECONDARY": "x"}), "TWILIO_AUTH_TOKEN_SECONDARY") == []
