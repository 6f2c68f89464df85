"""What an intake call that ended unfinished leaves behind: a missed call, a joined incident or a rescue.

Also for a call whose end Twilio never reported (``settle_unreported_calls``, run by the watchdog).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CallSession, Incident
from app.models.call import IN_PROGRESS, UNREPORTED
from app.services import caller_trust
from app.services.caller_limits import CallerLimits, Placement, open_apart, place_report
from app.services.escalation import INTAKE_IDLE_AFTER, set_deadline
from app.services.events import log_event
from app.services.incidents import (
    RESCUE_EXCLUDED_STAGES,
    append_to_incident,
    open_incidents_for,
    readable_state,
    rescue_call,
    update_from_call,
)
from app.services.joined_contacts import join_detail, tell_reps
from app.services.missed_calls import called_back_on, ended_before_triage, record_missed_call
from app.services.outbound_volume import check_outbound_volume
from ivr_flows.capture import hung_up
from ivr_flows.model import AppendToIncident, CallState, Captured, FlowPolicy, SaveIncident, Stage
from ivr_flows.validate import is_valid_phone, parse_callback_number

UNREPORTED_PER_PASS = 100  # calls one watchdog pass settles (the rest go on the next pass)


def settle_ended_call(
    session: Session, call: CallSession, now: datetime, policy: FlowPolicy, limits: CallerLimits,
    ended_at: datetime | None = None,
) -> None:
    """An ended call with no incident: before triage a missed call; a caller with an open incident joins it.

    Otherwise the unfinished intake is rescued when the caller is reachable, as before; a critical caller we
    have no way to reach back is a missed call carrying what they said (nobody is paged for them).
    ``ended_at``: when the caller was last heard, when that is long before ``now`` (``settle_unreported_calls``).
    """
    ended_at = ended_at or now
    had_incident = call.incident_id is not None
    state = _left_behind(session, call, now)
    if had_incident:
        _settle_opened_early(session, call, now, ended_at, limits)
        return
    if ended_before_triage(state) and not _reached_anyway(session, state, call.from_number):
        record_missed_call(session, call, state, now, policy, limits, ended_at)
        check_outbound_volume(session, now, limits.outbound_alert_per_hour)
        return
    if state is not None and state.incident is not None:
        incident = session.scalar(select(Incident).where(Incident.reference == state.incident.reference))
        if _repeat_call_of(state, incident, call.from_number):
            # A repeat caller hung up: their open incident notes it; nothing new is opened.
            log_event(session, at=now, actor="system", kind="repeat_call_ended", call_sid=call.call_sid,
                      incident_id=incident.id if incident else None,
                      detail={"stage": state.stage.value, "verified": state.verified or "no"})
            return
        # A Sev-1 caller (past triage) cut off at another's incident (a keyed ticket's): rescued as anyone, linked
        state = replace(state, incident=None, related_reference=state.related_reference or state.incident.reference)
    # Floods: over the per-number limit, the open incident of their number whose contact is theirs takes what was
    # said (marked unverified), as it would have taken their whole report; a caller whose contact is none of its
    # open incidents' is rescued apart, like anyone under the limit (a caller ID is no identity: the open incident
    # of their number may be an attacker's, with the attacker's callback number) (``place_report``).
    placement = (place_report(session, call.from_number, _reachable_on(call, state, policy), ended_at, limits)
                 if state is not None else Placement())
    if placement.join is not None:
        call.incident_id = placement.join.id
        _log_call_joined(session, call, placement.join, state, now, ended_at, policy, limits)
        return
    incident = rescue_call(session, call_sid=call.call_sid, from_number=call.from_number, now=now,
                            reason="caller_hung_up", policy=policy, require_reachable=True, captured_at=ended_at)
    if incident is not None and placement.apart_from is not None:
        open_apart(session, incident, placement.apart_from, now)
    if incident is None and state is not None and state.stage not in RESCUE_EXCLUDED_STAGES:
        record_missed_call(session, call, state, now, policy, limits, ended_at)
        return
    if incident is not None and state is not None:
        # The rep sees for a rescued call too whether the caller was verified and what matches.
        said = SaveIncident(captured=state.captured, lang=state.lang, caller_id=call.from_number, captured_at=now,
                            verified=state.verified,
                            related_reference=_redial_of(session, call, incident) or state.related_reference)
        caller_trust.record_caller_check(session, incident, said, now)


def _repeat_call_of(state: CallState, incident: Incident | None, caller: str) -> bool:
    """Whether a caller who hung up with ``incident`` in their call called about it, so it notes the hang-up and
    nothing is opened: they proved it theirs (its reference, or the PIN it was proved with), its callback goes to the
    number they call from, or they never reached triage (a repeat caller of their number's incident, whose choice to
    add to it is the only report they made). A caller past triage who proved nothing told us of a Sev-1 while hearing
    of a keyed ticket's incident, which may be another customer's or a stranger's with its callback elsewhere: that
    call is theirs to be called back on, rescued like any other (a Sev-1 is never dropped)."""
    if state.verified or state.captured.affected_service is None:
        return True
    return incident is not None and bool(caller) and incident.callback_phone == caller


def _reached_anyway(session: Session, state: CallState | None, caller: str) -> bool:
    """A caller who hung up before choosing at the open incident of their number, whose number an open incident
    calls back: a repeat call, not a missed one. An incident that only came from their caller ID may be a
    spoofer's, whose callback reaches the spoofer: then it is a missed call, and they are invited back."""
    return state is not None and state.incident is not None and called_back_on(session, caller) is not None


def _state(call: CallSession) -> CallState | None:
    return readable_state(call.state)


def _left_behind(session: Session, call: CallSession, now: datetime) -> CallState | None:
    """The call's final state: what was read back to the caller and awaited their yes is kept, what a repeat
    caller said to add is added (``hung_up``)."""
    state = _state(call)
    if state is None:
        return None
    state, effects = hung_up(state)
    for effect in effects:
        if isinstance(effect, AppendToIncident):
            append_to_incident(session, call, effect, now)
        else:
            log_event(session, at=now, actor="ivr", kind=effect.kind, detail=effect.detail, call_sid=call.call_sid,
                      incident_id=call.incident_id, flow=True)
    if effects:
        call.state = state.to_dict()
    return state


def nothing_to_settle(state: CallState | None, incident_id: int | None) -> bool:
    """True when an ended call needs no more than its status: it has an incident, and not one it opened
    mid-call and left before the end (issue 13: those get the caller check and their deadline)."""
    return incident_id is not None and (state is None or not state.opened or state.stage is Stage.DONE)


def _redial_of(session: Session, call: CallSession, rescued: Incident) -> str:
    """The reference of the newest open incident of the call's number opened after the call began (its caller's
    redial, reported while this call's end was not yet heard), "" for none: the rescued call is linked to it as
    possibly related, so a conversation held on it counts for this one too (an outside probe's first call, its end
    never reported, was rescued after its redial's callback had reached the customer, linked to nothing: it breached,
    and the customer was texted "we have not reached you"). It is the link, before the incident open when the call
    began (``related_reference``, heard of at its start), which the redial heard of too and is linked to: a second
    probe's call that chose "a different outage" and dropped was linked to that one only, and its redial's
    conversation never counted for it. A withheld caller ID is nobody's number."""
    if not is_valid_phone(call.from_number):
        return ""
    return next((other.reference for other in open_incidents_for(session, call.from_number)
                 if other.id != rescued.id and other.received_at >= call.started_at), "")


def _settle_opened_early(session: Session, call: CallSession, now: datetime, ended_at: datetime,
                         limits: CallerLimits) -> None:
    """A caller who hung up after their incident opened mid-call (issue 13): compare what they said."""
    state = _state(call)
    if nothing_to_settle(state, call.incident_id):
        return
    incident = session.get(Incident, call.incident_id)
    if incident is None:
        return
    c = state.captured
    if incident.call_sid != call.call_sid:  # joined the caller's open incident mid-call: keep what was said
        _log_call_joined(session, call, incident, state, now, ended_at, state.policy, limits)
        return
    update_from_call(session, incident, c, now, final=False)  # an answer read back but not yet confirmed
    said = SaveIncident(captured=state.captured, lang=state.lang, caller_id=call.from_number, captured_at=now,
                        verified=state.verified, related_reference=state.related_reference)
    caller_trust.record_caller_check(session, incident, said, now)
    set_deadline(session, incident, ended_at, reason="caller_hung_up")  # all the details this call will give


def _log_call_joined(session: Session, call: CallSession, incident: Incident, state: CallState, now: datetime,
                     ended_at: datetime, policy: FlowPolicy, limits: CallerLimits) -> None:
    """Log what a caller who hung up said on the incident they joined; one whose contact is not the incident's
    (the number they call from, when they gave none) is owed a callback of their own from when they were last
    heard, and the reps are told (``joined_contacts``)."""
    c = _reachable_on(call, state, policy)
    own = join_detail(incident, c, ended_at, policy.sla_minutes)
    log_event(session, at=now, actor="caller", kind="call_joined", incident_id=incident.id, call_sid=call.call_sid,
              detail={"reason": "caller_hung_up", "stage": state.stage.value, "verified": state.verified or "no",
                      "text": c.problem_text, "recording_url": c.recording_url, "company": c.company,
                      "contact_name": c.contact_name, "callback_phone": c.callback_phone, "email": c.email, **own})
    if own["contact_differs"]:
        tell_reps(session, incident, now, limits.window_minutes, limits.max_new_incidents)


def _reachable_on(call: CallSession, state: CallState, policy: FlowPolicy) -> Captured:
    """What a caller who hung up said, with the number a rescue would call them back on when they gave none."""
    c = state.captured
    if c.callback_phone:
        return c
    return replace(c, callback_phone=parse_callback_number(call.from_number, policy.default_region,
                                                           policy.allowed_regions,
                                                           hotline_number=policy.hotline_number) or "")


def settle_unreported_calls(session: Session, now: datetime, policy: FlowPolicy, limits: CallerLimits) -> int:
    """Settle the intake calls Twilio never reported ended: no webhook for ``INTAKE_IDLE_AFTER`` (longer than any
    question or recording waits) and no final status (a status callback lost, refused or not configured).

    Each is settled as a caller who hung up at their last answer (``settle_ended_call``), once: it is marked
    ``UNREPORTED``; a status callback arriving after all settles nothing twice. A call past its intake (the
    live-connect queue, a resolution question) has nothing to settle and may still be going on: it is only
    marked, so no pass reads it again. Returns how many were settled.
    """
    stmt = (select(CallSession)
            .where(CallSession.status == IN_PROGRESS, CallSession.updated_at <= now - INTAKE_IDLE_AFTER)
            .order_by(CallSession.updated_at).limit(UNREPORTED_PER_PASS).with_for_update(skip_locked=True))
    settled = 0
    for call in list(session.scalars(stmt)):  # read them all first: settling one runs statements of its own
        call.status = UNREPORTED
        state = _state(call)
        if nothing_to_settle(state, call.incident_id) or (state is not None and state.stage is Stage.DONE):
            continue
        log_event(session, at=now, actor="system", kind="call_end_unreported", call_sid=call.call_sid,
                  incident_id=call.incident_id, detail={"last_heard": call.updated_at.isoformat()})
        settle_ended_call(session, call, now, policy, limits, ended_at=call.updated_at)
        settled += 1
    return settled
