"""The report's hour-of-week buckets: grouping 15-minute UTC slots by (offset period, slot in the week) is exact."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.reports.facts_sync import SLOT_SECONDS, slot_of
from app.reports.figures import WEEK_SLOTS, HoursOfWeek


def _hour(hours: HoursOfWeek, slot: int) -> int:
    """The hour a slot's group gets, grouped as the report's SQL does (``HoursOfWeek.grouping``): its period
    (the last starting at or before it) when there are several, and its place in the week."""
    period = max(i for i, start in enumerate(hours.starts) if start <= slot)
    group = (period, slot % WEEK_SLOTS) if len(hours.starts) > 1 else (slot % WEEK_SLOTS,)
    return hours.hour_of(*group)

# DST in both hemispheres, half- and quarter-hour offsets, a 30-minute DST shift, UTC and a date-line zone.
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Pacific/Kiritimati"]


@pytest.mark.parametrize("zone_name", ZONES)
def test_every_slot_of_two_years_lands_in_the_hour_a_conversion_gives(zone_name):
    zone = ZoneInfo(zone_name)
    first, end = slot_of(datetime(2025, 1, 1, tzinfo=UTC)), slot_of(datetime(2027, 1, 1, tzinfo=UTC))
    hours = HoursOfWeek(zone, first, end)
    assert len(hours.starts) == (1 if zone_name in ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Kiritimati")
                                 else 5)  # two years of DST: four changes of offset
    for slot in range(first, end):
        local = datetime.fromtimestamp(slot * SLOT_SECONDS, UTC).astimezone(zone)
        assert _hour(hours, slot) == local.weekday() * 24 + local.hour, (zone_name, local)


def test_a_period_starts_at_the_slot_of_the_change_and_a_week_slot_maps_to_one_hour():
    berlin = ZoneInfo("Europe/Berlin")
    start, end = slot_of(datetime(2026, 3, 1, tzinfo=UTC)), slot_of(datetime(2026, 4, 1, tzinfo=UTC))
    hours = HoursOfWeek(berlin, start, end)
    assert hours.starts == [start, slot_of(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))]  # CET to CEST at 01:00 UTC
    assert hours.offsets == [3600, 7200]
    monday = slot_of(datetime(2026, 3, 30, 0, 15, tzinfo=UTC))  # Monday 02:15 CEST
    assert hours.hour(1, monday % WEEK_SLOTS) == 2
    assert _hour(hours, slot_of(datetime(2026, 3, 1, 23, 0, tzinfo=UTC))) == 0  # Monday 00:00 CET
