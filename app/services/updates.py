"""The customer's updates: the agreed interval, each update as a due step, punctuality, delivery.

Every function works inside the caller's transaction; its jobs go on the unit of work (app.queue.schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import (
    CustomerUpdate,
    Delivery,
    DeliveryChannel,
    DueStep,
    FollowUp,
    FollowUpState,
    Incident,
    IncidentEvent,
    IncidentStatus,
    ProposalState,
    Rep,
    ResolutionProposal,
    StepStatus,
)
from app.models.followup import DEFAULT_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from app.prompts import text
from app.queue import schedule
from app.services import update_text
from app.services.deliveries import can_email, queue_delivery
from app.services.escalation import snapshot
from app.services.events import log_event
from app.services.late_mail import LATE_APOLOGY
from app.services.oncall import owner_or_managers, resolve_target
from app.services.page_text import hhmm, rep_clock
from app.services.phones import is_textable
from app.services.sms_opt_outs import is_opted_out
from app.services.unreached import INTERVAL, UNREACHED
from app.services.update_numbers import update_number
from app.services.update_rounds import Extra, why_extra
from app.services.update_schedule import (
    ANSWER_WITHDRAWN,
    REMIND_BEFORE,
    UPDATE_STEP_KINDS,
    close_round_steps,
    follow_up_of,
    schedule_round,
)

KEYPAD_INTERVALS = {"1": 30, "2": 60, "3": 240}  # at the end of the bridged callback
# the same words again this soon are the same update sent twice (a double click), never a second one to the customer
SAME_UPDATE_WINDOW = timedelta(minutes=10)


@dataclass
class Result:
    """What a service did and what to tell whoever asked (its jobs are on the unit of work)."""

    ok: bool
    message: str


class InvalidInterval(ValueError):
    """An update interval outside 15 minutes .. 24 hours."""


def check_interval(minutes: int) -> int:
    """The interval in minutes, or InvalidInterval."""
    if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
        raise InvalidInterval(f"updates every {MIN_INTERVAL_MINUTES} minutes to 24 hours, not {minutes} minutes")
    return minutes


def hand_over(session: Session, incident: Incident, rep_id: int) -> None:
    """The incident was taken over by ``rep_id``: its schedule's reminders and the customer's words go to them from
    now (``oncall.incident_owner`` reads the schedule's owner first). Until session 34 the schedule kept the rep who was
    just told "You need do nothing more", and the new owner never heard the customer."""
    follow_up = follow_up_of(session, incident, lock=True)
    if follow_up is not None and follow_up.owner_rep_id != rep_id:
        follow_up.owner_rep_id = rep_id


def start_follow_up(session: Session, incident: Incident, now: datetime, *, minutes: int = DEFAULT_INTERVAL_MINUTES,
                    via: str = "default", owner_rep_id: int | None = None) -> tuple[FollowUp, bool]:
    """The incident's schedule, started now (first update due one interval from now) if it has none; True if new."""
    existing = follow_up_of(session, incident, lock=True)
    if existing is not None:
        if existing.owner_rep_id is None and owner_rep_id is not None:
            existing.owner_rep_id = owner_rep_id
        return existing, False
    follow_up = FollowUp(incident_id=incident.id, interval_minutes=check_interval(minutes), agreed_via=via,
                         agreed_at=now, owner_rep_id=owner_rep_id or incident.acknowledged_by,
                         state=FollowUpState.UPDATING, round=1, next_due_at=now + timedelta(minutes=minutes))
    session.add(follow_up)
    session.flush()
    log_event(session, at=now, actor="system", kind="updates_scheduled", incident_id=incident.id,
              detail={"interval_minutes": minutes, "via": via, "first_due_at": follow_up.next_due_at.isoformat()})
    schedule_round(session, follow_up)
    return follow_up, True


def call_ended(session: Session, incident: Incident, now: datetime, *, answered_at: datetime | None,
               owner_rep_id: int | None = None) -> FollowUp:
    """The call with the customer answered at ``answered_at`` ended now: the incident's schedule, its first update
    due one interval after the call (as the rep is told), not after the answer.

    The schedule normally exists already: the answer started it (``Decision.start_updates``), so updates are owed
    even if this end of the call is never heard of. Only that untouched start is moved: an interval agreed, an
    update written, or a schedule older than this call keeps its due time.
    """
    follow_up, created = start_follow_up(session, incident, now, owner_rep_id=owner_rep_id)
    untouched = (follow_up.round == 1 and follow_up.last_update_at is None
                 and follow_up.state == FollowUpState.UPDATING and follow_up.next_due_at is not None
                 and answered_at is not None and follow_up.agreed_at >= answered_at
                 # a restart keeps the interval the customer was told: started by this answer all the same
                 and (follow_up.agreed_via == "default" or _restarted_untouched(session, incident)))
    due = now + timedelta(minutes=follow_up.interval_minutes)
    if not created and untouched and follow_up.next_due_at < due:
        follow_up.agreed_at, follow_up.next_due_at = now, due
        log_event(session, at=now, actor="system", kind=EventKind.UPDATES_COUNTED_FROM_CALL_END,
                  incident_id=incident.id, detail={"interval_minutes": follow_up.interval_minutes,
                                                   "first_due_at": due.isoformat()})
        schedule_round(session, follow_up)
    return follow_up


def _restarted_untouched(session: Session, incident: Incident) -> bool:
    """The schedule's latest start or agreed interval is its restart (``restart_follow_up``): no interval was agreed
    since."""
    line = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id,
        IncidentEvent.kind.in_((EventKind.UPDATES_SCHEDULED, EventKind.UPDATE_INTERVAL_AGREED)))
        .order_by(IncidentEvent.id.desc()).limit(1)).first()
    return line is not None and line.kind == EventKind.UPDATES_SCHEDULED and bool((line.detail or {}).get("restarted"))


def withdraw_follow_up(session: Session, incident: Incident, now: datetime) -> None:
    """The only answer standing was withdrawn (``Decision.stop_updates``): the updates it started are owed no more,
    so no reminder or late alert goes out for them; their pending steps end (the report counts no round)."""
    follow_up = follow_up_of(session, incident, lock=True)
    if follow_up is None or follow_up.state != FollowUpState.UPDATING:
        return
    session.execute(update(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind.in_(UPDATE_STEP_KINDS), DueStep.status == StepStatus.PENDING)
        .values(status=StepStatus.DONE, done_at=now, outcome=ANSWER_WITHDRAWN))
    follow_up.state, follow_up.next_due_at = FollowUpState.WITHDRAWN, None
    # the report's fold reads it as "nothing owed": a close that follows counts no round of this schedule missed
    log_event(session, at=now, actor="system", kind=EventKind.UPDATES_WITHDRAWN, incident_id=incident.id,
              detail={"round": follow_up.round})


def restart_follow_up(session: Session, incident: Incident, now: datetime) -> None:
    """A callback is met again after a withdrawn answer stopped the schedule: it starts afresh from now, as a new one
    would (its first update counted from the end of the call: ``call_ended``; the rep is asked for the interval
    there), at the interval the customer was last told in writing as agreed, else the default hour. Until session
    35 it always took the default hour, and a customer texted "every 30 minutes" heard no more of it."""
    follow_up = follow_up_of(session, incident, lock=True)
    if follow_up is None or follow_up.state != FollowUpState.WITHDRAWN:
        return
    minutes, via = told_interval(session, incident) or (DEFAULT_INTERVAL_MINUTES, "default")
    follow_up.state, follow_up.agreed_via, follow_up.interval_minutes = FollowUpState.UPDATING, via, minutes
    follow_up.agreed_at, follow_up.next_due_at = now, now + timedelta(minutes=minutes)
    log_event(session, at=now, actor="system", kind=EventKind.UPDATES_SCHEDULED, incident_id=incident.id,
              detail={"interval_minutes": minutes, "via": via, "first_due_at": follow_up.next_due_at.isoformat(),
                      "restarted": True})
    schedule_round(session, follow_up)


def told_interval(session: Session, incident: Incident) -> tuple[int, str] | None:
    """The interval the customer was last told in writing as agreed, and how it was agreed (the latest
    ``update_interval_agreed`` line whose message was queued, ``customer_told`` "sms" or "email", and did not end
    unreached: failed, undelivered, opted out, not sent); None if never. Until this change a confirmation that came
    back undelivered still counted as told, and agreeing that interval again sent nothing."""
    for at, detail in session.execute(select(IncidentEvent.at, IncidentEvent.detail).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.UPDATE_INTERVAL_AGREED)
            .order_by(IncidentEvent.id.desc())):
        detail = detail or {}
        if detail.get("customer_told") and isinstance(detail.get("minutes"), int) and not _unreached(
                session, incident, detail.get("delivery_id"), at):
            return detail["minutes"], str(detail.get("via") or "default")
    return None


def _unreached(session: Session, incident: Incident, delivery_id: object, at: datetime) -> bool:
    """The confirmation an agreed line queued ended unreached (``unreached.UNREACHED``). Lines written before this
    change name no delivery: theirs is the interval message queued with them, at the same moment."""
    where = ((Delivery.id == delivery_id,) if isinstance(delivery_id, int)
             else (Delivery.incident_id == incident.id, Delivery.purpose == INTERVAL, Delivery.created_at == at))
    status = session.scalars(select(Delivery.status).where(*where, Delivery.recipient == "customer")
                             .order_by(Delivery.id.desc()).limit(1)).first()
    return status in UNREACHED


def untold_interval(session: Session, incident: Incident) -> str:
    """What the rep reads when updates run at an interval the customer was never told in writing (a callback that
    reached them with no interval agreed: a self-report, or the keypad question unanswered): the schedule and how
    to confirm one to them with ``EVERY``; "" when they were told it, or no update is owed."""
    follow_up = follow_up_of(session, incident)
    if follow_up is None or follow_up.state != FollowUpState.UPDATING:
        return ""
    told = told_interval(session, incident)
    if told is not None and told[0] == follow_up.interval_minutes:
        return ""
    return text("upd_interval_untold", every=update_text.every(follow_up.interval_minutes), ref=incident.reference)


def default_untold(session: Session, incident: Incident) -> str:
    """``untold_interval`` while the schedule still runs at the default interval nobody agreed (no key pressed at
    the end of the callback, no ``EVERY``, the Updates page not used, or a ``CALLED``): what the owner reads when
    the interval question went unanswered (``tell_unanswered_interval``) and with each update reminder until one is
    agreed; "" otherwise (an interval agreed that no written channel could carry was answered: the rep read so)."""
    follow_up = follow_up_of(session, incident)
    if follow_up is None or follow_up.agreed_via != "default":
        return ""
    return untold_interval(session, incident)


UNANSWERED_INTERVAL = "interval_unanswered"  # the delivery purpose of the owner's SMS below


def tell_unanswered_interval(session: Session, incident: Incident, now: datetime) -> bool:
    """The rep hung up before Twilio asked the ``<Dial action>`` (its ``CallStatus`` final), so nobody hears its
    interval question nor the spoken warning after it: the owner reads by SMS, once, that updates run at the default
    interval, the customer was not told, and how to confirm one with ``EVERY``. Until session 38 only that spoken
    warning said so, and a rep who hung up first (as an outside probe's did) was told nothing while the customer was
    owed updates on an hour nobody agreed. A rep who hangs up at the question itself is not texted here (their leg's
    end cannot tell it from one who heard the warning): each update reminder says it (``default_untold``). True if
    queued."""
    untold = default_untold(session, incident)
    follow_up = follow_up_of(session, incident) if untold else None
    owner = session.get(Rep, follow_up.owner_rep_id) if follow_up is not None and follow_up.owner_rep_id else None
    if owner is None or not owner.phone:
        return False
    readers = {reader.phone: reader for reader in owner_or_managers(session, owner) if reader.phone}
    sent = set(session.scalars(select(Delivery.to_address).where(
        Delivery.incident_id == incident.id, Delivery.purpose == UNANSWERED_INTERVAL)))
    for phone, reader in readers.items():
        if phone not in sent:  # once (a second <Dial action> of the incident left unheard texts nothing again)
            queue_delivery(session, channel=DeliveryChannel.SMS, to=phone, purpose=UNANSWERED_INTERVAL,
                           recipient="owner" if reader is owner else "manager",
                           body=update_text.interval_unanswered_sms(incident, untold), now=now,
                           incident_id=incident.id)
    return bool(readers.keys() - sent)


def close_follow_up(session: Session, incident: Incident, now: datetime, how: str) -> None:
    """The incident is resolved: its schedule owes nothing more (``how``: confirmed, verbal, unconfirmed, manager).

    Called by the one resolve (app/services/decisions.carry_out), so a manager's resolution with a reason ends it
    too, not only the customer's answer; the round still owed is closed with it (the report counts it missed at
    the close line).
    """
    follow_up = follow_up_of(session, incident, lock=True)
    if follow_up is None or follow_up.state == FollowUpState.CLOSED:
        return
    session.execute(update(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind.in_(UPDATE_STEP_KINDS), DueStep.status == StepStatus.PENDING)
        .values(status=StepStatus.DONE, done_at=now, outcome="incident_resolved"))
    follow_up.state, follow_up.next_due_at = FollowUpState.CLOSED, None
    follow_up.closed_at, follow_up.closed_how = now, how[:16]


def reopen_follow_up(session: Session, incident: Incident, now: datetime, owed: bool = True) -> FollowUp | None:
    """The incident was reopened (``Decision.reopen``): the schedule its close ended owes updates again, at the interval
    agreed, the next one interval from now, in a round of its own (the round the close ended stays settled as the
    report counted it). Logged as a restart (``updates_scheduled``): the report's fold reads its due time there.
    Not ``owed`` (no answer stands: the customer was never reached): withdrawn, so a callback met later starts it
    afresh (``restart_follow_up``), as after a withdrawn answer."""
    follow_up = follow_up_of(session, incident, lock=True)
    if follow_up is None or follow_up.state != FollowUpState.CLOSED:
        return follow_up
    follow_up.closed_at, follow_up.closed_how = None, ""
    follow_up.round += 1
    if not owed:
        follow_up.state, follow_up.next_due_at = FollowUpState.WITHDRAWN, None
        log_event(session, at=now, actor="system", kind=EventKind.UPDATES_WITHDRAWN, incident_id=incident.id,
                  detail={"round": follow_up.round, "reopened": True})
        return follow_up
    follow_up.state = FollowUpState.UPDATING
    follow_up.next_due_at = now + timedelta(minutes=follow_up.interval_minutes)
    log_event(session, at=now, actor="system", kind=EventKind.UPDATES_SCHEDULED, incident_id=incident.id,
              detail={"interval_minutes": follow_up.interval_minutes, "via": follow_up.agreed_via,
                      "first_due_at": follow_up.next_due_at.isoformat(), "restarted": True, "reopened": True})
    schedule_round(session, follow_up)
    return follow_up


def agree_interval(session: Session, incident: Incident, minutes: int, *, via: str, by: str, now: datetime,
                   owner_rep_id: int | None = None) -> Result:
    """Set the update interval agreed with the customer (dashboard, keypad, owner's SMS); when it is not the one the
    customer was last told in writing, they are sent it and the next update's time, whichever channel agreed it."""
    try:
        check_interval(minutes)
    except InvalidInterval as exc:
        return Result(False, f"{exc}. Nothing was changed.")
    if incident.status != IncidentStatus.OPEN:
        return Result(False, f"Incident {incident.reference} is closed. Nothing was changed.")
    refused = not_agreed_yet(session, incident, now)
    if refused:
        return Result(False, refused)
    follow_up, created = start_follow_up(session, incident, now, minutes=minutes, via=via, owner_rep_id=owner_rep_id)
    # the customer reads the interval whenever it is not the one they were last told in writing: the default hour
    # a schedule starts with was never told them, so agreeing it tells them too (it used to send nothing, while the
    # rep heard "confirmed to the customer in writing")
    last_told = told_interval(session, incident)
    tell = last_told is None or last_told[0] != minutes
    if not created:  # it existed: change the interval and move the next due time
        no_longer = minutes <= follow_up.interval_minutes
        follow_up.interval_minutes = minutes
        follow_up.agreed_via, follow_up.agreed_at = via, now
        # a round already overdue keeps its due time (its lateness stands): the new interval counts from its update
        overdue = follow_up.next_due_at is not None and follow_up.next_due_at <= now
        if follow_up.state == FollowUpState.UPDATING and not overdue:
            base = follow_up.last_update_at or now
            due = max(base + timedelta(minutes=minutes), now + REMIND_BEFORE)
            # the reminder's lead never makes a shorter (or the same) interval owe the update later than the time
            # the customer was told
            follow_up.next_due_at = min(due, follow_up.next_due_at) if no_longer and follow_up.next_due_at else due
            schedule_round(session, follow_up)
    # while a proposal awaits their answer no update is owed: nothing to tell them (a NO says when the next comes)
    told, delivery_id = (_tell_interval(session, incident, minutes, follow_up.next_due_at, now)
                         if tell and follow_up.state == FollowUpState.UPDATING else (None, None))
    log_event(session, at=now, actor=by, kind="update_interval_agreed", incident_id=incident.id,
              detail={"minutes": minutes, "via": via,
                      "next_due_at": follow_up.next_due_at.isoformat() if follow_up.next_due_at else None,
                      **({"customer_told": told} if told is not None else {}),
                      **({"delivery_id": delivery_id} if delivery_id else {})})
    tz = rep_clock(session.get(Rep, owner_rep_id) if owner_rep_id else None)  # the rep who agreed reads it
    # with the day when it is not today on their clock: "every 24 hours ... due by 15:16 EST" read as due right now
    due = (f" The next update is due by {update_text.due_text(follow_up.next_due_at, tz, now)}."
           if follow_up.next_due_at else "")
    paused = ""
    if follow_up.state == FollowUpState.AWAITING_CONFIRMATION:  # "every 2 hours" alone reads as if updates ran on
        paused = (" Updates are paused while the customer's answer to the resolution proposal is awaited"
                  + ("; the customer was not told." if tell else "."))
    return Result(True, f"Updates for {incident.reference} every {say_minutes(minutes)}.{due}{paused}"
                        f"{_told_words(told)}")


def not_agreed_yet(session: Session, incident: Incident, now: datetime) -> str:
    """Why no interval can be agreed with the incident's customer now ("" when one can): it is agreed on a callback
    that reached them (the escalation core's ``customer_reached``: met, late, the rep's word, an e-mail contact),
    the moment updates become owed, and a customer nobody spoke to must never read "as agreed". Refused, not kept
    for later: nobody agreed it with them, and a stored interval would surface unannounced. The Updates page says
    when its schedule starts by the same rule."""
    if snapshot(session, incident, now).customer_reached:
        return ""
    follow_up = follow_up_of(session, incident)
    if follow_up is not None and follow_up.state == FollowUpState.WITHDRAWN:
        told = told_interval(session, incident)
        every = say_minutes(told[0] if told else DEFAULT_INTERVAL_MINUTES)
        return (f"The callback for {incident.reference} was too short to count as the callback: updates stop until "
                f"one reaches the customer, then run every {every}{' as they were told' if told else ''}. Agree "
                "another interval on that call. Nothing was changed.")
    return (f"No callback has reached the customer of {incident.reference} yet: the update interval is agreed with "
            "them on the callback. Nothing was changed; the customer was not told.")


def _told_words(told: str | None) -> str:
    """What the rep reads of the customer's confirmation (``told``: its channel, "" none could carry, None not sent)."""
    if told is None:
        return ""
    if not told:
        return f" The customer was NOT told: {NO_WRITTEN_CHANNEL}."
    return f" Confirmation to the customer queued ({'SMS' if told == DeliveryChannel.SMS.value else 'e-mail'})."


def _tell_interval(session: Session, incident: Incident, minutes: int, next_due: datetime | None,
                   now: datetime) -> tuple[str, int | None]:
    """Queue one message telling the customer the agreed interval and the next update's time: an SMS, else (their
    number takes none, or opted out) an e-mail; returns its channel ("" when neither can reach them) and its
    delivery's id (what ``told_interval`` reads of its fate)."""
    channels = written_channels(session, incident)
    if DeliveryChannel.SMS.value in channels:
        sent = queue_delivery(session, channel=DeliveryChannel.SMS, to=incident.callback_phone, purpose=INTERVAL,
                              body=update_text.interval_sms(incident, minutes, next_due, now), now=now,
                              incident_id=incident.id, language=incident.language)
        return DeliveryChannel.SMS.value, sent.id if sent else None
    if DeliveryChannel.EMAIL.value in channels:
        subject, body = update_text.interval_email(incident, minutes, next_due, now)
        sent = queue_delivery(session, channel=DeliveryChannel.EMAIL, to=incident.email, purpose=INTERVAL,
                              subject=subject, body=body, now=now, incident_id=incident.id, language=incident.language)
        return DeliveryChannel.EMAIL.value, sent.id if sent else None
    return "", None


def write_update(session: Session, incident: Incident, *, what_is_wrong: str, expected_resolution: str = "",
                 workaround: str = "", by: str, via: str, now: datetime, outage_id: int | None = None,
                 rep_id: int | None = None, next_due_at: datetime | None = None) -> Result:
    """Record an update, send it to the customer by SMS and e-mail, and schedule the next one (``rep_id``: the rep
    who wrote it, who reads the answer's times on their clock; ``next_due_at``: when the next is due, if not one
    interval on: an outage's next update time, which its customers are told)."""
    what_is_wrong = what_is_wrong.strip()
    if not what_is_wrong:
        return Result(False, "Write what is wrong. Nothing was sent.")
    if incident.status != IncidentStatus.OPEN:
        return Result(False, f"Incident {incident.reference} is closed. Nothing was sent.")
    words = {"what_is_wrong": what_is_wrong[:4000], "expected_resolution": expected_resolution.strip()[:200],
             "workaround": workaround.strip()[:4000]}  # as stored
    again = _same_update_lately(session, incident, words, now)
    if again is not None:  # a double click, a form sent again, the same words by SMS and on the dashboard
        at = hhmm(again, rep_clock(session.get(Rep, rep_id) if rep_id else None))
        return Result(False, f"This update for {incident.reference} was already sent at {at} "
                             "(the same words). Nothing was sent again.")
    # only the customer's being reached starts the schedule (the core's ``start_updates``): an update written before
    # owes nothing and starts nothing (it used to start one, and count as owed and on time)
    follow_up = follow_up_of(session, incident, lock=True)
    running = follow_up is not None and follow_up.state != FollowUpState.WITHDRAWN
    extra = why_extra(updating=(follow_up.state == FollowUpState.UPDATING) if running else None,
                      next_due_at=follow_up.next_due_at if running else None,
                      last_answered_at=follow_up.last_update_at if running else None,
                      interval_minutes=follow_up.interval_minutes if running else DEFAULT_INTERVAL_MINUTES, now=now)
    owed = extra is None
    round_, due = (follow_up.round, follow_up.next_due_at) if owed else (0, None)
    late = max(0, int((now - due).total_seconds())) if due else 0
    row = CustomerUpdate(incident_id=incident.id, outage_id=outage_id, round=round_, **words, written_by=by[:200],
                         written_via=via, written_at=now, due_at=due, late_seconds=late)
    session.add(row)
    session.flush()
    if owed:  # the round's answer: the next is due an interval after it (an extra moves nothing)
        follow_up.last_update_at = now
        close_round_steps(session, incident.id, round_, "update_written", now)
        follow_up.round += 1
        follow_up.next_due_at = next_due_at or now + timedelta(minutes=follow_up.interval_minutes)
        schedule_round(session, follow_up)
    still_due = follow_up.next_due_at if running and follow_up.state == FollowUpState.UPDATING else None
    # the customer reads when the next is due: the schedule's, else (none owed) an outage's time if it gave one
    told_due = still_due if extra in (None, Extra.TOO_SOON) else next_due_at
    channels = _send_to_customer(session, incident, row, told_due, now)
    log_event(session, at=now, actor=by or "rep", kind="customer_update_sent", incident_id=incident.id,
              detail={"update_id": row.id, "round": round_, "due_at": due.isoformat() if due else None,
                      "late_seconds": late, "via": via, "outage_id": outage_id, "channels": channels,
                      **({"extra": extra.value} if extra else {})})
    tz = rep_clock(session.get(Rep, rep_id) if rep_id else None)
    when = (_extra_words(extra, still_due, tz, now) if extra else "on time" if late == 0
            else f"{late} s late" if late < 60 else f"{late // 60} min late")  # as recorded
    number = update_number(session, incident.id, round_)  # the Nth update owed, not the schedule's round
    name = f"Update {number or ''} for {incident.reference}".replace("Update  ", "Update ")
    if not channels:  # written and counted, but nothing can carry it: never claim it reached the customer
        log_event(session, at=now, actor="system", kind=EventKind.CUSTOMER_UPDATE_UNDELIVERED, incident_id=incident.id,
                  detail={"update_id": row.id, "round": round_, "channels": {}, "errors": {}, "told": ["writer"]})
        return Result(True, f"{name} recorded ({when}) but NOT sent: {NO_WRITTEN_CHANNEL}. Tell them by phone.")
    return Result(True, f"{name} sent ({when}).")


def _extra_words(extra: Extra, still_due: datetime | None, tz, now: datetime) -> str:
    """What the writer reads of an update that answered no round (``update_rounds``), and when the next is owed (with
    its day when that is not today on their clock)."""
    due = f"; the next is still due by {update_text.due_text(still_due, tz, now)}" if still_due else ""
    return {Extra.NOT_REACHED: "extra: no update is owed before a callback reaches the customer; the schedule "
                               "starts with that callback",
            Extra.PAUSED: "extra: updates are paused while the customer's answer to the resolution proposal is "
                          "awaited",
            Extra.TOO_SOON: "extra: it follows the last update by less than a quarter of the interval, so it "
                            "counts as no round of its own"}[extra] + due


def _same_update_lately(session: Session, incident: Incident, words: dict[str, str], now: datetime) -> datetime | None:
    """When the incident's latest update, written within SAME_UPDATE_WINDOW, has these very ``words`` (its fields
    as stored): its time."""
    last = session.scalars(select(CustomerUpdate).where(CustomerUpdate.incident_id == incident.id)
                           .order_by(CustomerUpdate.written_at.desc(), CustomerUpdate.id.desc()).limit(1)).first()
    same = (last is not None and now - last.written_at < SAME_UPDATE_WINDOW
            and all(getattr(last, name) == value for name, value in words.items()))
    return last.written_at if same else None


NO_WRITTEN_CHANNEL = ("the customer has no number that takes SMS (or it opted out: STOP) and no e-mail address "
                      "(or SMTP is not configured)")


def written_channels(session: Session, incident: Incident) -> list[str]:
    """How a written message can reach the incident's customer: "sms" and/or "email" (maybe neither).

    A number that opted out of SMS (``sms_opt_outs``) carries nothing: its delivery rows end opted_out. Nor does an
    e-mail address while SMTP is not configured (``deliveries.can_email``, the delivery job's own rule): its rows end
    skipped (no_smtp). Until session 36 the address alone counted, and the rep read "Confirmation to the customer
    queued (e-mail)" of an e-mail the job then skipped.
    """
    textable = is_textable(incident.callback_phone) and not is_opted_out(session, incident.callback_phone)
    return (([DeliveryChannel.SMS.value] if textable else [])
            + ([DeliveryChannel.EMAIL.value] if can_email(session, incident.email) else []))


def _send_to_customer(session: Session, incident: Incident, row: CustomerUpdate, next_due: datetime | None,
                      now: datetime) -> list[str]:
    """Queue the update on every written channel the customer has; returns those that can carry it (an SMS to a
    number that opted out is queued and ends opted_out, shown; an e-mail is queued only if SMTP can send it)."""
    channels = written_channels(session, incident)
    if is_textable(incident.callback_phone):
        queue_delivery(session, channel=DeliveryChannel.SMS, to=incident.callback_phone, purpose="update",
                       body=update_text.update_sms(incident, row, next_due), now=now,
                       incident_id=incident.id, update_id=row.id, language=incident.language)
    if DeliveryChannel.EMAIL.value in channels:
        subject, body = update_text.update_email(incident, row, next_due)
        queue_delivery(session, channel=DeliveryChannel.EMAIL, to=incident.email, purpose="update",
                       subject=subject, body=body, now=now, incident_id=incident.id, update_id=row.id,
                       language=incident.language)
    return channels


def remind_owner(session: Session, incident: Incident, step: DueStep, now: datetime) -> str:
    """Step UPDATE_REMINDER: SMS the owner that the customer's update is due soon."""
    follow_up = _owed(session, incident, step)
    if follow_up is None:
        return "skipped_not_owed"
    owner = session.get(Rep, follow_up.owner_rep_id) if follow_up.owner_rep_id else None
    if owner is None or not owner.phone:
        return "skipped_no_owner"
    readers = {reader.phone: reader for reader in owner_or_managers(session, owner) if reader.phone}
    number = update_number(session, incident.id, step.level)
    untold = default_untold(session, incident)  # each reminder says so until an interval is agreed
    for phone, reader in readers.items():
        queue_delivery(session, channel=DeliveryChannel.SMS, to=phone, purpose="update_reminder",
                       recipient="owner" if reader is owner else "manager",
                       body=update_text.reminder_sms(incident, number, follow_up.next_due_at, rep_clock(reader),
                                                     untold, now=now),
                       now=now, incident_id=incident.id)
    return "reminded" if readers else "skipped_no_owner"


def update_overdue(session: Session, incident: Incident, step: DueStep, now: datetime) -> str:
    """Step UPDATE_DUE: the update was not written in time; tell the managers, record it late.

    While the update stays unwritten the step comes back one interval later and tells them again
    (each time logged): a missed update is never escalated once and then forgotten.
    """
    follow_up = _owed(session, incident, step)
    if follow_up is None:
        return "skipped_not_owed"
    owner = session.get(Rep, follow_up.owner_rep_id) if follow_up.owner_rep_id else None
    alerted = 0
    seen: set[str] = set()
    number = update_number(session, incident.id, step.level)
    for manager in resolve_target(session, {"type": "managers"}, now):
        if manager.phone and manager.phone not in seen:
            seen.add(manager.phone)
            body = update_text.late_sms(incident, number, follow_up.next_due_at, owner.name if owner else "",
                                        rep_clock(session.get(Rep, manager.rep_id) if manager.rep_id else None),
                                        now=now)
            queue_delivery(session, channel=DeliveryChannel.SMS, to=manager.phone, purpose="update_late",
                           recipient="manager", body=body, now=now, incident_id=incident.id)
            alerted += 1
    apologised = _apologise(session, incident, step.level, now)
    log_event(session, at=now, actor="system", kind="customer_update_late", incident_id=incident.id,
              detail={"round": step.level, "due_at": follow_up.next_due_at.isoformat(), "alerted": alerted,
                      "owner_rep_id": follow_up.owner_rep_id,
                      "late_seconds": max(0, int((now - follow_up.next_due_at).total_seconds())),
                      **({"customer_told": apologised} if apologised is not None else {})})
    # re-armed: the writing of the update (close_round_steps) or the end of the follow-up retires it
    step.status, step.done_at = StepStatus.PENDING, None
    step.due_at = now + timedelta(minutes=follow_up.interval_minutes)
    schedule(session, "step", step.id, step.due_at)
    return f"escalated_{alerted}"


def _apologise(session: Session, incident: Incident, round_: int, now: datetime) -> list[str] | None:
    """The customer's update of ``round_`` is overdue for the first time and they were promised one in writing ("Next
    update by 14:35": ``promised_in_writing``), so they read a short apology on every written channel updates use (an opted-out number, or e-mail
    without SMTP, carries nothing: ``written_channels``), in their language; returns those channels. None when the
    round was overdue before (the managers' alert repeats each interval, the apology never). Until this change the
    customer heard nothing and was left with a past time as our last word."""
    if session.scalar(select(IncidentEvent.id).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CUSTOMER_UPDATE_LATE,
            IncidentEvent.detail["round"].as_integer() == round_).limit(1)) is not None:
        return None
    if not promised_in_writing(session, incident):  # a schedule nobody told them of (a CALLED, no key pressed)
        return None
    channels = written_channels(session, incident)
    if DeliveryChannel.SMS.value in channels:
        queue_delivery(session, channel=DeliveryChannel.SMS, to=incident.callback_phone, purpose=LATE_APOLOGY,
                       body=update_text.late_apology_sms(incident), now=now, incident_id=incident.id,
                       language=incident.language)
    if DeliveryChannel.EMAIL.value in channels:
        subject, body = update_text.late_apology_email(incident)
        queue_delivery(session, channel=DeliveryChannel.EMAIL, to=incident.email, purpose=LATE_APOLOGY,
                       subject=subject, body=body, now=now, incident_id=incident.id, language=incident.language)
    return channels


# the customer's messages that name when their next update comes: the interval's confirmation, an update, the notice
# of a reopen by the support team (``reopen.PURPOSE``)
PROMISING = (INTERVAL, "update", "reopened")


def promised_in_writing(session: Session, incident: Incident) -> bool:
    """The customer was told in writing when an update comes: a message naming it (``PROMISING``) that did not end
    unreached, or the answer to their written NO (a proposal rejected by SMS or the e-mail link, or a close reopened
    by their NO), which names the next update's time."""
    if session.scalar(select(Delivery.id).where(
            Delivery.incident_id == incident.id, Delivery.recipient == "customer", Delivery.purpose.in_(PROMISING),
            Delivery.status.notin_(UNREACHED)).limit(1)) is not None:
        return True
    if session.scalar(select(ResolutionProposal.id).where(
            ResolutionProposal.incident_id == incident.id, ResolutionProposal.state == ProposalState.REJECTED,
            ResolutionProposal.decided_via.in_(("sms", "link"))).limit(1)) is not None:
        return True
    return any((detail or {}).get("by") == "customer" and (detail or {}).get("via") in ("sms", "link")
               for detail in session.scalars(select(IncidentEvent.detail).where(
                   IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.INCIDENT_REOPENED)))


def _owed(session: Session, incident: Incident, step: DueStep) -> FollowUp | None:
    """The follow-up when the step's round is still owed (open, updating, not yet written)."""
    follow_up = follow_up_of(session, incident)
    if (incident.status != IncidentStatus.OPEN or follow_up is None or follow_up.state != FollowUpState.UPDATING
            or follow_up.round != step.level):
        return None
    return follow_up


def say_minutes(minutes: int) -> str:
    """An interval as said to a rep: "30 minutes", "hour", "4 hours"."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"
