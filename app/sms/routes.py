"""Inbound SMS (rep commands) and SMS status callbacks (page delivery)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from app.models import Page, PageStatus
from app.services.events import log_event
from app.services.pages import adopt_sid, fall_back_to_voice, move_status
from app.services.sms_commands import handle_rep_sms
from app.services.update_sms import handle_update_sms
from app.voice.respond import answer_once
from app.voice.signature import twilio_webhook

bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")
SMS_STATUS = {"accepted": PageStatus.SENT, "queued": PageStatus.SENT, "sending": PageStatus.SENT,
              "sent": PageStatus.SENT, "delivered": PageStatus.DELIVERED, "failed": PageStatus.FAILED,
              "undelivered": PageStatus.UNDELIVERED}


@bp.post("")
@twilio_webhook
def inbound() -> Response:
    """An SMS to the hotline number: a rep's ACK / CALL / CALLED, answered by SMS."""
    f = request.form

    def handle(session, now):
        answer = (handle_update_sms(session, f.get("From", ""), f.get("Body", "")[:1600], now, _settings())  # issue 11
                  or handle_rep_sms(session, f.get("From", ""), f.get("Body", "")[:1600], now))
        reply = MessagingResponse()
        reply.message(answer.reply)
        return str(reply), answer.jobs

    return answer_once(handle)


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """SMS delivery status: forward-only; a failed page SMS turns into a voice page at once."""
    f, page_id = request.form, request.args.get("page", 0, type=int)

    def handle(session, now):
        page = session.get(Page, page_id, with_for_update=True) if page_id else None
        reported = f.get("MessageStatus", "")
        if page is None:
            log_event(session, at=now, actor="twilio", kind="sms_status_unmatched",
                      detail={"message_sid": f.get("MessageSid", ""), "status": reported})
            return "", []
        new = SMS_STATUS.get(reported)
        if new:
            adopt_sid(page, f.get("MessageSid", ""), now)
        moved = bool(new) and move_status(page, new, now)
        log_event(session, at=now, actor="twilio", kind="page_status", incident_id=page.incident_id,
                  detail={"page_id": page.id, "channel": "sms", "status": reported, "applied": moved,
                          "error_code": f.get("ErrorCode", "")})
        jobs = fall_back_to_voice(session, page, now) if moved and new in (PageStatus.FAILED, PageStatus.UNDELIVERED) else []
        return "", jobs

    return answer_once(handle, mimetype="text/plain")


def _settings():
    return current_app.extensions["hotline"].settings
