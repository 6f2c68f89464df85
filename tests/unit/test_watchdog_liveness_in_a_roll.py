"""The start-up and `hotline check` verdict on the watchdog's lease holder (``config_check._watchdog_liveness``) in a
rolling upgrade: a holder that never announced its presence is a worker of an older version, alive as its fresh lease
says, not "killed or frozen" (probe zb, ZB3: a new web host said so of the old worker passing the watchdog). A holder
that announced and fell silent is still called dead."""

from __future__ import annotations

from datetime import UTC, datetime

from app.config_check import _watchdog_liveness
from app.config_report import CheckReport

NOW = datetime(2026, 12, 8, 21, 47, tzinfo=UTC)
LEASE = {"alive": True, "holder": "vm:28690", "heartbeat_age_seconds": 4}


def _verdict(announced: dict[str, float] | None) -> CheckReport:
    report = CheckReport()
    _watchdog_liveness(LEASE, announced, NOW, report.error, report)
    return report


def test_an_old_worker_holding_the_lease_beside_new_ones_that_announce_is_alive_by_its_lease():
    report = _verdict({"vm:31002": NOW.timestamp() - 1})  # the new worker announces, the old holder never did
    assert (report.errors, report.warnings) == ([], [])
    assert any("watchdog alive (vm:28690, heartbeat 4 s ago; it announces no presence" in line
               for line in report.passed)


def test_a_holder_that_announced_and_fell_silent_is_still_called_killed_or_frozen():
    report = _verdict({"vm:28690": NOW.timestamp() - 25, "vm:31002": NOW.timestamp() - 1})
    [warning] = report.warnings
    assert "held by vm:28690, last heard 25 s ago: it was killed or is frozen" in warning.message
    assert "1 other worker(s) alive take it over then" in warning.message
    alone = _verdict({"vm:28690": NOW.timestamp() - 25})
    assert "no other `hotline worker` is alive" in alone.errors[0].message


def test_no_worker_announcing_leaves_the_lease_alone_to_say_it():
    report = _verdict(None)
    assert (report.errors, report.warnings) == ([], [])
    assert "watchdog alive (vm:28690, heartbeat 4 s ago)" in report.passed
