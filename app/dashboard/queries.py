"""Read-only queries behind the dashboard pages: the board, one incident, who is on call.

Nothing here writes; each function runs in the caller's session.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Select, String, func, or_, select, type_coerce
from sqlalchemy.engine import Connection, Result
from sqlalchemy.orm import Session, aliased

from app.event_kind import EventKind
from app.models import (
    Account,
    Callback,
    CallbackKind,
    CallbackOutcome,
    Contact,
    Delivery,
    EscalationPolicy,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Override,
    Page,
    Rep,
    Schedule,
    Ticket,
    UpdateDeliveryStatus,
)
from app.models.incident import OWNER_KINDS
from app.models.paging import CUSTOMER_ROLE
from app.oncall.policy import DEFAULT_POLICY_NAME, default_levels
from app.oncall.rotation import Shift
from app.reports.confirming import confirming
from app.reports.facts import short_bridges
from app.services.callback_extensions import callback_extensions
from app.services.escalation import callers_on_hotline
from app.services.events import events_of
from app.services.joined_contacts import JoinedContact, joined_contacts
from app.services.oncall import on_call_everywhere, schedule_shifts
from app.services.oncall_coverage import sms_opted_out_numbers
from app.services.reopen import reopened_words
from app.services.tickets import named_account_sql


class LastCallback(NamedTuple):
    """The latest bridged callback of an incident, as the board and the incident page word its state."""

    outcome: str
    requested_at: datetime
    customer_call_sid: str  # with ``outcome``, whether Twilio showed the customer's leg dialled (customer_dialled)
    rep: str  # the name of the rep the hotline calls for it, "" if unknown
    too_short: bool = False  # attempted: the customer answered, and the call was too short to count


@dataclass(frozen=True)
class BoardIncident:
    """An open incident with the pages sent for it and who acknowledged it (its and their board columns)."""

    incident: Any  # a row of ``_BOARD_INCIDENT``: the ``Incident`` attributes the board shows
    pages: list[Any]  # rows of ``_BOARD_PAGE``
    acknowledged_by: str  # "" when nobody has
    self_reported_by: str = ""  # the rep who says they called from their own phone, if any
    last_callback: LastCallback | None = None  # the latest bridged callback, None for none
    taken_over_at: datetime | None = None  # when the owner took it over (None: the owner acknowledged it)
    extension: str = ""  # the callback number's extension (the rep keys it in once connected), "" for none
    # the caller who opened it is still giving their details (issue 13): its deadline is set when they are in
    on_hotline: bool = False
    # callers over the per-number limit who joined it with a contact that is not its own: owed callbacks too
    also_call: tuple[JoinedContact, ...] = ()
    # its latest update (or resolution proposal) reached the customer by no channel: what the board says, "" if not
    unreached: str = ""
    # it was closed and reopened since (by the customer's NO, or a rep's reason): who, and their words; "" if not
    reopened: str = ""
    # its callback is connected and not proven yet (``reports.confirming``): when it will be; None otherwise
    confirming_until: datetime | None = None


@dataclass(frozen=True)
class IncidentDetail:
    """Everything the incident page shows."""

    incident: Incident
    pages: list[Page]
    callbacks: list[Callback]
    events: list[IncidentEvent]
    acknowledged_by: str
    rep_names: dict[int, str]
    taken_over_at: datetime | None = None  # when the owner took it over (None: the owner acknowledged it)
    first_acknowledged_by: str = ""  # who acknowledged it first, when someone else took it over since
    # the related incident whose callback reached the customer and counts for this one, "" for none
    reached_on_reference: str = ""


@dataclass(frozen=True)
class ScheduleOverview:
    """One schedule: who is on call now, the coming shifts, and its current and future overrides."""

    schedule: Schedule
    on_call: list[Rep]
    shifts: list[Shift]
    overrides: list[Override]


@dataclass(frozen=True)
class OnCallOverview:
    """The on-call page: schedules, the default policy, and every rep by id."""

    schedules: list[ScheduleOverview]
    policy_name: str
    policy_levels: list[dict]
    policy_saved: bool  # False while the built-in default has never been stored
    reps: dict[int, Rep]
    # numbers that texted STOP (their pages are calls only), with when
    sms_opted_out: dict[str, datetime] = field(default_factory=dict)


# The columns the board shows, read as plain rows (no ORM objects for its 1,000 incidents and their pages);
# a template that starts using another one fails its tests loudly (AttributeError) instead of reading it.
# Enum columns come back as their plain strings (the StrEnums compare equal to them): building 7,000 enum
# members a request was a sixth of the board's time.
_BOARD_INCIDENT = (Incident.id, Incident.reference, type_coerce(Incident.status, String).label("status"),
                   Incident.company, Incident.contact_name,
                   Incident.callback_phone, Incident.email, Incident.affected_service, Incident.captured_at,
                   Incident.callback_due_at, Incident.acknowledged_at, Incident.acknowledged_by,
                   Incident.callback_started_at, Incident.callback_answered_at, Incident.breached_at,
                   Incident.reached_by_email_at, Incident.nobody_to_page_at, Incident.call_sid)
# the incident this one may be related to (``caller_limits.open_apart``, ``caller_trust.record_caller_check``: the same
# caller ID, the contact differs or the identity is not proven): a rep sees both on the board, not only on its page
_RELATED = aliased(Incident)
# the related incident whose callback reached this one's customer and counts for it (``related_callbacks``)
_VIA_CALLBACK, _VIA_INCIDENT = aliased(Callback), aliased(Incident)
# the newest incident linked to this one (a dropped call's redial points at the call that dropped): named on this
# one's row too, so the rep who sees the older one knows the customer called again (an index finds it)
_LINKED = aliased(Incident)
_LINKED_REFERENCE = (select(_LINKED.reference).where(_LINKED.related_incident_id == Incident.id)
                     .order_by(_LINKED.id.desc()).limit(1).correlate(Incident).scalar_subquery())
_BOARD_PAGE = (Page.incident_id, Page.id, Page.rep_id, Page.name, Page.to_number,
               type_coerce(Page.channel, String).label("channel"), type_coerce(Page.status, String).label("status"),
               Page.purpose, type_coerce(Page.created_at, DateTime()).label("created_at"), Page.last_error,
               Page.sent_at, Page.role)  # naive UTC: only ordered
_OPEN = Incident.status == IncidentStatus.OPEN


def board(session: Session, now: datetime) -> list[BoardIncident]:
    """Open incidents at ``now``, most urgent first: not yet connected, then by callback deadline.

    Six statements, each joined to the open incidents rather than given their 1,000 ids (binding
    those cost more than running the query), run on the session's connection: the ORM's result
    processing, for rows that are no objects, took as long as the queries."""
    conn = session.connection()
    incidents = _named(conn.execute(
        select(*_BOARD_INCIDENT, _RELATED.reference.label("related_reference"),
               _LINKED_REFERENCE.label("linked_reference"),
               _VIA_INCIDENT.reference.label("reached_on_reference"),
               named_account_sql().label("ticket_company"),  # ``tickets.named_company``: one the caller did not say
               # whether the caller's contact is the ticket's (``company_label.row_company`` reads these)
               Incident.caller_verified, Incident.ticket_id, Contact.phone.label("contact_phone"),
               Contact.phone_alt.label("contact_phone_alt"), Contact.email.label("contact_email"))
        .outerjoin(_RELATED, _RELATED.id == Incident.related_incident_id)
        .outerjoin(_VIA_CALLBACK, _VIA_CALLBACK.id == Incident.reached_on_callback_id)
        .outerjoin(_VIA_INCIDENT, _VIA_INCIDENT.id == _VIA_CALLBACK.incident_id)
        .outerjoin(Ticket, Ticket.id == Incident.ticket_id).outerjoin(Account, Account.id == Ticket.account_id)
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .where(_OPEN)
        .order_by(Incident.callback_answered_at.is_not(None), Incident.callback_due_at, Incident.id)
    ))
    if not incidents:
        return []
    pages: dict[int, list] = {}
    for page in _named(conn.execute(select(*_BOARD_PAGE).join(Incident, Incident.id == Page.incident_id)
                                    .where(_OPEN, Page.role != CUSTOMER_ROLE).order_by(Page.created_at, Page.id))):
        pages.setdefault(page.incident_id, []).append(page)
    took: dict[int, tuple[datetime, str]] = {}
    acks = _owners(conn, select(IncidentEvent.incident_id, IncidentEvent.actor)
                   .join(Incident, Incident.id == IncidentEvent.incident_id)
                   .where(_OPEN, Incident.acknowledged_at.is_not(None)), incidents, took)
    selfs = {incident_id: name or "a rep" for incident_id, name in conn.execute(
        select(Callback.incident_id, Rep.name).join(Incident, Incident.id == Callback.incident_id)
        .join(Rep, Rep.id == Callback.rep_id, isouter=True)
        .where(_OPEN, Callback.kind == CallbackKind.SELF_REPORTED)).all()}
    latest = {incident_id: (callback_id, LastCallback(outcome, requested_at, sid, name or ""))
              for incident_id, callback_id, outcome, requested_at, sid, name in conn.execute(  # the latest one is kept
        select(Callback.incident_id, Callback.id, type_coerce(Callback.outcome, String), Callback.requested_at,
               Callback.customer_call_sid, Rep.name).join(Incident, Incident.id == Callback.incident_id)
        .join(Rep, Rep.id == Callback.rep_id, isouter=True)
        .where(_OPEN, Callback.kind == CallbackKind.BRIDGED).order_by(Callback.requested_at, Callback.id)).all()}
    attempted = [i for i, (_cid, last) in latest.items() if last.outcome == CallbackOutcome.ATTEMPTED]
    short = short_bridges(conn.execute(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id.in_(attempted), IncidentEvent.kind == EventKind.CALLBACK_WITHDRAWN)
        .order_by(IncidentEvent.id)).scalars()) if attempted else {}
    lasts = {i: last._replace(too_short=cid in short) for i, (cid, last) in latest.items()}
    extensions = callback_extensions(session, incidents)  # one read of the log for every row
    on_hotline = callers_on_hotline(session)
    joined = joined_contacts(session)  # the join lines of the open incidents: few, and only under a flood
    unreached = _unreached(conn)
    reopened = _reopened(conn)
    # answers counted at the key press and not proven yet: few (their facts rows are later than now)
    unproven = confirming(session, now, (_OPEN, Incident.callback_answered_at.is_not(None)))
    return [BoardIncident(i, pages.get(i.id, []), acks.get(i.id, ""), selfs.get(i.id, ""), lasts.get(i.id),
                          took[i.id][0] if i.id in took else None, extensions.get(i.id, ""), i.id in on_hotline,
                          tuple(joined.get(i.id, ())), unreached.get(i.id, ""), reopened.get(i.id, ""),
                          unproven.get(i.id))
            for i in incidents]


def _reopened(conn) -> dict[int, str]:
    """Open incidents reopened since their last close (``reopen``): who reopened them, with the customer's words or
    the rep's reason. An open incident's latest reopen line always comes after its last close (a close after it
    would have closed it, until a later reopen), so its latest reopen line is all there is to read: few, found in
    their partial index (``ix_incident_events_reopens``), not among the open incidents' every line."""
    said: dict[int, str] = {}
    for incident_id, actor, detail in conn.execute(
            select(IncidentEvent.incident_id, IncidentEvent.actor, IncidentEvent.detail)
            .join(Incident, Incident.id == IncidentEvent.incident_id)
            .where(_OPEN, IncidentEvent.kind == EventKind.INCIDENT_REOPENED).order_by(IncidentEvent.id)):
        said[incident_id] = reopened_words(detail or {}, actor)  # the latest wins
    return {incident_id: words for incident_id, words in said.items() if words}


# a message to the customer, and the line saying it reached them by no channel (app/services/unreached.py)
_UNREACHED = {"customer_update_undelivered": ("customer_update_sent", "The latest customer update"),
              "resolution_proposal_undelivered": ("resolution_proposed", "The resolution proposal")}


def _unreached(conn) -> dict[int, str]:
    """Open incidents whose latest update (or latest proposal) reached the customer by no channel: until another
    one is sent, the board says so (the owner was told by SMS to phone them). One that has reached them by no
    channel so far, its e-mail still retried (``customer_message_stalled``), says so until it ends either way."""
    kinds = (*_UNREACHED, *(sent for sent, _ in _UNREACHED.values()))
    latest: dict[tuple[int, str], int] = {(incident_id, kind): last for incident_id, kind, last in conn.execute(
        select(IncidentEvent.incident_id, IncidentEvent.kind, func.max(IncidentEvent.id))
        .join(Incident, Incident.id == IncidentEvent.incident_id)
        .where(_OPEN, IncidentEvent.kind.in_(kinds)).group_by(IncidentEvent.incident_id, IncidentEvent.kind))}
    said: dict[int, str] = {}
    for (incident_id, kind), last in latest.items():
        sent, what = _UNREACHED.get(kind, ("", ""))
        if what and last > latest.get((incident_id, sent), 0):
            said[incident_id] = f"{what} reached the customer by NO channel: phone them"
    for incident_id, what in _stalled(conn, latest).items():
        said.setdefault(incident_id, f"{what} has NOT reached the customer so far: phone them")
    return said


# a stalled line's message, by the key its detail names it with: (the message's kind of line, its words, the
# column of its deliveries)
_STALLED = {"update_id": ("customer_update_sent", "The latest customer update", Delivery.update_id),
            "proposal_id": ("resolution_proposed", "The resolution proposal", Delivery.proposal_id)}


def _stalled(conn, latest: dict[tuple[int, str], int]) -> dict[int, str]:
    """Open incidents whose latest message has reached the customer by no channel so far: no later one was sent,
    and none of its deliveries has been accepted since (an e-mail the server took may have reached them)."""
    found = {}
    for line_id, incident_id, detail in conn.execute(  # few: one per message that stalled
            select(IncidentEvent.id, IncidentEvent.incident_id, IncidentEvent.detail)
            .join(Incident, Incident.id == IncidentEvent.incident_id)
            .where(_OPEN, IncidentEvent.kind == EventKind.CUSTOMER_MESSAGE_STALLED).order_by(IncidentEvent.id)):
        key = next((key for key in _STALLED if (detail or {}).get(key)), None)
        if key is not None and line_id > latest.get((incident_id, _STALLED[key][0]), 0):
            found[incident_id] = (key, detail[key])  # the latest of the incident's wins
    if not found:
        return {}
    accepted = set()  # (key, message id) of each message with a delivery the customer's side took
    for update_id, proposal_id in conn.execute(select(Delivery.update_id, Delivery.proposal_id).where(
            Delivery.recipient == "customer",
            Delivery.status.in_((UpdateDeliveryStatus.SENT, UpdateDeliveryStatus.DELIVERED)),
            or_(*(_STALLED[key][2] == message_id for key, message_id in found.values())))):
        accepted.add(("update_id", update_id) if update_id is not None else ("proposal_id", proposal_id))
    return {incident_id: _STALLED[key][1] for incident_id, (key, message_id) in found.items()
            if (key, message_id) not in accepted}


def _named(result: Result) -> list:
    """The result's rows as named tuples (one fetchall, not a fetchone per row).

    Reading a column of a SQLAlchemy ``Row`` by name costs about 0.45 µs, of a named tuple about
    0.03 µs: building the board reads some 60 columns a row, 1,000 rows a request."""
    make = _row_class(tuple(result.keys()))._make
    return [make(row) for row in result.all()]


@cache
def _row_class(fields: tuple[str, ...]) -> type:
    return namedtuple("Columns", fields)  # noqa: PYI024 - the fields are known only from the statement


def incident_detail(session: Session, reference: str) -> IncidentDetail | None:
    """The incident with this reference and its pages, callbacks and log, else None."""
    incident = session.scalar(select(Incident).where(Incident.reference == reference.strip()))
    if incident is None:
        return None
    pages = list(session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.created_at, Page.id)))
    callbacks = list(session.scalars(
        select(Callback).where(Callback.incident_id == incident.id).order_by(Callback.requested_at, Callback.id)))
    rep_ids = {c.rep_id for c in callbacks if c.rep_id} | ({incident.acknowledged_by} - {None})
    names = {rep_id: name for rep_id, name in session.execute(select(Rep.id, Rep.name).where(Rep.id.in_(rep_ids)))}
    took: dict[int, tuple[datetime, str]] = {}
    owner = _acknowledgers(session, [incident], took).get(incident.id, "")
    taken_over_at, first = took.get(incident.id, (None, ""))
    return IncidentDetail(incident, pages, callbacks, events_of(session, incident), owner, names, taken_over_at, first,
                          reached_on_reference(session, incident))


def reached_on_reference(session: Session, incident: Incident) -> str:
    """The reference of the related incident whose callback counts for ``incident`` (``related_callbacks``), or ""."""
    if incident.reached_on_callback_id is None:
        return ""
    return session.scalar(select(Incident.reference).join(Callback, Callback.incident_id == Incident.id)
                          .where(Callback.id == incident.reached_on_callback_id)) or ""


def oncall_overview(session: Session, now: datetime, days: int = 14) -> OnCallOverview:
    """Who is on call now for each schedule, the next ``days`` of shifts, overrides and the default policy."""
    end = now + timedelta(days=days)
    reps = {r.id: r for r in session.scalars(select(Rep).order_by(Rep.name))}
    overrides: dict[int, list[Override]] = {}
    for o in session.scalars(select(Override).where(Override.ends_at > now).order_by(Override.starts_at, Override.id)):
        overrides.setdefault(o.schedule_id, []).append(o)
    schedules = [
        ScheduleOverview(schedule, on_call, schedule_shifts(session, schedule, now, end), overrides.get(schedule.id, []))
        for schedule, on_call in on_call_everywhere(session, now)
    ]
    policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.is_default.is_(True)))
    opted_out = sms_opted_out_numbers(session)
    if policy is None:  # default_policy() would store it: a read-only page shows the built-in one instead
        return OnCallOverview(schedules, DEFAULT_POLICY_NAME, default_levels(), False, reps, opted_out)
    return OnCallOverview(schedules, policy.name, policy.levels, True, reps, opted_out)


def default_policy_name(session: Session) -> str:
    """The name of the default escalation policy (the built-in name while none is stored)."""
    name = session.scalar(select(EscalationPolicy.name).where(EscalationPolicy.is_default.is_(True)))
    return name or DEFAULT_POLICY_NAME


def _acknowledgers(session: Session, incidents: Sequence[Any],
                   took: dict[int, tuple[datetime, str]] | None = None) -> dict[int, str]:
    """Who owns each of ``incidents`` (see ``_owners``)."""
    acked = [i.id for i in incidents if i.acknowledged_at is not None]
    if not acked:
        return {}
    return _owners(session, select(IncidentEvent.incident_id, IncidentEvent.actor)
                   .where(IncidentEvent.incident_id.in_(acked)), incidents, took)


def _owners(session: Session | Connection, events: Select, incidents: Sequence[Any],
            took: dict[int, tuple[datetime, str]] | None = None) -> dict[int, str]:
    """Who owns each incident: the rep who took it over last, else the name logged with the acknowledgement.

    ``events`` selects (incident id, actor) of the incidents to name; only their acknowledgements count.
    ``took``, if given, gets (when, who acknowledged first) for each incident its owner took over: the owner
    did not acknowledge it, and the incident's ``acknowledged_at`` is the first acknowledgement's time."""
    names: dict[int, str] = {}
    firsts: dict[int, str] = {}
    stmt = events.add_columns(IncidentEvent.kind, IncidentEvent.at).where(OWNER_KINDS).order_by(
        IncidentEvent.at, IncidentEvent.id)
    for incident_id, actor, kind, at in session.execute(stmt).all():
        firsts.setdefault(incident_id, actor)
        names[incident_id] = actor  # the last acknowledgement or take-over names the owner
        if took is not None:
            if kind == "taken_over":
                took[incident_id] = (at, firsts[incident_id])
            else:
                took.pop(incident_id, None)
    acked = [i for i in incidents if i.acknowledged_at is not None]
    missing = {i.acknowledged_by for i in acked if i.id not in names and i.acknowledged_by}
    reps = {rep_id: name for rep_id, name in session.execute(select(Rep.id, Rep.name).where(Rep.id.in_(missing)))} \
        if missing else {}
    for i in acked:
        names.setdefault(i.id, reps.get(i.acknowledged_by, "someone"))
    return {i.id: names[i.id] for i in acked}
