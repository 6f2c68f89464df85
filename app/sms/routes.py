"""Inbound SMS and SMS status callbacks (acknowledgements arrive here)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from app.services.events import log_event
from app.voice.respond import answer_once
from app.voice.signature import twilio_webhook

bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")


@bp.post("")
@twilio_webhook
def inbound() -> Response:
    """An SMS to the hotline number: logged; callers are pointed to the voice line."""
    f = request.form

    def handle(session, now):
        log_event(session, at=now, actor=f.get("From", "")[:100], kind="sms_received",
                  detail={"body": f.get("Body", "")[:1600], "message_sid": f.get("MessageSid", "")})
        reply = MessagingResponse()
        reply.message("Sev-1 hotline: to report a critical outage, please call this number.")
        return str(reply), []

    return answer_once(handle)


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """An SMS delivery status callback: logged once."""
    f = request.form

    def handle(session, now):
        log_event(session, at=now, actor="twilio", kind="sms_status",
                  detail={"message_sid": f.get("MessageSid", ""), "status": f.get("MessageStatus", ""),
                          "error_code": f.get("ErrorCode", "")})
        return "", []

    return answer_once(handle, mimetype="text/plain")
