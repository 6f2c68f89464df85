"""A watchdog pass that fails is tried again within a second or two, not a whole interval later."""

from __future__ import annotations

from app.queue import JobQueue
from app.settings import Settings
from app.wiring import Hotline
from workers import watchdog
from workers.log_repeats import Repeats
from workers.runner import _watch


class _Stop:
    """The runner's stop event, recording each wait and asking the loop to end after ``passes`` of them."""

    def __init__(self, passes: int) -> None:
        self.waits: list[float] = []
        self.passes = passes

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return len(self.waits) >= self.passes


def test_failed_passes_are_retried_after_1_2_4_8_seconds_up_to_the_interval(tmp_path, redis_conn, caplog):
    # a database that cannot be opened: every pass fails at once, as with its connections being killed
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path}/missing/dir/hotline.db",
                        queue_name="test-watchdog-retry")
    hotline = Hotline.build(settings, jobs=JobQueue(redis_conn, settings.queue_name))
    stop = _Stop(passes=6)
    _watch(hotline, stop, interval=10.0, repeats=Repeats())
    assert stop.waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    # the database unreachable at every pass: one line for the outage, not a traceback per pass (app.db_outage)
    [error] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert error.startswith("database unreachable since ")


def test_wait_after_failures():
    assert [watchdog.wait_after_failures(n, 5.0) for n in (1, 2, 3, 4, 9)] == [1.0, 2.0, 4.0, 5.0, 5.0]
