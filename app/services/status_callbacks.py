"""Twilio's status callbacks, applied from what Twilio posted: by their routes at once, or from the spool later.

Twilio does not retry a status callback its webhook failed, and nothing asks Twilio for it afterwards. So a
route that cannot reach the database keeps the callback on disk (``app.webhooks.answer_status``) and the
watchdog's spool replay applies it here once the database is back: the same function either way, once per
delivery (its key, ``app.webhooks.delivery_key``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Callback, LiveWait
from app.models.call import ENDED_STATUSES
from app.services import intake, live_connect, live_reports
from app.services.callbacks import (
    confirm_person,
    customer_leg_status,
    rep_key_unheard,
    rep_leg_status,
    short_leg,
    whisper_heard,
)
from app.services.caller_limits import limits_from
from app.services.deliveries import sms_status as delivery_sms_status
from app.services.notices import notice_status
from app.services.page_status import call_status, sms_status
from app.services.unseen_calls import is_unseen_inbound

Fields = Mapping[str, str]
Apply = Callable[[Session, Fields, Fields, datetime, object], None]  # (session, form, query, now, settings)


def _id(query: Fields, name: str) -> int:
    """A numeric id from the callback URL's query (0 when absent or not a number, as the routes read it)."""
    try:
        return int(query.get(name, 0))
    except (TypeError, ValueError):
        return 0


def page_sms(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """SMS delivery status of a page (a failed one turns into a voice page at once) or of a notice."""
    if _id(query, "notice"):
        notice_status(session, _id(query, "notice"), form.get("MessageStatus", ""), form.get("ErrorCode", ""),
                      form.get("MessageSid", ""), now)
        return
    sms_status(session, _id(query, "page"), form.get("MessageStatus", ""), form.get("MessageSid", ""),
               form.get("ErrorCode", ""), now)


def page_call(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of a voice page call; only moves the page forward."""
    call_status(session, _id(query, "page"), form.get("CallStatus", ""), form.get("AnsweredBy", ""),
                form.get("CallSid", ""), now)


def rep_leg(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of the hotline's call to the rep for a callback (its customer's key press and a live bridge's end
    reports kept in the spool applied first: ``apply_kept_key_press``, ``apply_kept_live_reports``)."""
    apply_kept_key_press(session, settings, _id(query, "callback"))
    apply_kept_live_reports(session, settings, _id(query, "callback"))
    rep_leg_status(session, _id(query, "callback"), form.get("CallStatus", ""), now, call_sid=form.get("CallSid", ""))


def customer_leg(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of a callback's customer leg: Twilio's Timestamp of the answer decides met or late."""
    callback_id, status, call_sid = _id(query, "callback"), form.get("CallStatus", ""), form.get("CallSid", "")
    apply_kept_key_press(session, settings, callback_id)
    customer_leg_status(session, callback_id, status, form.get("Timestamp", ""), call_sid, now,
                        answered_by=form.get("AnsweredBy", ""))
    # a conversation under the minimum is no callback, whether or not the <Dial action> request ever comes
    short_leg(session, callback_id, status, form.get("CallDuration", ""), call_sid, now)


KEY_PRESS = "/twilio/bridge/customer-confirm"  # a bridged callback's key press: kept like a status callback
WHISPER = "/twilio/bridge/customer-whisper"  # the customer leg's whisper request: the answer, and who answered
REP_KEY = "/twilio/bridge/rep-confirm"  # the rep's key press on the hotline's call to them


def customer_key(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """The customer pressed the key on a bridged callback's whisper (``Digits``: the ``<Gather>`` asks for no action
    without one). Counted at ``now``, when the request was heard: the key was pressed before it, so the key press is
    never counted earlier than it can have been. While the database cannot be reached the request is kept in the
    spool (``app.webhooks.answer_kept``: the signed request is the proof) and applied at the time it was heard."""
    if form.get("Digits", ""):
        confirm_person(session, _id(query, "callback"), now)


def customer_whisper(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Twilio asked for the customer leg's whisper at ``now`` (its phone answered by then), and who answered
    (``AnsweredBy``): kept in the spool when the database could not be reached, so that a person who answered is not
    taken for a voicemail once the leg's status lines are replayed (probe AA3)."""
    whisper_heard(session, _id(query, "callback"), form.get("AnsweredBy", ""), now)


def rep_key(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """The rep's key press kept in the spool (the database was unreachable): the customer was not dialled."""
    rep_key_unheard(session, _id(query, "callback"), form.get("CallSid", ""), now)


def apply_kept_key_press(session: Session, settings, callback_id: int) -> None:
    """Apply the callback's key press (the rep's, and the customer's whisper request) kept in this host's spool (the
    database was unreachable when it came) before a report of the callback's end: the spool is replayed a few seconds after the database is back, and an end report
    applied ahead of the key press would close the callback as not met (probe AA1: the customer who had talked 43 s
    was texted "we tried to call you"). Once per delivery (its key): the replay then finds it applied."""
    if not callback_id or settings is None:
        return
    from app.services.spool import kept  # spool replays through this module

    _apply_kept(session, settings, [  # in the order they are made
        record for path in (REP_KEY, WHISPER, KEY_PRESS) for record in kept(settings.data_dir, path)
        if _id(record.get("query", {}), "callback") == callback_id])


def apply_kept_live_reports(session: Session, settings, callback_id: int) -> None:
    """Apply the live connect's end reports of the callback's incident kept in this host's spool (``LIVE_LEFT``,
    ``LIVE_DIAL_DONE``), in the order they came, before another report of the callback's end (the rep leg's status,
    its ``<Dial action>``): with every request of the bridge in the outage they are its only proof, and the rep leg's
    end applied ahead of them would close the callback as "rep not reached" and text the rep so. Once per delivery."""
    if not callback_id or settings is None:
        return
    from app.services.spool import kept

    callback = session.get(Callback, callback_id)
    records = kept(settings.data_dir, LIVE_LEFT, LIVE_DIAL_DONE)
    if callback is None or not records:
        return
    waits = set(session.scalars(select(LiveWait.id).where(LiveWait.incident_id == callback.incident_id)))
    legs = set(session.scalars(select(Callback.id).where(Callback.incident_id == callback.incident_id)))
    _apply_kept(session, settings, [record for record in records if _id(record.get("query", {}), "wait") in waits
                                    or _id(record.get("query", {}), "callback") in legs])


def _apply_kept(session: Session, settings, records: list[dict]) -> None:
    """Apply kept ``records`` (``spool.kept``) in this order, each once per delivery (its key)."""
    from app.webhooks import apply_once

    for record in records:
        path = record["path"]
        try:
            with session.begin_nested():  # the replay may apply it at the same time: one of the two does
                apply_once(session, record["key"], path, _kept_handler(APPLY[path], record, settings),
                           datetime.fromisoformat(record["at"]))
        except IntegrityError:
            continue


def _kept_handler(apply: Apply, record: dict, settings):
    """The handler ``apply_once`` runs for a kept ``record``."""
    form, query = record.get("form", {}), record.get("query", {})
    return lambda session, now: apply(session, form, query, now, settings) or ""


LIVE_LEFT = "/twilio/live/left"  # the caller's <Enqueue action>: QueueResult=bridged proves a live bridge
LIVE_DIAL_DONE = "/twilio/live/dial-done"  # the rep's <Dial><Queue> action: DialBridged=true names the caller


def left_of(session: Session, form: Fields, query: Fields, now: datetime) -> LiveWait | None:
    """The caller left the queue (``live_connect.left``), from what Twilio posted to the ``<Enqueue action>``."""
    return live_connect.left(session, _id(query, "wait"), form.get("QueueResult", ""), _id(form, "QueueTime"), now,
                             caller_call_sid=form.get("CallSid", ""))


def live_left(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """The caller's ``<Enqueue action>`` kept in the spool (the database was unreachable): applied at the time it
    came, as its route applies it (``left_of``); its QueueResult=bridged proves the bridge (probe AA2's gap)."""
    left_of(session, form, query, now)


def live_dial_done(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """The rep's ``<Dial><Queue>`` action kept in the spool, judged at the time it came as its route judges it
    (``live_reports.rep_dial_ended``). Its answer, the outage's, hung up on the rep: their leg is over, so whatever it
    withdraws they are told by SMS, never by a prompt nobody heard."""
    live_reports.rep_dial_ended(session, _id(query, "callback"), _id(query, "wait"), form, now,
                                form.get("CallStatus", "") if form.get("CallStatus", "") in ENDED_STATUSES
                                else "completed")


def update_sms(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Delivery report of a customer update, proposal or reminder SMS."""
    delivery_sms_status(session, _id(query, "delivery"), form.get("MessageStatus", ""), form.get("ErrorCode", ""),
                        now)


def intake_call(session: Session, form: Fields, query: Fields, now: datetime, settings) -> None:
    """Status of a call to the hotline: a caller who hung up mid-intake is saved; one whose start was never heard
    of (``unseen_calls``) is a missed call."""
    reported, caller, called = form.get("CallStatus", ""), form.get("From", ""), form.get("To", "")
    intake.end_call(session, call_sid=form.get("CallSid", ""), call_status=reported,
                    duration=form.get("CallDuration", ""), ended=reported in ENDED_STATUSES,
                    policy=intake.policy_from(settings), now=now, limits=limits_from(settings),
                    inbound=is_unseen_inbound(form.get("Direction", ""), caller, called, settings.twilio_number),
                    from_number=caller, to_number=called)


# Every status callback URL the hotline gives Twilio, by path (and the bridged callback's key press and whisper): the
# routes answer these, the spool replays them.
APPLY: dict[str, Apply] = {
    "/twilio/sms/status": page_sms,
    "/twilio/page/voice/status": page_call,
    "/twilio/bridge/rep-status": rep_leg,
    "/twilio/bridge/customer-status": customer_leg,
    "/twilio/updates/sms-status": update_sms,
    "/twilio/voice/status": intake_call,
    KEY_PRESS: customer_key,  # webhooks whose answer needs no database, kept like the status callbacks
    WHISPER: customer_whisper,
    REP_KEY: rep_key,
    LIVE_LEFT: live_left,  # a live bridge's end reports: with every request of the bridge lost, its only proof
    LIVE_DIAL_DONE: live_dial_done,
}
