"""Writing incidents: the row, its deadline and its due steps, in the caller's transaction."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from app.carried_answers import Carried
from app.models import (
    CallSession,
    Incident,
    IncidentSource,
    IncidentStatus,
    Ticket,
)
from app.plain_text import printable
from app.reports.facts import DETAILS_COMPLETE
from app.services.caller_additions import tell_readers
from app.services.caller_trust import note_verified
from app.services.escalation import plan_escalation, set_deadline
from app.services.events import log_event
from app.services.oncall import default_policy
from app.services.outages import link_if_declared
from app.services.unproven_reports import CALLBACK_FROM_CALLER_ID
from ivr_flows.model import AppendToIncident, CallState, Captured, FlowPolicy, SaveIncident, Stage
from ivr_flows.validate import parse_callback_number

RESCUE_EXCLUDED_STAGES = {Stage.NON_CRITICAL, Stage.DONE}


def new_reference(session: Session) -> str:
    """A fresh six-digit incident reference, easy to read out on the phone."""
    while True:
        ref = f"{secrets.randbelow(900000) + 100000}"
        with session.no_autoflush:  # incidents are flushed as they are opened: none pending with a reference
            if session.scalar(select(Incident.id).where(Incident.reference == ref)) is None:
                return ref


def open_incident_for(session: Session, *, phone: str = "", ticket_number: str = "",
                      account_id: int | None = None, pin_proved: bool = False) -> Incident | None:
    """The newest open incident for a caller number, or for a ticket number now in account ``account_id``.

    For a ticket (``caller_trust.ticket_incident`` says which of the two a call gets): with ``pin_proved`` (the
    caller proved the ticket with that account's PIN), only an incident whose first caller keyed the ticket and
    proved it with the PIN of that same account: never one a stranger opened by keying the number, which is not
    the customer's to hear of or to join. Without, the incident a report of the ticket is linked to as possibly
    related: never one whose caller proved the ticket with another account's PIN (the helpdesk moved the ticket
    since: that incident is not this account's customer's), one proven with this account's first, so an incident a
    stranger opened by keying the ticket number does not hide the customer's own.
    """
    if phone:
        found = open_incidents_for(session, phone, limit=1)
        return found[0] if found else None
    if not ticket_number:
        return None
    ours = and_(Incident.pin_account_id.is_not(None), Incident.pin_account_id == account_id,
                Incident.caller_verified == "pin")
    allowed = ours if pin_proved else or_(Incident.pin_account_id.is_(None), ours)
    stmt = (select(Incident).where(Incident.status == IncidentStatus.OPEN, Incident.ticket_number == ticket_number,
                                   allowed)
            .order_by(case((ours, 0), else_=1), Incident.received_at.desc()).limit(1))
    return session.scalars(stmt).first()


def open_incidents_for(session: Session, phone: str, limit: int = 50) -> list[Incident]:
    """The open incidents of a caller number (called from it, or to be called back on it), newest first."""
    cond = or_(Incident.callback_phone == phone, Incident.caller_id == phone)
    return list(session.scalars(_open_where(cond).limit(limit)))


def _open_where(cond):
    return select(Incident).where(Incident.status == IncidentStatus.OPEN, cond).order_by(Incident.received_at.desc())


def save_incident(
    session: Session, call: CallSession, effect: SaveIncident, now: datetime, sla_minutes: int,
    *, details_complete: bool = True,
) -> Incident:
    """Write the incident, its deadline and its due steps for ``call`` (their jobs go on the unit of work).

    Opened while the caller is still talking (``details_complete=False``, issue 13), the deadline
    is provisional until ``set_deadline`` runs at the end of the intake.
    """
    if call.incident_id is not None:  # saved already (a retried webhook): same incident
        return session.get(Incident, call.incident_id)
    incident = _new_incident(
        session, captured=effect.captured, call_sid=call.call_sid, caller_id=effect.caller_id,
        lang=effect.lang.value, received_at=call.started_at, captured_at=effect.captured_at,
        source=IncidentSource.IVR, sla_minutes=sla_minutes, details_complete=details_complete,
    )
    call.incident_id = incident.id
    # The identity map holds a clean object weakly: keep the incident for the rest of this transaction,
    # whose later steps (issue 13's copy of the answer, the outbound check) would otherwise read it again.
    session.info.setdefault("opened", []).append(incident)
    # how the caller proved who they are, before its first pages are written: they name the ticket's account (and
    # page its TAM) only for a caller who proved a keyed ticket with its PIN (``tickets.account_of``)
    note_verified(session, incident, effect.verified)
    link_if_declared(session, incident, now)  # issue 11: a declared outage takes in new incidents
    plan_escalation(session, incident, now, details_complete=details_complete)
    return incident


FOLLOWED = ("ticket_number", "affected_service", "company", "contact_name", "callback_phone", "email", "problem_text",
            "recording_url", "recording_seconds")


@dataclass(frozen=True)
class IncidentChanges:
    """What a call's answers change in the incident it opened: field values, missing fields, the log line."""

    values: dict[str, Any]  # followed fields whose value changes
    missing: list[str] | None  # the new missing_fields, None when unchanged
    kind: str  # incident_updated, or incident_completed when the intake is done
    detail: dict[str, Any] | None  # the log line's detail, None when nothing is logged


def lacking(captured: Captured) -> list[str]:
    """What an unfinished intake lacks: the fields the caller moved on without, and every one not given yet."""
    missing = list(captured.missing)
    pending = {"company": captured.company, "contact_name": captured.contact_name, "email": captured.email,
               "problem": captured.problem_text or captured.recording_url}
    return missing + [name for name, value in pending.items() if not value and name not in missing]


def incident_changes(current: Mapping[str, Any], captured: Captured, *, final: bool) -> IncidentChanges:
    """The changes ``captured`` makes to an incident whose followed fields and missing_fields are ``current``.

    Until the intake is done, every field not yet given counts as missing, so a caller
    who hangs up leaves an incident that says what it lacks.
    """
    changed = [name for name in FOLLOWED if getattr(captured, name) and _stored(getattr(captured, name)) != current[name]]
    missing = list(captured.missing) if final else lacking(captured)
    return IncidentChanges(
        values={name: _stored(getattr(captured, name)) for name in changed},
        missing=missing if missing != list(current["missing_fields"] or []) else None,
        kind="incident_completed" if final else "incident_updated",
        detail={"fields": changed, "missing": missing} if changed or final else None,
    )


def _stored(value: Any) -> Any:
    """A captured value as its column holds it: an enum's value (the affected service a caller corrected at the
    read-back)."""
    return value.value if isinstance(value, Enum) else value


def update_from_call(session: Session, incident: Incident, captured: Captured, now: datetime, *, final: bool,
                     extension_changed: bool = False) -> None:
    """Copy a call's answers into the incident it opened mid-call (issue 13), or that was rescued from it.

    When the intake is done (``final``), the details are in and the 15 minutes run from
    ``now`` (``set_deadline``). A corrected callback number, or only its extension (``extension_changed``: an
    outside probe's rep was paged "ext. 204" and never told of the 205 the caller corrected it to), is told to the
    reps paged with the old one.
    """
    changes = incident_changes({name: getattr(incident, name) for name in (*FOLLOWED, "missing_fields")},
                               captured, final=final)
    corrected = bool(incident.callback_phone) and ("callback_phone" in changes.values or extension_changed)
    for name, value in changes.values.items():
        setattr(incident, name, value)
    if "ticket_number" in changes.values:
        incident.ticket_match = captured.ticket_match.value if captured.ticket_match else ""
        incident.ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == captured.ticket_number))
    if changes.missing is not None:
        incident.missing_fields = changes.missing
    if changes.detail is not None:
        log_event(session, at=now, actor="ivr", kind=changes.kind, incident_id=incident.id,
                  call_sid=incident.call_sid, detail=changes.detail)
    if corrected:
        _tell_number_corrected(session, incident, now)
    if final:
        set_deadline(session, incident, now, reason="intake_completed")


def _tell_number_corrected(session: Session, incident: Incident, now: datetime) -> None:
    """The reps paged with the number the caller gave first are told the corrected one (the escalation core
    decides: ``NumberCorrected``); a probe's reps had two numbers and no word of which stood."""
    from app.escalation import NumberCorrected, decide
    from app.services.decisions import Acting, carry_out
    from app.services.escalation import snapshot

    session.flush()  # the pages already written (this transaction's own too) are the ones to tell
    carry_out(session, incident, decide(NumberCorrected(), snapshot(session, incident, now), now), now,
              Acting(actor="system"))


def append_to_incident(session: Session, call: CallSession, effect: AppendToIncident, now: datetime) -> Incident:
    """Add a repeat caller's text or recording to their open incident, texted at once to whoever works it (the
    owner; before anyone acknowledged, the reps paged so far: ``caller_additions.tell_readers``)."""
    incident = session.scalars(select(Incident).where(Incident.reference == effect.reference)).one()
    call.incident_id = incident.id
    told = tell_readers(session, incident, effect.text, effect.recording_url, now)
    log_event(session, at=now, actor="caller", kind="information_added", incident_id=incident.id,
              call_sid=call.call_sid, detail={"text": effect.text, "recording_url": effect.recording_url, **told})
    return incident


def caller_number(number: str) -> str:
    """A caller's number as Twilio's webhook (or a spooled record of it) gave it, without control or format
    characters: a NUL in a signed ``From`` failed the call's start on PostgreSQL, then its rescue, and the spooled
    rescue at every replay (an outside probe); the caller heard of a technical problem and was never saved."""
    return printable(number, allowed="")


def rescue_call(
    session: Session, *, call_sid: str, from_number: str, now: datetime, reason: str,
    policy: FlowPolicy, source: IncidentSource = IncidentSource.RESCUED, require_reachable: bool = False,
    captured_at: datetime | None = None, problem_text: str = "", number_proven: bool = False,
    carried: Carried | None = None,
) -> Incident | None:
    """Save an unfinished (or never started) intake with what it has: no Sev-1 caller is lost.

    A caller who hung up (``require_reachable``) is saved only when we can reach
    them back (else None); an emergency path (fallback, internal error) always saves. The promise runs from
    ``captured_at`` (the caller's last answer, when the call's end was heard of late), else ``now``.
    ``problem_text``: what is failing in the caller's own words when the call had none (their SMS reply to the
    missed-call SMS: ``missed_calls.answer_invitation``). ``number_proven``: the caller ID is known to be the
    caller's (they answered an SMS sent to it), so a callback number taken from it is not noted as unproven.
    ``carried``: the language and answers the call's action URLs carried when an emergency path took it (probe Z2):
    each answer the stored state lacks (a database that came back without the call's last writes), and the
    language when the state has none chosen.
    """
    from_number = caller_number(from_number)
    call = session.get(CallSession, call_sid)
    if call is None:
        call = CallSession(call_sid=call_sid, from_number=from_number[:32], state={},
                           started_at=now, updated_at=now)
        session.add(call)
    if call.incident_id is not None:
        return session.get(Incident, call.incident_id)
    state = readable_state(call.state)
    if state is not None:
        policy = state.policy
        if state.stage in RESCUE_EXCLUDED_STAGES and require_reachable:
            return None
    captured = state.captured if state else Captured()
    if carried is not None:
        captured = carried.fill(captured)
    chosen = state is not None and state.stage is not Stage.LANGUAGE  # else the state's language is its default
    lang = state.lang.value if chosen else carried.lang.value if carried is not None else "en-US"
    if problem_text and not captured.problem_text:
        captured = replace(captured, problem_text=problem_text)
    # the caller gave no callback number: their caller ID, unproven unless an SMS to it was answered
    from_caller_id = not captured.callback_phone and not number_proven
    if not captured.callback_phone:
        phone = parse_callback_number(call.from_number, policy.default_region, policy.allowed_regions,
                                      hotline_number=policy.hotline_number)
        captured = replace(captured, callback_phone=phone or "")
    if require_reachable and not (captured.callback_phone or captured.email):
        return None  # nobody can call them back: the caller of this function keeps what they said
    # the incident lists what the caller never gave (a probe's rescued incidents said "missing: []" with no company,
    # name, e-mail or problem at all)
    captured = replace(captured, missing=tuple(lacking(captured)))
    incident = _new_incident(
        session, captured=captured, call_sid=call_sid, caller_id=call.from_number,
        lang=lang, received_at=call.started_at, captured_at=captured_at or now,
        source=source, sla_minutes=policy.sla_minutes,
    )
    call.incident_id = incident.id
    log_event(session, at=now, actor="system", kind="incident_rescued", incident_id=incident.id,
              call_sid=call_sid, detail={"reason": reason, "stage": state.stage.value if state else "",
                                         # ``unproven_reports.recorded_details`` reads it
                                         **({"callback": CALLBACK_FROM_CALLER_ID}
                                            if from_caller_id and captured.callback_phone else {})})
    note_verified(session, incident, state.verified if state else "")  # before its pages, as in ``save_incident``
    link_if_declared(session, incident, now)  # issue 11
    plan_escalation(session, incident, now)
    return incident


def _new_incident(
    session: Session, *, captured: Captured, call_sid: str | None, caller_id: str, lang: str,
    received_at: datetime, captured_at: datetime, source: IncidentSource, sla_minutes: int,
    details_complete: bool = True,
) -> Incident:
    ticket_id = None
    if captured.ticket_number:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == captured.ticket_number))
    incident = Incident(
        reference=new_reference(session),
        status=IncidentStatus.OPEN,
        source=source,
        ticket_id=ticket_id,
        ticket_number=captured.ticket_number,
        ticket_match=captured.ticket_match.value if captured.ticket_match else "",
        company=captured.company,
        contact_name=captured.contact_name,
        callback_phone=captured.callback_phone,
        email=captured.email,
        problem_text=captured.problem_text,
        recording_url=captured.recording_url,
        recording_seconds=captured.recording_seconds,
        affected_service=captured.affected_service.value if captured.affected_service else "",
        language=lang,
        caller_id=caller_id[:32],
        call_sid=call_sid,
        missing_fields=list(captured.missing),
        received_at=received_at,
        captured_at=captured_at,
        callback_due_at=captured_at + timedelta(minutes=sla_minutes),
        escalation=copy.deepcopy(default_policy(session)),  # the policy as it is now (plan_escalation follows it)
    )
    session.add(incident)
    session.flush()
    log_event(session, at=captured_at, actor="ivr" if source == IncidentSource.IVR else "system",
              kind="incident_opened", incident_id=incident.id, call_sid=call_sid,
              detail={"reference": incident.reference, "source": source.value,
                      "callback_due_at": incident.callback_due_at.isoformat(),
                      "missing": list(captured.missing),
                      # False: opened mid-call (issue 13), the deadline is provisional until ``deadline_set``
                      DETAILS_COMPLETE: details_complete})
    return incident


def attach_recording(session: Session, *, call_sid: str, url: str, seconds: int, now: datetime) -> Incident | None:
    """Attach a voicemail left on the emergency path to the call's incident."""
    call = session.get(CallSession, call_sid)
    incident = session.get(Incident, call.incident_id) if call and call.incident_id else None
    log_event(session, at=now, actor="caller", kind="voicemail_recorded", call_sid=call_sid,
              incident_id=incident.id if incident else None, detail={"url": url, "seconds": seconds})
    if incident is not None and url:
        incident.recording_url = url[:500]
        incident.recording_seconds = seconds
    return incident


def readable_state(data: dict[str, Any] | None) -> CallState | None:
    """A call's flow state, or None when there is none or it cannot be read (``CallState.from_dict``: a state a newer
    release wrote is read, its keys this release does not know left out; a stage this release does not know is not)."""
    try:
        return CallState.from_dict(data) if data else None
    except (KeyError, TypeError, ValueError):
        return None
