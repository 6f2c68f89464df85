"""``/healthz``: database and Redis reachability, the watchdog's heartbeat, whether anyone can be paged now, and
whether pages reach Twilio."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import db_time_limit, worker_presence
from app.db import unreachable
from app.db_outage import reason
from app.db_wait_bound import BOUND_SECONDS, TooSlow, bounded, take_intake_lock
from app.redis_refusal import write_refused

bp = Blueprint("health", __name__)


NOBODY_TO_PAGE = ("nobody can be paged now: no schedule the escalation policy pages has an active rep on call, "
                  "no rep it names is active, and no active rep is a manager (`hotline check` says how to fix it)")

# the policy in use pages only TAMs (told, never asked) or managers before the at-risk alert: incidents page the
# managers alone (``nobody_to_page``) while the on-call reps are never paged
ROTA_NOT_PAGED = ("the escalation policy in use pages no schedule or rep before the at-risk alert (only a TAM or the "
                  "managers): the on-call reps would not be paged in time to acknowledge (`hotline check` names the "
                  "policy and the fix)")

NO_LISTENER = ("no RQ worker listens on queue {queue!r} although a watchdog runs: a `hotline worker` with another "
               "QUEUE_NAME or REDIS_URL? Pages wait for the watchdog's takeover, seconds late (`hotline check` says more)")

# a count, not names: /healthz answers anyone who can reach it
NO_SMS_PAGES = ("{count} of the reps paged now cannot get SMS pages (their number texted STOP): their pages are "
                "calls only until each texts START to the hotline number (`hotline check` names them)")

# The parts without which this node records no caller: the load balancer's answer (200 or 503) follows them alone
TAKES_CALLERS = ("database", "schema")
# Warnings, not a 503: intake records every caller without them (README, *Logs*)
REDIS_DOWN = ("Redis does not answer: callers are still taken and recorded, and the watchdog runs due steps and pages "
              "from SQL, seconds later than RQ would (`hotline check` names REDIS_URL's problem)")
REDIS_REFUSES = ("Redis answers but refuses writes, so no job reaches RQ: callers are still taken and recorded, and the "
                 "watchdog runs due steps and pages from SQL as for a Redis that is down. Fix: {fix}")
NO_WATCHDOG = ("no watchdog runs (no `hotline worker`, or all of them restarting): callers are still taken and "
               "recorded, but no page, escalation or callback leaves until a `hotline worker` runs")

# no number, no error text: /healthz answers anyone who can reach it (the worker's log names each failure)
MAIL_WAITING = ("{count} e-mail(s) wait for SMTP after a failed try, the oldest queued at {since} (see the worker's log "
                "for the error; check SMTP_HOST, SMTP_PORT and the credentials): customers' receipts and breach "
                "notices, the TAM's e-mails and e-mailed updates are late; each is retried")
# a count, not the workers' names (`hotline check` names them)
OTHER_SECRET_KEY = ("hotline workers running now sign with {count} SECRET_KEY(s) other than this web process's: "
                    "{breaks}. Fix: {fix} (`hotline check` names the workers); {rolling}")
# counts, not references: a reference is what a repeat caller proves (SECURITY.md); the board names the incidents
STEPS_PUT_OFF = ("{count} due step(s) (pages, alerts, breach or receipt) of {incidents} incident(s) put off for "
                 "{seconds} s or more because another transaction holds their incident's row lock (a psql session, a "
                 "web process frozen in a transaction?), first at {since}: the callback promise of those incidents is "
                 "at risk until the lock is released (the board names them; PostgreSQL's pg_locks names the holder)")
# a slow database is every host's: a warning in a 200, as Redis down is (a 503 would take them all out at once)
SLOW = "slow"
DATABASE_SLOW = ("the database did not answer {what} within {seconds:g} s: a table or row locked by another "
                 "transaction (a migration, a psql session, a process frozen in a transaction?) or an overloaded "
                 "server. Not checked: {unchecked}. Callers reaching this node meanwhile may wait and go to the "
                 "emergency voicemail (the spool); PostgreSQL's pg_locks and pg_stat_activity name the holder")
NOT_CHECKED_READS = ("the watchdog, who can be paged now, paging to Twilio, e-mails waiting and steps put off")
# A server that does not answer at all (stopped with SIGSTOP, frozen, swapping, a network path that drops packets):
# statement_timeout needs a server that answers, so ``db_time_limit`` shuts the connection's socket at /healthz's own
# limit. As a database that refuses connections, a 503: this node records no caller in SQL meanwhile.
NOT_ANSWERING = f"error: no answer within {db_time_limit.HEALTH_SECONDS:g} s"
DATABASE_NOT_ANSWERING = ("the database did not answer at all within {seconds:g} s (a server stopped or frozen, "
                          "swapping, or a network path that drops packets; a lock would have been \"slow\" within "
                          "{bound:g} s): callers reaching this node go to the emergency voicemail (the spool) until "
                          "it answers, and nothing after it was checked")
# A server that refuses the connection, rejects the login, is full or starting: the check's value names which (a few
# fixed words, ``db_outage.reason``); until session 49 a failing /healthz's warnings said nothing on an outage's first
# poll (the spool's line came only once a caller was kept)
DATABASE_UNREACHABLE = ("the database cannot be used ({reason}): callers reaching this node go to the emergency "
                        "voicemail (the spool), replayed into the database once it answers; no page, escalation or "
                        "callback leaves meanwhile, and nothing after it was checked (`hotline check` says more)")
REDIS_EVICTS = "{describe} Fix: {fix} (`hotline check` says the same)"
PAGES_FAILING = ("no page reached Twilio since {since}: the last {count} attempts failed (errors or no answer from "
                 "Twilio), so reps are not being paged; callers are still recorded, and {follows}")


@bp.get("/healthz")
def healthz():
    """200 when this node takes callers (SQL answers and the schema is usable), 503 otherwise (naming the part).

    Each database statement waits at most ``BOUND_SECONDS`` (``app.db_wait_bound``): a table or row lock another
    transaction holds, or a slow server, is ``"database": "slow"`` and a warning naming what was not checked, a 200
    answered in time rather than a hang (a load balancer's timeout on every host at once) ending in "ok". A server
    that does not answer at all (frozen, a dropped network path) is cut off at ``db_time_limit.HEALTH_SECONDS`` for
    the whole of /healthz's database work (its connection shut and dropped from the pool): ``NOT_ANSWERING``, a 503.

    Redis not answering or refusing writes (full, a read-only replica: a write probe, since PING passes there), no
    watchdog running, nobody to page now, a policy in use that pages no schedule or rep before the at-risk alert
    (``rota_paged``), pages Twilio does not take (``paging``: a Twilio outage) and due steps put
    off for seconds on their locked incident (``steps_put_off``) are warnings,
    not a 503: every web host shares them, so a load balancer would take all of them
    out at once and callers would reach no hotline, while intake still records them and alerts whoever it can.
    """
    hotline = current_app.extensions["hotline"]
    checks: dict[str, str] = {}
    warnings: list[str] = []
    try:
        with hotline.db.session() as session, bounded(session):
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except TooSlow:
        checks["database"] = SLOW
        warnings.append(DATABASE_SLOW.format(what="SELECT 1", seconds=BOUND_SECONDS,
                                             unchecked=f"the schema, {NOT_CHECKED_READS}"))
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        checks["database"] = _database_error(hotline, exc)
    try:
        refused = write_refused(hotline.jobs.redis)  # a PING passes on a full Redis or a read-only replica
        checks["redis"] = f"error: refuses writes: {refused.describe()}" if refused else "ok"
        warnings += [REDIS_REFUSES.format(fix=refused.fix)] if refused else []
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
        warnings.append(REDIS_DOWN)
    watchdog, on_call, paging, alive_now, put_off = None, None, None, None, None
    if checks["database"] == "ok":
        schema, warning = _schema_check(hotline, _guard_state(current_app))
        if schema == NOT_ANSWERING:  # the server stopped answering since SELECT 1: the schema is not what failed
            checks["database"] = schema
        else:
            checks["schema"] = schema
            warnings += [warning] if warning else []
    if checks.get("schema") == "ok":  # the lock an intake's write takes: a SELECT passes under some locks that stop it
        try:
            with hotline.db.session() as session, bounded(session) as conn:
                take_intake_lock(conn)  # rolled back as the session closes: nothing is written
        except TooSlow:
            checks["database"] = SLOW
            warnings.append(DATABASE_SLOW.format(what="the lock a caller's incident is written under",
                                                 seconds=BOUND_SECONDS, unchecked=NOT_CHECKED_READS))
        except DBAPIError as exc:  # stopped answering (or went down) since the schema was read
            checks["database"] = _database_error(hotline, exc)
    if checks.get("schema") == "ok" and checks["database"] == "ok":
        from app.services.mail_health import mail_waiting
        from app.services.oncall_coverage import no_sms_pages_now, nobody_to_page_now, rota_paged_in_time
        from app.services.paging_health import paging_health
        from app.services.put_off_steps import WARN_AFTER, put_off_now
        from app.watchdog_state import watchdog_state

        now = hotline.clock.now()
        try:
            with hotline.db.session() as session, bounded(session):
                state = watchdog_state(session, hotline.jobs, now, redis_ok=checks["redis"] == "ok")
                watchdog = state.lease
                on_call = {"pageable_now": not nobody_to_page_now(session, now),
                           "rota_paged": rota_paged_in_time(session, hotline.settings.callback_sla_minutes),
                           "sms_opted_out": len(no_sms_pages_now(session, now))}
                paging = paging_health(session, now)
                waiting = mail_waiting(session)
                put_off = put_off_now(session, now)
        except TooSlow:  # a table the reads need is locked (the incidents' lock above was free a moment ago)
            checks["database"] = SLOW
            warnings.append(DATABASE_SLOW.format(what="/healthz's reads", seconds=BOUND_SECONDS, unchecked=NOT_CHECKED_READS))
            watchdog, on_call, paging, put_off = None, None, None, None
        except DBAPIError as exc:  # stopped answering (or went down) since the lock was taken
            checks["database"] = _database_error(hotline, exc)
            watchdog, on_call, paging, put_off = None, None, None, None
    if checks.get("schema") == "ok" and checks["database"] == "ok":
        # a lease that lapsed under a frozen or killed holder while other workers run (their watchdogs sweep) changes
        # hands at their next pass: an outside probe read "no page, escalation or callback leaves" meanwhile; a lease
        # whose holder is no longer alive (killed: its lease lasts 30 s more) is no watchdog, unless another worker
        # lives to take it over (an outside probe's /healthz said "ok" for 45 s with no worker alive)
        # (``app.watchdog_state``: the one rule, which the IVR's live-wait offer follows too)
        announced, alive_now, running = state.announced, state.alive_now, state.running
        if announced is not None:
            watchdog["workers_alive"] = sorted(alive_now)
            watchdog["worker_last_heard_seconds"] = worker_presence.last_heard(announced, now.timestamp())
        checks["watchdog"] = "ok" if running else "not running"
        if not running:
            warnings.append(NO_WATCHDOG)
        if not on_call["pageable_now"]:
            warnings.append(NOBODY_TO_PAGE)
        if not on_call["rota_paged"]:
            warnings.append(ROTA_NOT_PAGED)
        if on_call["sms_opted_out"]:
            warnings.append(NO_SMS_PAGES.format(count=on_call["sms_opted_out"]))
        if paging.state == "failing":
            warnings.append(PAGES_FAILING.format(count=paging.failed_attempts, follows=paging.what_follows(),
                                                 since=f"{paging.failing_since:%H:%M:%S} UTC"))
        if put_off.count:
            warnings.append(STEPS_PUT_OFF.format(count=put_off.count, seconds=int(WARN_AFTER.total_seconds()),
                                                 since=f"{put_off.since:%H:%M:%S} UTC", incidents=put_off.incidents))
        if waiting.count:
            warnings.append(MAIL_WAITING.format(count=waiting.count, since=f"{waiting.oldest:%H:%M:%S} UTC"))
        if watchdog["alive"] and checks["redis"] == "ok":
            warnings += _listener_warning(hotline.jobs)
    if checks["database"] == NOT_ANSWERING:
        warnings.append(DATABASE_NOT_ANSWERING.format(seconds=db_time_limit.HEALTH_SECONDS, bound=BOUND_SECONDS))
    elif checks["database"].startswith("error: "):
        warnings.append(DATABASE_UNREACHABLE.format(reason=checks["database"].removeprefix("error: ")))
    if checks["redis"] == "ok":
        warnings += _eviction(hotline.jobs.redis)
        warnings += _refused_webhooks(hotline.jobs)
        warnings += _other_keys(hotline, current_app.secret_key)
    from app.services.spool_health import spool_warnings

    warnings += spool_warnings(hotline.settings.data_dir)  # local files: said with the database down too
    clock, skewed = _clock_state(hotline, redis_ok=checks["redis"] == "ok", alive_now=alive_now)
    if clock is not None:
        checks["clock"] = "skewed" if skewed else "ok"
        warnings += skewed
    ok = all(checks.get(part, "ok") in ("ok", SLOW) for part in TAKES_CALLERS)
    return jsonify(status="ok" if ok else "degraded", checks=checks, watchdog=watchdog, on_call=on_call,
                   paging=paging.as_json() if paging else None, clock=clock,
                   steps_put_off=put_off.as_json() if put_off else None, warnings=warnings), 200 if ok else 503


def _database_error(hotline, exc: Exception) -> str:
    """The database check's value for ``exc``: NOT_ANSWERING when /healthz's limit cut its database work off, else the
    reason in a few safe words ("error: connection refused", "authentication failed", "too many connections", ...:
    each needs another fix; never the driver's message, which names the host and the user: ``db_outage.reason``).
    A database that cannot be reached is noted as this process's outage (its log's one line)."""
    if db_time_limit.spent():
        why = NOT_ANSWERING
    else:
        why = f"error: {reason(exc, connect_seconds=hotline.db.outage.connect_seconds)}"
    if unreachable(exc):
        hotline.db.outage.note(exc)
    return why


def _clock_state(hotline, redis_ok: bool, alive_now: set[str] | None = None) -> tuple[dict | None, list[str]]:
    """This process's offset to the reference clock and each worker's (their last watchdog passes; only the workers
    alive now, ``alive_now``, when that is known: a killed worker's skew is nobody's), with a warning for each over
    the bound (``app.reference_clock``)."""
    from app.reference_clock import OFFSETS_FRESH_SECONDS, offsets_announced, skew_warning

    if hotline.clock_sync is None:  # a test's own clock
        return None, []
    state = hotline.clock_sync.state()
    warnings = [skew_warning(state["offset_seconds"], "this web process", state["reference"])]
    if redis_ok:
        try:
            state["workers"] = offsets_announced(hotline.jobs.redis, hotline.jobs.name,
                                                 hotline.clock.now().timestamp() - OFFSETS_FRESH_SECONDS)
        except Exception:  # noqa: BLE001 - Redis failed since its ping: the next poll tells
            state["workers"] = {}
        if alive_now is not None:
            state["workers"] = {holder: offset for holder, offset in state["workers"].items() if holder in alive_now}
        warnings += [skew_warning(offset, f"worker {holder}", state["reference"])
                     for holder, offset in sorted(state["workers"].items())]
    return state, [warning for warning in warnings if warning]


def _other_keys(hotline, key: str) -> list[str]:
    """Workers running now that sign with another SECRET_KEY than this process (``app.key_fingerprints``): one read."""
    from app.key_fingerprints import BREAKS, FIX, ROLLING, other_keys
    from app.queue import ANNOUNCED_LIVE_SECONDS

    try:
        others = other_keys(hotline.jobs.redis, hotline.jobs.name, key,
                            hotline.clock.now().timestamp() - ANNOUNCED_LIVE_SECONDS)
    except Exception:  # noqa: BLE001 - Redis failed since its ping: the next poll tells
        return []
    return [OTHER_SECRET_KEY.format(count=len(others), breaks=BREAKS, fix=FIX, rolling=ROLLING)] if others else []


def _eviction(redis) -> list[str]:
    """A warning when Redis evicts keys once full (``app.redis_eviction``: ``hotline check``'s rule): one INFO read.
    A Redis that refuses INFO (a managed one may) is taken at its word, as ``check`` takes it."""
    from app.redis_eviction import FIX, eviction

    try:
        evicts = eviction(redis)
    except Exception:  # noqa: BLE001 - INFO refused, or Redis failed since its write probe: the next poll tells
        return []
    return [REDIS_EVICTS.format(describe=evicts.describe(), fix=FIX)] if evicts else []


def _refused_webhooks(jobs) -> list[str]:
    """Twilio webhooks refused on their signature lately, by any web process (``app.webhook_refusals``)."""
    from app.webhook_refusals import refusal_warnings

    try:
        return refusal_warnings(jobs.redis, jobs.name)
    except Exception:  # noqa: BLE001 - Redis failed since its ping: the next poll tells
        return []


def _listener_warning(jobs) -> list[str]:
    """A worker runs somewhere (its watchdog holds the lease) but none takes this process's jobs: a warning."""
    try:
        if jobs.first_page_listeners():
            return []
    except Exception:  # noqa: BLE001 - Redis failed since its ping: the next poll tells
        return []
    return [NO_LISTENER.format(queue=jobs.first_name)]


def _schema_check(hotline, guard: dict[str, bool]) -> tuple[str, str | None]:
    """"ok" or what is wrong with the schema and the command that fixes it; and a warning, if any.

    A newer version's schema under a process that has been serving (a rolling upgrade: `hotline db upgrade`
    ran, this host is not restarted yet) is a warning: the process still answers every caller, and a 503
    from each host not yet restarted would take them all out of the load balancer at once.
    """
    from app.probes import schema_state_of

    try:
        with hotline.db.engine.connect() as conn, bounded(conn):
            state = schema_state_of(conn)
    except TooSlow:
        return SLOW, DATABASE_SLOW.format(what="the schema's version", seconds=BOUND_SECONDS,
                                          unchecked=f"the schema, {NOT_CHECKED_READS}")
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        return _database_error(hotline, exc), None
    if state.usable:
        guard["usable"] = True
        return "ok", None
    if state.ahead and guard["usable"]:
        return "ok", (f"the schema is {state.describe()}; restart this host with the newer version (until then its "
                      "reports may meet outcomes or breach reasons it does not know: shown as stored, but take "
                      "managers' reports from a restarted host)")
    return f"error: {state.describe()}; {state.fix()}", None


def _guard_state(app) -> dict[str, bool]:
    """Whether this process has found the schema usable (the schema guard's memory, shared with /healthz)."""
    return app.extensions.setdefault("schema_guard", {"usable": False})


def register_schema_guard(app) -> None:
    """Answer 503 naming `hotline db upgrade` (not a 500 "no such table") until the schema is usable.

    create_app() never migrates: it is wiring only and runs in every gunicorn worker;
    ``hotline serve``/``worker``/``db upgrade`` migrate under a lock. Once the schema is
    found usable the guard stops looking.
    """
    state = _guard_state(app)

    @app.before_request
    def _schema_guard():
        from flask import request

        if state["usable"] or request.path == "/healthz":
            return None
        from app.probes import schema_state

        try:
            found = schema_state(app.extensions["hotline"].db.engine)
        except Exception:  # noqa: BLE001 - a database that is down is the emergency path's case, not ours
            return None
        if found.usable:
            state["usable"] = True
            return None
        return jsonify(error="database schema not ready",
                       detail=f"{found.describe()}; {found.fix()}"), 503
