"""The compliance report's durations (m:ss) never read shorter than they were: 15:00 means the promise was kept."""

import pytest

from app.dashboard.report_views import mmss


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, "–"), (0.0, "0:00"), (0.2, "0:01"), (59.0, "0:59"), (59.1, "1:00"),
    (899.6, "15:00"), (900.0, "15:00"),  # kept: at most 15 minutes after capture
    (900.4, "15:01"), (901.0, "15:01"),  # missed by under a second: not shown as 15:00
    (3599.5, "1:00:00"), (3725.0, "1:02:05"),
])
def test_a_duration_is_rounded_up_to_the_second(seconds, shown):
    assert mmss(seconds) == shown
