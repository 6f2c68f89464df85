"""The voice page a rep answers: summary, 1 acknowledge, 2 connect to the customer, 9 repeat."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from app.models import Incident, Page, PageStatus
from app.models.oncall import Rep
from app.services.acks import acknowledge
from app.services.callbacks import open_callback
from app.services.events import log_event
from app.services.page_text import spoken_summary
from app.services.pages import adopt_sid, move_status
from app.voice.bridge import bridge_twiml
from app.voice.respond import answer_once
from app.voice.signature import twilio_webhook
from app.voice.twiml import REP_VOICE, say_and_hang_up

bp = Blueprint("page_voice", __name__, url_prefix="/twilio/page")
CALL_STATUS = {"queued": PageStatus.SENT, "initiated": PageStatus.SENT, "ringing": PageStatus.RINGING,
               "in-progress": PageStatus.ANSWERED, "answered": PageStatus.ANSWERED, "no-answer": PageStatus.NO_ANSWER,
               "busy": PageStatus.BUSY, "failed": PageStatus.FAILED, "canceled": PageStatus.FAILED,
               "completed": PageStatus.ANSWERED}  # Twilio: completed = answered, then hung up


def _page_and_incident(session, page_id: int):
    page = session.get(Page, page_id, with_for_update=True)
    if page is None:
        return None, None
    return page, session.scalars(select(Incident).where(Incident.id == page.incident_id).with_for_update()).one()


def _menu(page_id: int, incident: Incident, intro: str = "") -> str:
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=f"/twilio/page/voice/key?page={page_id}",
                             method="POST", action_on_empty_result=False)
    if intro:
        gather.say(intro, **REP_VOICE)
    gather.say(spoken_summary(incident), **REP_VOICE)
    gather.say("Press 1 to acknowledge. Press 2 to be connected to the customer now. Press 9 to repeat.", **REP_VOICE)
    response.say("No key pressed. This page is not acknowledged; we will keep paging. Goodbye.", **REP_VOICE)
    response.hangup()
    return str(response)


@bp.post("/voice")
@twilio_webhook
def voice() -> Response:
    """Twilio fetched the page call's TwiML: a machine gets a short message, a human the menu."""
    page_id, answered_by = request.args.get("page", 0, type=int), request.form.get("AnsweredBy", "")

    def handle(session, now):
        page, incident = _page_and_incident(session, page_id)
        if page is None:
            return say_and_hang_up("This page is no longer valid."), []
        if answered_by.startswith("machine") or answered_by == "fax":
            move_status(page, PageStatus.MACHINE, now)
            log_event(session, at=now, actor="twilio", kind="page_reached_machine", incident_id=incident.id,
                      detail={"page_id": page.id, "answered_by": answered_by})
            return say_and_hang_up(f"Severity 1 page for incident {', '.join(incident.reference)}. "
                            "Please call the hotline or reply to the text message."), []
        move_status(page, PageStatus.ANSWERED, now)
        return _menu(page.id, incident), []

    return answer_once(handle)


@bp.post("/voice/key")
@twilio_webhook
def key() -> Response:
    """The rep pressed a key on the page call."""
    page_id, digits = request.args.get("page", 0, type=int), request.form.get("Digits", "")
    call_sid = request.form.get("CallSid", "")
    settings = current_app.extensions["hotline"].settings

    def handle(session, now):
        page, incident = _page_and_incident(session, page_id)
        if page is None:
            return say_and_hang_up("This page is no longer valid."), []
        rep = session.get(Rep, page.rep_id) if page.rep_id else None
        name = rep.name if rep else page.name
        if digits == "1":
            result = acknowledge(session, incident, page.rep_id, name, "voice", now)
            return say_and_hang_up(result.message), result.jobs
        if digits == "2":
            result = acknowledge(session, incident, page.rep_id, name, "voice", now)
            if not result.ok and incident.acknowledged_by != page.rep_id:
                return say_and_hang_up(result.message), []
            callback = open_callback(session, incident, page.rep_id, now, rep_call_sid=call_sid)
            return bridge_twiml(callback, incident, settings, whisper="Connecting you to the customer now."), result.jobs
        return _menu(page.id, incident), []

    return answer_once(handle)


@bp.post("/voice/status")
@twilio_webhook
def status() -> Response:
    """Status callback of a page call; only moves the page forward."""
    page_id = request.args.get("page", 0, type=int)
    call_status, answered_by = request.form.get("CallStatus", ""), request.form.get("AnsweredBy", "")

    def handle(session, now):
        page = session.get(Page, page_id, with_for_update=True)
        if page is None:
            return "", []
        new = PageStatus.MACHINE if answered_by.startswith("machine") else CALL_STATUS.get(call_status)
        if new:
            adopt_sid(page, request.form.get("CallSid", ""), now)
        moved = bool(new) and move_status(page, new, now)
        log_event(session, at=now, actor="twilio", kind="page_status", incident_id=page.incident_id,
                  detail={"page_id": page.id, "channel": "voice", "status": call_status, "applied": moved})
        return "", []

    return answer_once(handle, mimetype="text/plain")
