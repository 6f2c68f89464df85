"""When each resource whose final status is overdue is asked of Twilio: its schedule, and a fair, bounded share.

Each kind of resource (``KINDS``) waits for its final status while Twilio has accepted it and its row says it has
none; it is asked at the times of its schedule, counted from when Twilio accepted it, never more often than once
a minute, never after ``HORIZON``. Its asks so far and the next one's time are kept in ``status_lookups``
(none: never asked; its first ask is due a fixed time after it was accepted), so the watchdog's pass selects in
SQL only what is due, the longest overdue first, at most ``PER_PASS`` of all kinds together: with more due than
a pass takes, each waits only for those due before it, and every one is asked within a bounded number of passes.
"Due before" reads a resource never asked by when Twilio accepted it and one asked by its next ask's time, so a
first ask goes ahead of a later ask due up to its first delay (minutes) before it: the order is only that much
off, and no resource ever waits for one that became due after it by more than that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import (
    Callback,
    CallbackKind,
    CallbackOutcome,
    Channel,
    Delivery,
    DeliveryChannel,
    Notice,
    NoticeStatus,
    Page,
    PageStatus,
    StatusLookup,
    UpdateDeliveryStatus,
    UTCDateTime,
)
from app.queue import PendingJob

# A page SMS: its delivery report comes within seconds, and after its validity (``pages.SMS_VALIDITY_SECONDS``,
# 10 min) Twilio has failed one still queued.
SMS_ASKS = (timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=12))
# A voice page: the ring time-out (``place_call``'s 30 s) and a margin, then an answered call's length.
CALL_ASKS = (timedelta(seconds=90), timedelta(minutes=3), timedelta(minutes=10), timedelta(minutes=30))
# A callback's legs (from when the rep's call was placed): a bridged call may last long.
LEG_ASKS = (timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=30),
            timedelta(minutes=60))
# Any other SMS (an update, a proposal, a reminder, a notice): sent with Twilio's default validity, so one still
# queued at Twilio may yet go out for longer than a page.
MESSAGE_ASKS = (timedelta(minutes=2), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=60))
MIN_GAP = timedelta(minutes=1)  # between two asks of one resource (a watchdog that was down asks once, not in a burst)
HORIZON = timedelta(hours=2)  # a resource accepted longer ago is no longer looked at
FORGET_AFTER = HORIZON + timedelta(minutes=10)  # its row is then deleted (a margin for a job handed over at HORIZON)
FORGET_PER_PASS = 1000  # rows one watchdog pass deletes (an upgraded database's old ones over many passes)
PER_PASS = 20  # lookups one watchdog pass hands over (the rest at the next passes, the longest overdue first)

WAITING_PAGE = (PageStatus.SENT, PageStatus.RINGING)  # a page accepted by Twilio whose end is not known


@dataclass(frozen=True)
class Kind:
    """A kind of resource whose final status is looked up: its job kind, its row, when it was accepted."""

    job: str  # the job kind (app.queue.JOB_FUNCTIONS) and ``status_lookups.kind``
    key: str  # the detail naming it in its ``status_asked`` line
    model: type
    start: object  # the column: when Twilio accepted it
    waiting: Callable[[], tuple]  # SQL conditions: Twilio has it, and its final status is not known
    first_due: Callable[[Before], object]  # SQL condition: its first ask has come


class Before:
    """Bind parameters for "now less a duration", one per duration: a statement built once with them runs at
    any ``now`` (building a statement costs more than running it on an idle hotline: the watchdog asks every pass).
    """

    def __init__(self) -> None:
        self.durations: dict[str, timedelta] = {}

    def __call__(self, duration: timedelta):
        name = f"before_{int(duration.total_seconds())}"
        self.durations[name] = duration
        return bindparam(name, type_=UTCDateTime())

    def values(self, now: datetime) -> dict[str, datetime]:
        """The parameters' values at ``now``."""
        return {name: now - duration for name, duration in self.durations.items()}


def _page_waits() -> tuple:
    return Page.status.in_(WAITING_PAGE), Page.twilio_sid != ""


def _page_first(before: Before):
    return or_(and_(Page.channel == Channel.SMS, Page.sent_at <= before(SMS_ASKS[0])),
               and_(Page.channel != Channel.SMS, Page.sent_at <= before(CALL_ASKS[0])))


def _leg_waits() -> tuple:
    """A bridged callback still pending whose rep's call (or customer's) Twilio has: its end is awaited."""
    return (Callback.kind == CallbackKind.BRIDGED, Callback.outcome == CallbackOutcome.PENDING,
            or_(Callback.rep_call_sid != "", Callback.customer_call_sid != ""))


def _delivery_waits() -> tuple:
    return (Delivery.channel == DeliveryChannel.SMS, Delivery.status == UpdateDeliveryStatus.SENT,
            Delivery.provider_id != "")


def _notice_waits() -> tuple:
    return Notice.status == NoticeStatus.SENT, Notice.twilio_sid != ""


PAGES = Kind("page_status", "page_id", Page, Page.sent_at, _page_waits, _page_first)
CALLBACKS = Kind("callback_status", "callback_id", Callback, Callback.placed_at, _leg_waits,
                 lambda before: Callback.placed_at <= before(LEG_ASKS[0]))
DELIVERIES = Kind("delivery_status", "delivery_id", Delivery, Delivery.sent_at, _delivery_waits,
                  lambda before: Delivery.sent_at <= before(MESSAGE_ASKS[0]))
NOTICES = Kind("notice_status", "notice_id", Notice, Notice.sent_at, _notice_waits,
               lambda before: Notice.sent_at <= before(MESSAGE_ASKS[0]))
KINDS = (PAGES, CALLBACKS, DELIVERIES, NOTICES)


def due_status_checks(session: Session, now: datetime) -> list[PendingJob]:
    """The resources whose final status is overdue and whose next ask has come, the longest overdue first: for
    the watchdog (at most ``PER_PASS``)."""
    due: list[tuple[datetime, int, PendingJob]] = []
    for n, kind in enumerate(KINDS):
        statement, before = _due_query(kind)
        rows = session.execute(statement, before.values(now)).all()
        due += [(at, n, PendingJob(kind.job, target_id, now, attempt=asks + 1)) for target_id, at, asks in rows]
    due.sort(key=lambda item: (item[0], item[1], item[2].target_id))
    return [job for _at, _n, job in due[:PER_PASS]]


_DUE_QUERIES: dict[str, tuple[Select, Before]] = {}


def _due_query(kind: Kind) -> tuple[Select, Before]:
    """The statement selecting ``kind``'s due asks (built once), and its parameters of ``now``."""
    if kind.job not in _DUE_QUERIES:
        before = Before()
        since = func.coalesce(StatusLookup.next_at, kind.start, type_=UTCDateTime())  # first ask: by acceptance
        _DUE_QUERIES[kind.job] = (
            select(kind.model.id, since, func.coalesce(StatusLookup.asks, 0)).select_from(kind.model)
            .outerjoin(StatusLookup, and_(StatusLookup.kind == kind.job, StatusLookup.target_id == kind.model.id))
            .where(*kind.waiting(), kind.start > before(HORIZON),
                   or_(and_(StatusLookup.target_id.is_(None), kind.first_due(before)),
                       StatusLookup.next_at <= before(timedelta(0))))
            .order_by(since, kind.model.id).limit(PER_PASS), before)
    return _DUE_QUERIES[kind.job]


def claim_ask(session: Session, kind: Kind, target_id: int, start: datetime, schedule: tuple[timedelta, ...],
              now: datetime) -> int | None:
    """Count the next ask of a resource (in the transaction that locks its row) if it has come: its number, or
    None when it has not (or another run counted it first)."""
    lookup = session.get(StatusLookup, (kind.job, target_id), with_for_update=True)
    asks = lookup.asks if lookup else 0
    due_at = lookup.next_at if lookup else start + schedule[0]
    if due_at is None or now < due_at or asks >= len(schedule):
        return None
    next_at = max(start + schedule[asks + 1], now + MIN_GAP) if asks + 1 < len(schedule) else None
    if lookup is None:
        try:
            with session.begin_nested():
                session.add(StatusLookup(kind=kind.job, target_id=target_id, asks=1, next_at=next_at))
        except IntegrityError:  # another run asked it first
            return None
        return 1
    # compare-and-set on what was read: SQLite ignores FOR UPDATE, so two runs could both count the same ask
    counted = session.execute(update(StatusLookup).where(
        StatusLookup.kind == kind.job, StatusLookup.target_id == target_id, StatusLookup.asks == asks)
        .values(asks=asks + 1, next_at=next_at).execution_options(synchronize_session=False))
    return asks + 1 if counted.rowcount == 1 else None


def forget_past_lookups(session: Session, now: datetime, limit: int = FORGET_PER_PASS) -> int:
    """Delete the rows of resources no pass asks again (accepted longer ago than ``FORGET_AFTER``, or gone), at
    most ``limit``; how many were deleted. The asks themselves stay in the incident's log (``status_asked``)."""
    left = limit
    for kind in KINDS:
        if left <= 0:
            break
        recent = select(kind.model.id).where(kind.model.id == StatusLookup.target_id, kind.start >= now - FORGET_AFTER)
        ids = session.scalars(select(StatusLookup.target_id).where(StatusLookup.kind == kind.job, ~recent.exists())
                              .order_by(StatusLookup.target_id).limit(left)).all()
        if ids:
            session.execute(delete(StatusLookup).where(StatusLookup.kind == kind.job, StatusLookup.target_id.in_(ids)))
        left -= len(ids)
    return limit - left
