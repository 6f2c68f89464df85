"""The escalation plan of an incident (every step owed to it is a row), and its snapshot for the core."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import database_of
from app.db_outage import failed
from app.escalation import Snapshot, counts_as_paged
from app.escalation.levels import level_due_times, rearmed_at
from app.event_kind import EventKind
from app.models import (
    Callback,
    CallbackKind,
    CallbackOutcome,
    CallSession,
    DueStep,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Page,
    PageStatus,
    Rep,
    StepKind,
    StepStatus,
)
from app.models.call import ENDED_STATUSES, UNREPORTED
from app.queue import schedule
from app.services.events import log_event
from app.services.phones import is_textable
from ivr_flows.model import Stage

log = logging.getLogger(__name__)
AT_RISK_BEFORE_DUE = timedelta(minutes=5)  # T+10 on a 15-minute promise
REPAGE_EVERY = timedelta(minutes=5)  # after a breach, page again until a callback happens
IN_FLIGHT_FOR = timedelta(minutes=10)  # a bridged callback with no word from Twilio for this long is over
# an answered bridged callback whose end Twilio never reported is taken as over after this long (a rep is told to call
# the customer themselves and reply CALLED meanwhile: ``acks``)
ON_THE_LINE_FOR = timedelta(hours=1)
# Issue 13: an incident opened mid-call sends its receipt once the details are in (the deadline it states is set);
# its step first looks this long after the opening (escalation_steps: it waits while ``callers_on_hotline``).
RECEIPT_AT_THE_LATEST = timedelta(minutes=5)
INTAKE_IDLE_AFTER = timedelta(minutes=3)  # the longest wait between two steps of a call: a 2-minute recording
# a call that is over: a final status from Twilio, or settled by the watchdog when none came (call_endings)
OVER = ENDED_STATUSES | {UNREPORTED}
# On a ``deadline_set`` line written before the ``breach_withdrawn`` line existed: the breach of the provisional
# deadline it withdrew (read by the timeline only)
BREACH_WITHDRAWN = "breach_withdrawn"
# On a ``deadline_set`` line: why the deadline stayed where it was (a callback had reached the customer already)
DEADLINE_KEPT = "kept"


def plan_escalation(session: Session, incident: Incident, now: datetime, *, details_complete: bool = True) -> list[DueStep]:
    """Write the receipt, page, at-risk and breach steps of the policy the incident was opened with
    (``incidents._new_incident`` copies it), register their jobs (the first page step, due at once,
    runs here instead: ``_run_now``).

    Pages run from the opening; an incident opened while the caller is still talking
    (``details_complete=False``) gets its receipt and its final deadline from ``set_deadline``.
    """
    start = incident.captured_at
    receipt_at = now if details_complete else now + RECEIPT_AT_THE_LATEST
    steps = [DueStep(incident_id=incident.id, kind=StepKind.RECEIPT, level=0, due_at=receipt_at)]
    delays = [int(spec.get("delay_minutes", 0)) for spec in incident.escalation.get("levels", [])]
    # planned late (a rescued incident), the later levels keep their wait after the first (the core's rule)
    for level, due in enumerate(level_due_times(start, now, delays, incident.callback_due_at - AT_RISK_BEFORE_DUE)):
        steps.append(DueStep(incident_id=incident.id, kind=StepKind.PAGE, level=level, due_at=due))
    steps.append(DueStep(incident_id=incident.id, kind=StepKind.AT_RISK, level=0,
                         due_at=incident.callback_due_at - AT_RISK_BEFORE_DUE))
    steps.append(DueStep(incident_id=incident.id, kind=StepKind.BREACH, level=0, due_at=incident.callback_due_at))
    session.add_all(steps)
    session.flush()
    for step in steps:
        first = is_first_page_step(step)
        if first and step.due_at <= now and _run_now(session, incident, step, now):
            continue
        schedule(session, "step", step.id, step.due_at, first=first)
    return steps


def _run_now(session: Session, incident: Incident, step: DueStep, now: datetime) -> bool:
    """Run the incident's first page step in the transaction that opens the incident; False if it failed.

    Its pages then leave as soon as the opening commits: in an outage's burst the step would otherwise
    wait for a worker behind every other incident's (``bench/burst.py``, 300 calls answering at once,
    session 20: first page p99 4.9 s with the step left to a worker, 0.85 s run here; the README's
    *Where issue 12 stands*). It is the same run a worker would make (``steps.run_step``, the escalation
    core), in a savepoint: should it fail, the incident still opens and the step is left to its job (unless
    its connection died: then the opening's transaction died with it, and the webhook is retried, ``db.is_disconnect``).
    """
    from app.services.steps import run_step  # steps -> escalation_steps -> this module

    # Read before: after a failed savepoint the step's attributes may be expired, and on a dropped connection
    # their reload raised PendingRollbackError out of the ``except`` below (probe D1).
    step_id, incident_id = step.id, step.incident_id
    try:
        with session.begin_nested():
            return run_step(session, step_id, now, actor="system", incident=incident)  # inserted here: ours
    except Exception as exc:  # noqa: BLE001 - the opening must not fail on a page; the worker runs the step
        database = database_of(session)
        failed(database.outage if database else None, log, exc,
               "the first page step of incident %s failed at its opening; left to a worker", incident_id)
        return False


def is_first_page_step(step: DueStep | None) -> bool:
    """The incident's level-0 page step: it runs with the opening (``_run_now``), and the first page it writes
    to each person goes to the FIRST queue (app.queue), served by the page threads before anything else, so in
    an outage's burst an incident's first page waits neither behind other incidents' receipts and later steps
    nor behind pages held by the call rate. Should the step fail at the opening, its job waits there too."""
    return step is not None and step.kind == StepKind.PAGE and step.level == 0


def first_channel(channels: tuple[str, ...]) -> str:
    """The channel of a person's first page: the SMS when there is one (a call waits for the account's call
    rate; an SMS leaves at once), else their only channel."""
    return "sms" if "sms" in channels else channels[0]


def set_deadline(session: Session, incident: Incident, now: datetime, reason: str) -> None:
    """The caller's details are in (issue 13): the promise runs from ``now``; move the steps that hang on it.

    Only for an incident opened mid-call; pages already sent stay sent, a receipt sent stays sent. The at-risk
    and breach steps run on the deadline that counts, even those that ran on the provisional one (a call silent
    for ``INTAKE_IDLE_AFTER`` is taken for ended): such a breach broke no promise, so it is withdrawn (the
    board, the API and the report's fold, which skips a breach line logged before the deadline, agree; a
    ``breach_withdrawn`` line tells the helpdesk, which was sent ``incident.breached``), and the
    repage round it started waits for the breach that counts. Set once: a second call (a retried webhook, a
    hang-up after the end) changes nothing.

    The one exception: once a callback reached the customer (answered, before the call's end was heard of) it
    was judged met or late on the deadline of that moment, so that deadline stays (the line says
    ``DEADLINE_KEPT``): a later one would turn a late callback into a met one in the report, or put the answer
    before the capture.
    """
    if session.scalar(select(IncidentEvent.id).where(IncidentEvent.incident_id == incident.id,
                                                     IncidentEvent.kind == EventKind.DEADLINE_SET).limit(1)):
        return
    kept = incident.callback_answered_at is not None
    withdrawn = None
    moved = {StepKind.RECEIPT: now}  # the receipt leaves now in any case
    if not kept:
        sla = incident.callback_due_at - incident.captured_at
        incident.captured_at, incident.callback_due_at = now, now + sla
        withdrawn, incident.breached_at = incident.breached_at, None
        moved |= {StepKind.AT_RISK: incident.callback_due_at - AT_RISK_BEFORE_DUE,
                  StepKind.BREACH: incident.callback_due_at, StepKind.REPAGE: incident.callback_due_at + REPAGE_EVERY}
    _move_steps(session, incident, moved)
    detail = {"reason": reason, "captured_at": incident.captured_at.isoformat(),
              "callback_due_at": incident.callback_due_at.isoformat()}
    if kept:
        detail[DEADLINE_KEPT] = "callback_answered"
    log_event(session, at=now, actor="ivr", kind=EventKind.DEADLINE_SET, incident_id=incident.id,
              call_sid=incident.call_sid, detail=detail)
    if withdrawn is not None:  # a line of its own: the helpdesk was told of the breach (incident.breach_withdrawn)
        log_event(session, at=now, actor="system", kind=EventKind.BREACH_WITHDRAWN, incident_id=incident.id,
                  call_sid=incident.call_sid, detail={"breached_at": withdrawn.isoformat(),
                                                      "callback_due_at": incident.callback_due_at.isoformat()})


def _move_steps(session: Session, incident: Incident, moved: dict[StepKind, datetime]) -> None:
    """Move the incident's pending steps of these kinds to their new times; an at-risk or breach step that ran
    already (on the provisional deadline) gets a step of its own (its own pages) at its new time."""
    steps = session.scalars(select(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind.in_(list(moved)),
        or_(DueStep.status == StepStatus.PENDING, DueStep.kind.in_([StepKind.AT_RISK, StepKind.BREACH]))))
    for step in list(steps):
        if step.status != StepStatus.PENDING:  # ran on the provisional deadline: a step of its own (its own pages)
            step = DueStep(incident_id=incident.id, kind=step.kind, level=step.level + 1, due_at=moved[step.kind])
            session.add(step)
            session.flush()
        step.due_at = moved[step.kind]
        schedule(session, "step", step.id, step.due_at)  # a job for the old time finds the step not yet due


# what a deadline step decided when it found the customer reached, or the incident closed (``escalation.decide``);
# "breached" is one only without a repage round after it (an answer after the deadline: the breach is on record,
# nobody is chased)
FOUND_REACHED = {StepKind.AT_RISK: ("skipped_callback_started", "skipped_callback_done", "skipped_resolved"),
                 StepKind.BREACH: ("met", "breached", "skipped_resolved"),
                 StepKind.REPAGE: ("stopped_callback_done", "stopped_resolved")}


# what an escalation level's step decided when it found the customer reached or the incident closed: run again when
# that is undone (``rerun_steps_since``)
LEVEL_STOOD_DOWN = ("skipped_callback_done", "skipped_resolved")


def rerun_steps_since(session: Session, incident: Incident, since: datetime, now: datetime) -> list[DueStep]:
    """An answer counted at ``since`` was withdrawn, or a close at ``since`` undone before anyone reached the
    customer: each at-risk, breach or repage step that ran since then and found the customer reached (or the incident
    closed) runs again now, as a step of its own (its run stays on record), due when it was. Each escalation level
    that stood down so is due again as the policy times it from now (the reopen pages the owner, else the first
    level, at once: ``decide._reopen``): level 2 of a policy paging it 6 minutes after the first, 6 minutes from now
    (until session 42 the levels after the first were never paged again)."""
    again = _rearm_levels_since(session, incident, since, now)
    ran = list(session.scalars(select(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind.in_(list(FOUND_REACHED)), DueStep.status == StepStatus.DONE,
        DueStep.done_at >= since).order_by(DueStep.due_at, DueStep.id)))
    repaged = session.scalar(select(DueStep.id).where(DueStep.incident_id == incident.id,
                                                      DueStep.kind == StepKind.REPAGE).limit(1)) is not None
    for step in ran:
        if step.outcome not in FOUND_REACHED[step.kind] or (step.outcome == "breached" and repaged):
            continue
        level = (session.scalar(select(func.max(DueStep.level)).where(
            DueStep.incident_id == incident.id, DueStep.kind == step.kind)) or 0) + 1
        # due when the step was (a breach is on record at the deadline), run now
        rerun = DueStep(incident_id=incident.id, kind=step.kind, level=level, due_at=step.due_at)
        session.add(rerun)
        session.flush()
        schedule(session, "step", rerun.id, now)
        again.append(rerun)
    return again


def _rearm_levels_since(session: Session, incident: Incident, since: datetime, now: datetime) -> list[DueStep]:
    """The escalation levels after the first whose step ran since ``since`` and stood down (``LEVEL_STOOD_DOWN``),
    pending again (each run is on the log: ``steps.run_step``), due their policy delay after the first's from ``now``,
    before the deadline while it is ahead (``levels.rearmed_at``)."""
    levels = incident.escalation.get("levels", [])
    first_delay = int(levels[0].get("delay_minutes", 0)) if levels else 0
    stood_down = list(session.scalars(select(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind == StepKind.PAGE, DueStep.level > 0,  # the reopen pages it
        DueStep.status == StepStatus.DONE, DueStep.done_at >= since, DueStep.outcome.in_(LEVEL_STOOD_DOWN))
        .order_by(DueStep.level)))
    for step in stood_down:
        delay = int(levels[step.level].get("delay_minutes", 0)) if step.level < len(levels) else first_delay
        wait = timedelta(minutes=max(delay - first_delay, 0))
        step.status = StepStatus.PENDING
        step.due_at = rearmed_at(now, wait, incident.callback_due_at - AT_RISK_BEFORE_DUE, incident.callback_due_at)
        schedule(session, "step", step.id, step.due_at)
    session.flush()
    return stood_down


def add_repage(session: Session, incident: Incident, after: DueStep, now: datetime) -> DueStep:
    """Write (once) the next repage round, REPAGE_EVERY after ``after``, and register its job. A round that would
    be due already (``after`` ran long after it was due: a breach step run again on a reopen, a worker down for
    minutes) is due REPAGE_EVERY from ``now`` instead: the rounds missed are not paged one after the other at once."""
    level = after.level + 1 if after.kind == StepKind.REPAGE else 0
    existing = session.scalars(select(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind == StepKind.REPAGE, DueStep.level == level)).first()
    due = after.due_at + REPAGE_EVERY
    step = existing or DueStep(incident_id=incident.id, kind=StepKind.REPAGE, level=level,
                               due_at=due if due > now else now + REPAGE_EVERY)
    session.add(step)
    session.flush()
    schedule(session, "step", step.id, step.due_at)
    return step


def caller_on_hotline(session: Session, incident: Incident, now: datetime) -> bool:
    """The caller who opened ``incident`` is still giving their details on the hotline: a call to their number
    now would find it busy, and would break into the intake.

    Not once the intake is over: at the live-connect offer the caller is about to wait on the line (the
    rep's leg then dials them out of the queue) or to hang up (their line is free by the time the rep has
    answered), as before. A call with no step for ``INTAKE_IDLE_AFTER`` is taken for ended (its final status
    may have been lost).
    """
    call = session.get(CallSession, incident.call_sid) if incident.call_sid else None
    return call is not None and _in_intake(call.status, call.updated_at, call.state, now)


def callers_on_hotline(session: Session, incident_id: int | None = None) -> set[int]:
    """The open incidents (or the one ``incident_id``) whose callers are still giving their details, as the board,
    the incident page and the API count them: the deadline is provisional (no ``deadline_set`` yet: the call that
    opened it has neither finished its intake nor been heard ending), which is what the compliance report reads
    from the log (``facts.is_breached``: only a logged breach counts meanwhile).

    Unlike ``caller_on_hotline`` (the steps and a rep's connect), a call silent for ``INTAKE_IDLE_AFTER`` still
    counts: otherwise the board would say breached while the report says not, from that moment until the breach
    step runs on it and logs the breach (about a minute; longer with the workers down)."""
    rows = session.execute(select(Incident.id, CallSession.status, CallSession.state)
                           .join(CallSession, CallSession.call_sid == Incident.call_sid)
                           .where(Incident.status == IncidentStatus.OPEN, CallSession.status.not_in(OVER),
                                  *([Incident.id == incident_id] if incident_id is not None else [])))
    return {found for found, status, state in rows if _giving_details(status, state)}


def _in_intake(status: str, updated_at: datetime, state: dict | None, now: datetime) -> bool:
    return now - updated_at < INTAKE_IDLE_AFTER and _giving_details(status, state)


def _giving_details(status: str, state: dict | None) -> bool:
    from app.services.incidents import readable_state  # incidents -> this module

    if status in OVER:
        return False
    call_state = readable_state(state)
    return call_state is not None and call_state.stage is not Stage.DONE


def callbacks_in_flight(session: Session, incident: Incident, now: datetime) -> list[Callback]:
    """The bridged callbacks of ``incident`` under way now (requested or placed, not finished, not timed out)."""
    return [c for c in session.scalars(select(Callback).where(Callback.incident_id == incident.id)) if callback_in_flight(c, now)]


def callback_in_flight(callback: Callback, now: datetime) -> bool:
    """A bridged callback under way: requested or placed, not finished, not timed out (``IN_FLIGHT_FOR``)."""
    return (callback.kind == CallbackKind.BRIDGED and callback.outcome == CallbackOutcome.PENDING
            and now - callback.requested_at < IN_FLIGHT_FOR)


def on_the_line(callback: Callback, now: datetime) -> bool:
    """The customer answered this bridged callback and it has not ended (no end heard, within ``ON_THE_LINE_FOR``):
    a rep is talking with them now."""
    return (callback.kind == CallbackKind.BRIDGED and callback.outcome in (CallbackOutcome.MET, CallbackOutcome.LATE)
            and callback.ended_at is None and callback.answered_at is not None
            and now - callback.answered_at < ON_THE_LINE_FOR)


DIALLED_OUTCOMES = (CallbackOutcome.ATTEMPTED, CallbackOutcome.VOICEMAIL, CallbackOutcome.MET, CallbackOutcome.LATE)


def customer_dialled(callback: Callback) -> bool:
    """Twilio showed the customer's leg of this callback was dialled (its call reported, or it ended attempted,
    voicemail, met or late): the callback started. A rep's leg placed, or a rep who pressed 2, proves nothing
    more: its status callbacks may never come, and the customer may never be dialled."""
    return bool(callback.customer_call_sid) or callback.outcome in DIALLED_OUTCOMES


# a missed-call SMS in one of these never reached the customer: it stands for no later attempt (``Snapshot.missed_sms_at``)
MISSED_SMS_NOT_SENT = (PageStatus.FAILED, PageStatus.UNDELIVERED, PageStatus.CANCELED)


def last_missed_sms_at(session: Session, incident: Incident) -> datetime | None:
    """When the incident's callback number was last sent (else queued) a missed-call SMS that did not fail, or None."""
    pages = session.execute(select(Page.sent_at, Page.created_at).where(
        Page.incident_id == incident.id, Page.purpose == "callback_missed", Page.to_number == incident.callback_phone,
        Page.status.not_in(MISSED_SMS_NOT_SENT)))
    return max((sent or queued for sent, queued in pages), default=None)


def _iso(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def missed_sms_held_back(session: Session, incident: Incident, failed: Page) -> datetime | None:
    """When the latest attempt whose SMS ``failed`` (a missed-call SMS now failed) held back was
    (``customer_not_texted``: ``missed_sms_recent``, its ``last_texted_at`` this SMS's time), unless an SMS that did
    not fail was sent (or queued) to the number since; None if it held back none (``PageFailed.held_back_at``)."""
    if failed.purpose != "callback_missed" or failed.to_number != incident.callback_phone:
        return None
    its_times = {t for t in (failed.sent_at, failed.created_at) if t is not None}
    lines = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CALLBACK_ATTEMPTED,
        IncidentEvent.at >= failed.created_at))
    held = [e.at for e in lines if (e.detail or {}).get("customer_not_texted") == "missed_sms_recent"
            and _iso((e.detail or {}).get("last_texted_at")) in its_times]
    latest = max(held, default=None)
    told_since = last_missed_sms_at(session, incident)
    return None if latest is None or (told_since is not None and told_since >= latest) else latest


def missed_call_at(session: Session, page: Page) -> datetime:
    """The time a missed-call SMS says "we tried to call you": its attempt's (when it was written), or, for one
    that replaces a failed one, the latest attempt it tells of (the ``missed_sms_resent`` line written with it)."""
    line = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == page.incident_id, IncidentEvent.kind == EventKind.MISSED_SMS_RESENT,
        IncidentEvent.at == page.created_at)).first()
    return (_iso((line.detail or {}).get("attempt_at")) if line is not None else None) or page.created_at


def breach_alerts(session: Session, incident: Incident) -> list[Page]:
    """The incident's pages whose words said the deadline was BREACHED (``page_text.alert_purpose``: a breach alert or
    repage, an at-risk alert written after the deadline) and that were tried (``counts_as_paged``): one queued and
    never tried goes no more once a callback is met (``pages.no_longer_wanted``), so it told nobody."""
    from app.services.page_text import alert_purpose  # page_text -> this module

    pages = session.scalars(select(Page).where(Page.incident_id == incident.id,
                                               Page.purpose.in_(("breach", "at_risk"))).order_by(Page.id))
    return [p for p in pages if counts_as_paged(p.attempts)
            and alert_purpose(incident, p.purpose, p.created_at) == "breach"]


def owner_active(session: Session, incident: Incident) -> bool:
    """The rep who owns the incident is still active (nobody owns it, or a login without a rep: yes); a deactivated
    owner (left, phone lost) works it no more, and their acknowledgement holds the escalation back no more."""
    return incident.acknowledged_by is None or bool(session.scalar(
        select(Rep.active).where(Rep.id == incident.acknowledged_by)))


def snapshot(session: Session, incident: Incident, now: datetime) -> Snapshot:
    """The facts of ``incident`` the escalation core decides on."""
    from app.services.deliveries import can_email  # deliveries -> late_mail -> this module
    from app.services.page_verdicts import held_pages  # page_verdicts -> this module
    from app.services.tam_mail import breach_emailed_tam  # tam_mail -> page_text -> this module

    callbacks = list(session.scalars(select(Callback).where(Callback.incident_id == incident.id)))
    bridged = [c for c in callbacks if c.kind == CallbackKind.BRIDGED]
    on_callback = [c for c in bridged if callback_in_flight(c, now)]
    in_flight = bool(on_callback)
    # a related incident's callback counted for this one (a dropped call's redial) may still be under way
    via = session.get(Callback, incident.reached_on_callback_id) if incident.reached_on_callback_id else None
    return Snapshot(
        due_at=incident.callback_due_at,
        resolved=incident.status != IncidentStatus.OPEN,
        has_callback_number=bool(incident.callback_phone),
        textable_customer=bool(incident.callback_phone) and is_textable(incident.callback_phone),
        has_email=can_email(session, incident.email),  # the delivery job's rule: an address, and SMTP
        owner_rep_id=incident.acknowledged_by,
        owner_active=owner_active(session, incident),
        acknowledged=incident.acknowledged_at is not None,
        callback_in_flight=in_flight,
        callback_started=any(customer_dialled(c) for c in bridged),
        attempted=any(c.outcome in (CallbackOutcome.ATTEMPTED, CallbackOutcome.VOICEMAIL) for c in bridged),
        answered_at=incident.callback_answered_at,
        self_reported=any(c.kind == CallbackKind.SELF_REPORTED for c in callbacks),
        reached_by_email=incident.reached_by_email_at is not None,
        breached=incident.breached_at is not None,
        levels=len(incident.escalation.get("levels", [])),
        reps_on_callback=frozenset(c.rep_id for c in on_callback if c.rep_id is not None),
        customer_on_the_line=any(on_the_line(c, now) for c in bridged) or (via is not None and on_the_line(via, now)),
        answered_awaiting_key=min((c.answered_at for c in on_callback
                                   if c.answered_at is not None and c.person_confirmed_at is None), default=None),
        pages_held=bool(held_pages(session, incident.id, now)),
        breach_alerted=bool(breach_alerts(session, incident)) or bool(breach_emailed_tam(session, incident)),
    )
