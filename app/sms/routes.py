"""Inbound SMS (rep commands) and SMS status callbacks (page delivery)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from app.plain_text import halfwidth
from app.services.oncall import reps_on_phone
from app.services.sms_commands import handle_rep_sms, shared_phone_answer
from app.services.sms_opt_outs import handle_opt_keyword
from app.services.update_sms import handle_update_sms
from app.voice.signature import twilio_webhook
from app.webhooks import answer_once, answer_status

bp = Blueprint("sms", __name__, url_prefix="/twilio/sms")


@bp.post("")
@twilio_webhook
def inbound() -> Response:
    """An SMS to the hotline number: STOP/START, a rep's command, a customer's answer or words; answered by SMS."""
    f = request.form

    def handle(session, now):
        # read, logged and stored in ASCII forms: "ＡＣＫ １２３４５６" from a full-width keyboard is ACK 123456
        body, sender = halfwidth(f.get("Body", ""))[:1600], f.get("From", "")
        media = f.get("NumMedia", "0")
        media = int(media) if media.isascii() and media.isdigit() else 0  # an MMS: pictures the hotline cannot show (maybe no words)
        reply = MessagingResponse()
        # STOP / START: Twilio answers those itself, we record them and add nothing ("")
        answer = handle_opt_keyword(session, sender, body, f.get("OptOutType", ""), now)
        reps = reps_on_phone(session, sender) if answer is None else []  # read once for the handlers below
        if answer is None:
            answer = shared_phone_answer(session, reps, body, now)  # two reps' number: which sent it cannot be told
        rep = reps[0] if len(reps) == 1 else None
        if answer is None:
            answer = handle_update_sms(session, sender, rep, body, now, _settings(), media=media)  # issue 11
        if answer is None:
            answer = handle_rep_sms(session, sender, rep, body, now)
        if answer:  # an unknown sender over its limits gets no SMS back (floods, toll fraud)
            reply.message(answer)
        return str(reply)

    return answer_once(handle)


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """SMS delivery status of a page (forward-only; a failed page SMS turns into a voice page at once) or a notice."""
    return answer_status()  # status_callbacks.page_sms


def _settings():
    return current_app.extensions["hotline"].settings
