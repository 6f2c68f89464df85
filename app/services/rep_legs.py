"""Which of the hotline's calls to the rep owns a bridged callback: the first one a person answered (pressed a key).

A callback's rep call may be placed twice: a run that died (or timed out) after Twilio accepted it leaves its
outcome unknown, and the next run calls the rep again (``callback_rep_call_placed`` says ``possible_duplicate``).
Both calls ask ``/twilio/bridge/rep`` what to do when answered, and are asked for a key; only one may dial the
customer (one bridged callback at a time per incident). The first whose key arrives claims the callback, under a
write lock, and its SID becomes the callback's ``rep_call_sid``: the other call's key is refused, and its status
callbacks (the rep leg's end, a voicemail answering it) are only logged, since that call never dialled the customer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Callback, IncidentEvent
from app.services.events import log_event


def answered_leg(session: Session, callback: Callback) -> str | None:
    """The SID of the rep call that owns ``callback`` (its ``callback_rep_answered`` line); None while no person
    has answered one (pressed its key)."""
    for detail in session.scalars(select(IncidentEvent.detail).where(
            IncidentEvent.incident_id == callback.incident_id, IncidentEvent.kind == EventKind.CALLBACK_REP_ANSWERED)
            .order_by(IncidentEvent.id)):
        if detail.get("callback_id") == callback.id:
            return str(detail.get("sid", ""))
    return None


def claim_leg(session: Session, callback: Callback, call_sid: str, now: datetime) -> bool:
    """A person answered the rep call ``call_sid`` of ``callback`` (its key was pressed): True if that call owns it
    (the first confirmed, or the same call again), so it alone dials the customer; False, logged, for any other."""
    # A write first: SQLite ignores FOR UPDATE and reads outside a transaction until the first write, so two
    # answers racing must both take the one writer's lock before either looks for an owner (on PostgreSQL the
    # row stays locked by the caller's ``lock_callback``).
    session.execute(update(Callback).where(Callback.id == callback.id)
                    .values(rep_call_sid=Callback.rep_call_sid).execution_options(synchronize_session=False))
    session.refresh(callback)  # as the lock found it (on SQLite the row read before it may be stale)
    owner = answered_leg(session, callback)
    if owner is not None and owner != call_sid:
        log_event(session, at=now, actor="twilio", kind=EventKind.CALLBACK_REP_LEG_REFUSED,
                  incident_id=callback.incident_id,
                  detail={"callback_id": callback.id, "sid": call_sid[:64], "answered_sid": owner})
        return False
    if owner is None:
        recorded = callback.rep_call_sid
        if recorded and call_sid and recorded != call_sid:
            # the call recorded as placed is another one (placed again after this one's outcome was lost): the rep
            # leg's status callbacks and Twilio lookups follow the call that was answered
            callback.rep_call_sid = call_sid[:64]
        log_event(session, at=now, actor="twilio", kind=EventKind.CALLBACK_REP_ANSWERED,
                  incident_id=callback.incident_id,
                  detail={"callback_id": callback.id, "sid": call_sid[:64], "key": True,
                          **({"instead_of": recorded} if recorded and recorded != call_sid else {})})
    return True


def other_leg(session: Session, callback: Callback, call_sid: str) -> bool:
    """Whether ``call_sid`` is a rep call of ``callback`` that does not own it, another call having been answered
    first: what that call reports changes nothing."""
    owner = answered_leg(session, callback)
    return bool(call_sid) and owner is not None and owner != call_sid
