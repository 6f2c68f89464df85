"""Keeps the promise from SQL: any due step, page or callback not done is handed to RQ or run here.

Every worker runs a watchdog and every one of them sweeps: each thing a sweep starts is
idempotent (a compare-and-set on the step row, a locked claim on the page or callback row,
deterministic RQ job ids), so two sweeps at once cost a duplicate no-op job, never a second
page. No lease has to expire before a standby acts, so a worker's death delays nothing
by more than the surviving watchdog's next pass. The SQL lease still elects one leader,
for two things that must not run twice at once: replaying the local emergency spool, and
the heartbeat ``/healthz`` shows; the leader also empties the stored webhook answers no retry can get
(``app.services.stored_answers``), keeps of ended calls' flow states only what is no answer once no webhook can need
them (``app.services.call_answers``) and deletes the status lookups no pass asks again (``status_lookups``).

A pass hands due work to RQ when Redis answers. Work that RQ has not done ``TAKEOVER``
after it was due (a dead scheduler, a worker backing off after a Redis restart, a flushed
queue) and everything due while Redis is down is run by the watchdog itself, through the
same job entry points RQ uses (``workers.jobs``). A late job still listed in a queue that this
process's own RQ workers keep taking jobs from (``workers.consuming``) is a backlog, not a lost
job: it is left to them (issue 12's burst, where second runs lengthened the backlog).

A pass also writes the hand-off step of each open incident nobody owns whose paged schedules have put someone on
call since who never had its page (``app.services.hand_offs``): the rota's hand-off instants are no rows of their own,
and an override or a rota edit moves them, so each pass compares who is on call now with who was paged.

A pass also hands RQ the lookups of final statuses whose status callbacks never came
(``app.services.status_checks``, ``status_lookups``): minutes late is fine for them, so it never runs them itself,
and a Twilio that hangs on a lookup holds no pass.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import db_outage
from app.key_fingerprints import announce_key
from app.models import Callback, CallbackOutcome, DueStep, Page, PageStatus, StepStatus
from app.queue import JOB_FUNCTIONS, LOOKUP_KINDS, PendingJob, announce_deployment
from app.reference_clock import announce_offset
from app.services import leases
from app.services.call_answers import forget_call_answers
from app.services.call_endings import settle_unreported_calls
from app.services.callback_calls import FIRST_TRY_GRACE, due_callbacks
from app.services.caller_limits import limits_from
from app.services.deliveries import due_deliveries
from app.services.hand_offs import write_hand_off_steps
from app.services.helpdesk_webhooks import webhook_jobs
from app.services.intake import policy_from
from app.services.notices import queued_notices
from app.services.pages import STALE_SENDING, due_pages
from app.services.spool import replay
from app.services.status_lookups import due_status_checks, forget_past_lookups
from app.services.steps import overdue_steps
from app.services.stored_answers import forget_old_answers
from app.settings import SettingsError
from app.wiring import Hotline
from workers import consuming

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 10.0  # the longest a watchdog sleeps between passes
INTERVAL_ENV = "HOTLINE_WATCHDOG_SECONDS"  # overrides INTERVAL_SECONDS (benchmarks, tight deployments)
MAX_INTERVAL_SECONDS = 15.0  # a slower watchdog could not keep the 15 s promise
MIN_INTERVAL_SECONDS = 1.0  # a faster one only sweeps SQL more often (each pass reads every due row)
LEASE_TTL = timedelta(seconds=30)
GRACE = timedelta(seconds=3)  # RQ's scheduler fires a job within about 2 s of its time: hand over after that
TAKEOVER = timedelta(seconds=6)  # due this long and still not done: RQ is not doing it, run it here
SEND_BUDGET_SECONDS = 3.0  # a take-over's other jobs start within this long of its start (``run_here``)
MIN_WAKE_SECONDS = 0.2  # never spin


def interval_seconds(env: Mapping[str, str] | None = None) -> float:
    """Seconds between passes: HOTLINE_WATCHDOG_SECONDS when set, else INTERVAL_SECONDS; SettingsError if unusable."""
    raw = (os.environ if env is None else env).get(INTERVAL_ENV, "").strip()
    if not raw:
        return INTERVAL_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0  # "10s", "ten": refused below with the fix, not with float()'s message
    if not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
        raise SettingsError(INTERVAL_ENV, f"must be a number of seconds from {MIN_INTERVAL_SECONDS:g} to "
                            f"{MAX_INTERVAL_SECONDS:g}, not {raw!r}.",
                            f"leave it empty ({INTERVAL_SECONDS:g} s), or write the number alone, e.g. {INTERVAL_ENV}=5")
    return seconds


def wait_after_failures(failures: int, interval: float) -> float:
    """Seconds before the next pass after ``failures`` failed passes in a row: 1, 2, 4, ... up to ``interval``.

    A pass that fails (its database connection killed, say) is tried again soon: waiting a whole interval
    made steps due meanwhile 10 s later per failure; doubling keeps a database that is down from flooding
    the log.
    """
    return min(interval, float(2 ** max(0, failures - 1)))


def lease_ttl(interval: float) -> timedelta:
    """How long a lease outlives its last renewal: at least three passes, so a live leader never lapses."""
    return max(LEASE_TTL, timedelta(seconds=3 * interval))


def instance_name() -> str:
    """This process, as a lease holder name."""
    return f"{socket.gethostname()}:{os.getpid()}"


def telephony_lease(settings) -> str:
    """The telephony lease of a worker with ``settings``."""
    return leases.telephony_lease(settings.simulated_telephony, settings.twilio_account_sid)


def tick(hotline: Hotline, holder: str, ttl: timedelta = LEASE_TTL) -> int:
    """Renew (or take) the lease, then sweep; only the leader replays the spool. Returns what was handled.

    Each worker also holds the lease of its telephony, so that a worker running another one (simulated, or
    another account) is seen by the start-up checks and `hotline check` (``config_check.telephony_problems``),
    and announces its database's deployment id (bound to its PUBLIC_BASE_URL) beside its queues in Redis, so that
    workers of two databases on one Redis and QUEUE_NAME, a copy restored from the other's dump too, are seen
    (``config_check.shared_queue_problems``), and the fingerprint of its SECRET_KEY, so that a host signing with
    another key is seen (``app.key_fingerprints``).
    """
    keep_time(hotline, holder)
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        leader = leases.hold(session, leases.WATCHDOG, holder, now, ttl)
        leases.hold(session, telephony_lease(hotline.settings), holder, now, ttl)  # another of its kind may hold it
        deployment = leases.announced_deployment(leases.claim_deployment(session, now), hotline.settings.public_base_url)
    handled = sweep(hotline, replay_spool=leader, deployment=deployment, holder=holder)
    if leader:
        forget(hotline, forget_old_answers, "empty the old webhook answers")
        forget(hotline, forget_call_answers, "forget the answers of ended calls")
        forget(hotline, forget_past_lookups, "delete the status lookups no pass asks again")
    return handled


def keep_time(hotline: Hotline, holder: str) -> None:
    """Read the reference clock, which this pass's time then follows (``app.reference_clock``), and announce this
    worker's offset to it beside its queues for /healthz."""
    reading = hotline.keep_reference_time()
    if reading is None:  # a test's own clock, or the reference did not answer
        return
    try:
        announce_offset(hotline.jobs.redis, hotline.jobs.name, holder, reading.offset, reading.reference)
    except Exception:  # noqa: BLE001 - Redis went away: the next pass announces again
        log.debug("could not announce the clock offset in Redis", exc_info=True)


def forget(hotline: Hotline, housekeeping: Callable[[Session, datetime], int], what: str) -> int:
    """The leader's housekeeping after its sweep, in a transaction of its own; a failure only waits for the next
    pass: it must never hold one back. How many rows it changed."""
    try:
        with hotline.db.transaction() as session:
            return housekeeping(session, hotline.clock.now())
    except Exception as exc:  # noqa: BLE001 - housekeeping; the promise's work is done
        db_outage.failed(hotline.db.outage, log, exc, "could not %s; the next pass tries again", what)
        return 0


def sweep(hotline: Hotline, replay_spool: bool = True, deployment: str = "", holder: str = "") -> int:
    """One pass: replay the spool, settle intake calls whose end was never reported, hand due work (and the due
    lookups of final statuses Twilio never reported) to RQ, and run what RQ cannot or did not (never a lookup);
    with ``deployment``, announce in Redis that a worker of it (``holder``) listens on the queues, and its key's
    fingerprint.

    Returns how many jobs were handed over or run.
    """
    if replay_spool:
        replayed = replay(hotline.db, hotline.settings)
        if replayed:
            log.warning("replayed %d spooled emergency records", replayed)
    now = hotline.clock.now()
    settings = hotline.settings
    with hotline.db.transaction() as session:  # calls whose end Twilio never reported: rescued, or missed calls
        settle_unreported_calls(session, now, policy_from(settings), limits_from(settings))
    # the rota handed over while an incident nobody owns is open: its hand-off step, due now, joins the steps below
    write_hand_off_steps(hotline.db, now)
    with hotline.db.session() as session:
        jobs = overdue_steps(session, now)
        jobs += due_pages(session, now)
        jobs += due_callbacks(session, now)
        jobs += queued_notices(session, now)  # issue 9: missed-call SMS and volume alerts
        jobs += due_deliveries(session, now)  # issue 11: customer updates by SMS and e-mail
        lookups = due_status_checks(session, now)  # final statuses whose status callbacks never came
    jobs += webhook_jobs(hotline.db, hotline.settings, now)  # helpdesk webhooks (none unless configured)
    if not redis_up(hotline):  # the lookups wait for Redis: minutes late is fine, a hanging Twilio here is not
        if jobs:  # an idle pass says nothing: a Redis down for an hour is not a line every 10 s
            log.warning("Redis is not answering or refuses writes: running %d due jobs here", len(jobs))
        return run_here(hotline, jobs, until_done=True)
    if deployment:
        _announce(hotline, deployment, holder, now)
    jobs = list({job.job_id: job for job in jobs + lookups}.values())  # a replayed incident's steps are also overdue rows
    listed = _listed(hotline)
    # every worker sweeps: a job already waiting in a queue's list is not handed over a second time
    hotline.jobs.dispatch([job for job in jobs if job.job_id not in listed], now)
    # a late job still in the list of a queue this process's workers keep taking jobs from is a backlog (an
    # outage's burst), which a second run here would only lengthen. A lost one (in no list: a flushed queue,
    # a worker killed between taking a job and starting it) or one in a queue that does not move (the main
    # worker held by a slow send while the steps wait) runs here.
    late = [job for job in jobs if job.due_at <= now - TAKEOVER and job.kind not in LOOKUP_KINDS
            and not consuming.recently(listed.get(job.job_id, ""), GRACE.total_seconds())]
    if late:  # how late they are (the oldest's), not the take-over threshold: an operator reads why alerts came late
        log.warning("%d jobs still not done after they were due (the oldest %.1fs late; taken over after %ss): "
                    "running them here", len(late), (now - min(job.due_at for job in late)).total_seconds(),
                    TAKEOVER.total_seconds())
        run_here(hotline, late)
    return len(jobs)


def _announce(hotline: Hotline, deployment: str, holder: str, now: datetime) -> None:
    try:
        announce_deployment(hotline.jobs.redis, hotline.jobs.name, deployment, now.timestamp())
        announce_key(hotline.jobs.redis, hotline.jobs.name, holder, hotline.settings.signing_key(), now.timestamp())
    except Exception:  # noqa: BLE001 - Redis went away mid-pass: the next pass announces again
        log.debug("could not announce the deployment in Redis", exc_info=True)


def _listed(hotline: Hotline) -> dict[str, str]:
    """Each id in the queues' lists now, with its queue's name (none when Redis fails: when in doubt, every job is
    handed over again and every late one runs here; a duplicate job is a no-op)."""
    try:
        return {job_id: queue.name for queue in hotline.jobs.queues for job_id in queue.job_ids}
    except Exception:  # noqa: BLE001 - Redis went away mid-pass
        return {}


def redis_up(hotline: Hotline) -> bool:
    """Whether the hotline's Redis takes a write now (at most REDIS_TIMEOUT_SECONDS: app/queue.py): one that is full
    or a read-only replica answers PING but takes no job, so due work runs here as with Redis down."""
    return hotline.jobs.answers()


def run_here(hotline: Hotline, jobs: list[PendingJob], until_done: bool = False, rounds: int = 5,
             elapsed: Callable[[], float] = time.monotonic) -> int:
    """Run ``jobs`` in this process through the RQ job functions (safe twice: each claims its row).

    Every due step first (they decide; a send may wait out Twilio's time-out), then the rest. A take-over (RQ
    works, but not these) starts its other jobs only within SEND_BUDGET_SECONDS of its start (``elapsed``: seconds
    of a monotonic clock): what is left is RQ's, or the next pass's, which comes at the next step's take-over. Until
    session 42 they ran in due order, and an outside probe's breach steps waited 8 to 15 s behind page sends to a
    hanging Twilio, the other worker killed. With ``until_done`` (Redis down: nothing else runs them) every job
    runs, and the work those jobs create (a step's pages, a page's retry) is looked up again and run too.
    """
    from workers import context  # the job module imports the worker context
    from workers import jobs as entry

    previous = context.peek()
    context.use(hotline)
    run, started = 0, elapsed()
    try:
        for _ in range(rounds):
            for job in sorted(jobs, key=lambda j: (j.kind != "step", j.due_at, j.kind, j.target_id)):
                if not until_done and job.kind != "step" and elapsed() - started > SEND_BUDGET_SECONDS:
                    log.warning("watchdog left %s for its next pass: its sends took %.1f s", job.job_id,
                                elapsed() - started)
                    return run
                try:
                    getattr(entry, JOB_FUNCTIONS[job.kind].rsplit(".", 1)[1])(job.target_id)
                    run += 1
                except Exception as exc:  # noqa: BLE001 - one broken row must not stop the others
                    db_outage.failed(hotline.db.outage, log, exc, "watchdog could not run %s", job.job_id)
            if not until_done:
                break
            now = hotline.clock.now()
            with hotline.db.session() as session:
                jobs = due_pages(session, now) + overdue_steps(session, now)
            jobs = [j for j in jobs if j.due_at <= now]
            if not jobs:
                break
    finally:
        context.use(previous)
    return run




def next_wake(hotline: Hotline, interval: float, redis_ok: bool = True) -> float:
    """Seconds until the next pass: when the next step or page falls due (plus GRACE while RQ works).

    A pass at each due time (not only every ``interval``) is what keeps a step lost from
    Redis within seconds of its time instead of within a whole interval.
    """
    now = hotline.clock.now()
    with hotline.db.session() as session:
        step_due = session.scalar(select(func.min(DueStep.due_at)).where(
            DueStep.status == StepStatus.PENDING, DueStep.due_at > now - TAKEOVER))
        page_due = session.scalar(select(func.min(Page.next_attempt_at)).where(
            Page.status == PageStatus.QUEUED, Page.next_attempt_at > now - TAKEOVER))
        sending = session.scalar(select(func.min(Page.sending_since)).where(Page.status == PageStatus.SENDING))
        never_tried = session.scalar(select(func.min(Callback.requested_at)).where(  # ``due_callbacks``' first hand-over
            Callback.rep_call_sid == "", Callback.outcome == CallbackOutcome.PENDING, Callback.attempts == 0,
            Callback.requested_at > now - FIRST_TRY_GRACE))
    marks: list[datetime] = []
    if never_tried is not None:  # a rep's CALL whose job was lost: handed over at its grace, not a whole interval on
        marks.append(never_tried + FIRST_TRY_GRACE + timedelta(seconds=MIN_WAKE_SECONDS))
    for due in (step_due, page_due):
        if due is not None:
            marks += [due, due + GRACE, due + TAKEOVER] if not redis_ok else [due + GRACE, due + TAKEOVER]
    if sending is not None:
        marks.append(sending + STALE_SENDING + timedelta(seconds=MIN_WAKE_SECONDS))  # stale only *after* it
    ahead = [(m - now).total_seconds() for m in marks if m > now]
    return max(MIN_WAKE_SECONDS, min([interval, *ahead]))
