"""Issue 11 webhooks: the interval keypad after the bridged callback, and delivery reports of update SMS."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from app.models import Callback, CallSession, Incident, Rep
from app.models.followup import DEFAULT_INTERVAL_MINUTES
from app.prompts import text
from app.services.acks import Actor
from app.services.callbacks import rep_leg_over
from app.services.incidents import readable_state
from app.services.resolution import decide_by_call, spoken_proposal
from app.services.row_locks import lock_incident
from app.services.update_actions import set_interval
from app.services.update_rights import KEYPAD
from app.services.update_text import every
from app.services.updates import (
    KEYPAD_INTERVALS,
    call_ended,
    follow_up_of,
    tell_unanswered_interval,
    untold_interval,
)
from app.voice.signature import twilio_webhook
from app.voice.twiml import REP_VOICE, say_and_hang_up
from app.webhooks import answer_once, answer_status

bp = Blueprint("updates_voice", __name__, url_prefix="/twilio/updates")


def after_callback(session: Session, callback: Callback, incident: Incident, now: datetime,
                   call_status: str = "") -> str:
    """TwiML for the rep when the bridged call with the customer ended: offer the update interval.

    The answer started the schedule with the default interval (the rep owns it), its first update now counted
    from the end of this call; a key pressed here changes it. Hooks: app/voice/bridge.py and
    app/voice/queue_routes.py ``dial_done`` return this when the call completed (a lost one costs the offer only).
    ``call_status``: the rep's leg's, in the ``<Dial action>`` request; once that leg is over (the rep hung up
    first) nobody hears this answer, so the owner reads by SMS what the question left at the default.
    """
    follow_up = call_ended(session, incident, now, answered_at=callback.person_confirmed_at or callback.answered_at,
                           owner_rep_id=callback.rep_id)
    if rep_leg_over(session, incident, callback, call_status):
        tell_unanswered_interval(session, incident, now)
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                             action=f"/twilio/updates/interval?callback={callback.id}")
    gather.say(text("upd_interval_offer"), **REP_VOICE)
    # the interval in force (a second callback finds the one agreed before), never an assumed default; one the
    # customer was never told in writing: the rep hears how to confirm one to them
    key = "upd_interval_default_untold" if untold_interval(session, incident) else "upd_interval_default"
    response.say(text(key, every=every(follow_up.interval_minutes)), **REP_VOICE)
    response.hangup()
    return str(response)


@bp.post("/interval")
@twilio_webhook
def interval() -> Response:
    """The rep pressed the interval agreed with the customer."""
    callback_id, digits = request.args.get("callback", 0, type=int), request.form.get("Digits", "")

    def handle(session, now):
        callback = session.get(Callback, callback_id)
        minutes = KEYPAD_INTERVALS.get(digits)
        if callback is None or minutes is None:
            follow_up = follow_up_of(session, session.get(Incident, callback.incident_id)) if callback else None
            minutes = follow_up.interval_minutes if follow_up else DEFAULT_INTERVAL_MINUTES
            return say_and_hang_up(text("upd_interval_unchanged", every=every(minutes)))
        incident = lock_incident(session, callback.incident_id)
        rep = session.get(Rep, callback.rep_id) if callback.rep_id else None
        actor = Actor(name=rep.name if rep else "rep", via=KEYPAD, rep=rep, is_manager=bool(rep and rep.is_manager))
        result = set_interval(session, incident, actor, minutes, now)  # the rule every channel follows
        return say_and_hang_up(f"{result.message} Goodbye.")

    return answer_once(handle)


@bp.post("/sms-status")
@twilio_webhook
def sms_delivery_status() -> Response:
    """Twilio's delivery report for an update, proposal or reminder SMS."""
    return answer_status()  # status_callbacks.update_sms


CUSTOMER_VOICE = {"en-US": ("en-US", "Polly.Joanna"), "de-DE": ("de-DE", "Polly.Vicki")}


def _customer_say(response: VoiceResponse | object, words: str, language: str) -> None:
    lang, voice = CUSTOMER_VOICE.get(language, CUSTOMER_VOICE["en-US"])
    response.say(words, language=lang, voice=voice)


@bp.post("/proposal")
@twilio_webhook
def proposal_prompt() -> Response:
    """A repeat caller whose incident awaits confirmation hears the proposal: 1 confirms, 2 rejects.

    The intake flow hands a caller over here (``Reply.hand_over``) right after they keyed the incident's
    reference or their account's PIN; the call's own flow state must show that proof, else nothing is read.
    """
    reference, call_sid = request.args.get("ref", ""), request.form.get("CallSid", "")

    def handle(session, now):
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).first()
        heard = spoken_proposal(session, reference) if incident and _proven(session, call_sid, reference) else None
        response = VoiceResponse()
        if heard is None:
            language = incident.language if incident else "en-US"
            _customer_say(response, text("upd_no_proposal", language), language)
            response.hangup()
            return str(response)
        gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                                 action=f"/twilio/updates/proposal/answer?ref={reference}")
        _customer_say(gather, heard, incident.language)
        _customer_say(response, text("upd_no_key", incident.language), incident.language)
        response.hangup()
        return str(response)

    return answer_once(handle)


@bp.post("/proposal/answer")
@twilio_webhook
def proposal_answer() -> Response:
    """The repeat caller's key: 1 confirms the resolution, 2 rejects it (updates continue)."""
    reference, digits = request.args.get("ref", ""), request.form.get("Digits", "")
    call_sid = request.form.get("CallSid", "")

    def handle(session, now):
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).first()
        language = incident.language if incident else "en-US"
        proven = _proven(session, call_sid, reference)  # only a caller this call proved answers for the customer
        result = decide_by_call(session, reference, digits if proven else "", now)
        response = VoiceResponse()
        _customer_say(response, result.message if result.ok else text("upd_no_key", language), language)
        response.hangup()
        return str(response)

    return answer_once(handle)


def _proven(session: Session, call_sid: str, reference: str) -> bool:
    """This call's caller keyed the incident's reference or its account's PIN (the flow's verified state)."""
    call = session.get(CallSession, call_sid) if call_sid else None
    state = readable_state(call.state) if call is not None else None
    return bool(state and state.verified and state.incident and state.incident.reference == reference)
