"""A fault the worker retries every second is logged once a minute, with how many lines were held back."""

from __future__ import annotations

import logging

from workers.log_repeats import RETRYING_LOGGERS, RepeatFilter, install

RETRY = "Worker %s: could not connect to Redis instance: %s retrying in %d seconds..."


def _record(msg: str, *args, level: int = logging.ERROR, name: str = "rq.worker", exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)


def test_a_retry_logged_every_second_goes_out_once_a_minute_with_the_count_held_back():
    clock = [1000.0]
    repeat = RepeatFilter(interval=60, now=lambda: clock[0])
    passed = []
    for second in range(150):  # two and a half minutes of a dead Redis, one retry a second
        clock[0] = 1000.0 + second
        record = _record(RETRY, "w1", "Error 111 connecting. Connection refused.", 1)
        if repeat.filter(record):
            passed.append((second, record.getMessage()))
    assert [second for second, _ in passed] == [0, 60, 120]
    assert passed[0][1] == "Worker w1: could not connect to Redis instance: Error 111 connecting. Connection refused. " \
                           "retrying in 1 seconds..."
    assert passed[1][1].endswith("retrying in 1 seconds... [59 more like this in the last 60 s not shown]")
    assert passed[2][1].endswith("[59 more like this in the last 60 s not shown]")


def test_each_worker_each_fault_each_job_and_every_traceback_or_info_line_goes_out():
    repeat = RepeatFilter(interval=60, now=lambda: 5.0)
    assert repeat.filter(_record(RETRY, "w1", "refused", 1))
    assert repeat.filter(_record(RETRY, "w2", "refused", 1))  # another worker of the process
    assert repeat.filter(_record(RETRY, "w1", "Timeout reading from socket", 1))  # another fault
    assert not repeat.filter(_record(RETRY, "w1", "refused", 1))
    moved = "Worker %s: moving job %s to the failed registry"
    assert repeat.filter(_record(moved, "w1", "step-1", level=logging.WARNING))
    assert repeat.filter(_record(moved, "w1", "step-2", level=logging.WARNING))  # another job: never held back
    for _ in range(3):
        assert repeat.filter(_record("Worker %s: %s: %s", "w1", "hotline", "step-1", level=logging.INFO))
        try:
            raise ConnectionError("refused")
        except ConnectionError as exc:
            assert repeat.filter(_record("watchdog could not run %s", "step-1", name="workers.scheduler",
                                         exc_info=(type(exc), exc, exc.__traceback__)))


def test_install_filters_the_retrying_loggers_until_it_is_taken_off(caplog):
    caplog.set_level(logging.WARNING)
    before = {name: list(logging.getLogger(name).filters) for name in RETRYING_LOGGERS}
    remove = install(interval=60)
    try:
        for _ in range(5):
            logging.getLogger("workers.scheduler").warning("scheduler pass failed (%s); retrying", "ConnectionError")
    finally:
        remove()
    for _ in range(2):
        logging.getLogger("workers.scheduler").warning("scheduler pass failed (%s); retrying", "ConnectionError")
    assert [r.getMessage() for r in caplog.records] == ["scheduler pass failed (ConnectionError); retrying"] * 3
    assert "workers.scheduler" in RETRYING_LOGGERS
    assert {name: list(logging.getLogger(name).filters) for name in RETRYING_LOGGERS} == before
