"""Placing the rep's leg of a bridged callback (the customer leg is a <Dial> on answer)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from app.models import Callback, CallbackOutcome, Incident
from app.models.oncall import Rep
from app.models.paging import outcome_unknown
from app.queue import PendingJob, schedule
from app.services.callbacks import mark_rep_not_reached
from app.services.events import log_event
from app.services.other_number import left_rep_call, rep_leg_moved_at, rep_leg_number
from app.services.pages import (
    PAGE_WAITS_FOR_RETRY_AFTER_AT_MOST,
    backoff,
    failure_note,
    retry_at,
    unanswered,
    wait_before_retry,
)
from app.services.row_locks import lock_callback
from app.telephony.protocol import DETECT, OutcomeUnknown, Rejected, Telephony, TelephonyError, asked_wait

# A try Twilio fails for now (5xx, 429, a time-out) is made again, with the pages' back-off, until the request is
# this old; then the rep is told the customer was not called (to call them directly). Four tries (about 10 s of
# Twilio failing) used to close the request for good while Twilio recovered, the rep still waiting for the call.
RETRY_FOR = timedelta(minutes=5)
STALE_PLACING = timedelta(seconds=10)  # a placement older than this belongs to a dead run (2x the client time-out)
UNPLACED_GRACE = timedelta(seconds=30)  # a requested callback not placed by then is handed over again
# one never tried yet is a lost job (RQ's runs it within milliseconds): handed over as the steps are (the watchdog's
# TAKEOVER); a probe's CALL whose job Redis lost waited 36 s for the rep's phone to ring. A retry waits its back-off.
FIRST_TRY_GRACE = timedelta(seconds=6)


def place_rep_call(db, telephony: Telephony, settings, callback_id: int, now: datetime) -> None:
    """Call the rep for ``callback_id`` once; a passing failure registers a retry on the unit of work."""
    base = settings.link_base
    with db.transaction() as session:
        callback, incident = lock_callback(session, callback_id)
        if callback is None or callback.rep_call_sid or callback.outcome != CallbackOutcome.PENDING:
            return
        if callback.placing_since is not None and now - callback.placing_since < STALE_PLACING:
            return  # another run is placing it right now, or Twilio may still be working on an unanswered try
        rep = session.get(Rep, callback.rep_id) if callback.rep_id else None
        if rep is None:
            return
        if now - asked_at(session, callback) > RETRY_FOR:  # a late job or the watchdog's hand-over: too late now
            _give_up(session, callback, incident, now, "call_failed" if callback.attempts else "not_placed_in_time")
            return
        # the rule of pages: an earlier try may have reached Twilio only if its run died mid-request (a stale claim)
        # or Twilio's answer was a time-out or 5xx, not since followed by an accepted call; a 429 or a 4xx made nothing
        uncertain = callback.placing_since is not None or outcome_unknown(callback.last_error)
        since = callback.requested_at.replace(microsecond=0)  # Twilio's date_created has whole seconds
        # compare-and-set on what we read: SQLite ignores FOR UPDATE, and only one claim may match
        claimed = session.execute(
            update(Callback).where(Callback.id == callback.id, Callback.attempts == callback.attempts)
            .values(attempts=Callback.attempts + 1, placing_since=now)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return
        to = rep_leg_number(session, callback, rep)
    try:
        # A call resource names nothing of ours, so a call found to the rep may be a page: never adopted, the rep is
        # called again and it may be a second call. No call to the rep at all since the request proves none was made.
        none_made = uncertain and telephony.find_call(to=to, since=since) is None
        # a machine taking the rep's call is hung up on at once; one detection misses gives no key (``bridge``)
        sent = telephony.place_call(
            to=to, url=f"{base}/twilio/bridge/rep?callback={callback_id}",
            status_callback=f"{base}/twilio/bridge/rep-status?callback={callback_id}", machine_detection=DETECT)
    except TelephonyError as exc:
        _failed(db, callback_id, now, exc, uncertain, to)
        return
    possible_duplicate = uncertain and not none_made
    with db.transaction() as session:
        callback = lock_callback(session, callback_id)[0]
        if callback.rep_call_sid == sent.sid:  # its status callback came first and recorded it (adopt_rep_call)
            return
        if left_rep_call(session, callback, sent.sid):  # ... and said it failed: the rep's other number is called
            return
        callback.rep_call_sid = callback.rep_call_sid or sent.sid
        callback.placed_at = callback.placed_at or now
        callback.placing_since = None
        callback.last_error = ""
        log_event(session, at=now, actor="twilio", kind="callback_rep_call_placed", incident_id=callback.incident_id,
                  detail={"callback_id": callback_id, "sid": sent.sid, "possible_duplicate": possible_duplicate})


def _failed(db, callback_id: int, now: datetime, exc: TelephonyError, uncertain: bool, to: str = "") -> None:
    """Record a failed try (to ``to``); an earlier try's unknown outcome (``uncertain``) stays unknown
    (``pages.failure_note``). Tried again while the request is younger than ``RETRY_FOR``, unless Twilio refused the
    call itself: then on the rep's other number, once, if the core says so (``mark_rep_not_reached``)."""
    with db.transaction() as session:
        callback, incident = lock_callback(session, callback_id)
        error = f"{type(exc).__name__}: {exc}"
        callback.last_error = failure_note(error, uncertain)
        # a try Twilio did not answer may still make its call: it stays "placing" (no run, the watchdog's neither,
        # looks Twilio up and calls again) until its retry, which waits as a page's does (``pages.retry_at``)
        callback.placing_since = callback.placing_since if unanswered(error) else None
        wait = backoff(callback.attempts) if not isinstance(exc, OutcomeUnknown) else timedelta(seconds=2)
        again_at = retry_at(now, wait_before_retry(wait, asked_wait(exc), PAGE_WAITS_FOR_RETRY_AFTER_AT_MOST), error)
        final = isinstance(exc, Rejected) or again_at - asked_at(session, callback) > RETRY_FOR
        log_event(session, at=now, actor="twilio", kind="callback_rep_call_failed", incident_id=callback.incident_id,
                  detail={"callback_id": callback_id, "error": callback.last_error[:200], "final": final})
        if final:
            refused = isinstance(exc, Rejected)  # the number refused for good, not Twilio failing for now
            mark_rep_not_reached(session, incident, callback, "call_failed", now, failed=to if refused else "")
            return
        schedule(session, "callback", callback_id, again_at, attempt=callback.attempts)


def asked_at(session, callback: Callback) -> datetime:
    """Whence ``RETRY_FOR`` counts: the request, or the move of its call to the rep's other number, which may come
    minutes later (a call Twilio took and reported ``failed``, learnt by a status look-up: ``status_checks``)."""
    moved = rep_leg_moved_at(session, callback)
    return max(callback.requested_at, moved) if moved is not None else callback.requested_at


def _give_up(session, callback: Callback, incident: Incident, now: datetime, why: str) -> None:
    """The rep's call was not placed within ``RETRY_FOR`` of the request (or of its move to the rep's other number):
    the rep is told (``mark_rep_not_reached``)."""
    since = "the request" if rep_leg_moved_at(session, callback) is None else "the move to the rep's other number"
    log_event(session, at=now, actor="system", kind="callback_rep_call_failed", incident_id=callback.incident_id,
              detail={"callback_id": callback.id, "error": f"not placed within {RETRY_FOR.seconds // 60} min of "
                      f"{since} ({callback.last_error[:120] or 'no try reached Twilio'})", "final": True})
    mark_rep_not_reached(session, incident, callback, why, now)


def due_callbacks(session, now: datetime) -> list[PendingJob]:
    """Requested callbacks whose rep call was never placed (a lost job or a dead run): for the watchdog.

    However old: one past ``RETRY_FOR`` is given up by its job (the rep told), so none stays pending for good.
    """
    stmt = select(Callback.id, Callback.attempts).where(
        Callback.rep_call_sid == "", Callback.outcome == CallbackOutcome.PENDING, Callback.rep_id.is_not(None),
        or_(Callback.requested_at <= now - UNPLACED_GRACE,
            and_(Callback.attempts == 0, Callback.requested_at <= now - FIRST_TRY_GRACE)),
        or_(Callback.placing_since.is_(None), Callback.placing_since < now - STALE_PLACING),
    )
    return [PendingJob("callback", cid, now, attempt=n) for cid, n in session.execute(stmt)]
