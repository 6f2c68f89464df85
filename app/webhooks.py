"""Answering a Twilio webhook once: dedupe, one transaction (its jobs dispatched after commit), a safe answer on error."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Request, Response, current_app, request
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import is_disconnect, unreachable
from app.db_outage import failed
from app.models import WebhookDelivery
from app.services.spool import keep
from app.services.status_callbacks import APPLY
from app.services.stored_answers import RETRY_WINDOW
from app.settings import Settings

log = logging.getLogger(__name__)

EMPTY_ANSWERS = {"text/xml": '<?xml version="1.0" encoding="UTF-8"?><Response />'}  # any other mimetype: ""

Handler = Callable[[Session, datetime], str]
_STORED = select(WebhookDelivery.response, WebhookDelivery.received_at).where(
    WebhookDelivery.key == bindparam("key"))  # built once


class Unanswered:
    """The lean path's "take the full path" after it found no answer stored for the delivery (None: it did not look)."""


class Replayed:
    """A delivery answered longer than RETRY_WINDOW ago: not Twilio's retry, so nothing is said or done."""


UNANSWERED, REPLAYED = Unanswered(), Replayed()
# (delivery key, now) -> the answer, else the full path
Lean = Callable[[str, datetime], "str | Replayed | Unanswered | None"]


def stored_answer(response: str, received_at: datetime, now: datetime,
                  window: timedelta = RETRY_WINDOW) -> str | Replayed:
    """What a delivery answered before gets now: the same answer while Twilio may retry it (``window``), REPLAYED
    after."""
    return response if now - received_at <= window else REPLAYED


def delivery_key(req: Request, settings: Settings) -> str:
    """What Twilio's signature covers (``signature.signed_content``): requests one signature validates are one delivery.

    Twilio's retry sends exactly the request again; a signed request replayed with a value repeated
    (``Body=YES&Body=YES``), its query encoded otherwise where the signature allows it, or its form split
    otherwise (``MessageSid=SM1To+1415`` for ``MessageSid=SM1&To=+1415``) validates as the original, so it must
    also find the original's answer and never be acted on again.
    """
    from app.voice.signature import signed_content  # app.voice's routes import this module

    return hashlib.sha256(signed_content(req, settings).encode()).hexdigest()


def answer_once(handler: Handler, mimetype: str = "text/xml", safe: str | None = None,
                lean: Lean | None = None, replay_for: timedelta = RETRY_WINDOW) -> Response:
    """Run ``handler`` in one transaction unless this delivery was answered before.

    ``lean`` (the ordinary IVR step) is tried first and answers without the ORM when it can;
    UNANSWERED or None from it means: take ``handler``'s transaction (after UNANSWERED without
    looking for a stored answer again: a duplicate that stores one meanwhile loses at the insert). A dropped database connection is
    retried once on a fresh one (a retry finds its own delivery if the first attempt committed).
    With ``safe``, an internal error is logged and answered with ``safe`` (nothing is stored,
    so Twilio's retry runs the handler again); without it, the error propagates. A delivery answered
    longer than RETRY_WINDOW ago (``replay_for``: an SMS reply's own, shorter) is answered empty
    (``EMPTY_ANSWERS``) and runs nothing.
    """
    hotline = current_app.extensions["hotline"]
    key = delivery_key(request, hotline.settings)
    try:
        now = hotline.clock.now()
        try:
            body = _attempt(hotline, key, handler, lean, now, replay_for)
        except Exception as exc:  # not only a DBAPIError: a dropped connection surfaces as others (``is_disconnect``)
            if not is_disconnect(exc):
                raise
            log.warning("webhook %s lost its database connection; retrying once", request.path)
            body = _attempt(hotline, key, handler, lean, now, replay_for)
        if body is REPLAYED:
            log.warning("webhook %s replayed after the retry window; answered empty", request.path)
            body = EMPTY_ANSWERS.get(mimetype, "")
        return Response(body, mimetype=mimetype)
    except Exception as exc:
        if safe is None:
            raise
        failed(hotline.db.outage, log, exc, "webhook %s failed; answered with safe TwiML", request.path)
        return Response(safe, mimetype=mimetype)


def answer_status(lean: Lean | None = None) -> Response:
    """Answer a Twilio status callback (``status_callbacks.APPLY``, by its path) once; while the database cannot be
    reached, keep it in the spool for the watchdog to apply (in order, once) and answer 200 all the same: Twilio
    never sends a failed status callback again, and a 500 per callback only fills its error log."""
    return answer_kept("", mimetype="text/plain", lean=lean)


def answer_kept(unreachable_answer: str, mimetype: str = "text/xml", lean: Lean | None = None,
                safe: str | None = None, handler: Handler | None = None) -> Response:
    """``answer_status`` for any webhook of ``status_callbacks.APPLY`` (by its path): applied once (by ``handler``
    when given, which applies it as the APPLY function would and answers; else by that function, answered
    ``unreachable_answer``), or kept in the spool while the database cannot be reached and answered
    ``unreachable_answer`` (a bridged callback's key press: the signed request proves it, and Twilio never sends it
    again). ``safe``: the answer to any other error (nothing kept: Twilio's retry, if any, runs it again); without
    it, the error propagates."""
    hotline = current_app.extensions["hotline"]
    form, query, received = request.form.to_dict(), request.args.to_dict(), hotline.clock.now()
    apply = APPLY[request.path]

    def applied(session: Session, now: datetime) -> str:
        apply(session, form, query, now, hotline.settings)
        return unreachable_answer

    try:
        return answer_once(handler or applied, mimetype=mimetype, lean=lean)
    except Exception as exc:
        if not unreachable(exc):
            if safe is None:
                raise
            failed(hotline.db.outage, log, exc, "webhook %s failed; answered with safe TwiML", request.path)
            return Response(safe, mimetype=mimetype)
        if keep(hotline.settings.data_dir, "status", {"path": request.path, "form": form, "query": query,
                                                      "key": delivery_key(request, hotline.settings),
                                                      "at": received.isoformat()}):
            log.warning("webhook %s: database unreachable (%s); kept in the spool", request.path,
                        hotline.db.outage.note(exc))
        # a status callback's 500 is never sent again either: it would only fill Twilio's log
        return Response(unreachable_answer, mimetype=mimetype)


def apply_once(session: Session, key: str, path: str, handler: Handler, now: datetime,
               look: bool = True, replay_for: timedelta = RETRY_WINDOW) -> str | Replayed:
    """Run ``handler`` in ``session`` and store its answer under the delivery ``key``, unless one is stored (then
    answer that, ``stored_answer``; ``look=False``: the caller has just looked). A concurrent copy loses at the insert."""
    stored = session.execute(_STORED, {"key": key}).first() if look else None
    if stored is not None:
        return stored_answer(*stored, now, replay_for)
    body = handler(session, now)
    session.add(WebhookDelivery(key=key, path=path[:200], response=body, received_at=now))
    return body


def _attempt(hotline, key: str, handler: Handler, lean: Lean | None, now: datetime,
             replay_for: timedelta = RETRY_WINDOW) -> str | Replayed:
    looked = False
    if lean is not None:
        body = lean(key, now)
        if isinstance(body, str | Replayed):
            return body
        looked = body is UNANSWERED
    try:
        # The duplicate check shares the handler's transaction: one connection checkout
        # and one round trip fewer than a session of its own.
        with hotline.db.transaction() as session:
            return apply_once(session, key, request.path, handler, now, look=not looked, replay_for=replay_for)
    except IntegrityError:  # a concurrent duplicate won the race: answer what it answered
        with hotline.db.session() as session:
            stored = session.execute(_STORED, {"key": key}).first()
        if stored is None:
            raise
        return stored_answer(*stored, now, replay_for)
