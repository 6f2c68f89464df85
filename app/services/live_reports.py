"""Issue 13: the rep's ``<Dial><Queue>`` action (``/twilio/live/dial-done``), judged by its route or from the spool.

What the report proves (the bridge, its length, a caller who left before it) is decided here, once: the route then
says what the rep hears next, and a report kept in the spool while the database was unreachable
(``app.webhooks.answer_kept``) is applied by the same rule when it is replayed (``status_callbacks.APPLY``). The
caller's ``<Enqueue action>`` is ``live_connect.left`` either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.models import Callback, CallbackOutcome, Incident, LiveWait
from app.services import live_connect
from app.services.callbacks import already_withdrawn_as_short, conversation_too_short
from app.services.row_locks import lock_callback

GOODBYE = "goodbye"  # no wait of this leg, or another leg's caller: nothing to say
TALKED = "talked"  # the bridge counted: the update-interval offer
TOO_SHORT = "too_short"  # connected, too briefly to be the callback: the retry offer
NOT_CONNECTED = "not_connected"  # nobody was connected to the rep: dial the customer out (``whisper`` says why)


@dataclass(frozen=True)
class DialEnd:
    """What the rep's ``<Dial><Queue>`` action proved, for the route to answer."""

    verdict: str
    callback: Callback | None = None
    incident: Incident | None = None
    whisper: str = ""  # NOT_CONNECTED: the prompt key the rep hears before the customer is dialled


def rep_dial_ended(session, callback_id: int, wait_id: int, form: Mapping[str, str], now: datetime,
                   call_status: str) -> DialEnd:
    """Judge the rep's ``<Dial><Queue>`` action (``form``: Twilio's). ``DialBridged=true`` with ``DialCallSid`` names
    the caller this callback's leg was bridged to (the URL names the callback): proof of the bridge and of whose it
    is, when no ``<Queue url>`` request recorded the dequeue (``live_connect.bridge_proven``). A bridge counts here
    only when proven (``live_connect.bridge_on_record``), never by ``DialCallDuration`` alone. ``call_status``: the
    rep's leg's (final: the rep hears nothing more; a kept report's replay passes one)."""
    dial_status, dial_seconds = form.get("DialCallStatus", ""), form.get("DialCallDuration", "")
    dial_bridged = form.get("DialBridged", "")
    bridged_caller = live_connect.dial_bridged_caller(dial_status, dial_bridged, form.get("DialCallSid", ""))
    callback, incident = lock_callback(session, callback_id)
    row = live_connect.wait_of_leg(session, callback_id, wait_id)
    if bridged_caller and callback is not None and not _taken_for(row, callback):
        # Twilio says it bridged that caller to this leg, though no <Queue url> request recorded it (an outage)
        row = live_connect.bridge_proven(session, wait_id, bridged_caller, form.get("CallSid", ""), 0, "dial_bridged",
                                         now, callback_id=callback.id) or row
    if row is None or callback is None or row.callback_id != callback.id:
        return DialEnd(GOODBYE, callback, incident)
    whisper = "live_rep_caller_gone"
    if row.dequeued_at is not None:  # Twilio took the caller out of the queue for this leg
        if live_connect.dial_rules_out_bridge(dial_status, dial_seconds, dial_bridged):
            # nobody was connected to the rep: an answer counted at the bridge does not stand
            live_connect.unbridged(session, row, f"dial_{dial_status or 'missing'}_{dial_seconds or '-'}s", now)
        elif not live_connect.bridge_on_record(row, callback, bridged_caller):
            # a completed <Dial> with seconds on it, and nothing that proves the bridge: nothing counts, and the rep's
            # leg dials the customer out as for a caller who left (a QueueResult=bridged after it would still count)
            return DialEnd(NOT_CONNECTED, callback, incident, "live_rep_caller_hung_up"
                           if row.result == live_connect.LEFT_HUNG_UP else "live_rep_not_connected")
        elif not conversation_too_short(dial_seconds, dial_bridged):
            live_connect.bridged(session, row, now)
        elif (live_connect.too_short(session, row, dial_seconds, dial_bridged, now, call_status) is not None
              or already_withdrawn_as_short(session, callback, call_status, now)):  # the caller's end did first
            return DialEnd(TOO_SHORT, callback, incident)
        if callback.outcome in (CallbackOutcome.MET, CallbackOutcome.LATE):
            return DialEnd(TALKED, callback, incident)
        whisper = "live_rep_caller_hung_up"  # gone during "connecting you now": nobody was reached
    return DialEnd(NOT_CONNECTED, callback, incident, whisper)


def _taken_for(row: LiveWait | None, callback: Callback) -> bool:
    """Whether ``row`` is a caller recorded as dequeued for this callback's leg."""
    return row is not None and row.dequeued_at is not None and row.callback_id == callback.id
