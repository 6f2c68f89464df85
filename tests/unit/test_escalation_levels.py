"""When each level of a policy pages (``escalation.levels.level_due_times``): as the policy says from the promise's
start, and, planned late (a rescued incident), a later level keeps its wait after the first level (probe A F5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.escalation.levels import level_due_times

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEFAULT = [0, 3, 6]  # the default policy: primary, then secondary (and primary again) at 3, managers at 6
AT_RISK = T0 + timedelta(minutes=10)  # a 15-minute promise from T0


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(("planned_at", "delays", "expected", "why"), [
    (0, DEFAULT, [0, 3, 6], "planned at the start: as the policy says"),
    (0, [2, 5], [2, 5], "a first level that waits: as the policy says"),
    (1, [2, 5], [2, 5], "planned before the first level's time: as the policy says"),
    (3.1, DEFAULT, [3.1, 6.1, 9.1], "rescued 3 min late: each later level waits its time after the first"),
    (2, [0, 0, 6], [2, 2, 8], "levels the policy puts at the same minute page together"),
    (6, DEFAULT, [6, 9, 10], "a later level pages by the at-risk alert at the latest"),
    (9.5, DEFAULT, [9.5, 10.5, 10.5], "near the at-risk time: at least a minute after the first, not at once"),
    (12, DEFAULT, [12, 13, 13], "past the at-risk time: a minute after the first, still before the deadline"),
    (0, [0, 12], [0, 12], "a level after the at-risk time the policy set (hotline check warns) is kept"),
    (4, [0, 12], [4, 12], "... and never earlier than the policy says"),
    (5, [3, 1], [5, 5], "a level set before the first pages no earlier than now"),
])
def test_level_due_times(planned_at, delays, expected, why):
    assert level_due_times(T0, m(planned_at), delays, AT_RISK) == [m(x) for x in expected], why


def test_no_levels_no_times():
    assert level_due_times(T0, T0, [], AT_RISK) == []


@pytest.mark.parametrize(("now", "wait", "expected", "why"), [
    (2, 3, 5, "withdrawn early: its policy wait from now, before the at-risk alert"),
    (8.5, 3, 10 - 1 / 60, "just before the at-risk alert at the latest"),
    (11, 3, 12, "past the at-risk time: a minute from now, before the deadline"),
    (11, 0, 11, "a level the policy pages with the first: at once"),
    (16, 6, 22, "the deadline passed (a reopen after it): the policy wait from now, as before"),
])
def test_a_level_that_stood_down_pages_again_before_the_deadline(now, wait, expected, why):
    """Second probe (session 43): a 3-second callback withdrawn near the deadline paged the next level after it."""
    from app.escalation.levels import rearmed_at

    assert rearmed_at(m(now), timedelta(minutes=wait), AT_RISK, m(15)) == m(expected), why
