"""A fault the worker retries every second is logged once a minute, with how many lines were held back."""

from __future__ import annotations

import logging

from workers.log_repeats import RETRYING_LOGGERS, RepeatFilter, Repeats, install

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
    repeats = install(interval=60)
    try:
        for _ in range(5):
            logging.getLogger("workers.scheduler").warning("scheduler pass failed (%s); retrying", "ConnectionError")
    finally:
        repeats.remove()  # writes what it held back
    for _ in range(2):
        logging.getLogger("workers.scheduler").warning("scheduler pass failed (%s); retrying", "ConnectionError")
    said = [r.getMessage() for r in caplog.records]
    assert said[0] == said[2] == said[3] == "scheduler pass failed (ConnectionError); retrying"
    assert said[1].startswith("scheduler pass failed (ConnectionError); retrying [4 more like this in the ")
    assert len(said) == 4
    assert "workers.scheduler" in RETRYING_LOGGERS
    assert {name: list(logging.getLogger(name).filters) for name in RETRYING_LOGGERS} == before


def test_a_fault_that_ends_within_the_minute_is_told_with_its_count_once_it_has_been_quiet():
    """Redis back after 20 s: without the watchdog's pass telling it, the 19 retries held back (and so how long
    the fault lasted) would never be written, since no line of their kind comes again."""
    clock = [1000.0]
    repeat = RepeatFilter(interval=60, now=lambda: clock[0])
    for second in range(20):
        clock[0] = 1000.0 + second
        repeat.filter(_record(RETRY, "w1", "refused", 1))
    clock[0] = 1021.0
    assert repeat.held_back(quiet=5) == []  # 2 s without one: it may go on
    clock[0] = 1025.0
    [(name, line)] = repeat.held_back(quiet=5)
    assert name == "rq.worker"
    assert line == ("Worker w1: could not connect to Redis instance: refused retrying in 1 seconds... "
                    "[19 more like this in the 19 s after it not shown; the last 6 s ago]")
    assert repeat.held_back(quiet=5) == [] == repeat.held_back(quiet=None)  # told once
    clock[0] = 1030.0  # the same fault again within the minute: held back, and told in turn
    assert not repeat.filter(_record(RETRY, "w1", "refused", 1))
    assert repeat.held_back(quiet=None)[0][1].endswith("[1 more like this in the 30 s after it not shown; the last 0 s ago]")


def test_the_watchdog_pass_writes_what_was_held_back_past_the_filter(caplog):
    caplog.set_level(logging.WARNING)
    clock = [0.0]
    repeats = Repeats(interval=60)
    repeats.filter._now = lambda: clock[0]
    logger = logging.getLogger("rq.worker")
    logger.addFilter(repeats.filter)
    try:
        for second in range(3):
            clock[0] = float(second)
            logger.error(RETRY, "w1", "refused", 1)
        clock[0] = 10.0
        repeats.tell()
        repeats.tell()
    finally:
        logger.removeFilter(repeats.filter)
    said = [r.getMessage() for r in caplog.records if r.name == "rq.worker"]
    assert said == ["Worker w1: could not connect to Redis instance: refused retrying in 1 seconds...",
                    "Worker w1: could not connect to Redis instance: refused retrying in 1 seconds... "
                    "[2 more like this in the 2 s after it not shown; the last 8 s ago]"]

