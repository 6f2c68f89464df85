"""Inbound SMS (rep commands) and SMS status callbacks (page delivery)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from app.services.notices import notice_status
from app.services.page_status import sms_status
from app.services.sms_commands import handle_rep_sms
from app.services.update_sms import handle_update_sms
from app.voice.signature import twilio_webhook
from app.webhooks import answer_once

bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")


@bp.post("")
@twilio_webhook
def inbound() -> Response:
    """An SMS to the hotline number: a rep's ACK / CALL / CALLED, answered by SMS."""
    f = request.form

    def handle(session, now):
        body = f.get("Body", "")[:1600]
        reply = MessagingResponse()
        answer = (handle_update_sms(session, f.get("From", ""), body, now, _settings())  # issue 11
                  or handle_rep_sms(session, f.get("From", ""), body, now))
        if answer:  # an unknown sender over its limits gets no SMS back (floods, toll fraud)
            reply.message(answer)
        return str(reply)

    return answer_once(handle)


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """SMS delivery status of a page (forward-only; a failed page SMS turns into a voice page at once) or a notice."""
    f, page_id, notice_id = request.form, request.args.get("page", 0, type=int), request.args.get("notice", 0, type=int)

    def handle(session, now):
        if notice_id:
            notice_status(session, notice_id, f.get("MessageStatus", ""), f.get("ErrorCode", ""))
        else:
            sms_status(session, page_id, f.get("MessageStatus", ""), f.get("MessageSid", ""), f.get("ErrorCode", ""),
                       now)
        return ""

    return answer_once(handle, mimetype="text/plain")


def _settings():
    return current_app.extensions["hotline"].settings
