"""The database outage's log lines (one ERROR, a reminder a minute, one line back) and its reason's safe words."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import psycopg2
import pytest
from sqlalchemy.exc import DisconnectionError, OperationalError

from app.db_outage import Outage, reason

URL_WITH_PASSWORD = "postgresql://hotline:s3cret-pw@db.internal:5432/hotline"


def _wrapped(message: str) -> OperationalError:
    """What SQLAlchemy raises for psycopg2's error ``message`` (its text names the host, port, user)."""
    return OperationalError("SELECT 1", {}, psycopg2.OperationalError(message))


@pytest.mark.parametrize(("message", "said"), [
    ('connection to server at "127.0.0.1", port 18899 failed: Connection refused\n\tIs the server running on that '
     'host and accepting TCP/IP connections?', "connection refused"),
    ('connection to server at "db.internal" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed '
     'for user "hotline"', "authentication failed"),
    ('connection to server at "db.internal", port 5432 failed: FATAL:  sorry, too many clients already',
     "too many connections"),
    ('connection to server at "db.internal", port 5432 failed: FATAL:  remaining connection slots are reserved for '
     'non-replication superuser connections', "too many connections"),
    ('connection to server at "db.internal" (10.0.0.5), port 5432 failed: timeout expired', "no answer within 5 s"),
    ('connection to server at "db.internal", port 5432 failed: FATAL:  the database system is shutting down',
     "server starting up or shutting down"),
    ("server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
     "connection lost"),
    (f"invalid dsn: {URL_WITH_PASSWORD}", "other (OperationalError)"),
])
def test_the_reason_is_a_few_fixed_words_never_the_host_the_user_or_the_password(message, said):
    why = reason(_wrapped(message), connect_seconds=5)
    assert why == said
    assert not {"db.internal", "127.0.0.1", "hotline", "s3cret", "5432"} & set(why.replace("(", " ").split())


def test_the_reason_of_other_errors_and_of_a_spent_time_limit():
    assert reason(DisconnectionError("the server closed this pooled connection")) == "connection lost"
    assert reason(ValueError("x")) == "other (ValueError)"
    assert reason(_wrapped("Connection refused"), spent=True) == "no answer within this request's time limit"
    assert reason(_wrapped("timeout expired")) == "no answer in time"


def test_an_outage_is_one_error_a_reminder_a_minute_and_one_line_when_it_is_back(caplog):
    caplog.set_level(logging.DEBUG, logger="app.db_outage")
    elapsed = [100.0]
    outage = Outage(lambda: datetime(2026, 11, 26, 21, 23, 1, tzinfo=UTC), elapsed=lambda: elapsed[0])
    refused = _wrapped("Connection refused")
    outage.over()  # nothing was down: nothing to say
    for second in range(150):  # two and a half minutes, a failure a second
        elapsed[0] = 100.0 + second
        outage.note(refused)
    elapsed[0] = 260.0
    outage.over()
    outage.over()
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert said == [
        ("ERROR", "database unreachable since 2026-11-26 21:23:01 UTC (connection refused): callers go to the emergency "
                  "spool, due steps wait; said again at most once a minute while it lasts, and when it is back"),
        ("ERROR", "database still unreachable since 2026-11-26 21:23:01 UTC (connection refused; 61 failures in this "
                  "process so far): callers go to the emergency spool, due steps wait"),
        ("ERROR", "database still unreachable since 2026-11-26 21:23:01 UTC (connection refused; 121 failures in this "
                  "process so far): callers go to the emergency spool, due steps wait"),
        ("WARNING", "database reachable again after 160 s (unreachable since 2026-11-26 21:23:01 UTC, 150 failures in "
                    "this process); the spooled records are replayed by the leading watchdog"),
    ]
    assert outage.since is None


def test_a_second_outage_within_the_minute_waits_for_the_minute_to_be_told():
    elapsed = [0.0]
    outage = Outage(lambda: datetime(2026, 11, 26, tzinfo=UTC), elapsed=lambda: elapsed[0])
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("app.db_outage")
    logger.addHandler(handler)
    try:
        outage.note(ValueError("down"))  # told
        elapsed[0] = 5.0
        outage.over()  # told: back
        elapsed[0] = 10.0
        outage.note(ValueError("down"))  # a flap 10 s later: counted, not told yet
        elapsed[0] = 12.0
        outage.over()  # its start was not told: neither is its end
        elapsed[0] = 70.0
        outage.note(ValueError("down"))  # a minute after the last line: told again
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage().split(" (")[0] for r in records] == [
        "database unreachable since 2026-11-26 00:00:00 UTC", "database reachable again after 5 s",
        "database unreachable since 2026-11-26 00:00:00 UTC"]
