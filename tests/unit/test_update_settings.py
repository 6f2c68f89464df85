"""Issue 11's SMTP and silence settings go through the settings validators (SettingsError names the fix)."""

from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError


@pytest.mark.parametrize(("variable", "value"), [("SMTP_PORT", "587x"), ("SMTP_PORT", "70000"), ("SMTP_TLS", "tls"),
                                                 ("RESOLUTION_SILENCE_HOURS", "72h"),
                                                 ("RESOLUTION_SILENCE_HOURS", "0"),
                                                 ("REOPEN_WINDOW_DAYS", "7d"), ("REOPEN_WINDOW_DAYS", "91")])
def test_a_bad_smtp_or_silence_setting_is_refused_with_its_name(variable, value):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: value})
    assert refused.value.variable == variable


def test_good_smtp_settings_are_read():
    s = Settings.from_env({"SMTP_PORT": "465", "SMTP_TLS": "SSL", "RESOLUTION_SILENCE_HOURS": "48",
                           "REOPEN_WINDOW_DAYS": "0"})
    assert (s.smtp_port, s.smtp_tls, s.resolution_silence_hours, s.reopen_window_days) == (465, "ssl", 48, 0)
    assert Settings.from_env({}).reopen_window_days == 7
