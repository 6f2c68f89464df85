"""An ended call to the hotline whose start the hotline never saw: its status callback makes it a missed call.

An outside probe killed the web worker serving a call's first ``/twilio/voice`` request, and Twilio's Fallback URL
failed too; the call's signed status callback (completed, 90 s) then proved a caller spent 90 s on the Sev-1 line,
and the hotline kept only a ``call_status`` line: no missed call, no SMS. Only an inbound call to the hotline's own
number counts: the status of an outbound call (a page, a callback's leg) never becomes a missed call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.models import CallSession
from app.services.events import log_event
from app.services.incidents import caller_number

INBOUND = "inbound"  # Twilio's Direction of a call made to one of the account's numbers


def is_unseen_inbound(direction: str, from_number: str, to_number: str, hotline_number: str) -> bool:
    """Whether a status callback is of a call made to the hotline (Twilio's ``Direction`` "inbound", to the hotline's
    number when one is configured, not from it): never of a call the hotline placed."""
    if direction != INBOUND:
        return False
    if not hotline_number:
        return True
    return caller_number(to_number) == hotline_number and caller_number(from_number) != hotline_number


def record_unseen_call(session: Session, *, call_sid: str, from_number: str, to_number: str, duration: str,
                       now: datetime) -> CallSession:
    """The call's session, written now from its status callback (it started ``duration`` seconds ago), with nothing
    said: ``call_endings.settle_ended_call`` then makes it a missed call as any caller who hung up before triage."""
    seconds = int(duration) if duration.isdigit() else 0
    call = CallSession(call_sid=call_sid, from_number=caller_number(from_number)[:32],
                       to_number=caller_number(to_number)[:32], state={}, started_at=now - timedelta(seconds=seconds),
                       updated_at=now, seq=0)
    session.add(call)
    session.flush()
    log_event(session, at=now, actor="twilio", kind="call_unseen", call_sid=call_sid,
              detail={"duration": duration, "reason": "start_never_received"})
    return call
