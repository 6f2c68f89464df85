"""Calls that end before triage, or unreachable: a "missed call" on the board and one SMS, never a paged incident
until the caller answers that SMS (``answer_invitation``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import phonenumbers
from phonenumbers import PhoneNumberType
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import CallSession, Incident, IncidentEvent, IncidentStatus, MissedCall, Notice, UnknownText
from app.queue import schedule
from app.services import customer_text
from app.services.callback_extensions import calls_back
from app.services.caller_limits import CallerLimits
from app.services.events import log_event
from app.services.incidents import open_incident_for, rescue_call
from app.services.unproven_reports import UNPROVEN_SMS_PER_HOUR
from app.services.wrong_number import says_wrong_number
from ivr_flows.model import CallState, FlowPolicy, Stage
from ivr_flows.validate import is_valid_phone, parse_callback_number

PRE_TRIAGE_STAGES = {Stage.LANGUAGE, Stage.TRIAGE}
# a caller whose number has an open incident, before they say whether they call about it or another outage
REPEAT_UNCHOSEN_STAGES = {Stage.LANGUAGE, Stage.REPEAT_CALLER}
# What a caller may have told the intake, as the missed-calls page shows it (no callback number or
# e-mail: a caller who gave one is reachable, and rescued as an incident instead).
SAID_FIELDS = ("affected_service", "ticket_number", "company", "contact_name", "problem_text", "recording_url")
_TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# Missed-call SMS to all numbers together in an hour: each spoofed caller ID that hangs up is a new number, so the
# per-number limit alone let anyone make the hotline text numbers of their choosing (SMS pumping). An outage's
# burst of hang-ups before triage stays well under it; beyond it the missed calls are still on the board.
MISSED_CALL_SMS_PER_HOUR = UNPROVEN_SMS_PER_HOUR
log = logging.getLogger(__name__)


def ended_before_triage(state: CallState | None) -> bool:
    """True when the caller hung up before telling us anything: what is down, or (a caller whose number has an
    open incident) whether they call about it or about another outage (or we never had their state). A caller past
    triage (a keyed ticket's open incident named to them after it) has told us of a Sev-1: never a missed call."""
    if state is None:
        return True
    if state.incident is not None:
        return state.stage in REPEAT_UNCHOSEN_STAGES and state.captured.affected_service is None
    return state.stage in PRE_TRIAGE_STAGES and state.captured.affected_service is None


def called_back_on(session: Session, number: str) -> Incident | None:
    """The open incident whose callback (and receipt SMS) goes to ``number``, if any.

    Only such an incident makes a caller from ``number`` someone the hotline will reach anyway: an open
    incident that merely came from that caller ID may be a spoofer's, with the spoofer's callback number.
    """
    if not number:
        return None
    return next((incident for incident in session.scalars(select(Incident).where(
        Incident.callback_phone == number, Incident.status == IncidentStatus.OPEN)
        .order_by(Incident.received_at.desc()).limit(5)) if calls_back(incident, number, session)), None)


def textable(number: str, policy: FlowPolicy) -> bool:
    """True for a mobile number we may call back (a country we serve, not the hotline's own)."""
    e164 = parse_callback_number(number, policy.default_region, policy.allowed_regions,
                                 hotline_number=policy.hotline_number)
    if not e164:
        return False
    return phonenumbers.number_type(phonenumbers.parse(e164, None)) in _TEXTABLE


def record_missed_call(
    session: Session, call: CallSession, state: CallState | None, now: datetime, policy: FlowPolicy,
    limits: CallerLimits, ended_at: datetime | None = None,
) -> None:
    """Write the missed call (once per CallSid) with what the caller said, and queue one SMS inviting them back."""
    if session.scalar(select(MissedCall.id).where(MissedCall.call_sid == call.call_sid)) is not None:
        return
    caller = call.from_number
    open_incident = open_incident_for(session, phone=caller) if is_valid_phone(caller) else None
    chosen = state.lang.value if state is not None and state.stage is not Stage.LANGUAGE else ""
    missed = MissedCall(call_sid=call.call_sid, caller_id=caller[:32], language=chosen,
                        stage=state.stage.value if state else "", received_at=call.started_at, ended_at=ended_at or now,
                        incident_id=open_incident.id if open_incident else None, said=said(state))
    session.add(missed)
    session.flush()
    invite, held = _invitation(session, caller, now, policy, limits)
    log_event(session, at=now, actor="system", kind="missed_call", call_sid=call.call_sid,
              incident_id=open_incident.id if open_incident else None,
              detail={"missed_call_id": missed.id, "stage": missed.stage, **({"sms_held": held} if held else {})})
    if not invite:
        return
    language = customer_text.language_for(chosen, caller)
    notice = Notice(purpose="missed_call", to_number=caller, body=customer_text.missed_call_sms(language),
                    created_at=now)
    session.add(notice)
    session.flush()
    missed.notice_id = notice.id
    schedule(session, "notice", notice.id, now)


def _invitation(session: Session, caller: str, now: datetime, policy: FlowPolicy,
                limits: CallerLimits) -> tuple[bool, str]:
    """Whether the caller is sent an SMS inviting them back; else why not when it is a limit ("" otherwise)."""
    if not textable(caller, policy) or called_back_on(session, caller) is not None:
        return False, ""  # the caller cannot get an SMS, or has an incident whose receipt and callback reach them
    since = now - timedelta(hours=limits.missed_call_sms_hours)
    recent = select(Notice.id).where(Notice.to_number == caller, Notice.purpose == "missed_call",
                                     Notice.created_at >= since)
    if session.scalar(recent.limit(1)) is not None:
        return False, "per_number"  # one invitation per number a day: a flood of hang-ups is not a flood of SMS
    hourly = select(func.count(Notice.id)).where(Notice.purpose == "missed_call",
                                                 Notice.created_at >= now - timedelta(hours=1))
    if (session.scalar(hourly) or 0) >= MISSED_CALL_SMS_PER_HOUR:
        log.warning("missed-call SMS held: %d sent in the last hour (a flood of hang-ups from many numbers, or "
                    "SMS pumping); the missed call is on the board", MISSED_CALL_SMS_PER_HOUR)
        return False, "hourly"  # spoofed caller IDs, each a new number, must not make the hotline an SMS pump
    return True, ""


def answer_invitation(session: Session, from_number: str, body: str, now: datetime, policy: FlowPolicy,
                      limits: CallerLimits) -> str | None:
    """An SMS from a caller the missed-call SMS invited to "reply with your company and what is failing", within
    the invitation's ``missed_call_sms_hours``: their missed call becomes an incident (``rescue_call``), with their
    words as its problem, paged and promised a callback like any other; their words reach the reps paged for it.
    The answer to send: "" when an incident opened (its receipt SMS answers them); None when no invitation of
    theirs is open (a missed call already rescued has its incident; later words reach it as any customer's).
    An outside probe's missed caller replied as asked and read "This number is not registered for Sev-1 pages": no
    incident, no page, the words on no page of the dashboard. A reply proves the number is theirs (the SMS went to
    it), and the invitations are limited (per number, per hour), so replies are too.

    A reply that says the call was not theirs ("wrong number", "who is this": ``wrong_number``) opens nothing and
    pages nobody (``_not_theirs``): a pocket dial or a spoofed caller ID reached the wrong person, and an outside
    probe's "Who is this? I never called you, wrong number" was paged as a Sev-1 that breached. The invitation stays
    open: a later reply that is a report (or a call) is taken as before."""
    if not from_number or not body.strip():
        return None
    since = now - timedelta(hours=limits.missed_call_sms_hours or 24)
    missed = session.scalars(select(MissedCall).join(Notice, Notice.id == MissedCall.notice_id).where(
        MissedCall.caller_id == from_number, MissedCall.incident_id.is_(None), Notice.created_at >= since)
        .order_by(MissedCall.ended_at.desc(), MissedCall.id.desc()).limit(1).with_for_update()).first()
    if missed is None:
        return None
    if says_wrong_number(body):
        return _not_theirs(session, missed, body, now)
    from app.services.customer_sms import attach_words  # customer_sms -> resolution -> ... -> this module

    incident = rescue_call(session, call_sid=missed.call_sid, from_number=from_number, now=now,
                           reason="missed_call_sms_reply", policy=policy, require_reachable=True,
                           problem_text=" ".join(body.split())[:policy.max_problem_chars],
                           number_proven=True)  # their reply proves the number is theirs
    if incident is None:
        return None
    missed.incident_id = incident.id
    attach_words(session, incident, body, now)
    return ""


def _not_theirs(session: Session, missed: MissedCall, body: str, now: datetime) -> str:
    """Log a reply saying the missed call was not theirs, with its words; the apology, in the invitation's language,
    to its first such reply only ("" after: no exchange of SMS with a stranger's phone or auto-reply)."""
    earlier = session.scalar(select(IncidentEvent.id).where(
        IncidentEvent.kind == EventKind.MISSED_CALL_NOT_THEIRS, IncidentEvent.call_sid == missed.call_sid).limit(1))
    language = customer_text.language_for(missed.language, missed.caller_id)
    log_event(session, at=now, actor="unknown", kind=EventKind.MISSED_CALL_NOT_THEIRS, call_sid=missed.call_sid,
              detail={"missed_call_id": missed.id, "text": " ".join(body.split())[:160], "answered": earlier is None,
                      "language": language})
    return customer_text.missed_call_not_theirs_sms(language) if earlier is None else ""


def not_theirs_replies(session: Session, call_sids: list[str]) -> dict[str, str]:
    """The last reply to each of these calls' invitations that said the call was not theirs (the missed-calls page:
    why nothing was opened), by CallSid."""
    if not call_sids:
        return {}
    lines = session.scalars(select(IncidentEvent).where(IncidentEvent.kind == EventKind.MISSED_CALL_NOT_THEIRS,
                                                        IncidentEvent.call_sid.in_(call_sids))
                            .order_by(IncidentEvent.at, IncidentEvent.id))
    return {line.call_sid: str((line.detail or {}).get("text", "")) for line in lines if line.call_sid}


def said(state: CallState | None) -> dict[str, str]:
    """What the caller told the intake so far, field by field (only what they gave)."""
    if state is None:
        return {}
    c = state.captured
    values = {name: getattr(c, name) for name in SAID_FIELDS}
    return {name: str(value) for name, value in values.items() if value}


def unreachable_since(session: Session, since: datetime) -> int:
    """How many callers hung up after triage, with no way to reach them back, since ``since`` (the board's warning)."""
    stmt = select(func.count()).select_from(MissedCall).where(
        MissedCall.ended_at >= since,
        MissedCall.stage.not_in([s.value for s in PRE_TRIAGE_STAGES | REPEAT_UNCHOSEN_STAGES] + [""]))
    return session.scalar(stmt) or 0


def missed_calls_between(session: Session, since: datetime, until: datetime | None, *, limit: int,
                         offset: int = 0) -> list[MissedCall]:
    """Missed calls that ended in [``since``, ``until``) (``until`` None: up to now), newest first: ``limit`` of them
    after the first ``offset`` (the missed-calls page, page by page)."""
    stmt = select(MissedCall).where(MissedCall.ended_at >= since)
    if until is not None:
        stmt = stmt.where(MissedCall.ended_at < until)
    stmt = stmt.order_by(MissedCall.ended_at.desc(), MissedCall.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(stmt))


def texts_between(session: Session, since: datetime, until: datetime | None, *, limit: int) -> list[UnknownText]:
    """Texts from unknown senders received in [``since``, ``until``) (``until`` None: up to now), newest first, at
    most ``limit`` (the missed-calls page)."""
    stmt = select(UnknownText).where(UnknownText.received_at >= since)
    if until is not None:
        stmt = stmt.where(UnknownText.received_at < until)
    return list(session.scalars(stmt.order_by(UnknownText.received_at.desc(), UnknownText.id.desc()).limit(limit)))


def unanswered_texts_since(session: Session, since: datetime) -> int:
    """How many texts from unknown senders got no answer since ``since`` (the board's warning: only staff can
    answer them now)."""
    return session.scalar(select(func.count(UnknownText.id)).where(
        UnknownText.received_at >= since, UnknownText.answered.is_(False))) or 0


__all__ = ["answer_invitation", "called_back_on", "ended_before_triage", "missed_calls_between", "not_theirs_replies",
           "record_missed_call", "said", "texts_between", "textable", "unanswered_texts_since",
           "unreachable_since"]
