"""Inbound SMS (rep commands) and SMS status callbacks (page delivery)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, Response, current_app, request

from app.db import unreachable
from app.prompts import text
from app.services.sms_inbound import answer_sms, as_twiml
from app.services.spool import keep
from app.voice.signature import twilio_webhook
from app.webhooks import answer_once, answer_status, delivery_key

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")


# An SMS's reply tells the state after it ("We keep working on 123456, next update by 15:05"): Twilio's retry of the
# request, within seconds, gets it again; one much later gets none, since that state may be over (an outside probe's
# customer read "we keep working" of an incident closed since). The message is carried out once either way.
REPLY_FRESH_FOR = timedelta(minutes=2)


@bp.post("")
@twilio_webhook
def inbound() -> Response:
    """An SMS to the hotline number: STOP/START, a rep's command, a customer's answer or words; answered by SMS.

    While the database cannot be reached the SMS is kept in the spool and carried out later (``sms_inbound``)."""
    form, settings = request.form.to_dict(), _settings()
    received = current_app.extensions["hotline"].clock.now()
    try:
        return answer_once(lambda session, now: as_twiml(answer_sms(session, form, now, settings)),
                           replay_for=REPLY_FRESH_FOR)
    except Exception as exc:
        if not unreachable(exc):
            raise
        if keep(settings.data_dir, "sms", {"key": delivery_key(request, settings), "form": form,
                                           "at": received.isoformat()}):
            log.warning("inbound SMS: database unreachable (%s); kept in the spool",
                        current_app.extensions["hotline"].db.outage.note(exc))
            return Response(as_twiml(text("sms_kept")), mimetype="text/xml")
        log.error("inbound SMS: database unreachable and the spool cannot be written: the SMS is lost")
        return Response(as_twiml(text("sms_not_kept")), mimetype="text/xml")


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """SMS delivery status of a page (forward-only; a failed page SMS turns into a voice page at once) or a notice."""
    return answer_status()  # status_callbacks.page_sms


def _settings():
    return current_app.extensions["hotline"].settings
