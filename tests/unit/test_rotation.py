"""Who is on call at an instant: rotations, hand-off boundaries, calendars, DST, overrides, layers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.oncall.rotation import (
    LayerSpec,
    OverrideSpec,
    Rotation,
    ScheduleSpec,
    Shift,
    on_call,
    shift_start,
    shifts,
)
from app.oncall.wallclock import local_instant, zone

US = timedelta(microseconds=1)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def daily(handoff: str, starts_on: date, members=(1, 2, 3), position: int = 0) -> LayerSpec:
    return LayerSpec(position, Rotation.DAILY, time.fromisoformat(handoff), starts_on, tuple(members))


def weekly(handoff: str, weekday: int, starts_on: date, members=(1, 2, 3), position: int = 0) -> LayerSpec:
    return LayerSpec(position, Rotation.WEEKLY, time.fromisoformat(handoff), starts_on, tuple(members), weekday)


def custom(handoff: str, hours: int, starts_on: date, members=(1, 2), position: int = 0) -> LayerSpec:
    return LayerSpec(position, Rotation.CUSTOM, time.fromisoformat(handoff), starts_on, tuple(members), None, hours)


def schedule(*layers: LayerSpec, tz: str = "UTC", overrides=()) -> ScheduleSpec:
    return ScheduleSpec("primary", tz, tuple(layers), tuple(overrides))


# --- daily, weekly, custom ---------------------------------------------------------------------


def test_daily_rotation_cycles_through_members():
    s = schedule(daily("09:00", date(2026, 1, 5)))
    assert [on_call(s, utc(2026, 1, d, 12)) for d in range(5, 10)] == [[1], [2], [3], [1], [2]]


def test_nobody_before_the_first_handoff():
    s = schedule(daily("09:00", date(2026, 1, 5)))
    assert on_call(s, utc(2026, 1, 5, 9) - US) == []
    assert on_call(s, utc(2026, 1, 4, 12)) == []
    assert on_call(s, utc(2026, 1, 5, 9)) == [1]


def test_handoff_instant_belongs_to_the_new_person():
    s = schedule(daily("09:00", date(2026, 1, 5)))
    handoff = utc(2026, 1, 6, 9)
    assert on_call(s, handoff - US) == [1]
    assert on_call(s, handoff) == [2]


def test_weekly_rotation_starts_at_the_first_handoff_weekday_on_or_after_starts_on():
    # 2026-01-07 is a Wednesday: the first Monday hand-off is 2026-01-12.
    s = schedule(weekly("09:00", 0, date(2026, 1, 7), members=(1, 2)))
    assert on_call(s, utc(2026, 1, 12, 9) - US) == []
    assert on_call(s, utc(2026, 1, 12, 9)) == [1]
    assert on_call(s, utc(2026, 1, 19, 9) - US) == [1]
    assert on_call(s, utc(2026, 1, 19, 9)) == [2]
    assert on_call(s, utc(2026, 1, 26, 9)) == [1]


def test_weekly_rotation_starting_on_its_handoff_weekday_starts_that_day():
    s = schedule(weekly("09:00", 0, date(2026, 1, 12), members=(1, 2)))
    assert on_call(s, utc(2026, 1, 12, 9)) == [1]


def test_custom_rotation_hands_off_every_n_hours():
    s = schedule(custom("08:00", 12, date(2026, 1, 5), members=(1, 2, 3)))
    assert on_call(s, utc(2026, 1, 5, 8)) == [1]
    assert on_call(s, utc(2026, 1, 5, 20) - US) == [1]
    assert on_call(s, utc(2026, 1, 5, 20)) == [2]
    assert on_call(s, utc(2026, 1, 6, 8)) == [3]
    assert on_call(s, utc(2026, 1, 6, 20)) == [1]


def test_a_custom_rotation_keeps_its_wall_clock_hand_offs_across_dst():
    # Outside probe (session 43): an 8-hour rotation from 06:00 Berlin handed off at 07:00, 15:00 and 23:00 all
    # summer (elapsed hours from the first hand-off). On the wall clock, the night shift across each change is
    # 7 or 9 hours, and every other one 8.
    s = schedule(custom("06:00", 8, date(2027, 3, 27), members=(1, 2, 3)), tz="Europe/Berlin")
    found = shifts(s, utc(2027, 3, 27, 5), utc(2027, 3, 28, 20))
    assert [(x.rep_id, x.starts_at.astimezone(BERLIN).strftime("%d %H:%M %Z"), x.ends_at - x.starts_at)
            for x in found] == [
        (1, "27 06:00 CET", timedelta(hours=8)),
        (2, "27 14:00 CET", timedelta(hours=8)),
        (3, "27 22:00 CET", timedelta(hours=7)),  # the clocks go forward at 02:00
        (1, "28 06:00 CEST", timedelta(hours=8)),
        (2, "28 14:00 CEST", timedelta(hours=8)),
    ]
    assert on_call(s, utc(2027, 3, 28, 4, 59)) == [1] and on_call(s, utc(2027, 3, 28, 3, 59)) == [3]
    autumn = schedule(custom("06:00", 8, date(2027, 10, 30), members=(1, 2, 3)), tz="Europe/Berlin")
    night = [x for x in shifts(autumn, utc(2027, 10, 30, 4), utc(2027, 10, 31, 14)) if x.rep_id == 3]
    assert [(x.starts_at.astimezone(BERLIN).strftime("%d %H:%M %Z"), x.ends_at - x.starts_at) for x in night] == [
        ("30 22:00 CEST", timedelta(hours=9))]  # the clocks go back at 03:00
    assert on_call(autumn, utc(2027, 10, 31, 5)) == [1]  # 06:00 CET
    assert on_call(autumn, utc(2027, 10, 31, 4, 59)) == [3]


def test_a_one_hour_custom_rotation_across_the_spring_gap():
    # 02:00 does not exist on the day the clocks go forward: its shift begins with the 03:00 one and is skipped,
    # as a daily hand-off in the gap moves to the first valid instant
    s = schedule(custom("00:00", 1, date(2027, 3, 28), members=(1, 2, 3, 4)), tz="Europe/Berlin")
    assert on_call(s, utc(2027, 3, 28, 0, 30)) == [2]  # 01:30 CET: the 01:00 shift
    assert on_call(s, utc(2027, 3, 28, 1, 0)) == [4]  # 03:00 CEST: the 03:00 shift
    assert on_call(s, utc(2027, 3, 28, 2, 0)) == [1]  # 04:00 CEST


# --- calendars -----------------------------------------------------------------------------------


def test_daily_rotation_across_a_month_and_year_end():
    s = schedule(daily("09:00", date(2026, 12, 30)))
    assert on_call(s, utc(2026, 12, 31, 8)) == [1]
    assert on_call(s, utc(2026, 12, 31, 9)) == [2]
    assert on_call(s, utc(2027, 1, 1, 9)) == [3]
    assert on_call(s, utc(2027, 1, 31, 9)) == [3]  # 32 days after the start: 32 % 3 == 2
    assert on_call(s, utc(2027, 2, 1, 9)) == [1]


def test_leap_day_is_a_day_like_any_other():
    s = schedule(daily("09:00", date(2028, 2, 27), members=(1, 2)))
    assert [on_call(s, utc(2028, m, d, 10)) for m, d in [(2, 27), (2, 28), (2, 29), (3, 1)]] == [[1], [2], [1], [2]]


def test_weekly_rotation_starting_on_a_leap_day():
    s = schedule(weekly("09:00", 1, date(2028, 2, 29), members=(1, 2)))  # a Tuesday
    assert on_call(s, utc(2028, 2, 29, 9)) == [1]
    assert on_call(s, utc(2028, 3, 7, 9) - US) == [1]
    assert on_call(s, utc(2028, 3, 7, 9)) == [2]


def test_custom_rotation_across_february_end():
    s = schedule(custom("00:00", 24 * 7, date(2027, 2, 22)))
    assert on_call(s, utc(2027, 3, 1) - US) == [1]
    assert on_call(s, utc(2027, 3, 1)) == [2]


# --- daylight saving time ----------------------------------------------------------------------


def test_berlin_daily_0900_spring_forward_shift_is_23_hours():
    s = schedule(daily("09:00", date(2026, 3, 27)), tz="Europe/Berlin")
    found = shifts(s, utc(2026, 3, 28, 8), utc(2026, 3, 30, 7))
    assert [(x.rep_id, x.starts_at, x.ends_at) for x in found] == [
        (2, utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),  # 09:00 CET .. 09:00 CEST
        (3, utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),
    ]
    assert found[0].ends_at - found[0].starts_at == timedelta(hours=23)
    assert on_call(s, utc(2026, 3, 29, 7) - US) == [2]
    assert on_call(s, utc(2026, 3, 29, 7)) == [3]


def test_berlin_daily_0900_fall_back_shift_is_25_hours():
    s = schedule(daily("09:00", date(2026, 10, 23)), tz="Europe/Berlin")
    found = shifts(s, utc(2026, 10, 24, 7), utc(2026, 10, 25, 8))
    assert [(x.rep_id, x.starts_at, x.ends_at) for x in found] == [(2, utc(2026, 10, 24, 7), utc(2026, 10, 25, 8))]
    assert found[0].ends_at - found[0].starts_at == timedelta(hours=25)
    assert on_call(s, utc(2026, 10, 25, 8)) == [3]


def test_berlin_handoff_in_the_spring_gap_moves_to_the_first_valid_instant():
    # 02:30 does not exist on 2026-03-29: the clocks jump from 02:00 CET to 03:00 CEST (01:00Z).
    s = schedule(daily("02:30", date(2026, 3, 28)), tz="Europe/Berlin")
    assert on_call(s, utc(2026, 3, 29, 1) - US) == [1]
    assert on_call(s, utc(2026, 3, 29, 1)) == [2]
    assert on_call(s, utc(2026, 3, 30, 0, 30)) == [3]  # back to 02:30 CEST the day after


def test_berlin_handoff_in_the_autumn_fold_uses_the_first_occurrence():
    # 02:30 happens twice on 2026-10-25: first in CEST (00:30Z), then in CET (01:30Z).
    s = schedule(daily("02:30", date(2026, 10, 24)), tz="Europe/Berlin")
    assert on_call(s, utc(2026, 10, 25, 0, 30) - US) == [1]
    assert on_call(s, utc(2026, 10, 25, 0, 30)) == [2]
    assert on_call(s, utc(2026, 10, 25, 1, 30)) == [2]  # the second 02:30 is no hand-off


def test_new_york_daily_0230_on_the_spring_forward_day():
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z); 02:30 does not exist.
    s = schedule(daily("02:30", date(2026, 3, 7)), tz="America/New_York")
    assert on_call(s, utc(2026, 3, 7, 7, 30)) == [1]  # 02:30 EST the day before
    assert on_call(s, utc(2026, 3, 8, 7) - US) == [1]
    assert on_call(s, utc(2026, 3, 8, 7)) == [2]  # 03:00 EDT
    assert on_call(s, utc(2026, 3, 9, 6, 30) - US) == [2]
    assert on_call(s, utc(2026, 3, 9, 6, 30)) == [3]  # 02:30 EDT
    lengths = [x.ends_at - x.starts_at for x in shifts(s, utc(2026, 3, 7, 7, 30), utc(2026, 3, 9, 6, 30))]
    assert lengths == [timedelta(hours=23, minutes=30), timedelta(hours=23, minutes=30)]


def test_new_york_daily_0130_on_the_fall_back_day():
    # 2026-11-01: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    s = schedule(daily("01:30", date(2026, 10, 31)), tz="America/New_York")
    assert on_call(s, utc(2026, 11, 1, 5, 30) - US) == [1]
    assert on_call(s, utc(2026, 11, 1, 5, 30)) == [2]
    assert on_call(s, utc(2026, 11, 1, 6, 30)) == [2]
    assert on_call(s, utc(2026, 11, 2, 6, 30)) == [3]  # 01:30 EST: a 25-hour shift


def test_new_york_weekly_sunday_handoff_in_the_gap():
    s = schedule(weekly("02:30", 6, date(2026, 3, 1), members=(1, 2)), tz="America/New_York")
    assert on_call(s, utc(2026, 3, 8, 7) - US) == [1]
    assert on_call(s, utc(2026, 3, 8, 7)) == [2]


def test_a_skipped_calendar_day_hands_off_when_the_clock_resumes():
    # Samoa skipped 2011-12-30: the 09:00 hand-off of that day happens at 00:00 on the 31st.
    s = schedule(daily("09:00", date(2011, 12, 28)), tz="Pacific/Apia")
    apia = ZoneInfo("Pacific/Apia")
    midnight = datetime(2011, 12, 31, tzinfo=apia).astimezone(UTC)
    assert on_call(s, midnight - US) == [2]
    assert on_call(s, midnight) == [3]
    assert on_call(s, datetime(2011, 12, 31, 9, tzinfo=apia)) == [1]


@pytest.mark.parametrize(
    ("day", "hhmm", "tz", "expected"),
    [
        (date(2026, 3, 29), "02:30", BERLIN, utc(2026, 3, 29, 1)),
        (date(2026, 3, 29), "02:00", BERLIN, utc(2026, 3, 29, 1)),
        (date(2026, 3, 29), "03:00", BERLIN, utc(2026, 3, 29, 1)),
        (date(2026, 10, 25), "02:59", BERLIN, utc(2026, 10, 25, 0, 59)),
        (date(2026, 10, 25), "03:00", BERLIN, utc(2026, 10, 25, 2)),
        (date(2026, 3, 8), "02:30", NEW_YORK, utc(2026, 3, 8, 7)),
        (date(2026, 11, 1), "01:30", NEW_YORK, utc(2026, 11, 1, 5, 30)),
    ],
)
def test_local_instant(day, hhmm, tz, expected):
    assert local_instant(day, time.fromisoformat(hhmm), tz) == expected


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe", "America", "a" * 300, "localtime", "posixrules",
                                  "Factory", "/etc/localtime", "", " UTC"])
def test_unknown_time_zone_is_refused(name):
    # a tzdata directory ("Europe") or an over-long name raised OSError; "localtime" is the host's own zone
    with pytest.raises(ValueError, match="unknown time zone"):
        zone(name)


def test_real_zones_are_known():
    assert [zone(name).key for name in ("UTC", "Europe/Berlin", "Asia/Tokyo")] == ["UTC", "Europe/Berlin", "Asia/Tokyo"]


def test_an_instant_beyond_datetime_is_a_value_error_not_an_overflow():
    # audit F1: year 1 at 00:00 in Tokyo is before datetime.min in UTC; every lookup crashed with OverflowError
    tokyo = zone("Asia/Tokyo")
    with pytest.raises(ValueError, match="out of range"):
        local_instant(date(1, 1, 1), time(0), tokyo)
    # a custom rotation counts its hand-offs on the wall clock (session 43): one from year 1 needs no instant of it
    year1 = schedule(custom("00:00", 24, date(1, 1, 1)), tz="Asia/Tokyo")
    assert on_call(year1, utc(2026, 11, 26)) in ([1], [2])
    with pytest.raises(ValueError, match="out of range"):
        on_call(year1, datetime.min.replace(tzinfo=UTC))
    late = schedule(weekly("00:00", 6, date(9999, 12, 30)), tz="Pacific/Kiritimati")
    with pytest.raises(ValueError, match="out of range"):
        on_call(late, utc(9999, 12, 31, 20))
    with pytest.raises(ValueError, match="out of range"):  # a shift number far past the end of the calendar
        shift_start(custom("00:00", 24 * 28, date(2026, 1, 1)), tokyo, 10**6)


# --- overrides and layers ----------------------------------------------------------------------


def test_override_wins_over_every_layer_for_its_half_open_window():
    override = OverrideSpec(rep_id=9, starts_at=utc(2026, 1, 6, 12), ends_at=utc(2026, 1, 6, 18), id=1)
    s = schedule(daily("09:00", date(2026, 1, 5)), daily("09:00", date(2026, 1, 5), (7,), 5), overrides=[override])
    assert on_call(s, utc(2026, 1, 6, 12) - US) == [7]
    assert on_call(s, utc(2026, 1, 6, 12)) == [9]
    assert on_call(s, utc(2026, 1, 6, 18) - US) == [9]
    assert on_call(s, utc(2026, 1, 6, 18)) == [7]


def test_overlapping_overrides_put_everyone_on_call_in_start_order():
    a = OverrideSpec(rep_id=8, starts_at=utc(2026, 1, 6, 14), ends_at=utc(2026, 1, 6, 18), id=2)
    b = OverrideSpec(rep_id=9, starts_at=utc(2026, 1, 6, 12), ends_at=utc(2026, 1, 6, 16), id=1)
    s = schedule(daily("09:00", date(2026, 1, 5)), overrides=[a, b])
    assert on_call(s, utc(2026, 1, 6, 15)) == [9, 8]


def test_override_with_no_layers():
    override = OverrideSpec(rep_id=4, starts_at=utc(2026, 1, 1), ends_at=utc(2026, 1, 2))
    assert on_call(schedule(overrides=[override]), utc(2026, 1, 1, 12)) == [4]


def test_highest_layer_with_someone_wins():
    base = daily("09:00", date(2026, 1, 5), (1, 2, 3), position=0)
    weekend = weekly("09:00", 5, date(2026, 1, 5), (7,), position=1)  # from Saturday 2026-01-10
    empty = daily("09:00", date(2026, 1, 5), (), position=9)
    s = schedule(base, weekend, empty)
    assert on_call(s, utc(2026, 1, 7, 12)) == [3]  # weekend layer has not started: base
    assert on_call(s, utc(2026, 1, 10, 12)) == [7]


def test_layer_order_in_the_spec_does_not_matter():
    low = daily("09:00", date(2026, 1, 5), (1,), position=0)
    high = daily("09:00", date(2026, 1, 5), (2,), position=3)
    assert on_call(schedule(high, low), utc(2026, 1, 6)) == [2]
    assert on_call(schedule(low, high), utc(2026, 1, 6)) == [2]


def test_empty_schedule_has_nobody():
    assert on_call(schedule(), utc(2026, 1, 1)) == []
    assert on_call(schedule(daily("09:00", date(2026, 1, 1), ())), utc(2026, 1, 5)) == []
    assert shifts(schedule(), utc(2026, 1, 1), utc(2026, 1, 15)) == []


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        on_call(schedule(), datetime(2026, 1, 1))


def test_layer_specs_are_checked():
    with pytest.raises(ValueError, match="weekly"):
        LayerSpec(0, Rotation.WEEKLY, time(9), date(2026, 1, 1), (1,))
    with pytest.raises(ValueError, match="custom"):
        LayerSpec(0, Rotation.CUSTOM, time(9), date(2026, 1, 1), (1,), shift_hours=0)


# --- shifts ------------------------------------------------------------------------------------


def test_shifts_over_14_days_split_around_an_override():
    override = OverrideSpec(rep_id=9, starts_at=utc(2026, 1, 7, 12), ends_at=utc(2026, 1, 7, 15), id=5)
    s = schedule(weekly("09:00", 0, date(2026, 1, 5), (1, 2)), overrides=[override])
    found = shifts(s, utc(2026, 1, 5), utc(2026, 1, 19))
    assert found == [
        Shift(1, utc(2026, 1, 5, 9), utc(2026, 1, 7, 12), layer=0),
        Shift(9, utc(2026, 1, 7, 12), utc(2026, 1, 7, 15), override_id=5),
        Shift(1, utc(2026, 1, 7, 15), utc(2026, 1, 12, 9), layer=0),
        Shift(2, utc(2026, 1, 12, 9), utc(2026, 1, 19), layer=0),
    ]
    assert found[1].is_override and not found[0].is_override


def test_shifts_are_clipped_to_the_window_and_agree_with_on_call():
    s = schedule(daily("09:00", date(2026, 3, 1)), custom("20:00", 6, date(2026, 3, 20), (5, 6), 1), tz="Europe/Berlin")
    start, end = utc(2026, 3, 25, 3, 17), utc(2026, 4, 2, 11)
    found = shifts(s, start, end)
    assert found[0].starts_at == start
    assert found[-1].ends_at == end
    for before, after in zip(found, found[1:], strict=False):
        assert before.ends_at == after.starts_at
    for shift in found:
        assert on_call(s, shift.starts_at) == [shift.rep_id]
        assert on_call(s, shift.ends_at - US) == [shift.rep_id]


def test_a_single_member_layer_is_one_long_shift():
    s = schedule(daily("09:00", date(2026, 1, 1), (1,)))
    assert shifts(s, utc(2026, 1, 5), utc(2026, 1, 19)) == [Shift(1, utc(2026, 1, 5), utc(2026, 1, 19), layer=0)]


# --- a deactivated member keeps its place ----------------------------------------------------------


def test_a_skipped_members_turn_goes_to_the_next_active_one_and_no_other_turn_moves():
    from dataclasses import replace

    # weekly in Berlin, Mondays 09:00 from 2026-11-23: Alice (1), Bob (2), Carol (3); Bob is deactivated
    layer = weekly("09:00", 0, date(2026, 11, 23), members=(1, 2, 3))
    without_bob = replace(layer, skipped=frozenset({2}))
    weeks = [utc(2026, 11, 24, 8), utc(2026, 12, 1, 8), utc(2026, 12, 8, 8), utc(2026, 12, 15, 8)]
    assert [on_call(schedule(layer, tz="Europe/Berlin"), at) for at in weeks] == [[1], [2], [3], [1]]
    # Bob's week goes to Carol (next in order); Carol's and Alice's own weeks stay theirs
    assert [on_call(schedule(without_bob, tz="Europe/Berlin"), at) for at in weeks] == [[1], [3], [3], [1]]
    nobody = replace(layer, skipped=frozenset({1, 2, 3}))
    assert on_call(schedule(nobody, tz="Europe/Berlin"), weeks[0]) == []
