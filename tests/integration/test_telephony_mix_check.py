"""A `hotline worker` whose environment lacks the Twilio credentials, in a deployment on Twilio, is named and refused.

Without TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN a worker runs simulated telephony: it takes the deployment's
page jobs from the shared Redis (and its watchdog runs late ones itself from the shared database), "sends" them to
simulated phones and logs them ``page_sent``: no rep is reached, and the log says they were. Such a worker (the
Twilio secrets kept in a file only the web unit reads, say) started without a word, and `hotline check` with the
deployment's settings said 0 errors.
"""

from __future__ import annotations

import re
from datetime import timedelta

from app.config_check import CheckReport, Role, run_checks
from app.services import leases
from app.wiring import Hotline
from tests.conftest import REDIS_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.fakes import FakeClock
from workers import watchdog


def _check(hotline: Hotline, role: Role, twilio: bool) -> CheckReport:
    return run_checks(_env(hotline, twilio), role=role, clock=hotline.clock, probe_twilio=False)


def _env(hotline: Hotline, twilio: bool) -> dict[str, str]:
    settings = hotline.settings
    env = {"HOTLINE_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url, "REDIS_URL": REDIS_URL,
           "QUEUE_NAME": settings.queue_name, "TWILIO_NUMBER": settings.twilio_number,
           "PUBLIC_BASE_URL": settings.public_base_url, "SECRET_KEY": "k" * 40}
    if twilio:
        env |= {"TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN}
    return env


def _telephony(report: CheckReport) -> list[str]:
    return ["\n".join(p.lines()) for p in report.problems if p.where == "telephony"]


def _simulated(hotline: Hotline) -> Hotline:
    settings = hotline.settings.with_overrides(twilio_account_sid="", twilio_auth_token="")
    return Hotline.build(settings, clock=hotline.clock, jobs=hotline.jobs)


def test_a_running_worker_on_simulated_telephony_is_an_error_of_check_with_the_deployments_settings(hotline):
    stray = _simulated(hotline)
    watchdog.tick(stray, "host-b:4242")  # its watchdog's pass, as `hotline worker` runs it
    [line] = _telephony(_check(hotline, Role.CHECK, twilio=True))
    assert line.startswith("ERROR   telephony: a hotline worker (host-b:4242) runs SIMULATED telephony, not Twilio "
                           f"account {TEST_ACCOUNT_SID}")
    assert "pages it takes are logged as sent and reach nobody" in line
    assert "fix: give that worker TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in line
    for role in (Role.SERVE, Role.WORKER):  # a Twilio process still starts, and says so
        [line] = _telephony(_check(hotline, role, twilio=True))
        assert line.startswith("WARNING telephony: a hotline worker (host-b:4242) runs SIMULATED telephony")
    hotline.clock.advance(seconds=31)  # it stopped: its lease lapsed
    assert _telephony(_check(hotline, Role.CHECK, twilio=True)) == []
    stray.db.dispose()


def test_a_worker_without_twilio_credentials_does_not_start_beside_a_worker_on_twilio(hotline):
    watchdog.tick(hotline, "host-a:1")
    for role in (Role.WORKER, Role.SERVE, Role.CHECK):
        report = _check(hotline, role, twilio=False)
        [line] = _telephony(report)
        assert line.startswith(f"ERROR   telephony: a hotline worker (host-a:1) runs on Twilio account {TEST_ACCOUNT_SID}, "
                               "but this process would run SIMULATED telephony")
        assert "fix: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN as on the other hosts" in line


class _SlowProbes(FakeClock):
    """A clock a second later at each reading: the probes between two readings (database, Redis, SMTP) take time."""

    def now(self):
        at = super().now()
        self.advance(seconds=1)
        return at


def test_check_reads_the_watchdogs_heartbeat_age_after_its_slower_probes(hotline):
    # `hotline check` printed "watchdog alive (host-b:4242, heartbeat -0.7 s ago)": it took now before its probes,
    # and the running worker's watchdog renewed its lease meanwhile
    start = hotline.clock.now()
    with hotline.db.transaction() as session:  # renewed half a second after the check began
        leases.hold(session, leases.WATCHDOG, "host-b:4242", start + timedelta(seconds=0.5), watchdog.LEASE_TTL)
    clock = _SlowProbes(start)
    report = run_checks(_env(hotline, twilio=True), role=Role.CHECK, clock=clock, probe_twilio=False)
    [alive] = [line for line in report.passed if line.startswith("watchdog alive")]
    age = float(re.search(r"heartbeat (-?[\d.]+) s ago", alive).group(1))
    assert age >= 0, alive
