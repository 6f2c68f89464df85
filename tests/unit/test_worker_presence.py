"""Whether a watchdog runs, from its lease and the workers alive now (``worker_presence.watchdog_running``)."""

from __future__ import annotations

import pytest

from app.services.leases import HANDOVER
from app.worker_presence import alive, last_heard, watchdog_running

HELD = {"holder": "a:1", "alive": True, "lapsed_seconds": 0.0}
LAPSED = {"holder": "a:1", "alive": False, "lapsed_seconds": 10.0}
GONE = {"holder": "a:1", "alive": False, "lapsed_seconds": 60.0}
NONE = {"holder": None, "alive": False}


@pytest.mark.parametrize(("lease", "alive_now", "listening", "running"), [
    (HELD, {"a:1"}, True, True),  # its holder alive
    (HELD, set(), True, False),  # its holder killed, nobody else: the lease lasts, the watchdog does not
    (HELD, {"b:2"}, False, True),  # killed, another worker takes it over when it lapses
    (LAPSED, {"b:2"}, False, True),  # changing hands
    (GONE, {"b:2"}, True, False),  # lapsed long ago though a worker lives: nobody takes it
    (NONE, {"b:2"}, True, False),
    # unknown (Redis down, or workers that do not announce themselves): the lease and RQ's listeners, as before
    (HELD, None, False, True),
    (LAPSED, None, True, True),
    (LAPSED, None, False, False),
    (GONE, None, True, False),
])
def test_whether_a_watchdog_runs(lease, alive_now, listening, running):
    assert watchdog_running(lease, alive_now, listening, HANDOVER) is running


def test_alive_is_heard_of_within_fresh_seconds():
    announced = {"a:1": 100.0, "b:2": 91.0}
    assert alive(announced, 100.0) == {"a:1", "b:2"} and alive(announced, 99.5 + 10) == {"a:1"}
    assert last_heard(announced, 112.0) == 12.0 and last_heard({}, 112.0) is None
    assert alive({"c:3": 89.0}, 100.0) == set()
