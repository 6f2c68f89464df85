"""A database outage in the logs: one ERROR for the process, one WARNING per caller or job kept, no traceback.

An outside probe restarted PostgreSQL under a running hotline: nothing was lost, but each worker wrote about 1,000
lines a minute (a chained traceback, SQL and parameters included, at every watchdog pass and for every RQ job that
met the dead database) and each web host two ~120-line tracebacks per caller it kept in the spool. Here the
processes meet a database they cannot reach (a closed PostgreSQL port, a SQLite file in a directory that does not
exist) and the log is counted; an error that is not the database's still logs its traceback.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from rq.registry import FailedJobRegistry

from app import create_app, health
from app.queue import JobQueue
from app.services.spool import SPOOL_NAME
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from workers import context, watchdog
from workers.consuming import StoppableWorker
from workers.log_repeats import Repeats
from workers.runner import _watch

CLOSED_PORT = "postgresql://nobody@127.0.0.1:1/none"
OUTAGE = "app.db_outage"


def _unreachable_url(hotline, tmp_path) -> str:
    if hotline.settings.database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'hotline.db'}"
    return CLOSED_PORT


@contextmanager
def _without_database(hotline, tmp_path):
    """The hotline as a process sees it whose database cannot be reached: the same data dir, Redis and queues."""
    dead = hotline.settings.with_overrides(database_url=_unreachable_url(hotline, tmp_path))
    broken = Hotline.build(dead, clock=hotline.clock, jobs=JobQueue(hotline.jobs.redis, dead.queue_name))
    try:
        yield broken
    finally:
        broken.db.dispose()


def _tracebacks(caplog) -> list[logging.LogRecord]:
    """Records with a traceback (the log's redaction turns ``exc_info`` into ``exc_text``; RQ puts it in the message)."""
    return [r for r in caplog.records if r.exc_info or r.exc_text or "Traceback (most recent call last)" in r.getMessage()]


def _at(caplog, level: int, name: str | None = None) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and (name is None or r.name == name)]


class _Stop:
    """The runner's stop event: asks the watchdog loop to end after ``passes`` waits."""

    def __init__(self, passes: int) -> None:
        self.passes, self.waits = passes, 0

    def wait(self, _seconds: float) -> bool:
        self.waits += 1
        return self.waits >= self.passes


def test_watchdog_passes_with_the_database_unreachable_log_one_error_and_no_traceback(hotline, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    with _without_database(hotline, tmp_path) as broken:
        _watch(broken, _Stop(passes=8), interval=10.0, repeats=Repeats())
    assert _tracebacks(caplog) == []
    [error] = _at(caplog, logging.ERROR)  # 8 failed passes: the outage's one line, not 8 tracebacks
    assert error.startswith("database unreachable since 2026-11-26 03:00:00 UTC (")
    assert error.endswith("callers go to the emergency spool, due steps wait; said again at most once a minute while "
                          "it lasts, and when it is back")
    if not hotline.settings.database_url.startswith("sqlite"):
        assert "(connection refused)" in error
    assert "watchdog pass failed" not in caplog.text


def test_a_job_that_meets_the_dead_database_is_one_warning_and_stays_failed_for_the_watchdog(hotline, tmp_path,
                                                                                               caplog):
    caplog.set_level(logging.WARNING)
    with _without_database(hotline, tmp_path) as broken:
        context.use(broken)
        try:
            for step_id in (4, 10, 22):
                broken.jobs.queue.enqueue("workers.jobs.run_step", step_id, job_id=f"step-{step_id}")
            StoppableWorker(broken.jobs.queues, connection=broken.jobs.redis).work(burst=True,
                                                                                   logging_level="WARNING")
        finally:
            context.use(hotline)
    assert _tracebacks(caplog) == []
    assert [m for m in _at(caplog, logging.ERROR) if "exception raised while executing" in m] == []
    [outage] = _at(caplog, logging.ERROR)
    assert outage.startswith("database unreachable since")
    warned = [m for m in _at(caplog, logging.WARNING, "rq.worker") if "not done: the database is unreachable" in m]
    assert len(warned) == 3
    assert "job step-4 (workers.jobs.run_step) not done: the database is unreachable (" in warned[0]
    assert warned[0].endswith("the watchdog hands it over again once it is back")
    # handled by RQ as before: in the failed registry, its row still due in SQL for the watchdog to hand over again
    failed = FailedJobRegistry(hotline.jobs.queue.name, connection=hotline.jobs.redis).get_job_ids()
    assert sorted(failed) == ["step-10", "step-22", "step-4"]


def _boom(_: int) -> None:
    raise ValueError("not the database")


def test_a_job_that_fails_otherwise_still_logs_rqs_error_with_its_traceback(hotline, caplog):
    caplog.set_level(logging.WARNING)
    hotline.jobs.queue.enqueue(f"{__name__}._boom", 1, job_id="boom-1")
    StoppableWorker(hotline.jobs.queues, connection=hotline.jobs.redis).work(burst=True, logging_level="WARNING")
    [error] = [m for m in _at(caplog, logging.ERROR, "rq.worker") if "exception raised while executing" in m]
    assert "job boom-1" in error and "ValueError: not the database" in error and "Traceback" in error
    assert [m for m in _at(caplog, logging.ERROR) if "database unreachable" in m] == []


def test_a_watchdog_pass_that_fails_otherwise_still_logs_its_traceback(hotline, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)

    def broken_tick(*_args, **_kwargs):
        raise RuntimeError("a bug in the pass")

    monkeypatch.setattr(watchdog, "tick", broken_tick)
    _watch(hotline, _Stop(passes=2), interval=10.0, repeats=Repeats())
    passes = [r for r in caplog.records if r.getMessage() == "watchdog pass failed"]
    assert len(passes) == 2 and all(r.levelno == logging.ERROR for r in passes)
    assert all("RuntimeError: a bug in the pass" in (r.exc_text or "") for r in passes)


def _caller(app_client, caller: str) -> SimulatedCall:
    return SimulatedCall(transport=flask_transport(app_client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller=caller)


def test_callers_kept_in_the_spool_are_one_warning_each_and_the_outage_one_error(hotline, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    with _without_database(hotline, tmp_path) as broken:
        web = create_app(broken).test_client()
        first, second = _caller(web, "+14155550101"), _caller(web, "+14155550102")
        assert first.dial().kind == "record"  # the emergency voicemail
        assert second.dial().kind == "record"
        assert first.record(seconds=20).kind == "hangup"
        assert (broken.settings.data_dir / SPOOL_NAME).exists()
    assert _tracebacks(caplog) == []
    [outage] = _at(caplog, logging.ERROR)
    assert outage.startswith("database unreachable since 2026-11-26 03:00:00 UTC (")
    voice = _at(caplog, logging.WARNING, "app.voice.routes")
    assert [line.split(": ")[0] for line in voice] == [
        f"call {first.call_sid}", f"call {second.call_sid}", f"voicemail of call {first.call_sid}"]
    assert all(line.endswith("kept in the spool") and "database unreachable" in line for line in voice)


def test_a_voice_webhook_that_fails_otherwise_still_logs_its_traceback(hotline, client, monkeypatch, caplog):
    from app.services import intake

    caplog.set_level(logging.WARNING)

    def broken_start(*_args, **_kwargs):
        raise RuntimeError("a bug in the flow")

    monkeypatch.setattr(intake, "start_call", broken_start)
    call = _caller(client, "+14155550103")
    assert call.dial().kind == "record"  # still saved (in SQL: the database answers) and asked for a voicemail
    [failed] = [r for r in caplog.records if r.getMessage().startswith("voice webhook failed; rescuing call")]
    assert failed.levelno == logging.ERROR and "RuntimeError: a bug in the flow" in (failed.exc_text or "")
    assert [m for m in _at(caplog, logging.ERROR) if "database unreachable" in m] == []


def test_healthz_names_why_the_database_cannot_be_used_in_a_few_safe_words(hotline, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    with _without_database(hotline, tmp_path) as broken:
        answer = create_app(broken).test_client().get("/healthz")
    assert answer.status_code == 503
    database = answer.get_json()["checks"]["database"]
    if hotline.settings.database_url.startswith("sqlite"):
        assert database == "error: other (OperationalError)"  # SQLite: no such directory
    else:
        assert database == "error: connection refused"  # was "error: OperationalError"
    # the first poll of an outage says what it means (until session 49 its warnings were empty)
    assert answer.get_json()["warnings"] == [health.DATABASE_UNREACHABLE.format(reason=database.removeprefix("error: "))]
    assert "emergency voicemail" in answer.get_json()["warnings"][0]
    assert [m.split(" (")[0] for m in _at(caplog, logging.ERROR)] == [
        "database unreachable since 2026-11-26 03:00:00 UTC"]  # a web host with no caller says it too, once
