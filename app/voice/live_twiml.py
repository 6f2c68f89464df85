"""Issue 13: the rep's leg dials the caller waiting on the line out of the incident's queue."""

from __future__ import annotations

from sqlalchemy.orm import object_session
from twilio.twiml.voice_response import VoiceResponse

from app.models import Callback, Incident
from app.prompts import text
from app.services.company_label import said_company
from app.services.live_connect import claim_for, hung_up_since
from app.voice.twiml import REP_VOICE

DIAL_TIMEOUT_SECONDS = 20  # an empty queue (the caller just hung up) ends the <Dial> after this


def live_twiml(callback: Callback, incident: Incident, settings) -> str | None:
    """``<Dial><Queue>`` from the hotline number when the incident's caller waits on the line, else None."""
    session = object_session(callback)
    wait = claim_for(session, incident, callback) if session is not None else None
    if wait is None:
        return None
    response = VoiceResponse()
    response.say(text("live_rep_intro", ref=", ".join(incident.reference), company=said_company(incident.company) or "The customer",
                      contact=incident.contact_name or "contact unknown"), **REP_VOICE)
    dial = response.dial(caller_id=settings.twilio_number or None, timeout=DIAL_TIMEOUT_SECONDS, method="POST",
                         action=f"/twilio/live/dial-done?callback={callback.id}&wait={wait.id}")
    dial.queue(wait.queue_name, url=f"/twilio/live/connecting?wait={wait.id}&callback={callback.id}",
               method="POST")
    return str(response)


def hung_up_whisper(callback: Callback, incident: Incident) -> str:
    """What the rep hears first when the caller who waited on the line hung up while this rep's call rang."""
    session = object_session(callback)
    if session is None or not hung_up_since(session, incident.id, callback.requested_at):
        return ""
    return text("live_rep_caller_hung_up")
