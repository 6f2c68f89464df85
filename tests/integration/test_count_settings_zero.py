"""0 switches a count limit off (MAX_INCIDENTS_PER_CALLER, MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER,
OUTBOUND_ALERT_PER_HOUR, MISSED_CALL_SMS_HOURS)."""

from __future__ import annotations

from datetime import timedelta

from app.services.caller_limits import CallerLimits, limits_from, place_report
from app.settings import Settings
from ivr_flows.model import Captured
from tests.integration.board_support import make_incident

CALLER = "+14155552671"


def test_zero_incidents_per_caller_opens_a_new_incident_instead_of_joining_an_old_one(hotline):
    now = hotline.clock.now()
    old = make_incident(hotline, captured_at=now - timedelta(days=2), caller_id=CALLER)
    recent = make_incident(hotline, reference="654321", captured_at=now - timedelta(minutes=5), caller_id=CALLER)
    off = limits_from(Settings.from_env({"MAX_INCIDENTS_PER_CALLER": "0"}))
    one = CallerLimits(max_new_incidents=1)
    same = Captured(callback_phone=CALLER)  # the incidents' own contact
    with hotline.db.session() as session:
        assert off.max_new_incidents == 0
        assert place_report(session, CALLER, same, now, off).join is None  # no limit: a new incident is opened
        joined = place_report(session, CALLER, same, now, one).join  # over a limit of 1: the newest open one is joined
        assert joined is not None and joined.id == recent and joined.id != old


def test_zero_other_contact_incidents_puts_no_bound_on_callers_whose_contact_differs(hotline):
    now = hotline.clock.now()
    for n in range(4):
        make_incident(hotline, reference=f"65432{n}", captured_at=now - timedelta(minutes=5 - n), caller_id=CALLER,
                      callback_phone=f"+1415555267{n + 2}")
    other = Captured(callback_phone="+14155550199")
    off = limits_from(Settings.from_env({"MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER": "0"}))
    bounded = CallerLimits(max_new_incidents=1, max_other_contact_incidents=3)  # 4 opened: the bound is reached
    with hotline.db.session() as session:
        assert (off.max_new_incidents, off.max_other_contact_incidents) == (3, 0)
        unbounded = place_report(session, CALLER, other, now, off)
        assert unbounded.join is None and unbounded.apart_from is not None  # opened apart, however many before
        assert place_report(session, CALLER, other, now, bounded).apart_from is None  # beyond the bound: joins


def test_every_count_setting_accepts_zero():
    zero = Settings.from_env({"MAX_INCIDENTS_PER_CALLER": "0", "OUTBOUND_ALERT_PER_HOUR": "0",
                              "MISSED_CALL_SMS_HOURS": "0", "MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER": "0"})
    assert (zero.max_incidents_per_caller, zero.outbound_alert_per_hour, zero.missed_call_sms_hours,
            zero.max_other_contact_incidents_per_caller) == (0, 0, 0, 0)
