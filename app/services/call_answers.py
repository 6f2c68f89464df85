"""Forgetting what a caller said once no webhook of their call can need it: an ended call's flow state keeps no
personal data beside the incident (or missed call) that holds it.

While a call goes on, ``call_sessions.state`` holds every answer: each step reads it. After the end, a late
``<Record>`` action, or Twilio's retry of a step whose first attempt failed, may still come, and still needs them
(``intake.follows``: the answer is copied into the incident rescued at the hang-up, with what it still lacks; a
repeated question reads the deadline in the callback number's time zone). Nothing can come for a call whose end is
older than ``FORGET_AFTER``, the window the stored webhook answers are kept for (``stored_answers``): a delivery
older than that is a replay, answered empty and acted on never. The watchdog's leader then keeps of each such state
only what is no answer (``CallState.without_answers``): the stage, language, clock, proof and incident reference the
status callbacks, the live-connect and update webhooks read. Calls stored before this are forgotten the same way,
oldest first, ``FORGET_CALLS_PER_PASS`` a pass.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import CallSession
from app.models.call import ANSWERS_KEPT, IN_PROGRESS
from app.services.incidents import readable_state
from app.services.stored_answers import FORGET_AFTER

FORGET_CALLS_PER_PASS = 200  # states one watchdog pass rewrites (an upgraded database's old calls over many passes)


def calls_to_forget(now: datetime, limit: int) -> Select:
    """The oldest ended calls whose state still holds answers no webhook can need any more, at most ``limit``.

    Ended: Twilio reported a final status, or the watchdog stopped waiting for one (``UNREPORTED``). Read through
    the partial index of the calls still holding answers (``status <>`` leaves the status index unusable).
    """
    return (select(CallSession)
            .where(ANSWERS_KEPT, CallSession.updated_at < now - FORGET_AFTER, CallSession.status != IN_PROGRESS)
            .order_by(CallSession.updated_at).limit(limit).with_for_update(skip_locked=True))


def forget_call_answers(session: Session, now: datetime, limit: int = FORGET_CALLS_PER_PASS) -> int:
    """Keep of the oldest such calls' states only what is no answer, at most ``limit``; how many were rewritten."""
    calls = list(session.scalars(calls_to_forget(now, limit)))
    for call in calls:
        state = readable_state(call.state)  # unreadable: no webhook can read it either
        call.state = state.without_answers().to_dict() if state is not None else {}
        call.answers_kept = False
    return len(calls)
