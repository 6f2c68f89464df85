"""The intake call: feed webhook events to the pure flow and carry out its effects."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.carried_answers import Carried
from app.models import CallSession, Incident, IncidentEvent
from app.models.call import UNREPORTED
from app.reports.facts import shapes_facts
from app.services import caller_trust, reference_guesses
from app.services.acks import connect_after_call
from app.services.call_endings import settle_ended_call
from app.services.caller_limits import CallerLimits, join_report, open_apart, place_report
from app.services.deliveries import email_can_leave
from app.services.events import event_row, log_event
from app.services.incidents import (
    append_to_incident,
    caller_number,
    open_incident_for,
    readable_state,
    rescue_call,
    save_incident,
    update_from_call,
)
from app.services.outbound_volume import check_outbound_volume
from app.services.sms_opt_outs import is_opted_out
from app.services.tickets import find_open_ticket_by_number, find_open_ticket_by_phone
from app.services.unseen_calls import record_unseen_call
from ivr_flows import advance, question
from ivr_flows.model import (
    AppendToIncident,
    CallStarted,
    CallState,
    CheckPin,
    Event,
    FlowPolicy,
    IncidentSaved,
    LogEvent,
    LookupTicket,
    OpenIncident,
    RecordNonCritical,
    Reply,
    SaveIncident,
    Stage,
    Step,
    TicketLookedUp,
)
from ivr_flows.validate import is_valid_phone

MAX_EFFECT_ROUNDS = 5  # lookup -> save -> reply is the longest chain the flow makes


class UnknownCall(Exception):
    """A step webhook for a CallSid we never saw start."""


class UnreadableCall(Exception):
    """A webhook for a call whose stored flow state cannot be read (a row edited by hand: no JSON, a key every release
    writes missing; a stage or language this release does not know): the flow cannot go on from it. Keys a newer
    release added are no reason (``ivr_flows.model.known_fields``). ``incident_id``: the incident the call opened (or joined), if any."""

    def __init__(self, call_sid: str, incident_id: int | None) -> None:
        super().__init__(call_sid)
        self.call_sid, self.incident_id = call_sid, incident_id


@dataclass
class Turn:
    """What one webhook produced: the reply, its sequence number and the state it answers (whose language and
    answers its TwiML carries: ``app.carried_answers``); jobs ride on the unit of work."""

    reply: Reply
    seq: int
    state: CallState | None = None


def start_call(
    session: Session, *, call_sid: str, from_number: str, to_number: str, policy: FlowPolicy, now: datetime,
    limits: CallerLimits | None = None,
) -> Turn:
    """Open the call's state (or return to it, if Twilio sent the start twice). The numbers are Twilio's words, kept
    without control characters (``caller_number``)."""
    from_number, to_number = caller_number(from_number), caller_number(to_number)
    call = session.get(CallSession, call_sid)
    if call is not None:
        state = _state_of(call)
        return Turn(question(state), call.seq, state)
    # a caller ID that names a phone: never a withheld one (Twilio's +266696687 and its kin parse as numbers, and
    # every anonymous caller was told of the last anonymous caller's open incident and linked to it)
    known = is_valid_phone(from_number)
    ticket = find_open_ticket_by_phone(session, from_number) if known else None
    incident = open_incident_for(session, phone=from_number) if known else None
    event = CallStarted(
        caller_id=from_number,
        policy=_with_outage(session, policy, now, from_number),  # issue 11
        ticket=caller_trust.ticket_info(ticket, verified=False) if ticket else None,
        open_incident=caller_trust.incident_info(incident, from_number, now) if incident else None,
    )
    call = CallSession(
        call_sid=call_sid, from_number=from_number[:32], to_number=to_number[:32],
        state={}, started_at=now, updated_at=now, seq=0,
    )
    session.add(call)
    log_event(session, at=now, actor="caller", kind="call_received", call_sid=call_sid,
              detail={"from": from_number, "to": to_number})
    return _run(session, call, None, event, now, limits or CallerLimits())


def _with_outage(session: Session, policy: FlowPolicy, now: datetime, caller_id: str) -> FlowPolicy:
    """The policy carrying the declared outage's statement in both languages (unchanged when none is declared), its
    times on the caller ID's clock, as the call's deadline is spoken."""
    from app.services.outages import statement_for_callers  # issue 11

    phone = caller_id if is_valid_phone(caller_id) else ""
    en = statement_for_callers(session, "en-US", now, phone)
    if en is None:
        return policy
    de = statement_for_callers(session, "de-DE", now, phone)
    return replace(policy, outage_statement_en=en, outage_statement_de=de or en)


def continue_call(session: Session, *, call_sid: str, seq: int, event: Event, now: datetime,
                  limits: CallerLimits | None = None) -> Turn:
    """Feed one caller event to the flow; a stale step gets the current question again."""
    call = _load(session, call_sid)
    state = _state_of(call)
    if seq != call.seq:
        log_event(session, at=now, actor="twilio", kind="stale_step_ignored", call_sid=call_sid,
                  detail={"got_seq": seq, "current_seq": call.seq})
        return Turn(question(state), call.seq, state)
    return _run(session, call, state, event, now, limits or CallerLimits())



def _state_of(call: CallSession) -> CallState:
    """The call's flow state, or UnreadableCall when it cannot be read."""
    state = readable_state(call.state)
    if state is None:
        raise UnreadableCall(call.call_sid, call.incident_id)
    return state


def rescue_unreadable(session: Session, call: UnreadableCall, from_number: str, policy: FlowPolicy,
                      now: datetime, carried: Carried | None = None) -> Incident | None:
    """Save the caller of a call whose state cannot be read, as an emergency path does (``rescue_call``): the
    incident it has, else a new one from what can be known (the caller ID, and what the call's URL ``carried``)."""
    return rescue_call(session, call_sid=call.call_sid, from_number=from_number, now=now, reason="state_unreadable",
                       policy=policy, carried=carried)


def _load(session: Session, call_sid: str) -> CallSession:
    stmt = select(CallSession).where(CallSession.call_sid == call_sid).with_for_update()
    call = session.scalars(stmt).first()
    if call is None:
        raise UnknownCall(call_sid)
    return call


def _run(session: Session, call: CallSession, state: CallState | None, event: Event, now: datetime,
         limits: CallerLimits) -> Turn:
    for _ in range(MAX_EFFECT_ROUNDS):
        step = advance(state, event, now)
        state = step.state
        answer: Event | None = None
        # log lines first: the flow's account of the step precedes what the step caused
        for effect in sorted(step.effects, key=lambda e: not isinstance(e, LogEvent)):
            answer = _apply(session, call, state, effect, now, limits) or answer
        if step.reply is not None:
            if follows(state, call.incident_id):  # issue 13: each answer reaches the open incident
                _follow(session, call, state, now, extension_changed=_extension_changed(step.effects))
            call.state = state.to_dict()
            call.seq += 1
            call.updated_at = now
            return Turn(step.reply, call.seq, state)
        if answer is None:
            break
        event = answer
    raise RuntimeError(f"flow gave no reply in stage {state.stage if state else None}")


def follows(state: CallState, incident_id: int | None) -> bool:
    """True when this answer must be copied into the incident the call already has, while its intake is not done:
    one it opened mid-call (issue 13), or one rescued when its end was heard first (Twilio requests a <Record>'s
    action and the call's status callback separately, in no promised order). Callers copy only into the call's
    own incident, never one it joined."""
    return incident_id is not None and state.stage is not Stage.DONE


def plain_step(state: CallState, event: Event, now: datetime, incident_id: int | None) -> Step | None:
    """The flow's step when all it does is log and reply (the ordinary turn); None when it needs ``continue_call``.

    ``app.services.lean_step`` writes such a step without the ORM (copying the answer into
    the incident the call opened, when ``follows``); anything else (a lookup, an incident to
    open or complete, a job) takes the full path.
    """
    step = advance(state, event, now)
    if step.reply is None:
        return None
    if not all(isinstance(e, LogEvent) and not (incident_id is not None and shapes_facts(e.kind))
               for e in step.effects):
        return None
    return step


def flow_line(effect: LogEvent, call_sid: str, incident_id: int | None, now: datetime) -> dict[str, Any]:
    """The log line a flow's ``LogEvent`` becomes (one place for both paths)."""
    return event_row(at=now, actor="ivr", kind=effect.kind, detail=effect.detail, call_sid=call_sid,
                     incident_id=incident_id, flow=True)


def _apply(session: Session, call: CallSession, state: CallState, effect, now: datetime,
           limits: CallerLimits) -> Event | None:
    if isinstance(effect, LogEvent):
        session.add(IncidentEvent(**flow_line(effect, call.call_sid, call.incident_id, now)))
        return None
    if isinstance(effect, LookupTicket):
        if not reference_guesses.may_look_up(session, call.from_number, now):
            return TicketLookedUp(number=effect.number, refused=True)
        ticket = find_open_ticket_by_number(session, effect.number)
        incident = caller_trust.ticket_incident(session, ticket, pin_proved=False) if ticket else None
        keyed = None if ticket else caller_trust.open_incident_by_reference(session, effect.number)
        if ticket is None and keyed is None:
            reference_guesses.note_wrong(session, call.call_sid, call.from_number, effect.number, now)
        return TicketLookedUp(
            number=effect.number,
            ticket=caller_trust.ticket_info(ticket, verified=state.verified != "") if ticket else None,
            open_incident=caller_trust.incident_info(incident, call.from_number, now) if incident else None,
            incident_by_reference=caller_trust.incident_info(keyed, call.from_number, now) if keyed else None,
        )
    if isinstance(effect, CheckPin):
        return caller_trust.answer_pin_check(session, effect, call.call_sid, now)
    if isinstance(effect, OpenIncident):
        if call.incident_id is None:  # opened once, whatever the webhook retries do
            early = SaveIncident(captured=effect.captured, lang=effect.lang, caller_id=effect.caller_id,
                                 captured_at=effect.captured_at, verified=effect.verified,
                                 related_reference=effect.related_reference)
            _save(session, call, state, early, now, limits, early=True)
        return None
    if isinstance(effect, SaveIncident):
        # the receipt step texts no number that opted out (``escalation_steps.run_due_step``): the closing words
        # must not promise it
        saved = _save(session, call, state, effect, now, limits)
        return replace(saved, texts_off=is_opted_out(session, effect.captured.callback_phone))
    if isinstance(effect, AppendToIncident):
        incident = append_to_incident(session, call, effect, now)
        return IncidentSaved(incident.reference, incident.callback_due_at)
    if isinstance(effect, RecordNonCritical):  # issue 11: counted apart, nobody paged
        from app.services.noncritical import record_non_critical

        record_non_critical(session, call_sid=call.call_sid, caller_id=call.from_number, language=state.lang.value,
                            now=now, send_howto=effect.send_howto, howto=limits.ticket_howto,
                            howto_de=limits.ticket_howto_de)
        return None
    raise TypeError(f"unknown effect {effect!r}")


def _save(session: Session, call: CallSession, state: CallState, effect: SaveIncident, now: datetime,
          limits: CallerLimits, early: bool = False) -> IncidentSaved:
    """Open the incident, or (a caller over the per-number limit) add the report to an open one of that number."""
    if call.incident_id is not None:  # opened mid-call (issue 13) or a retried webhook: complete it
        incident = session.get(Incident, call.incident_id)
        joined = incident.call_sid != call.call_sid
        if not (state.opened and joined):
            if state.opened:
                update_from_call(session, incident, effect.captured, now, final=True)
                caller_trust.record_caller_check(session, incident, effect, now)  # on everything the caller said
            return _saved(incident, joined, None)
        # joined mid-call: the whole report may name a contact of its own after all (a corrected number)
        placement = place_report(session, effect.caller_id, effect.captured, now, limits)
        if placement.apart_from is None:
            target = placement.join or incident  # the open incident whose contact the corrected one is, if any
            return _saved(target, True, join_report(session, call, target, effect, now,
                                                    state.policy.sla_minutes, limits))
        call.incident_id = None
    else:
        placement = place_report(session, effect.caller_id, effect.captured, now, limits)
    if placement.join is not None and early:
        call.incident_id = placement.join.id  # one contact, one open incident: the report is logged when whole
        return IncidentSaved(placement.join.reference, placement.join.callback_due_at, joined=True)
    if placement.join is not None:
        return _saved(placement.join, True, join_report(session, call, placement.join, effect, now,
                                                        state.policy.sla_minutes, limits))
    incident = save_incident(session, call, effect, now, state.policy.sla_minutes, details_complete=not early)
    if placement.apart_from is not None:
        open_apart(session, incident, placement.apart_from, now)
    if not early:  # opened early, the details are compared once all given (``save_incident`` noted the proof)
        caller_trust.record_caller_check(session, incident, effect, now)
    check_outbound_volume(session, now, limits.outbound_alert_per_hour)
    return IncidentSaved(incident.reference, incident.callback_due_at)


def _saved(incident: Incident, joined: bool, own_due_at: datetime | None) -> IncidentSaved:
    """The answer to a save: a caller who joined as a different contact hears their own deadline, not the incident's."""
    if own_due_at is not None:
        return IncidentSaved(incident.reference, own_due_at, joined=True, own_contact=True)
    return IncidentSaved(incident.reference, incident.callback_due_at, joined=joined)


def _follow(session: Session, call: CallSession, state: CallState, now: datetime, extension_changed: bool = False) -> None:
    """Copy what the caller has said so far into the incident this call opened (not one it joined)."""
    incident = session.get(Incident, call.incident_id)
    if incident is not None and incident.call_sid == call.call_sid:
        update_from_call(session, incident, state.captured, now, final=False, extension_changed=extension_changed)


def _extension_changed(effects: tuple) -> bool:
    """A step whose callback number's extension changed (its ``callback_extension`` line) on an incident opened
    before it: the reps paged with the old one are told, as of a corrected number (not on the opening's own step,
    whose pages carry it)."""
    return (any(isinstance(e, LogEvent) and e.kind == "callback_extension" for e in effects)
            and not any(isinstance(e, OpenIncident) for e in effects))


def policy_from(settings) -> FlowPolicy:
    """The flow policy of a deployment's settings."""
    return FlowPolicy(
        sla_minutes=settings.callback_sla_minutes,
        default_region=settings.default_region,
        allowed_regions=settings.allowed_callback_regions,
        live_connect=settings.live_wait_minutes > 0,  # issue 13
        hotline_number=settings.twilio_number,
        email_leaves=email_can_leave(settings),  # the receipt's rule (``deliveries.can_email``) for the closing words
    )


def end_call(
    session: Session, *, call_sid: str, call_status: str, duration: str, ended: bool,
    policy: FlowPolicy, now: datetime, limits: CallerLimits | None = None, inbound: bool = False,
    from_number: str = "", to_number: str = "",
) -> None:
    """Record a call status; an ended, unfinished intake becomes a missed call, joins, or is rescued.

    ``inbound``: the call was made to the hotline (``unseen_calls.is_unseen_inbound``); one that ended unseen (its
    first webhook lost, the Fallback URL failed too) is written from ``from_number`` and ``to_number`` and settled
    as a caller who hung up before triage: a missed call."""
    call = session.get(CallSession, call_sid, with_for_update=True)  # the watchdog may be settling it
    log_event(session, at=now, actor="twilio", kind="call_status", call_sid=call_sid,
              incident_id=call.incident_id if call else None,
              detail={"status": call_status, "duration": duration})
    if call is None and ended and inbound:
        call = record_unseen_call(session, call_sid=call_sid, from_number=from_number, to_number=to_number,
                                  duration=duration, now=now)
    if call is None or not ended:
        return
    settled = call.status == UNREPORTED  # the watchdog settled it when no status came: nothing twice
    call.status = call_status
    call.updated_at = now
    if not settled:
        settle_ended_call(session, call, now, policy, limits or CallerLimits())
    if call.incident_id is not None:
        connect_after_call(session, call.incident_id, now)  # a rep asked to connect while the caller talked
