"""Replacing a schedule's layers keeps the rep on call now until the next hand-off (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from app.oncall.layer_changes import members_keeping_now
from app.oncall.rotation import on_call, shift_start
from app.oncall.wallclock import zone
from tests.unit.test_rotation import custom, daily, schedule, utc, weekly

NOW = utc(2026, 1, 7, 12)  # daily 09:00 UTC from Monday 5 January: shift 2


def _after(before, after, now=NOW):
    members = members_keeping_now(before, after, now)
    return replace(after, layers=tuple(replace(layer, members=m) for layer, m in zip(after.layers, members,
                                                                                     strict=True)))


def _turns(s, first, count: int, days: int = 1) -> list[int]:
    return [on_call(s, first + timedelta(days=days * n))[0] for n in range(count)]


def test_a_rep_added_at_the_end_does_not_take_the_running_shift():
    before = schedule(daily("09:00", date(2026, 1, 5), members=(1, 2)))
    assert on_call(before, NOW) == [1]
    after = _after(before, schedule(daily("09:00", date(2026, 1, 5), members=(1, 2, 3))))
    assert _turns(after, NOW, 5) == [1, 2, 3, 1, 2]
    assert after.layers[0].members == (2, 3, 1)  # the same cyclic order, turned


def test_the_same_layer_again_is_stored_as_given():
    before = schedule(daily("09:00", date(2026, 1, 5), members=(1, 2, 1, 3)))
    assert _after(before, before).layers == before.layers


def test_removing_the_rep_on_call_hands_over_to_the_one_who_followed_them():
    before = schedule(daily("09:00", date(2026, 1, 5), members=(1, 2, 3)))
    assert on_call(before, NOW) == [3]
    after = _after(before, schedule(daily("09:00", date(2026, 1, 5), members=(2, 1))))
    assert _turns(after, NOW, 3) == [1, 2, 1]


def test_a_deactivated_reps_cover_stays_on():
    # 1's turn, covered by 2 (1 is deactivated); 4 is put after 2, whose turn it would be as given
    before = schedule(replace(daily("09:00", date(2026, 1, 5), members=(2, 3, 1)), skipped=frozenset({1})))
    assert on_call(before, NOW) == [2]
    after = _after(before, schedule(replace(daily("09:00", date(2026, 1, 5), members=(1, 2, 4, 3)),
                                            skipped=frozenset({1}))))
    assert on_call(after, NOW) == [2]


def test_a_new_team_or_a_rotation_not_started_yet_is_taken_as_given():
    before = schedule(daily("09:00", date(2026, 1, 5), members=(1, 2)))
    new_team = schedule(daily("09:00", date(2026, 1, 5), members=(7, 8, 9)))
    assert _after(before, new_team) == new_team
    later = schedule(daily("09:00", date(2026, 1, 12), members=(3, 1)))
    assert _after(before, later) == later


def test_a_new_layer_position_is_taken_as_given():
    before = schedule(daily("09:00", date(2026, 1, 5), members=(1, 2)))
    after = schedule(daily("09:00", date(2026, 1, 5), members=(1, 2)),
                     daily("09:00", date(2026, 1, 5), members=(3, 4, 5), position=1))
    assert _after(before, after) == after


def test_a_new_rotation_and_time_zone_keep_the_rep_on_call_until_the_new_hand_off():
    berlin = zone("Europe/Berlin")
    before = schedule(daily("09:00", date(2026, 1, 5), members=(1, 2)))
    after = _after(before, schedule(weekly("10:00", 0, date(2026, 1, 5), members=(2, 3, 1)), tz="Europe/Berlin"))
    next_handoff = shift_start(after.layers[0], berlin, 1)
    assert next_handoff == utc(2026, 1, 12, 9)
    assert on_call(after, next_handoff - timedelta(seconds=1)) == [1]
    assert _turns(after, next_handoff, 3, days=7) == [2, 3, 1]


def test_a_custom_rotation_keeps_the_running_shift():
    before = schedule(custom("08:00", 12, date(2026, 1, 5), members=(1, 2)))
    running = on_call(before, NOW)
    after = _after(before, schedule(custom("08:00", 12, date(2026, 1, 5), members=(1, 2, 3))))
    assert on_call(after, NOW) == running
