"""Bridged callbacks: whisper to the rep, dial the customer from the hotline number."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from app.models import Callback, CallbackOutcome, Incident
from app.services.callbacks import customer_leg_status, open_callback
from app.services.events import log_event
from app.voice.respond import answer_once
from app.voice.signature import twilio_webhook
from app.voice.twiml import REP_VOICE, say_and_hang_up
from app.voice.update_routes import after_callback

bp = Blueprint("bridge", __name__, url_prefix="/twilio/bridge")
CUSTOMER_VOICE = {"en-US": ("en-US", "Polly.Joanna"), "de-DE": ("de-DE", "Polly.Vicki")}


def bridge_twiml(callback: Callback, incident: Incident, settings, whisper: str = "") -> str:
    """Whisper the incident to the rep, then dial the customer with a whisper of their own."""
    response = VoiceResponse()
    ref = ", ".join(incident.reference)
    response.say(whisper or f"Sev-1 callback for incident {ref}.", **REP_VOICE)
    response.say(f"{incident.company or 'The customer'}, {incident.contact_name or 'contact unknown'}. "
                 f"Incident {ref}. Dialling now.", **REP_VOICE)
    dial = response.dial(caller_id=settings.twilio_number or None, timeout=30, answer_on_bridge=True,
                         action=f"/twilio/bridge/dial-done?callback={callback.id}", method="POST")
    dial.number(incident.callback_phone, url=f"/twilio/bridge/customer-whisper?callback={callback.id}",
                method="POST", status_callback=f"/twilio/bridge/customer-status?callback={callback.id}",
                status_callback_event="initiated ringing answered completed", status_callback_method="POST")
    return str(response)


def _callback(session, callback_id: int):
    callback = session.get(Callback, callback_id)
    if callback is None:
        return None, None
    return callback, session.scalars(select(Incident).where(Incident.id == callback.incident_id)).one()


@bp.post("/rep")
@twilio_webhook
def rep_answered() -> Response:
    """The rep answered the hotline's call: bridge them to the customer."""
    callback_id, settings = request.args.get("callback", 0, type=int), current_app.extensions["hotline"].settings

    def handle(session, now):
        callback, incident = _callback(session, callback_id)
        if callback is None:
            return say_and_hang_up("This callback is no longer valid."), []
        return bridge_twiml(callback, incident, settings), []

    return answer_once(handle)


@bp.post("/rep-status")
@twilio_webhook
def rep_status() -> Response:
    """Status of the call to the rep (logged)."""
    callback_id, status = request.args.get("callback", 0, type=int), request.form.get("CallStatus", "")

    def handle(session, now):
        callback, incident = _callback(session, callback_id)
        if callback is not None:
            log_event(session, at=now, actor="twilio", kind="callback_rep_leg_status", incident_id=incident.id,
                      detail={"callback_id": callback.id, "status": status})
        return "", []

    return answer_once(handle, mimetype="text/plain")


@bp.post("/customer-whisper")
@twilio_webhook
def customer_whisper() -> Response:
    """Played to the customer on answer, before the legs connect."""
    callback_id = request.args.get("callback", 0, type=int)

    def handle(session, now):
        callback, incident = _callback(session, callback_id)
        response = VoiceResponse()
        if incident is not None:
            lang, voice = CUSTOMER_VOICE.get(incident.language, CUSTOMER_VOICE["en-US"])
            ref = ", ".join(incident.reference)
            text = (f"Hier ist die Severity-1-Hotline zu Ihrem Vorfall {ref}. Wir verbinden Sie mit einem Techniker."
                    if lang == "de-DE" else
                    f"This is the Severity-1 hotline calling about your incident {ref}. Connecting you to an engineer.")
            response.say(text, language=lang, voice=voice)
        return str(response), []

    return answer_once(handle)


@bp.post("/customer-status")
@twilio_webhook
def customer_status() -> Response:
    """Status of the customer leg: its 'answered' Timestamp decides met or late."""
    callback_id, f = request.args.get("callback", 0, type=int), request.form

    def handle(session, now):
        customer_leg_status(session, callback_id, f.get("CallStatus", ""), f.get("Timestamp", ""),
                            f.get("CallSid", ""), now)
        return "", []

    return answer_once(handle, mimetype="text/plain")


@bp.post("/dial-done")
@twilio_webhook
def dial_done() -> Response:
    """The <Dial> ended: thank the rep, or offer to try again when the customer did not answer."""
    callback_id, f = request.args.get("callback", 0, type=int), request.form
    dial_status = f.get("DialCallStatus", "")

    def handle(session, now):
        callback, incident = _callback(session, callback_id)
        if callback is None:
            return say_and_hang_up("Goodbye."), []
        if dial_status == "completed" or callback.answered_at is not None:
            return after_callback(session, callback, incident, now)  # issue 11: offer the update interval
        if callback.outcome == CallbackOutcome.PENDING:
            callback.outcome = CallbackOutcome.ATTEMPTED
            log_event(session, at=now, actor="twilio", kind="callback_attempted", incident_id=incident.id,
                      detail={"callback_id": callback.id, "status": dial_status})
        response = VoiceResponse()
        gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                                 action=f"/twilio/bridge/retry?callback={callback.id}")
        gather.say("The customer did not answer. Press 1 to try again, or hang up and try later.", **REP_VOICE)
        response.say("Goodbye.", **REP_VOICE)
        response.hangup()
        return str(response), []

    return answer_once(handle)


@bp.post("/retry")
@twilio_webhook
def retry() -> Response:
    """The rep asked to dial the customer again."""
    callback_id, digits = request.args.get("callback", 0, type=int), request.form.get("Digits", "")
    call_sid, settings = request.form.get("CallSid", ""), current_app.extensions["hotline"].settings

    def handle(session, now):
        old, incident = _callback(session, callback_id)
        if old is None or digits != "1":
            return say_and_hang_up("Goodbye."), []
        again = open_callback(session, incident, old.rep_id, now, rep_call_sid=call_sid)
        return bridge_twiml(again, incident, settings, whisper="Trying the customer again."), []

    return answer_once(handle)
