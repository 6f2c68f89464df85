"""Floods and toll fraud on the intake line: joins, per-caller limits (issue 9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CallSession, Incident, IncidentStatus
from app.services.advisory_locks import CALLER_SPACE, CONTACT_SPACE, hold
from app.services.events import log_event
from app.services.incidents import open_incidents_for
from app.services.joined_contacts import contact_differs, join_detail, tell_reps
from app.services.row_locks import LINKED_AT_MOST
from ivr_flows.model import Captured, SaveIncident
from ivr_flows.validate import is_valid_phone


@dataclass(frozen=True)
class CallerLimits:
    """How many new incidents one caller ID may open, and when outbound volume alerts managers."""

    max_new_incidents: int = 3  # per caller ID within the window; more join the newest open one
    # beyond that, how many more a caller whose contact is not that of any open incident of the number may open
    # (each linked to the newest one), so their callback is tracked like any other; more join as before
    max_other_contact_incidents: int = 3
    window_minutes: int = 60
    outbound_alert_per_hour: int = 120  # SMS and calls in the last hour before managers are told
    missed_call_sms_hours: int = 24  # at most one missed-call SMS per number in this many hours
    ticket_howto: str = ""  # issue 11: the SMS text for non-critical callers (empty: the settings' default)
    ticket_howto_de: str = ""  # the same for German callers (empty: ``noncritical.howto_text`` decides)


def limits_from(settings) -> CallerLimits:
    """The caller limits of a deployment's settings (defaults where a setting is absent)."""
    default = CallerLimits()
    return CallerLimits(
        max_new_incidents=getattr(settings, "max_incidents_per_caller", default.max_new_incidents),
        max_other_contact_incidents=getattr(settings, "max_other_contact_incidents_per_caller",
                                            default.max_other_contact_incidents),
        window_minutes=getattr(settings, "caller_incident_window_minutes", default.window_minutes),
        outbound_alert_per_hour=getattr(settings, "outbound_alert_per_hour", default.outbound_alert_per_hour),
        missed_call_sms_hours=getattr(settings, "missed_call_sms_hours", default.missed_call_sms_hours),
        ticket_howto=getattr(settings, "ticket_howto", default.ticket_howto),
        ticket_howto_de=getattr(settings, "ticket_howto_de", default.ticket_howto_de),
    )


def new_incidents_from(session: Session, caller_id: str, since: datetime) -> int:
    """How many incidents calls from ``caller_id`` opened since ``since``."""
    stmt = select(func.count(Incident.id)).where(Incident.caller_id == caller_id, Incident.received_at >= since)
    with session.no_autoflush:  # incidents are flushed as they are opened: nothing pending to count
        return session.scalar(stmt) or 0


@dataclass(frozen=True)
class Placement:
    """Where a report goes: ``join`` that open incident; else a new incident, linked to ``apart_from`` when the
    number is over its limit and the caller's contact is none of its open incidents' (None: an ordinary one)."""

    join: Incident | None = None
    apart_from: Incident | None = None


def place_report(session: Session, caller_id: str, contact: Captured, now: datetime,
                 limits: CallerLimits) -> Placement:
    """Where a report from ``caller_id`` giving ``contact`` goes (issue 9's per-number limit, contacts kept apart).

    Under the limit (none set, or a withheld number, which could be anyone) a new incident is opened. Over it, a
    caller whose contact is that of an open incident of the number joins it (the newest such): its callback is
    theirs. A caller ID is not an identity (the number may be spoofed, its incidents an attacker's): a caller whose
    contact is none of theirs opens an incident of their own, linked to the newest open one, so their callback has
    the deadline steps, callbacks and report line of any incident. At most ``max_other_contact_incidents`` more per
    window (0: no bound), so a spoofer giving a new number each call cannot flood the board; beyond that they join the
    newest open incident as a different contact, told their own deadline but not tracked (``joined_contacts``).
    Except a caller who asks to be called back on the very number they call from: a spoofer cannot take that
    callback (it rings the number's owner), and it adds one incident at most (the next such caller has its contact,
    and joins it), so beyond the bound it is still opened apart, and the real customer's callback is tracked however
    many calls a spoofer made from their number first.
    A genuine Sev-1 is never dropped: with no incident open, a new one is opened anyway.
    MAX_INCIDENTS_PER_CALLER=0 switches the limit off, as 0 does for every count setting (``_count``).

    The same limit holds per callback number, whatever the caller ID (``_by_contact``): an outside probe's five
    calls from a withheld number, each giving one victim's number, opened five incidents (five receipts, pages,
    breach apologies and report breaches to and of that number); so did seven from seven caller IDs.

    Each count is taken under a lock on its number (``advisory_locks.hold``) that the caller's transaction holds
    until it commits the incident it opens, so reports of one number are placed one after another: an outside
    probe's ten calls from one number hanging up at the same moment each counted none and opened eight incidents
    under a limit of three (one per thread of the serve); now the fourth and later join as sequential ones do.
    """
    if not limits.max_new_incidents:
        return Placement()
    since = now - timedelta(minutes=limits.window_minutes)
    counted = is_valid_phone(caller_id)
    if counted:
        hold(session, CALLER_SPACE, caller_id)  # until the incident this placement opens is committed
    opened = new_incidents_from(session, caller_id, since) if counted else 0
    if opened < limits.max_new_incidents:
        return _by_contact(session, contact, since, limits)
    candidates = open_incidents_for(session, caller_id)
    if not candidates:
        return Placement()
    return _among(candidates, contact, opened, limits, keep_apart=contact.callback_phone == caller_id)


def _among(candidates: list[Incident], contact: Captured, opened: int, limits: CallerLimits,
           keep_apart: bool = False) -> Placement:
    """Over a limit, with ``opened`` incidents in the window and ``candidates`` open (newest first): join the one whose
    contact is the caller's; else an incident of their own linked to the newest, up to ``max_other_contact_incidents``
    more (or ``keep_apart``), else join the newest as a different contact."""
    same = next((i for i in candidates if not contact_differs(i, contact)), None)
    if same is not None:
        return Placement(join=same)
    bound = limits.max_other_contact_incidents
    if not bound or opened < limits.max_new_incidents + bound or keep_apart:
        return Placement(apart_from=candidates[0])
    return Placement(join=candidates[0])


def _by_contact(session: Session, contact: Captured, since: datetime, limits: CallerLimits) -> Placement:
    """A report whose callback number ``max_new_incidents`` incidents opened in the window already call back joins
    the newest open one of them whose contact is theirs (the same number and extension: its callback is the
    caller's); else a new incident. The callback number cannot be spoofed into someone else's hands: its incidents
    call that number, so joining takes no callback from anyone, and a genuine caller's report still reaches the reps
    with the join. Another extension of that number is another person behind its switchboard: opened apart (linked
    to the newest) as a caller ID's other contacts are, up to ``max_other_contact_incidents`` more, then joined as a
    different contact the reps are told to call (an outside probe's fourth colleague was folded into the third's
    incident, extension unnamed, and never called)."""
    if not contact.callback_phone:
        return Placement()
    hold(session, CONTACT_SPACE, contact.callback_phone)
    with session.no_autoflush:  # incidents are flushed as they are opened: nothing pending to count
        opened = session.scalar(select(func.count(Incident.id)).where(
            Incident.callback_phone == contact.callback_phone, Incident.received_at >= since)) or 0
        if opened < limits.max_new_incidents:
            return Placement()
        candidates = list(session.scalars(select(Incident).where(
            Incident.callback_phone == contact.callback_phone, Incident.status == IncidentStatus.OPEN)
            .order_by(Incident.received_at.desc(), Incident.id.desc()).limit(LINKED_AT_MOST)))
    return _among(candidates, contact, opened, limits) if candidates else Placement()


def open_apart(session: Session, incident: Incident, apart_from: Incident, now: datetime) -> None:
    """Link an incident opened apart (``place_report``) to the open incident of its caller ID, on both logs."""
    from app.services.related_callbacks import link_possibly_related  # it imports the escalation's services

    link_possibly_related(session, incident, apart_from, APART_WHY, now, own_callback=True)


APART_WHY = "same caller ID, over its limit of new incidents; the contact differs, so each has its own callback"


def join_report(session: Session, call: CallSession, incident: Incident, effect: SaveIncident, now: datetime,
                sla_minutes: int, limits: CallerLimits) -> datetime | None:
    """Add a whole report (over the per-caller limit) to ``incident``: its text, recording and details.

    A caller whose contact is not the incident's (a caller ID is not an identity: it may be an attacker's incident
    on a spoofed number) keeps a callback of their own: returns their deadline (None for the incident's own
    contact, who is owed the incident's), and the reps are told (``joined_contacts``).
    """
    call.incident_id = incident.id
    c = effect.captured
    own = join_detail(incident, c, now, sla_minutes)
    log_event(session, at=now, actor="caller", kind="report_joined", incident_id=incident.id, call_sid=call.call_sid,
              detail={"reason": "caller_over_limit", "text": c.problem_text, "recording_url": c.recording_url,
                      "company": c.company, "contact_name": c.contact_name, "callback_phone": c.callback_phone,
                      "email": c.email, "affected_service": c.affected_service.value if c.affected_service else "",
                      **own})
    if not own["contact_differs"]:
        return None
    tell_reps(session, incident, now, limits.window_minutes, limits.max_new_incidents)
    return datetime.fromisoformat(own["callback_due_at"])
