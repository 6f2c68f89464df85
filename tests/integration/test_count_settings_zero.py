"""0 switches a count limit off (MAX_INCIDENTS_PER_CALLER, OUTBOUND_ALERT_PER_HOUR, MISSED_CALL_SMS_HOURS)."""

from __future__ import annotations

from datetime import timedelta

from app.services.caller_limits import CallerLimits, incident_to_join, limits_from
from app.settings import Settings
from tests.integration.board_support import make_incident

CALLER = "+14155552671"


def test_zero_incidents_per_caller_opens_a_new_incident_instead_of_joining_an_old_one(hotline):
    now = hotline.clock.now()
    old = make_incident(hotline, captured_at=now - timedelta(days=2), caller_id=CALLER)
    recent = make_incident(hotline, reference="654321", captured_at=now - timedelta(minutes=5), caller_id=CALLER)
    off = limits_from(Settings.from_env({"MAX_INCIDENTS_PER_CALLER": "0"}))
    one = CallerLimits(max_new_incidents=1)
    with hotline.db.session() as session:
        assert off.max_new_incidents == 0
        assert incident_to_join(session, CALLER, now, off) is None  # no limit: a new incident is opened
        joined = incident_to_join(session, CALLER, now, one)  # over a limit of 1: the newest open one is joined
        assert joined is not None and joined.id == recent and joined.id != old


def test_every_count_setting_accepts_zero():
    zero = Settings.from_env({"MAX_INCIDENTS_PER_CALLER": "0", "OUTBOUND_ALERT_PER_HOUR": "0",
                              "MISSED_CALL_SMS_HOURS": "0"})
    assert (zero.max_incidents_per_caller, zero.outbound_alert_per_hour, zero.missed_call_sms_hours) == (0, 0, 0)
