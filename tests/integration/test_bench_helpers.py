"""The benchmarks' own helpers: `bench.webhook_paths --parts` (issue 12's measured reason rests on it) and the bench Redis's cleanup."""

from __future__ import annotations

import os
import re

from app.services import lean_step
from ivr_flows.model import CallState


def test_parts_cover_exactly_the_lean_steps_and_leave_the_app_unwrapped(postgres_url, redis_conn, monkeypatch, capsys):
    from bench import webhook_paths, webhooks
    from tests.conftest import POSTGRES_URL, REDIS_URL

    monkeypatch.setattr(webhook_paths, "SCHEMA", f"bench_paths_test_{os.getpid()}")  # not a developer's bench run
    monkeypatch.setattr(webhook_paths, "POSTGRES_URL", POSTGRES_URL)
    monkeypatch.setattr(webhook_paths, "REDIS_URL", REDIS_URL)
    monkeypatch.setattr(webhooks, "REDIS_URL", REDIS_URL)
    originals = (lean_step.answer, lean_step.plain_step, CallState.__dict__["to_dict"], CallState.__dict__["from_dict"])

    assert webhook_paths.main(["--calls", "2", "--parts"]) == 0
    out = capsys.readouterr().out

    # the answers taken in two statements (the lean path's shape; the status callback has a lean path of its
    # own, not timed) are the steps whose parts were timed
    two_statement_steps = [line for line in out.splitlines() if "/status" not in line
                           and re.fullmatch(r"\| \d+ \| [^|]+ \| [^|]* \| [\d.]+ \| \d+% \| 2 \|", line)]
    assert two_statement_steps, out
    timed = re.search(r"^(\d+) ordinary steps \(answered by the lean path\)", out, re.MULTILINE)
    assert timed and int(timed.group(1)) == 2 * len(two_statement_steps), out
    for label, _module, _attribute in webhook_paths.Parts.TIMED:
        assert re.search(rf"^\| {re.escape(label)} \| [\d.]+ \| \d+% \|$", out, re.MULTILINE), label
    assert "| **the whole ordinary step** |" in out
    assert re.search(r"^\| the same requests through the bare app .* \| [\d.]+ \| \d+% \|$", out, re.MULTILINE)
    assert re.search(r"^\| the same requests through the floor app .* \| [\d.]+ \| \d+% \|$", out, re.MULTILINE)
    # the app is as it was: no timing wrapper left behind
    assert (lean_step.answer, lean_step.plain_step, CallState.__dict__["to_dict"],
            CallState.__dict__["from_dict"]) == originals


def test_forgetting_a_bench_queue_takes_its_first_and_pages_siblings_and_nothing_else(redis_conn, monkeypatch):
    """The opening pages the on-call rep: its jobs wait in the ``-first`` and ``-pages`` queues (app.queue)."""
    from datetime import UTC, datetime, timedelta

    from app.queue import JobQueue, PendingJob
    from bench import webhooks
    from tests.conftest import REDIS_URL

    monkeypatch.setattr(webhooks, "REDIS_URL", REDIS_URL)
    bench, other = JobQueue(redis_conn, "bench-forget"), JobQueue(redis_conn, "kept")
    for jobs in (bench, other):
        now, tag = datetime.now(UTC), jobs.name  # job ids of their own: RQ's job keys are shared by every queue
        assert jobs.dispatch([PendingJob("step", 1, now, tag=tag, first=True), PendingJob("page", 2, now, tag=tag),
                              PendingJob("step", 3, now + timedelta(hours=1), tag=tag)], now) == 3

    webhooks.forget_queue("bench-forget")

    assert not [key for key in redis_conn.scan_iter("*bench-forget*")]
    assert (bench.waiting(), bench.scheduled_ids()) == (0, [])
    assert (other.waiting(), sorted(other.scheduled_ids())) == (2, ["step-3-kept"])


def test_the_watchdog_pass_benchmark_times_the_pass_and_each_query_and_leaves_no_schema(postgres_url, redis_conn,
                                                                                        tmp_path, monkeypatch):
    import tempfile

    from sqlalchemy import create_engine, text

    # bench.common makes its root of settings' data directories at import and removes it at exit: imported after
    # the patch below (this test the first of its process to import it), it was made in tmp_path and failed the test
    import bench.common  # noqa: F401
    from bench.watchdog_pass import measure
    from tests.conftest import POSTGRES_URL, REDIS_URL

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its data directory goes
    figures = measure(3, POSTGRES_URL, REDIS_URL)
    assert list(tmp_path.iterdir()) == []  # and it is gone
    # a busy hotline (--open): open incidents nobody owns, their first level paged, which the hand-off look-up reads
    busy = measure(2, POSTGRES_URL, REDIS_URL, open_incidents=3)
    assert list(tmp_path.iterdir()) == []

    assert list(figures) == list(busy) == [
        "the whole pass", "calls whose end was never reported", "overdue steps", "due pages", "due callbacks",
        "queued notices", "due deliveries", "due status lookups", "hand-offs"]
    assert all(ms > 0 for ms in figures.values()), figures
    # a pass runs every query and more: it costs more than any one of them
    assert figures["the whole pass"] > max(ms for name, ms in figures.items() if name != "the whole pass")
    engine = create_engine(POSTGRES_URL)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM information_schema.schemata "
                                 "WHERE schema_name LIKE 'bench_watchdog_%'")).scalar()
    engine.dispose()
    assert left == 0
